// Package simulate runs the real interpreter workflow in the SDK's
// time-skipping test environment, with activities that record instead of
// acting, and returns the timeline: what, to whom, when, from which step.
// Nothing is written and nothing is sent.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

// Contact is a recipient the simulation may address.
type Contact struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Event is an account event arriving at an offset from the start.
type Event struct {
	Name string            `json:"name"`
	At   playbook.Duration `json:"at"`
}

// Decision answers the approval of a step: At counts from when the
// approval appears (CS ops think "decided an hour after it was asked"), so it
// applies to each approval the step asks for, e.g. in every iteration of a
// repeat.
type Decision struct {
	StepID   string            `json:"step_id"`
	Decision string            `json:"decision"` // approve | reject
	At       playbook.Duration `json:"at"`
	Edits    *message.Content  `json:"edits,omitempty"`
}

// Cap is the frequency cap, as the store applies it (HoldRecheck aside:
// a simulation has no other plays).
type Cap = message.Cap

// Input is one simulation.
type Input struct {
	Definition  *playbook.Definition
	Account     accounts.Snapshot
	AccountName string
	AccountARR  float64
	Contacts    []Contact
	CSM         string // the CSM's email, for task and approval assignees
	CSMName     string
	// Metrics are the latest snapshot's measures (compose.Metrics); a
	// made-up account may leave them unset, as before its first snapshot.
	Metrics   templates.Metrics
	Start     time.Time
	Events    []Event
	Decisions []Decision
	// Cap applies to the emails of this simulation; emails other runs sent
	// the same contacts are not counted.
	Cap Cap
	// SendWindow is the organisation's, for a definition without one.
	SendWindow *playbook.SendWindow
	// Templates renders the emails, in their brand's layout; nil: the
	// built-in templates, neutral brand.
	Templates *templates.Set
	// Budget bounds the simulation; a bound left at zero is DefaultBudget's.
	Budget Budget
	// Carried, when set, is a live run's state: the simulation goes on from
	// where that run is (as version Version) instead of starting it.
	Carried *workflows.CarriedState
	Version int
}

// Entry is one line of the timeline.
type Entry struct {
	At     time.Time `json:"at"`
	Offset string    `json:"offset"` // since the start, e.g. "6d" or "89d4h"
	StepID string    `json:"step_id"`
	// StepName is the step's title from the definition, when it has one.
	StepName string `json:"step_name,omitempty"`
	// Action is what happened: email (a survey step's too: its detail says
	// "NPS survey: nps-survey") | task | approval | escalation |
	// decision | event | update_account | start_playbook | notify |
	// check_health | end, or why something did not happen or moved: skip
	// (a condition was false) | branch (an if chose) | shift (the send
	// window or the frequency cap held an email) | timeout (a wait_for).
	Action string   `json:"action"`
	To     []string `json:"to,omitempty"`
	Detail string   `json:"detail"`
	// Emails are the emails as each recipient would get them.
	Emails []Email `json:"emails,omitempty"`
	// Deadline is an approval's (or escalation's) decision deadline, for
	// the picture.
	Deadline time.Time `json:"-"`
}

// Email is one rendered email.
type Email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// HTML is the html part, for the console's sandboxed preview; the API
	// answer keeps to subject and text.
	HTML string `json:"-"`
}

// Result is the timeline and how the run ended.
type Result struct {
	Timeline []Entry    `json:"timeline"`
	Status   states.Run `json:"status"`
	Outcome  string     `json:"outcome"`
	// Steps are the run's step records (the progress query's done list):
	// when each step ran, including waits, branches and skipped steps,
	// which leave no entry. The picture draws from them.
	Steps []workflows.StepRecord `json:"-"`
	// StepNames are the definition's step names by id (StepTitle).
	StepNames map[string]string `json:"-"`
}

// named gives each entry its step's title, where the step has a name.
func named(entries []Entry, names map[string]string) {
	for i := range entries {
		if title := playbook.StepTitle(names, entries[i].StepID); title != entries[i].StepID {
			entries[i].StepName = title
		}
	}
}

type recorder struct {
	mu      sync.Mutex
	env     *testsuite.TestWorkflowEnvironment
	in      Input
	entries []Entry
	result  Result
	// edits are the approvers' edits by approval id: an approved email is
	// sent from its approval, with them.
	edits map[string]*message.Content
	// sent notes when each address got an automated email, for the cap,
	// and which step already reached which address.
	sent    map[string][]time.Time
	reached map[string]bool
	// applied counts the approvals each decision answered.
	applied []int
	budget  Budget
	// emailBytes are the rendered emails' bytes so far, for the budget.
	emailBytes int
	// stopped is why the simulation was halted (halt); nil while it runs.
	stopped error
}

