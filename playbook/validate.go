package playbook

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/netguard"
)

// Vocabulary of the language. The account model's own (segments, contact
// roles, team levels, statuses) is in package accounts.
var (
	Anchors       = []string{AnchorEnrolled, AnchorRenewalDate, AnchorContractStart}
	TriggerEvents = []string{"account_created", "health_band", "renewal_window", "risk_signal", "expansion", "stage_changed", "event"}
	RiskSignals   = []string{"usage_decline", "support_spike", "champion_left", "payment_overdue", "competitor_mentioned"}
	HealthBands   = []string{"green", "yellow", "red"}
	Priorities    = []string{"low", "normal", "high", "urgent"}
	OnReject      = []string{"skip", "end_run"}
	OnExpire      = []string{"escalate", "skip", "end_run"}
	Weekdays      = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// triggerOptions are the trigger fields each kind of trigger takes, and
// only it.
var triggerOptions = []struct {
	field    string
	on       []string
	required bool
}{
	{"to", []string{"health_band", "stage_changed"}, true}, {"from", []string{"stage_changed"}, false},
	{"days_before", []string{"renewal_window"}, true}, {"signal", []string{"risk_signal"}, true},
	{"event", []string{"event"}, true},
}

// maxRepeats bounds how often a repeat runs its steps.
const maxRepeats = 1000

// The days a renewal_window trigger may fire before the renewal date.
const (
	MinDaysBefore = 1
	MaxDaysBefore = 730
)

var (
	keyPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	eventPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// Lifecycle stages are the account's own words (onboarding, adoption,
	// renewed...): any text without surrounding spaces, as accounts store it.
	stagePattern   = regexp.MustCompile(`^\S(.{0,126}\S)?$`)
	outcomePattern = regexp.MustCompile(`^[a-z][a-z0-9_:-]{0,62}$`)
	clockPattern   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	sgTemplateID   = regexp.MustCompile(`^d-[0-9a-f]{32}$`)
)

// Options says what a definition may refer to outside itself.
type Options struct {
	// BuiltinTemplates are the templates shipped with the binary.
	BuiltinTemplates []string
	// Webhooks says where notify steps may post; the zero value allows
	// https to public hosts only.
	Webhooks netguard.Policy
	// CheckTemplate type-checks one part of a template, or a notify message,
	// against the data it renders over, calling report with each problem
	// and its line in src (from 1); html says the part is html.
	// templates.Check is the real one. Without it, templates are held to
	// their syntax and the language's own rules only.
	CheckTemplate func(src string, html bool, report func(line int, message string))
}

// Parse reads a YAML or JSON definition and validates it. The error, when
// not nil, is Errors listing every problem.
func Parse(src []byte, opts Options) (*Definition, error) {
	var def Definition
	errs, pos := decodeSource(src, &def)
	if pos == nil || (len(errs) > 0 && errs[0].Path == "") {
		return nil, errs // nothing to validate: unreadable document
	}
	decoded := errs.paths()
	for _, e := range def.validate(opts, pos) {
		if !covered(decoded, e.Path) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	return &def, nil
}

// Validate checks a definition built in Go or decoded elsewhere.
func (def *Definition) Validate(opts Options) error {
	if errs := def.validate(opts, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

type validator struct {
	errs      Errors
	pos       *positions // nil: no source, lines unknown
	opts      Options
	def       *Definition
	ids       map[string]string // step id -> first path
	templates map[string]bool
	known     string // the templates' names for messages, once worked out
}

func (def *Definition) validate(opts Options, pos *positions) Errors {
	v := &validator{opts: opts, pos: pos, def: def, ids: map[string]string{}, templates: map[string]bool{}}
	for _, t := range opts.BuiltinTemplates {
		v.templates[t] = true
	}
	v.limits()
	v.pattern("key", def.Key, keyPattern, "lower-case letters, digits and '-', at most 63, such as \"onboarding\"")
	v.text("name", def.Name, "the name CS ops see")
	if def.Anchor != "" && !slices.Contains(Anchors, def.Anchor) {
		v.oneOf("anchor", Anchors)
	}
	v.trigger(def.Trigger)
	for i, s := range def.Segments {
		if !slices.Contains(accounts.Segments, s) {
			v.oneOf(fmt.Sprintf("segments[%d]", i), accounts.Segments)
		}
	}
	for i, r := range def.Exit {
		p := fmt.Sprintf("exit[%d]", i)
		if r.When == nil {
			v.add(p+".when", "required: the condition that ends the run")
		} else {
			v.condition(p+".when", r.When, 1)
		}
		v.pattern(p+".outcome", r.Outcome, outcomePattern, "a lower-case outcome such as churned or recovered")
	}
	v.sendWindow(def.SendWindow)
	if def.Priority < 0 || def.Priority > MaxPriority {
		v.add("priority", "must be from 1 to %d, or left out (higher holds the customer emails of lower plays on the same account)", MaxPriority)
	}
	v.ownTemplates(def.Templates)
	v.list("steps", len(def.Steps), def.Steps == nil, "at least one step")
	v.steps("steps", def.Steps, 1)
	v.atOrder()
	if def.Trigger != nil && def.Trigger.On == "renewal_window" && def.Anchor != AnchorRenewalDate {
		v.add("anchor", "a renewal_window trigger needs anchor: renewal_date")
	}
	return v.errs
}

func (v *validator) add(path, format string, args ...any) {
	v.errs.add(path, v.pos.line(path), format, args...)
}

func (v *validator) oneOf(path string, allowed []string) {
	v.add(path, "must be one of %s", strings.Join(allowed, ", "))
}

func (v *validator) trigger(t *Trigger) {
	if t == nil {
		return
	}
	if !v.vocabulary("trigger.on", t.On, TriggerEvents, "") {
		return
	}
	switch t.On {
	case "health_band":
		v.vocabulary("trigger.to", t.To, HealthBands, "with on: health_band")
	case "renewal_window":
		switch {
		case t.DaysBefore == 0:
			v.add("trigger.days_before", "required with on: renewal_window: a number of days from %d to %d", MinDaysBefore, MaxDaysBefore)
		case t.DaysBefore < MinDaysBefore || t.DaysBefore > MaxDaysBefore:
			v.add("trigger.days_before", "%d is not a number of days from %d to %d", t.DaysBefore, MinDaysBefore, MaxDaysBefore)
		}
	case "risk_signal":
		v.vocabulary("trigger.signal", t.Signal, RiskSignals, "with on: risk_signal")
	case "stage_changed":
		if !stagePattern.MatchString(t.To) {
			v.add("trigger.to", "required with on: stage_changed; the lifecycle stage entered, such as adoption")
		}
		if t.From != "" && !stagePattern.MatchString(t.From) {
			v.add("trigger.from", "must be a lifecycle stage such as onboarding, or left out for any")
		} else if t.From != "" && t.From == t.To {
			v.add("trigger.from", "is the same stage as to: a stage does not change to itself")
		}
	case "event":
		if !eventPattern.MatchString(t.Event) {
			v.add("trigger.event", "required with on: event; a lower-case event name such as champion_left")
		}
	}
	set := map[string]bool{"to": t.To != "", "from": t.From != "", "days_before": t.DaysBefore != 0,
		"signal": t.Signal != "", "event": t.Event != ""}
	for _, o := range triggerOptions {
		if set[o.field] && !slices.Contains(o.on, t.On) {
			v.add("trigger."+o.field, "only with on: %s", strings.Join(o.on, " or "))
		}
	}
}

func (v *validator) sendWindow(w *SendWindow) {
	if w == nil {
		return
	}
	for i, d := range w.Days {
		if !slices.Contains(Weekdays, d) {
			v.oneOf(fmt.Sprintf("send_window.days[%d]", i), Weekdays)
		}
	}
	startOK := v.pattern("send_window.start", w.Start, clockPattern, "a time of day as HH:MM, such as \"09:00\"")
	endOK := v.pattern("send_window.end", w.End, clockPattern, "a time of day as HH:MM, such as \"17:00\"")
	if startOK && endOK && w.End <= w.Start {
		v.add("send_window.end", "must be after start (%s)", w.Start)
	}
}

func (v *validator) ownTemplates(ts []Template) {
	for i, t := range ts {
		p := fmt.Sprintf("templates[%d]", i)
		if v.pattern(p+".name", t.Name, idPattern, "lower-case letters, digits and '-', such as \"renewal-note\"") &&
			v.templates[t.Name] && !slices.Contains(v.opts.BuiltinTemplates, t.Name) {
			v.add(p+".name", "template %q is defined twice", t.Name)
		}
		v.templates[t.Name] = true
		v.template(p+".subject", t.Name, "subject", t.Subject, false)
		v.template(p+".html", t.Name, "html", t.HTML, true)
		v.template(p+".text", t.Name, "text", t.Text, false)
	}
}

// template checks a part of a template the definition carries, or a notify
// message: it must parse, and it may not loop, define templates or include
// them. Its data has no lists, so a range can only count up to a number: a
// loop that writes nothing would burn CPU for as long as it likes, which no
// bound on the output stops; an include can do the same by recursion. A
// part is rendered inside a {{define}}, where another define does not parse.
// Then opts.CheckTemplate type-checks it. Errors name the template, the part
// and its line, and are placed at that line of the source.
func (v *validator) template(p, name, part, src string, html bool) {
	if !v.text(p, src, "the "+part) {
		return
	}
	problem := func(line int, format string, args ...any) {
		where := fmt.Sprintf("line %d of the %s: ", line, part)
		if name != "" {
			where = fmt.Sprintf("template %q, %s", name, where)
		}
		v.errs.add(p, v.pos.textLine(p, line), where+format, args...)
	}
	// Render registers no functions: a part parses here as it does there.
	// html/template parses the same syntax.
	t, err := texttemplate.New("part").Parse(src)
	if err != nil {
		line, msg := parseError(err)
		problem(line, "not a valid Go template: %s", msg)
		return
	}
	lineOf := func(n parse.Node) int { return 1 + strings.Count(src[:min(int(n.Position()), len(src))], "\n") }
	for _, d := range t.Templates() {
		if d.Name() != "part" {
			problem(lineOf(d.Tree.Root), "must not define templates ({{define}} or {{block}})")
			return
		}
	}
	switch n := forbidden(t.Tree.Root); n.(type) {
	case *parse.RangeNode:
		problem(lineOf(n), "must not use {{range}}: templates see no lists, and a loop over a number has no use in an email")
		return
	case *parse.TemplateNode:
		problem(lineOf(n), "must not use {{template}}: a part cannot include another")
		return
	}
	if v.opts.CheckTemplate != nil {
		v.opts.CheckTemplate(src, html, func(line int, msg string) { problem(line, "%s", msg) })
	}
}

var parseErrorPattern = regexp.MustCompile(`^template: [^:]*:(\d+):\s*(.*)$`)

// parseError turns "template: part:3: message" into a line and a message.
func parseError(err error) (int, string) {
	if m := parseErrorPattern.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 1, err.Error()
}

// forbidden is the first {{range}} or {{template}} below n, or nil.
func forbidden(n parse.Node) parse.Node {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if f := forbidden(c); f != nil {
				return f
			}
		}
	case *parse.RangeNode, *parse.TemplateNode:
		return n
	case *parse.IfNode:
		return firstOf(forbidden(n.List), forbidden(n.ElseList))
	case *parse.WithNode:
		return firstOf(forbidden(n.List), forbidden(n.ElseList))
	}
	return nil
}

func firstOf(a, b parse.Node) parse.Node {
	if a != nil {
		return a
	}
	return b
}

// steps validates steps at a depth (1: top level). Deeper than the limit,
// limits has reported the list and nothing below is visited.
func (v *validator) steps(path string, steps []Step, depth int) {
	if depth > MaxStepDepth {
		return
	}
	for i := range steps {
		v.step(fmt.Sprintf("%s[%d]", path, i), &steps[i], depth)
	}
}

func (v *validator) step(p string, s *Step, depth int) {
	top := depth == 1
	if v.pattern(p+".id", s.ID, idPattern, "lower-case letters, digits and '-', such as \"welcome-email\"") {
		if first, dup := v.ids[s.ID]; dup {
			v.add(p+".id", "duplicate step id %q (first at %s)", s.ID, first)
		} else {
			v.ids[s.ID] = p
		}
	}
	if s.At != nil && s.After != nil {
		v.add(p+".after", "use either at or after, not both")
	}
	if s.At != nil {
		switch {
		case !top:
			v.add(p+".at", "only top-level steps take at; use after inside then/else/repeat/on_timeout")
		case v.def.Anchor == "" || v.def.Anchor == AnchorEnrolled:
			if *s.At < 0 {
				v.add(p+".at", "must not be negative when the anchor is enrolment")
			}
		}
	}
	if s.After != nil && *s.After < 0 {
		v.add(p+".after", "must not be negative")
	}
	if s.SkipIfLate != nil {
		switch {
		case s.At == nil:
			v.add(p+".skip_if_late", "only a step with at has a time to be late for")
		case *s.SkipIfLate <= 0:
			v.add(p+".skip_if_late", "must be positive, such as 14d")
		}
	}
	if s.When != nil {
		v.condition(p+".when", s.When, 1)
	}
	kinds := s.kinds()
	switch len(kinds) {
	case 0:
		v.add(p, "has no action; give one of %s", strings.Join(StepKinds, ", "))
		return
	case 1:
	default:
		v.add(p, "has several actions (%s); give one per step", strings.Join(kinds, ", "))
		return
	}
	if s.OnTimeout != nil && s.WaitFor == nil {
		v.add(p+".on_timeout", "only with wait_for")
	}
	if (s.Then != nil || s.Else != nil) && s.If == nil {
		v.add(p+".then", "only with if")
	}
	switch kinds[0] {
	case KindEmail:
		v.email(p+".email", s.Email)
	case KindTask:
		v.task(p+".task", s.Task)
	case KindApproval:
		v.approval(p+".approval", s.Approval)
	case KindWait:
		v.positive(p+".wait", s.Wait)
	case KindWaitFor:
		v.pattern(p+".wait_for.event", s.WaitFor.Event, eventPattern, "an event name such as first_login")
		if s.WaitFor.Within != nil {
			v.positive(p+".wait_for.within", s.WaitFor.Within)
		} else if len(s.OnTimeout) > 0 {
			v.add(p+".on_timeout", "needs wait_for.within: without it the wait never times out")
		}
		v.steps(p+".on_timeout", s.OnTimeout, depth+1)
	case KindIf:
		v.condition(p+".if", s.If, 1)
		v.list(p+".then", len(s.Then), s.Then == nil, "the steps to run when the condition holds")
		v.steps(p+".then", s.Then, depth+1)
		v.steps(p+".else", s.Else, depth+1)
	case KindRepeat:
		r := s.Repeat
		if r.Every == nil {
			v.add(p+".repeat.every", "required: how often, such as 1d")
		} else {
			v.positive(p+".repeat.every", r.Every)
		}
		if r.Times < 0 {
			v.add(p+".repeat.times", "must not be negative")
		}
		if r.Until == nil && r.Times == 0 {
			v.add(p+".repeat", "needs until (a duration) or times (a count) so it ends")
		}
		if r.Until != nil {
			v.positive(p+".repeat.until", r.Until)
			if r.Every != nil && *r.Until < *r.Every {
				v.add(p+".repeat.until", "is shorter than every (%s): the steps would never repeat", r.Every)
			}
		}
		if r.Times > maxRepeats || r.iterations() > maxRepeats {
			v.add(p+".repeat", "would repeat more than %d times", maxRepeats)
		}
		v.list(p+".repeat.steps", len(r.Steps), r.Steps == nil, "the steps to repeat")
		v.steps(p+".repeat.steps", r.Steps, depth+1)
	case KindStartPlaybook:
		if v.pattern(p+".start_playbook.key", s.StartPlaybook.Key, keyPattern, "a playbook's key: lower-case letters, digits and '-'") &&
			s.StartPlaybook.Key == v.def.Key {
			v.add(p+".start_playbook.key", "a playbook cannot start itself")
		}
	case KindUpdateAccount:
		u := s.UpdateAccount
		if u.LifecycleStage == "" && u.Status == "" && len(u.Fields) == 0 {
			v.add(p+".update_account", "give lifecycle_stage, status or fields")
		}
		if u.Status != "" && !slices.Contains(accounts.Statuses, u.Status) {
			v.oneOf(p+".update_account.status", accounts.Statuses)
		}
	case KindNotify:
		v.notify(p+".notify", s.Notify)
	}
}

func (v *validator) positive(p string, d *Duration) {
	if *d <= 0 {
		v.add(p, "must be longer than zero")
	}
}

func (v *validator) email(p string, e *EmailAction) {
	switch {
	case e.Template != "" && e.SendGridTemplateID != "":
		v.add(p+".sendgrid_template_id", "use either template or sendgrid_template_id, not both")
	case e.Template == "" && e.SendGridTemplateID == "":
		v.add(p+".template", "required: a template name (or a sendgrid_template_id)")
	case e.Template != "" && !v.templates[e.Template]:
		v.add(p+".template", "unknown template %q; known: %s", e.Template, v.knownTemplates())
	case e.SendGridTemplateID != "" && !sgTemplateID.MatchString(e.SendGridTemplateID):
		v.add(p+".sendgrid_template_id", "must look like d-0123456789abcdef0123456789abcdef")
	}
	v.list(p+".to", len(e.To), e.To == nil, "contact roles, from "+strings.Join(accounts.Roles, ", "))
	for i, r := range e.To {
		if !slices.Contains(accounts.Roles, r) {
			v.add(fmt.Sprintf("%s.to[%d]", p, i), "unknown role %q; one of %s", r, strings.Join(accounts.Roles, ", "))
		}
	}
}

// maxListedTemplates bounds the names an unknown-template error lists: with
// every error listing every name, a definition of many templates and many
// bad references would make an answer quadratic in its size.
const maxListedTemplates = 20

// knownTemplates lists the templates for messages; steps come after the
// templates, so the list is worked out once.
func (v *validator) knownTemplates() string {
	if v.known == "" {
		names := make([]string, 0, len(v.templates))
		for n := range v.templates {
			names = append(names, n)
		}
		sort.Strings(names)
		if extra := len(names) - maxListedTemplates; extra > 0 {
			names = append(names[:maxListedTemplates], fmt.Sprintf("and %d more", extra))
		}
		v.known = strings.Join(names, ", ")
	}
	return v.known
}

func (v *validator) task(p string, t *TaskAction) {
	v.text(p+".title", t.Title, "the task's title")
	v.assignee(p+".assignee", t.Assignee)
	if t.Due != nil {
		v.positive(p+".due", t.Due)
	}
	if t.Priority != "" && !slices.Contains(Priorities, t.Priority) {
		v.oneOf(p+".priority", Priorities)
	}
}

func (v *validator) assignee(p, a string) {
	switch {
	case a == "":
		v.add(p, "required: one of %s", strings.Join(accounts.Levels, ", "))
	case !slices.Contains(accounts.Levels, a):
		v.add(p, "unknown role %q; one of %s", a, strings.Join(accounts.Levels, ", "))
	}
}

// pattern checks a value that must match re: "required" when it is absent
// (or empty), what is wrong with it otherwise. It reports whether it matched.
func (v *validator) pattern(p, value string, re *regexp.Regexp, expected string) bool {
	switch {
	case re.MatchString(value):
		return true
	case value == "":
		v.add(p, "required: %s", expected)
	default:
		v.add(p, "must be %s; %s is not", expected, quote(value))
	}
	return false
}

// quote quotes a value for a message, cut short when long.
func quote(value string) string {
	const max = 40
	if len(value) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(value[cut]) {
			cut--
		}
		return strconv.Quote(value[:cut]) + "…"
	}
	return strconv.Quote(value)
}

// text checks a required text: absent, or present and blank. It reports
// whether the text is there.
func (v *validator) text(p, value, expected string) bool {
	switch {
	case value == "":
		v.add(p, "required: %s", expected)
	case strings.TrimSpace(value) == "":
		v.add(p, "is blank: give %s", expected)
	default:
		return true
	}
	return false
}

// list checks a required list: absent (null), or present and empty.
func (v *validator) list(p string, n int, absent bool, expected string) {
	switch {
	case n > 0:
	case absent:
		v.add(p, "required: %s", expected)
	default:
		v.add(p, "is empty: give %s", expected)
	}
}

// vocabulary checks a required value from a closed list; when says when it
// is required ("" always). It reports whether the value is in the list.
func (v *validator) vocabulary(p, value string, allowed []string, when string) bool {
	switch {
	case slices.Contains(allowed, value):
		return true
	case value == "" && when == "":
		v.add(p, "required: one of %s", strings.Join(allowed, ", "))
	case value == "":
		v.add(p, "required %s: one of %s", when, strings.Join(allowed, ", "))
	default:
		v.add(p, "unknown value %s; one of %s", quote(value), strings.Join(allowed, ", "))
	}
	return false
}

func (v *validator) approval(p string, a *ApprovalAction) {
	v.assignee(p+".assignee", a.Assignee)
	if a.Email == nil {
		v.add(p+".email", "required: the email the approver reviews")
	} else {
		v.email(p+".email", a.Email)
	}
	if a.ExpiresIn != nil {
		v.positive(p+".expires_in", a.ExpiresIn)
	}
	if a.OnReject != "" && !slices.Contains(OnReject, a.OnReject) {
		v.oneOf(p+".on_reject", OnReject)
	}
	if a.OnExpire != "" && !slices.Contains(OnExpire, a.OnExpire) {
		v.oneOf(p+".on_expire", OnExpire)
	}
}

// condition validates a condition at a depth (1: a when, if or exit
// condition). Deeper than the limit, limits has reported it.
func (v *validator) condition(p string, c *Condition, depth int) {
	if depth > MaxConditionDepth {
		return
	}
	empty := true
	for i, s := range c.Segment {
		empty = false
		if !slices.Contains(accounts.Segments, s) {
			v.oneOf(fmt.Sprintf("%s.segment[%d]", p, i), accounts.Segments)
		}
	}
	for i, b := range c.HealthBand {
		empty = false
		if !slices.Contains(HealthBands, b) {
			v.oneOf(fmt.Sprintf("%s.health_band[%d]", p, i), HealthBands)
		}
	}
	if c.HealthScore != nil {
		empty = false
		v.compare(p+".health_score", *c.HealthScore, true)
	}
	if c.Field != nil {
		empty = false
		f := c.Field
		v.text(p+".field.name", f.Name, "the custom field's name")
		if f.Eq == nil && f.Ne == nil && len(f.In) == 0 && f.Exists == nil && f.Compare.empty() {
			v.add(p+".field", "give a test: eq, ne, in, exists, lt, lte, gt or gte")
		}
		v.compare(p+".field", f.Compare, false)
	}
	if c.EventReceived != "" {
		empty = false
		if !eventPattern.MatchString(c.EventReceived) {
			v.add(p+".event_received", "must be an event name such as first_login")
		}
	}
	if c.AccountStatus != "" {
		empty = false
		if !slices.Contains(accounts.Statuses, c.AccountStatus) {
			v.oneOf(p+".account_status", accounts.Statuses)
		}
	}
	if c.LifecycleStage != "" {
		empty = false
	}
	for i := range c.All {
		empty = false
		v.condition(fmt.Sprintf("%s.all[%d]", p, i), &c.All[i], depth+1)
	}
	for i := range c.Any {
		empty = false
		v.condition(fmt.Sprintf("%s.any[%d]", p, i), &c.Any[i], depth+1)
	}
	if c.Not != nil {
		empty = false
		v.condition(p+".not", c.Not, depth+1)
	}
	if empty {
		v.add(p, "empty condition; give segment, health_band, health_score, field, event_received, account_status, lifecycle_stage, all, any or not")
	}
}

func (v *validator) compare(p string, c Compare, score bool) {
	if score && c.empty() {
		v.add(p, "give a bound: lt, lte, gt or gte")
	}
	for _, b := range []struct {
		name string
		val  *float64
	}{{"lt", c.Lt}, {"lte", c.Lte}, {"gt", c.Gt}, {"gte", c.Gte}} {
		if score && b.val != nil && (*b.val < 0 || *b.val > 100) {
			v.add(p+"."+b.name, "a health score is between 0 and 100")
		}
	}
}

// atOrder checks that top-level at offsets never go backwards: a run moves
// forward through the steps, so an earlier offset after a later one would
// silently run late.
func (v *validator) atOrder() {
	var last *Duration
	lastIndex := 0
	for i, s := range v.def.Steps {
		if s.At == nil {
			continue
		}
		if last != nil && *s.At < *last {
			v.add(fmt.Sprintf("steps[%d].at", i), "%s is earlier than steps[%d].at (%s); order steps by at", s.At, lastIndex, last)
		}
		last, lastIndex = s.At, i
	}
}

// StartedKeys lists the playbooks a definition starts, in step order.
func (def *Definition) StartedKeys() []string {
	var keys []string
	seen := map[string]bool{}
	walkSteps("steps", def.Steps, func(_ string, s *Step) {
		if s.StartPlaybook != nil && !seen[s.StartPlaybook.Key] {
			seen[s.StartPlaybook.Key] = true
			keys = append(keys, s.StartPlaybook.Key)
		}
	})
	return keys
}

// walkSteps visits every step, nested ones included, in document order,
// with its path.
func walkSteps(path string, steps []Step, visit func(string, *Step)) {
	for i := range steps {
		s := &steps[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		visit(p, s)
		walkSteps(p+".on_timeout", s.OnTimeout, visit)
		walkSteps(p+".then", s.Then, visit)
		walkSteps(p+".else", s.Else, visit)
		if s.Repeat != nil {
			walkSteps(p+".repeat.steps", s.Repeat.Steps, visit)
		}
	}
}

// CheckStarts verifies that every start_playbook names a known playbook and
// that no chain of starts leads back to where it began. starts maps each
// known key to the keys it starts. Errors are at the steps that start; Locate
// gives them their lines.
func CheckStarts(def *Definition, starts map[string][]string) error {
	var errs Errors
	graph := map[string][]string{}
	for k, v := range starts {
		graph[k] = v
	}
	graph[def.Key] = def.StartedKeys()
	cycle, first := findCycle(def.Key, graph)
	walkSteps("steps", def.Steps, func(p string, s *Step) {
		if s.StartPlaybook == nil {
			return
		}
		key := s.StartPlaybook.Key
		if _, ok := graph[key]; !ok {
			errs.add(p+".start_playbook.key", 0, "unknown playbook %q: no published playbook has this key", key)
		} else if cycle != nil && key == first {
			errs.add(p+".start_playbook.key", 0, "start_playbook makes a cycle: %s", strings.Join(cycle, " → "))
		}
	})
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Locate gives errors found after Parse (CheckStarts') the lines of their
// paths in the definition's source.
func Locate(src []byte, errs Errors) Errors {
	var def Definition
	_, pos := decodeSource(src, &def)
	out := slices.Clone(errs)
	for i := range out {
		if out[i].Line == 0 {
			out[i].Line = pos.line(out[i].Path)
		}
	}
	return out.sorted()
}

// findCycle finds a chain of starts from a key that comes back on itself:
// the cycle (its first key repeated at its end) and the key from starts
// first on the way to it.
func findCycle(from string, graph map[string][]string) (cycle []string, first string) {
	var path []string
	onPath := map[string]bool{}
	done := map[string]bool{}
	var visit func(string) []string
	visit = func(k string) []string {
		if onPath[k] {
			i := slices.Index(path, k)
			if len(path) > 1 {
				first = path[1]
			} else {
				first = k
			}
			return append(slices.Clone(path[i:]), k)
		}
		if done[k] {
			return nil
		}
		onPath[k] = true
		path = append(path, k)
		for _, next := range graph[k] {
			if c := visit(next); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		onPath[k] = false
		done[k] = true
		return nil
	}
	cycle = visit(from)
	return cycle, first
}
