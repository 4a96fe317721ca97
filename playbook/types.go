// Package playbook is the definition language CS ops write playbooks in:
// types, strict YAML/JSON parsing, validation with paths, durations and
// conditions. It is pure: no I/O, safe to use from workflow code.
package playbook

import "time"

// Definition is one version of a playbook.
type Definition struct {
	Key         string      `json:"key"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Anchor      string      `json:"anchor,omitempty"` // enrolled (default) | renewal_date | contract_start
	Trigger     *Trigger    `json:"trigger,omitempty"`
	Segments    []string    `json:"segments,omitempty"` // who may enrol; empty: everyone
	Exit        []ExitRule  `json:"exit,omitempty"`
	SendWindow  *SendWindow `json:"send_window,omitempty"`
	// Priority ranks plays on one account (1-100; 0, unset: unranked): while
	// a ranked play of higher priority is live on the account, this one's
	// customer emails wait. An unranked play neither holds nor waits.
	Priority  int        `json:"priority,omitempty"`
	Templates []Template `json:"templates,omitempty"`
	Steps     []Step     `json:"steps"`
}

// Anchors: what top-level `at` offsets count from.
const (
	AnchorEnrolled      = "enrolled"
	AnchorRenewalDate   = "renewal_date"
	AnchorContractStart = "contract_start"
)

// Trigger enrols accounts automatically; a manual start always works.
// It is comparable (==): catalog compares the triggers of playbooks.
type Trigger struct {
	On         string `json:"on"`                    // account_created | health_band | renewal_window | risk_signal | expansion | stage_changed | event | schedule | survey_response
	To         string `json:"to,omitempty"`          // health_band: the band entered; stage_changed: the lifecycle stage entered
	From       string `json:"from,omitempty"`        // stage_changed: only when leaving this stage
	DaysBefore int    `json:"days_before,omitempty"` // renewal_window
	Signal     string `json:"signal,omitempty"`      // risk_signal
	Event      string `json:"event,omitempty"`       // event: the account event's name
	// Category is a survey_response trigger's: promoter, passive or
	// detractor (SurveyCategories); empty: any answer.
	Category string `json:"category,omitempty"`
	// Every is a schedule's cadence, whole days from MinScheduleEvery to
	// MaxScheduleEvery: the occasions are the anchor date plus k·every
	// (k ≥ 1).
	Every Duration `json:"every,omitempty"`
	// Anchor is the account date a schedule's occasions count from:
	// contract_start (default) or created. Not the definition's anchor,
	// which is what a run's `at` offsets count from.
	Anchor string `json:"anchor,omitempty"`
}

// The account dates a schedule trigger counts from.
const (
	ScheduleFromContractStart = AnchorContractStart // the default
	ScheduleFromCreated       = "created"           // the day (UTC) the account was created in playbookd
)

// ScheduleAnchor is the account date a schedule trigger counts from, its
// default filled in.
func (t Trigger) ScheduleAnchor() string {
	if t.Anchor == "" {
		return ScheduleFromContractStart
	}
	return t.Anchor
}

// Occasions are a schedule's occasions from the anchor date until (not
// included): anchor + k·every for k ≥ 1, by whole days, as the trigger
// sweep fires them. None for a trigger that is not a schedule.
func (t Trigger) Occasions(anchor, until time.Time) []time.Time {
	every := int(t.Every.Std() / Day)
	if t.On != "schedule" || every <= 0 {
		return nil
	}
	var out []time.Time
	for k := 1; ; k++ {
		at := anchor.AddDate(0, 0, k*every)
		if !at.Before(until) {
			return out
		}
		out = append(out, at)
	}
}

// ExitRule ends a run early when its condition holds.
type ExitRule struct {
	When    *Condition `json:"when"`
	Outcome string     `json:"outcome"`
}

// SendWindow limits automated emails to business hours in the account's zone.
type SendWindow struct {
	Days  []string `json:"days,omitempty"` // mon..sun; empty: every day
	Start string   `json:"start"`          // HH:MM
	End   string   `json:"end"`            // HH:MM, after Start
}

// Template is an email template carried by the definition, versioned with it.
type Template struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	// HTML is optional: without it, the text is laid out in the brand's
	// layout.
	HTML string `json:"html,omitempty"`
	Text string `json:"text"`
}

// Step is one touchpoint. Exactly one action field is set.
type Step struct {
	ID string `json:"id"`
	// Name is the step's title for people (the run page, the inbox,
	// analytics, simulations); without one they show the id. Display only:
	// runs never read it.
	Name  string     `json:"name,omitempty"`
	At    *Duration  `json:"at,omitempty"`    // top level only: offset from the anchor
	After *Duration  `json:"after,omitempty"` // delay after the previous step
	When  *Condition `json:"when,omitempty"`  // skip the step unless it holds
	// SkipIfLate skips an at step reached more than this after its time
	// (an account enrolled late must not get stale milestones together).
	SkipIfLate *Duration `json:"skip_if_late,omitempty"`

	Email         *EmailAction    `json:"email,omitempty"`
	Task          *TaskAction     `json:"task,omitempty"`
	Approval      *ApprovalAction `json:"approval,omitempty"`
	Wait          *Duration       `json:"wait,omitempty"`
	WaitFor       *WaitFor        `json:"wait_for,omitempty"`
	OnTimeout     []Step          `json:"on_timeout,omitempty"` // with wait_for.within
	CheckHealth   *CheckHealth    `json:"check_health,omitempty"`
	If            *Condition      `json:"if,omitempty"`
	Then          []Step          `json:"then,omitempty"`
	Else          []Step          `json:"else,omitempty"`
	Repeat        *Repeat         `json:"repeat,omitempty"`
	StartPlaybook *StartPlaybook  `json:"start_playbook,omitempty"`
	UpdateAccount *UpdateAccount  `json:"update_account,omitempty"`
	Notify        *Notify         `json:"notify,omitempty"`
	Survey        *SurveyAction   `json:"survey,omitempty"`
	Cite          string          `json:"cite,omitempty"` // where the step comes from, e.g. "seed 003 §Week 1"
}

// Step kinds, as Kind reports them.
const (
	KindEmail         = "email"
	KindTask          = "task"
	KindApproval      = "approval"
	KindWait          = "wait"
	KindWaitFor       = "wait_for"
	KindCheckHealth   = "check_health"
	KindIf            = "if"
	KindRepeat        = "repeat"
	KindStartPlaybook = "start_playbook"
	KindUpdateAccount = "update_account"
	KindNotify        = "notify"
	KindSurvey        = "survey"
)

// StepKinds are the actions a step may have, one per step; each is the
// JSON name of its field.
var StepKinds = []string{KindEmail, KindTask, KindApproval, KindWait, KindWaitFor, KindCheckHealth, KindIf,
	KindRepeat, KindStartPlaybook, KindUpdateAccount, KindNotify, KindSurvey}

// Kind names the step's action; "" when none or several are set.
func (s *Step) Kind() string {
	kinds := s.kinds()
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

func (s *Step) kinds() []string {
	var out []string
	add := func(set bool, kind string) {
		if set {
			out = append(out, kind)
		}
	}
	add(s.Email != nil, KindEmail)
	add(s.Task != nil, KindTask)
	add(s.Approval != nil, KindApproval)
	add(s.Wait != nil, KindWait)
	add(s.WaitFor != nil, KindWaitFor)
	add(s.CheckHealth != nil, KindCheckHealth)
	add(s.If != nil, KindIf)
	add(s.Repeat != nil, KindRepeat)
	add(s.StartPlaybook != nil, KindStartPlaybook)
	add(s.UpdateAccount != nil, KindUpdateAccount)
	add(s.Notify != nil, KindNotify)
	add(s.Survey != nil, KindSurvey)
	return out
}

// EmailAction sends a template to the account's contacts with the roles.
type EmailAction struct {
	Template           string   `json:"template,omitempty"`
	SendGridTemplateID string   `json:"sendgrid_template_id,omitempty"` // instead of template
	To                 []string `json:"to"`                             // contact roles
}

// SurveyAction emails an NPS or CSAT survey to the account's contacts with
// the roles: a customer email like an email step's (send window, frequency
// cap, priority holds), whose body carries one signed link per score.
type SurveyAction struct {
	Kind     string   `json:"kind"`               // nps | csat (SurveyKinds)
	To       []string `json:"to"`                 // contact roles
	Template string   `json:"template,omitempty"` // default: DefaultSurveyTemplate(kind)
}

// DefaultSurveyTemplate is the built-in template a survey of the kind is
// sent with when its step names none: "nps-survey" or "csat-survey".
func DefaultSurveyTemplate(kind string) string { return kind + "-survey" }

// TemplateName is the template the survey is sent with.
func (a *SurveyAction) TemplateName() string {
	if a.Template != "" {
		return a.Template
	}
	return DefaultSurveyTemplate(a.Kind)
}

// TaskAction creates a task for a member of the account's ladder.
type TaskAction struct {
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Assignee    string    `json:"assignee"` // csm | senior_csm | vp_cs | executive
	Due         *Duration `json:"due,omitempty"`
	Priority    string    `json:"priority,omitempty"` // low | normal (default) | high | urgent
}

// ApprovalAction asks a team member to approve (and maybe edit) an email
// before it is sent.
type ApprovalAction struct {
	Assignee  string       `json:"assignee"`
	Email     *EmailAction `json:"email"`
	ExpiresIn *Duration    `json:"expires_in,omitempty"` // default: the segment's SLA
	OnReject  string       `json:"on_reject,omitempty"`  // skip (default) | end_run
	OnExpire  string       `json:"on_expire,omitempty"`  // escalate (default) | skip | end_run
}

// WaitFor waits for an account event, at most Within when set.
type WaitFor struct {
	Event  string    `json:"event"`
	Within *Duration `json:"within,omitempty"`
}

// CheckHealth refreshes the run's view of the account's latest health.
type CheckHealth struct{}

// Repeat runs Steps every Every, until Until has passed since the repeat
// began or Times iterations are done.
type Repeat struct {
	Every *Duration `json:"every"`
	Until *Duration `json:"until,omitempty"`
	Times int       `json:"times,omitempty"`
	Steps []Step    `json:"steps"`
}

// StartPlaybook enrols the account in another playbook (no-op when live).
type StartPlaybook struct {
	Key string `json:"key"`
}

// UpdateAccount changes the account's lifecycle stage, status or fields.
type UpdateAccount struct {
	LifecycleStage string         `json:"lifecycle_stage,omitempty"`
	Status         string         `json:"status,omitempty"`
	Fields         map[string]any `json:"fields,omitempty"`
}

// Notify posts a message to an outbound webhook (e.g. Slack): one given by
// its URL, when the URL is no credential, or one an admin stored as a named
// secret (a Slack incoming webhook's URL is a credential), looked up when
// the step runs.
type Notify struct {
	URL     string `json:"url,omitempty"`
	Secret  string `json:"secret,omitempty"`
	Message string `json:"message"`
}

// MaxPriority is the highest priority a playbook may have.
const MaxPriority = 100