var builtinTemplates = sync.OnceValues(templates.Builtin)

var discard = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// Run simulates the definition for the account, for a caller that cannot
// go away (a benchmark); a request's simulation is RunContext's.
func Run(in Input) (Result, error) { return RunContext(context.Background(), in) }

// notApplied ends the line of a decision for a step that asked for none.
const notApplied = " not applied: the step asked for no approval"

// RunContext simulates the definition for the account within in.Budget,
// and stops when ctx is done (the client went away). A definition over
// the limits runs are held to is refused (ErrOverLimits), a simulation
// that spends its budget is stopped (ErrBudget); either is the caller's
// 422.
func RunContext(ctx context.Context, in Input) (Result, error) {
	if in.Definition == nil {
		return Result{}, fmt.Errorf("simulate: no definition")
	}
	if err := in.Definition.CheckLimits(); err != nil {
		return Result{}, fmt.Errorf("simulate: %w: %w", ErrOverLimits, err)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("simulate: %w", context.Cause(ctx))
	}
	if in.Start.IsZero() {
		in.Start = time.Now().UTC().Truncate(time.Minute)
	}
	if in.Templates == nil {
		set, err := builtinTemplates()
		if err != nil {
			return Result{}, err
		}
		in.Templates = set
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(discard)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(in.Start)
	env.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	r := &recorder{env: env, in: in, edits: map[string]*message.Content{}, sent: map[string][]time.Time{},
		reached: map[string]bool{}, applied: make([]int, len(in.Decisions)), budget: in.Budget.orDefault()}
	r.registerActivities()
	for _, e := range in.Events {
		e := e
		env.RegisterDelayedCallback(func() {
			r.add("", "event", nil, e.Name)
			env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: e.Name})
		}, e.At.Std())
	}
	stopWatching := r.watch(ctx)
	env.ExecuteWorkflow(workflows.PlaybookRunName, workflows.RunInput{
		RunID: "00000000-0000-0000-0000-000000000000", AccountID: in.Account.ID, PlaybookKey: in.Definition.Key,
		PlaybookVersion: max(in.Version, 1), Definition: *in.Definition, DefaultSendWindow: in.SendWindow, Carried: in.Carried,
	})
	stopWatching()
	if err := r.stopErr(); err != nil {
		return Result{}, err
	}
	if !env.IsWorkflowCompleted() {
		return Result{}, fmt.Errorf("simulate: the run did not complete")
	}
	if err := env.GetWorkflowError(); err != nil && r.result.Status == "" {
		return Result{}, fmt.Errorf("simulate: %w", err)
	}
	if err := r.explain(); err != nil {
		return Result{}, err
	}
	for i, d := range in.Decisions {
		if r.applied[i] == 0 {
			r.add(d.StepID, "decision", nil, d.Decision+notApplied)
		}
	}
	r.add("", "end", nil, r.result.Outcome)
	// The reasons explain adds count too; the run is over, so the bound is
	// checked here rather than by halting it.
	if err := r.overEntries(); err != nil {
		return Result{}, err
	}
	r.result.StepNames = in.Definition.StepNames()
	named(r.entries, r.result.StepNames)
	r.result.Timeline = r.entries
	if v, err := env.QueryWorkflow(workflows.ProgressQuery); err == nil {
		var p workflows.Progress
		if err := v.Get(&p); err == nil {
			r.result.Steps = p.Done
		}
	}
	return r.result, nil
}

// explain adds a line for each step the run skipped, each branch it took and
// each hold or timeout, from the run's own account of its steps, placed
// before what happened at the same instant.
func (r *recorder) explain() error {
	v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	var p workflows.Progress
	if err := v.Get(&p); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	var why []Entry
	line := func(at *time.Time, step, action, detail string) {
		if at != nil {
			why = append(why, Entry{At: *at, Offset: offset(at.Sub(r.in.Start)), StepID: step, Action: action, Detail: detail})
		}
	}
	for _, rec := range p.Done {
		switch {
		case rec.Status == workflows.StepSkipped:
			line(rec.At, rec.ID, "skip", rec.Detail)
		case rec.Kind == playbook.KindIf:
			line(rec.At, rec.ID, "branch", rec.Detail)
		}
		for _, n := range rec.Notes {
			switch n.Kind {
			case workflows.NoteSendWindow, workflows.NoteCap:
				line(&n.At, rec.ID, "shift", n.Text)
			case workflows.NoteTimeout:
				line(&n.At, rec.ID, "timeout", n.Text)
			}
		}
	}
	slices.SortStableFunc(why, func(a, b Entry) int { return a.At.Compare(b.At) })
	merged := make([]Entry, 0, len(why)+len(r.entries))
	for _, e := range r.entries {
		for len(why) > 0 && !why[0].At.After(e.At) {
			merged, why = append(merged, why[0]), why[1:]
		}
		merged = append(merged, e)
	}
	r.entries = append(merged, why...)
	return nil
}

// approvalID is the simulated approval of a step; repeated steps would share
// it, which a simulation can live with.
func approvalID(stepID string) string { return "sim-" + strings.SplitN(stepID, "#", 2)[0] }

func (r *recorder) add(step, action string, to []string, detail string) {
	r.addDeadline(step, action, to, detail, time.Time{})
}

func (r *recorder) addDeadline(step, action string, to []string, detail string, deadline time.Time) {
	r.mu.Lock()
	if r.stopped != nil { // halted: the run is being cancelled
		r.mu.Unlock()
		return
	}
	e := r.entry(step, action, to, detail)
	if !deadline.IsZero() {
		e.Deadline = deadline.UTC()
	}
	r.entries = append(r.entries, e)
	over := r.overEntries()
	r.mu.Unlock()
	if over != nil {
		r.halt(over)
	}
}

func (r *recorder) entry(step, action string, to []string, detail string) Entry {
	now := r.env.Now().UTC().Truncate(time.Second)
	return Entry{At: now, Offset: offset(now.Sub(r.in.Start)), StepID: step, Action: action, To: to, Detail: detail}
}

// offset writes a duration as days and hours ("89d4h"), the unit CS ops plan in.
func offset(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days, rest := d/playbook.Day, d%playbook.Day
	out := sign
	if days > 0 || rest == 0 {
		out += fmt.Sprintf("%dd", days)
	}
	if h := rest / time.Hour; h > 0 {
		out += fmt.Sprintf("%dh", h)
	}
	if m := (rest % time.Hour) / time.Minute; m > 0 {
		out += fmt.Sprintf("%dm", m)
	}
	if s := (rest % time.Minute) / time.Second; s > 0 {
		out += fmt.Sprintf("%ds", s)
	}
	return out
}

func (r *recorder) recipients(roles []string) []Contact {
	var to []Contact
	for _, c := range r.in.Contacts {
		if slices.Contains(roles, c.Role) {
			to = append(to, c)
		}
	}
	return to
}

func (r *recorder) registerActivities() {
	reg := func(name string, fn any) {
		r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	reg(contract.BeginRun, func(context.Context, contract.BeginRunInput) (accounts.Snapshot, error) {
		return r.in.Account, nil
	})
	reg(contract.LoadAccount, func(context.Context, string) (accounts.Snapshot, error) {
		detail := "no health snapshot"
		if s := r.in.Account.HealthScore; s != nil {
			detail = fmt.Sprintf("health %.0f (%s)", *s, r.in.Account.HealthBand)
		}
		r.add("", "check_health", nil, detail)
		return r.in.Account, nil
	})
	reg(contract.SendEmail, r.sendEmail)
	reg(contract.CreateTask, func(_ context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
		r.add(in.StepID, "task", []string{r.assignee(in.Assignee)}, fmt.Sprintf("%s (%s priority)", in.Title, in.Priority))
		return contract.CreateTaskResult{TaskID: "sim", Assignee: r.assignee(in.Assignee)}, nil
	})
	reg(contract.CreateApproval, func(_ context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
		r.addDeadline(in.StepID, "approval", []string{r.assignee(in.Assignee)},
			fmt.Sprintf("%s to %s, decide by %s", in.Email.Template, strings.Join(in.Email.ToRoles, ", "), offset(in.ExpiresAt.Sub(r.in.Start))), in.ExpiresAt)
		r.scheduleDecisions(in.StepID)
		return contract.CreateApprovalResult{ApprovalID: approvalID(in.StepID), Assignee: r.assignee(in.Assignee)}, nil
	})
	reg(contract.RecordApprovalDecision, func(_ context.Context, in contract.RecordApprovalDecisionInput) error {
		r.mu.Lock()
		r.edits[in.ApprovalID] = in.Edits
		r.mu.Unlock()
		r.add(strings.TrimPrefix(in.ApprovalID, "sim-"), "decision", nil, string(in.Status))
		return nil
	})
	reg(contract.EscalateApproval, func(_ context.Context, in contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
		assignee := []string{"senior_csm", "vp_cs", "executive"}[in.Level-2]
		r.addDeadline(in.StepID, "escalation", []string{assignee},
			fmt.Sprintf("level %d, decide by %s", in.Level, offset(in.ExpiresAt.Sub(r.in.Start))), in.ExpiresAt)
		return contract.EscalateApprovalResult{Escalated: true, Assignee: assignee}, nil
	})
	reg(contract.UpdateAccount, func(_ context.Context, in contract.UpdateAccountInput) (accounts.Snapshot, error) {
		if in.LifecycleStage != "" {
			r.in.Account.LifecycleStage = in.LifecycleStage
		}
		if in.Status != "" {
			r.in.Account.Status = in.Status
		}
		r.add(in.StepID, "update_account", nil, fmt.Sprintf("lifecycle_stage=%s status=%s fields=%v", in.LifecycleStage, in.Status, in.Fields))
		return r.in.Account, nil
	})
	reg(contract.StartPlaybook, func(_ context.Context, in contract.StartPlaybookInput) (contract.StartPlaybookResult, error) {
		r.add("", "start_playbook", nil, in.PlaybookKey)
		return contract.StartPlaybookResult{RunID: "simulated"}, nil
	})
	reg(contract.Notify, func(_ context.Context, in contract.NotifyInput) error {
		to := playbook.RedactSecrets(in.URL) // a timeline is shown to people
		if in.Secret != "" {
			to = "secret " + in.Secret
		}
		r.add(in.StepID, "notify", []string{to}, playbook.RedactSecrets(in.Message))
		return nil
	})
	reg(contract.RecordRunStatus, func(context.Context, contract.RecordRunStatusInput) error { return nil })
	reg(contract.RecordRunMoved, func(context.Context, contract.RecordRunMovedInput) error { return nil })
	reg(contract.RecordRunFinished, func(_ context.Context, in contract.RecordRunFinishedInput) error {
		r.result.Status, r.result.Outcome = in.Status, in.Outcome
		return nil
	})
}

// scheduleDecisions delivers the decisions on a step's approval, counted
// from now, when the approval appears.
func (r *recorder) scheduleDecisions(stepID string) {
	base, _, _ := strings.Cut(stepID, "#")
	for i, d := range r.in.Decisions {
		if d.StepID != base {
			continue
		}
		r.mu.Lock()
		r.applied[i]++
		r.mu.Unlock()
		// At 0 the decision still comes after the workflow has the approval.
		delay := max(d.At.Std(), time.Nanosecond)
		r.env.RegisterDelayedCallback(func() {
			r.env.UpdateWorkflow(workflows.DecideUpdate, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnComplete: func(any, error) {},
				OnReject: func(err error) { r.add(stepID, "decision", nil, "refused: "+err.Error()) },
			}, workflows.Decision{ApprovalID: approvalID(stepID), Decision: d.Decision, By: "simulation", Edits: d.Edits})
		}, delay)
	}
}

// sendEmail renders the email for each recipient and, for automated emails,
// applies the frequency cap as the real activity does: a capped recipient is
// deferred, and the run asks again when the cap frees up.
func (r *recorder) sendEmail(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
	var over error // halts the simulation once mu is released
	defer func() {
		if over != nil {
			r.halt(over)
		}
	}()
	r.mu.Lock()
	defer r.mu.Unlock()
	var res contract.SendEmailResult
	if r.stopped != nil {
		return res, temporal.NewNonRetryableApplicationError(r.stopped.Error(), "SimulationStopped", nil)
	}
	now := r.env.Now().UTC()
	to := r.recipients(in.ToRoles)
	detail := in.Template + in.SendGridTemplateID
	if in.Survey != "" {
		// A survey is an email (the same action, so previews and the
		// picture treat it as one), which the detail names.
		detail = strings.ToUpper(in.Survey) + " survey: " + in.Template
	}
	entry := r.entry(in.StepID, "email", nil, detail)
	edits := in.Override // an approved email is sent from its approval, with its edits
	if in.ApprovalID != "" {
		edits = r.edits[in.ApprovalID]
	}
	for _, c := range to {
		key := in.StepID + "\x00" + c.Email
		if r.reached[key] {
			res.Sent++ // sent on an earlier call
			continue
		}
		if until, why, capped := r.capped(c, now); in.Automated && capped {
			if res.DeferUntil == nil || until.Before(*res.DeferUntil) {
				res.DeferUntil, res.DeferReason = &until, why
			}
			continue
		}
		email, err := r.render(in, c, edits)
		if err != nil {
			// The real activity fails the same way, and the run with it.
			entry.Detail += " — cannot render: " + err.Error()
			r.entries = append(r.entries, entry)
			kind, tooLarge := contract.ErrUnknownTemplate, &templates.TooLargeError{}
			if errors.As(err, &tooLarge) {
				kind = contract.ErrEmailTooLarge
			}
			return res, temporal.NewNonRetryableApplicationError(err.Error(), kind, err)
		}
		if r.emailBytes += len(email.Subject) + len(email.Text) + len(email.HTML); r.emailBytes > r.budget.EmailBytes {
			over = &BudgetError{Spent: fmt.Sprintf("its emails reached %s, the most a simulation renders", bytesIn(r.budget.EmailBytes))}
			return res, temporal.NewNonRetryableApplicationError(over.Error(), "SimulationStopped", nil)
		}
		r.reached[key] = true
		if in.Automated {
			r.sent[c.Email] = append(r.sent[c.Email], now)
		}
		entry.To, entry.Emails = append(entry.To, c.Email), append(entry.Emails, email)
		res.Sent++
	}
	if edits != nil && edits.Subject != "" {
		entry.Detail += " (edited: " + edits.Subject + ")"
	}
	switch {
	case len(to) == 0:
		entry.Detail += " — no contact with role " + strings.Join(in.ToRoles, ", ")
	case len(entry.To) == 0:
		return res, nil // every recipient capped: the run notes the hold
	}
	r.entries = append(r.entries, entry)
	over = r.overEntries()
	return res, nil
}

// capped says whether the contact may not get an automated email now, as
// store.ClaimEmail decides it for this run's own emails: the last went less
// than MinGap ago, or Count went out in the window; when they may get the
// next, and why (the run view's words).
func (r *recorder) capped(c Contact, now time.Time) (time.Time, string, bool) {
	sent := r.sent[c.Email]
	if len(sent) > 0 {
		last := sent[len(sent)-1]
		if until, held := r.in.Cap.GapUntil(last, now); held {
			name := c.Name
			if name == "" {
				name = c.Email
			}
			return until, message.HeldByGap(r.in.Definition.Key, name, now.Sub(last), r.in.Cap.MinGap), true
		}
	}
	if until, held := r.in.Cap.CountUntil(sent, now); held {
		return until, message.HeldByCap(c.Email, r.in.Cap.Count, r.in.Cap.Window), true
	}
	return time.Time{}, "", false
}

// render fills the email in for one recipient as the real activity does;
// an approver's edits are filled in for them (templates.Compose).
func (r *recorder) render(in contract.SendEmailInput, c Contact, edits *message.Content) (Email, error) {
	out := Email{To: c.Email}
	if in.SendGridTemplateID != "" {
		out.Subject = "(SendGrid template " + in.SendGridTemplateID + ")"
		out.Text = "(rendered by SendGrid)"
	} else {
		set := r.in.Templates
		if t := in.OwnTemplate; t != nil {
			var err error
			if set, err = set.WithSource(t.Name, t.Subject, t.HTML, t.Text); err != nil {
				return out, err
			}
		}
		data := r.templateData(c)
		if in.Survey != "" {
			data.Survey = exampleSurvey(in.Survey)
		}
		rendered, err := set.Render(in.Template, data)
		if err != nil {
			return out, err
		}
		if edits != nil { // filled in for this recipient, as the approval does
			e := templates.Rendered(*edits)
			if rendered, err = templates.Compose(rendered, &e, data); err != nil {
				return out, err
			}
		}
		out.Subject, out.Text, out.HTML = rendered.Subject, rendered.Text, rendered.HTML
	}
	return out, nil
}

// exampleLinks sign a simulated survey's links: a simulation has no signing
// key and no outbox row, so they point at an example host, for no email,
// and record nothing.
var exampleLinks = survey.NewLinks("simulation", "https://playbookd.example")

// exampleSurvey is a survey as the real activity fills it in
// (compose.Survey), with example links.
func exampleSurvey(kind string) templates.Survey {
	return templates.NewSurvey(kind, survey.Scores(kind), func(score int) string {
		return exampleLinks.URL(survey.Answer{Kind: kind, Score: score})
	})
}

// templateData is what the real activity renders with (compose.Data), as
// far as the simulation knows the account.
func (r *recorder) templateData(c Contact) templates.Data {
	a := r.in.Account
	d := templates.Data{
		Account: templates.Account{ID: a.ID, Name: r.in.AccountName, Segment: a.Segment, ARR: r.in.AccountARR, LifecycleStage: a.LifecycleStage,
			RenewalDate: dateIn(a.RenewalAt, a.Timezone), ContractStart: dateIn(a.ContractStartAt, a.Timezone),
			Fields: templates.NewCustomFields(a.Fields)},
		Contact: templates.Person{Name: c.Name, Email: c.Email},
		CSM:     templates.Person{Name: r.in.CSMName, Email: r.in.CSM},
	}
	if a.HealthScore != nil {
		d.Health = templates.Health{Score: int(math.Round(*a.HealthScore)), Band: a.HealthBand}
	}
	d.Metrics = r.in.Metrics
	return d
}

// dateIn is an anchor instant as the date it is in the account's zone.
func dateIn(t *time.Time, zone string) string {
	if t == nil {
		return ""
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.DateOnly)
}

func (r *recorder) assignee(level string) string {
	if level == "csm" && r.in.CSM != "" {
		return r.in.CSM
	}
	return level
}

// Sample is an input for a made-up account of the segment: one contact per
// role, a renewal date 120 days after the start and the contract starting
// on it, no health yet. The timeline picture uses it.
func Sample(def *playbook.Definition, segment string, start time.Time) Input {
	renewal := start.Add(120 * playbook.Day)
	contractStart := start
	return Input{
		Definition: def,
		Account: accounts.Snapshot{ID: "sample", Segment: segment, Status: "active", LifecycleStage: "onboarding",
			Timezone: "UTC", RenewalAt: &renewal, ContractStartAt: &contractStart, Fields: map[string]any{}},
		Contacts: []Contact{
			{Email: "champion@customer.example", Role: "champion"}, {Email: "sponsor@customer.example", Role: "exec_sponsor"},
			{Email: "admin@customer.example", Role: "admin"}, {Email: "user@customer.example", Role: "user"},
		},
		AccountName: "Sample account",
		CSM:         "csm",
		CSMName:     "Your CSM",
		Start:       start,
	}
}

// WithWaits is the timeline with a line for each wait and wait_for the
// run went through (from its step records), in time order: the console's
// preview explains every hold, where the API's timeline lists what acted
// and what moved.
func WithWaits(start time.Time, res Result) []Entry {
	var waits []Entry
	for _, rec := range res.Steps {
		if (rec.Kind != playbook.KindWait && rec.Kind != playbook.KindWaitFor) || rec.At == nil || rec.Status == workflows.StepSkipped {
			continue
		}
		detail := rec.Detail
		if detail == "" {
			detail = strings.ReplaceAll(rec.Kind, "_", " ")
		}
		waits = append(waits, Entry{At: *rec.At, Offset: offset(rec.At.Sub(start)), StepID: rec.ID, Action: "wait", Detail: detail})
	}
	named(waits, res.StepNames)
	slices.SortStableFunc(waits, func(a, b Entry) int { return a.At.Compare(b.At) })
	out := make([]Entry, 0, len(res.Timeline)+len(waits))
	for _, e := range res.Timeline {
		for len(waits) > 0 && !waits[0].At.After(e.At) {
			out, waits = append(out, waits[0]), waits[1:]
		}
		out = append(out, e)
	}
	return append(out, waits...)
}

// MissingAnchor names the date a playbook counts from when the account
// lacks it; "" when it has it (or the playbook counts from enrolment).
func MissingAnchor(def *playbook.Definition, acct accounts.Snapshot) string {
	switch {
	case def.Anchor == playbook.AnchorRenewalDate && acct.RenewalAt == nil:
		return "renewal_date"
	case def.Anchor == playbook.AnchorContractStart && acct.ContractStartAt == nil:
		return "contract_start"
	}
	return ""
}
