package simulate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/workflows"
)

// A picture is the definition laid out on a day axis: a lane for the main
// steps and one for each branch (then, else, on_timeout, a repeat's body),
// placed where the simulated run put them, or, for what the run did not
// reach, where the definition would.
type picture struct {
	lanes []lane
}

type lane struct {
	title  string
	parent int     // the lane it branches off; -1 for the main lane
	at     float64 // the day it branches off
	state  string  // stateNotTaken for a branch the run did not take
	marks  []mark
}

// mark is one step: a point, or a bar for what lasts (waits, approvals,
// repeats).
type mark struct {
	kind     string // the step kind; it picks the colour
	label    string
	at       string   // the offset, or the date and time
	detail   []string // what the tip says after its first line
	tip      string
	from, to float64 // days since the start
	ticks    []float64
	open     bool // a wait_for without within: no end
	state    string
}

// Mark states; "" is a step the run performed.
const (
	stateSkipped    = "skipped"     // its when did not hold
	stateNotTaken   = "not taken"   // in a branch the run did not take
	stateNotReached = "not reached" // the run ended first
)

type planner struct {
	pic     picture
	start   time.Time
	anchor  float64 // days from the start to the anchor
	segment string
	records map[string]workflows.StepRecord
	entries map[string][]Entry
	dates   bool // tooltips give the date and time, not the offset
}

func layout(in Input, res Result, axis Axis) picture {
	p := &planner{start: in.Start, segment: in.Account.Segment, dates: axis == AxisDates,
		records: map[string]workflows.StepRecord{}, entries: map[string][]Entry{}}
	if anchor := anchorOf(in); anchor != nil {
		p.anchor = p.day(*anchor)
	}
	for _, r := range res.Steps {
		p.records[r.ID] = r
	}
	for _, e := range res.Timeline {
		if e.StepID != "" {
			p.entries[e.StepID] = append(p.entries[e.StepID], e)
		}
	}
	p.pic.lanes = []lane{{title: "steps", parent: -1}}
	p.walk(0, in.Definition.Steps, "", 0, "")
	return p.pic
}

func anchorOf(in Input) *time.Time {
	switch in.Definition.Anchor {
	case playbook.AnchorRenewalDate:
		return in.Account.RenewalAt
	case playbook.AnchorContractStart:
		return in.Account.ContractStartAt
	}
	return &in.Start
}

func (p *planner) day(t time.Time) float64 { return t.Sub(p.start).Hours() / 24 }

func days(d playbook.Duration) float64 { return d.Std().Hours() / 24 }

func (p *planner) addLane(title string, parent int, at float64, state string) int {
	p.pic.lanes = append(p.pic.lanes, lane{title: title, parent: parent, at: at, state: state})
	return len(p.pic.lanes) - 1
}

// walk lays out steps in a lane from the cursor (a day) and returns the day
// the steps after them start from, as the interpreter would: `at` counts
// from the anchor (a time already past runs at once), `after` from the
// previous step. A step the run performed sits where it ran.
func (p *planner) walk(li int, steps []playbook.Step, suffix string, cursor float64, state string) float64 {
	for i := range steps {
		s := &steps[i]
		if p.segmentExcludes(s.When) {
			continue // the picture is of one segment
		}
		rec, ran := p.records[s.ID+suffix]
		t := cursor
		switch {
		case ran && rec.At != nil:
			t = p.day(*rec.At)
		case s.At != nil:
			t = max(cursor, p.anchor+days(*s.At))
		case s.After != nil:
			t = cursor + days(*s.After)
		}
		st := state
		switch {
		case st != "":
		case !ran:
			st = stateNotReached
		case rec.Status == workflows.StepSkipped:
			st = stateSkipped
		}
		cursor = p.step(li, s, suffix, t, st, rec)
	}
	return cursor
}

// segmentExcludes: a step only for other segments is left out of the
// picture rather than drawn as skipped.
func (p *planner) segmentExcludes(c *playbook.Condition) bool {
	if c == nil || len(c.Segment) == 0 || slices.Contains(c.Segment, p.segment) {
		return false
	}
	rest := *c
	rest.Segment = nil
	return reflect.ValueOf(rest).IsZero()
}

func (p *planner) entry(id, action string) []Entry {
	var out []Entry
	for _, e := range p.entries[id] {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// step adds a step's mark (and its branches' lanes) and returns the day the
// next step starts from.
func (p *planner) step(li int, s *playbook.Step, suffix string, t float64, state string, rec workflows.StepRecord) float64 {
	id := s.ID + suffix
	m := mark{kind: s.Kind(), label: s.ID, from: t, to: t, state: state}
	var tip []string
	if s.When != nil {
		tip = append(tip, "when "+describe(s.When))
	}
	if state == stateSkipped {
		m.label += " (skipped)"
		p.add(li, m, tip, rec)
		return t
	}
	end := t
	switch s.Kind() {
	case playbook.KindEmail:
		tip = append(tip, fmt.Sprintf("email %s to %s", s.Email.Template+s.Email.SendGridTemplateID, strings.Join(s.Email.To, ", ")))
		if sent := p.entry(id, "email"); len(sent) > 0 {
			m.from, m.to = p.day(sent[0].At), p.day(sent[0].At) // after the send window
		}
	case playbook.KindSurvey:
		sv := s.Survey
		tip = append(tip, fmt.Sprintf("%s survey %s to %s", strings.ToUpper(sv.Kind), sv.TemplateName(), strings.Join(sv.To, ", ")))
		if sent := p.entry(id, "email"); len(sent) > 0 {
			m.from, m.to = p.day(sent[0].At), p.day(sent[0].At) // after the send window
		}
	case playbook.KindTask:
		tip = append(tip, fmt.Sprintf("task for %s: %s", s.Task.Assignee, s.Task.Title))
	case playbook.KindApproval:
		end = p.approval(&m, id, s.Approval, &tip)
	case playbook.KindWait:
		end = t + days(*s.Wait)
		m.to, m.label = end, s.ID+": wait "+s.Wait.String()
	case playbook.KindWaitFor:
		end = p.waitFor(li, &m, s, suffix, rec)
	case playbook.KindIf:
		end = p.branch(li, &m, s, suffix, rec)
	case playbook.KindRepeat:
		end = p.repeat(li, &m, s, suffix, rec)
	case playbook.KindCheckHealth:
		m.label += ": check health"
	case playbook.KindUpdateAccount:
		m.label += ": update account"
		tip = append(tip, describeUpdate(s.UpdateAccount))
	case playbook.KindStartPlaybook:
		m.label += ": start " + s.StartPlaybook.Key
	case playbook.KindNotify:
		m.label += ": notify"
		tip = append(tip, s.Notify.Message)
	}
	p.add(li, m, tip, rec)
	return end
}

func (p *planner) add(li int, m mark, tip []string, rec workflows.StepRecord) {
	when := time.Duration(m.from * float64(playbook.Day)).Round(time.Second)
	at := offset(when)
	if p.dates {
		at = p.start.Add(when).Format("2006-01-02 15:04 MST")
	}
	head := fmt.Sprintf("%s · %s · %s", at, m.kind, m.label)
	if m.state != "" {
		head += " · " + m.state
	}
	if rec.Detail != "" {
		tip = append(tip, rec.Detail)
	}
	m.at, m.detail = at, tip
	m.tip = strings.Join(append([]string{head}, tip...), "\n")
	p.pic.lanes[li].marks = append(p.pic.lanes[li].marks, m)
}

// approval is a bar from the draft to the decision, or to the last
// deadline of the escalation ladder when nobody decides; each escalation
// is a tick.
func (p *planner) approval(m *mark, id string, a *playbook.ApprovalAction, tip *[]string) float64 {
	m.label = fmt.Sprintf("%s: approval by %s", m.label, a.Assignee)
	*tip = append(*tip, fmt.Sprintf("email %s to %s once approved", a.Email.Template+a.Email.SendGridTemplateID, strings.Join(a.Email.To, ", ")))
	created := p.entry(id, "approval")
	if len(created) == 0 {
		if a.ExpiresIn != nil {
			m.to = m.from + days(*a.ExpiresIn)
		}
		return m.from
	}
	m.to = p.day(created[0].Deadline)
	escalations := p.entry(id, "escalation")
	for _, e := range escalations {
		m.ticks = append(m.ticks, p.day(e.At))
		m.to = p.day(e.Deadline)
	}
	// The decision entry is also how an approval that nobody decided expires.
	decisions := p.entry(strings.SplitN(id, "#", 2)[0], "decision")
	if len(decisions) > 0 {
		m.to = p.day(decisions[0].At)
	}
	waited := offset(time.Duration((m.to - m.from) * float64(playbook.Day)))
	switch {
	case len(decisions) > 0 && decisions[0].Detail != "expired":
		m.label += fmt.Sprintf(", %s after %s", decisions[0].Detail, waited)
	case len(escalations) > 0:
		m.label += fmt.Sprintf(", escalated %d×, expired after %s", len(escalations), waited)
	default:
		m.label += ", expired after " + waited
	}
	end := m.to
	if sent := p.entry(id, "email"); len(sent) > 0 {
		end = p.day(sent[0].At)
	}
	return end
}

// waitFor is a bar over the window the event may arrive in; on_timeout
// steps get a lane from its end.
func (p *planner) waitFor(li int, m *mark, s *playbook.Step, suffix string, rec workflows.StepRecord) float64 {
	w := s.WaitFor
	m.label = s.ID + ": wait for " + w.Event
	if w.Within == nil {
		m.open = true
		return m.from
	}
	m.label += " ≤ " + w.Within.String()
	m.to = m.from + days(*w.Within)
	timedOut := m.state != "" || strings.HasPrefix(rec.Detail, "no ")
	end := m.from // the event came: the next steps go on
	if timedOut {
		end = m.to
	}
	if len(s.OnTimeout) > 0 {
		st := m.state
		if st == "" && !timedOut {
			st = stateNotTaken
		}
		child := p.addLane(fmt.Sprintf("no %s within %s", w.Event, w.Within), li, m.to, st)
		if after := p.walk(child, s.OnTimeout, suffix, m.to, st); timedOut {
			end = after
		}
	}
	return end
}

// branch draws an if: then and else each get a lane; the one the run did
// not take is faded.
func (p *planner) branch(li int, m *mark, s *playbook.Step, suffix string, rec workflows.StepRecord) float64 {
	cond := describe(s.If)
	m.label = s.ID + ": if " + cond
	// "took then: <why>": the branch's name, without the reason.
	took, _, _ := strings.Cut(strings.TrimPrefix(rec.Detail, "took "), ":")
	end := m.from
	for _, b := range []struct {
		name, title string
		steps       []playbook.Step
	}{{"then", "then: " + cond, s.Then}, {"else", "else: not " + cond, s.Else}} {
		if len(b.steps) == 0 {
			continue
		}
		st := m.state
		if st == "" && took != b.name {
			st = stateNotTaken
		}
		child := p.addLane(b.title, li, m.from, st)
		after := p.walk(child, b.steps, suffix, m.from, st)
		if took == b.name || (took == "" && b.name == "then") {
			end = after
		}
	}
	return end
}

// repeat is a bar with a tick per iteration; its steps get a lane, drawn
// at the first iteration.
func (p *planner) repeat(li int, m *mark, s *playbook.Step, suffix string, rec workflows.StepRecord) float64 {
	r := s.Repeat
	every := days(*r.Every)
	n := iterations(r)
	var done int
	if _, err := fmt.Sscanf(rec.Detail, "%d iterations", &done); err == nil && done > 0 {
		n = done // an exit rule may end it early
	}
	m.label = fmt.Sprintf("%s: every %s, %d×", s.ID, r.Every, n)
	for i := 1; i < n && i <= maxTicks; i++ {
		m.ticks = append(m.ticks, m.from+float64(i)*every)
	}
	m.to = m.from + float64(n-1)*every
	child := p.addLane("each time: "+s.ID, li, m.from, m.state)
	p.walk(child, r.Steps, suffix+"#1", m.from, m.state)
	return m.to
}

// maxTicks bounds the ticks of one repeat (a repeat may run 1000 times).
const maxTicks = 200

// iterations is how often a repeat runs, as the interpreter counts.
func iterations(r *playbook.Repeat) int {
	n := 0
	for i := 0; ; i++ {
		off := time.Duration(i) * r.Every.Std()
		if (r.Times > 0 && i >= r.Times) || (r.Until != nil && off >= r.Until.Std()) || (r.Times == 0 && r.Until == nil) || i >= 1000 {
			return max(n, 1)
		}
		n++
	}
}

func describeUpdate(u *playbook.UpdateAccount) string {
	var parts []string
	if u.LifecycleStage != "" {
		parts = append(parts, "lifecycle_stage "+u.LifecycleStage)
	}
	if u.Status != "" {
		parts = append(parts, "status "+u.Status)
	}
	keys := make([]string, 0, len(u.Fields))
	for k := range u.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %v", k, u.Fields[k]))
	}
	return "set " + strings.Join(parts, ", ")
}

// describe writes a condition the way CS ops read it.
func describe(c *playbook.Condition) string {
	if c == nil {
		return "always"
	}
	var parts []string
	list := func(name string, vs []string) {
		if len(vs) == 1 {
			parts = append(parts, name+" "+vs[0])
		} else if len(vs) > 1 {
			parts = append(parts, name+" in "+strings.Join(vs, ", "))
		}
	}
	list("segment", c.Segment)
	list("health_band", c.HealthBand)
	if c.HealthScore != nil {
		parts = append(parts, compare("health_score", *c.HealthScore)...)
	}
	if f := c.Field; f != nil {
		switch {
		case f.Exists != nil && *f.Exists:
			parts = append(parts, f.Name+" set")
		case f.Exists != nil:
			parts = append(parts, f.Name+" unset")
		}
		if f.Eq != nil {
			parts = append(parts, fmt.Sprintf("%s = %v", f.Name, f.Eq))
		}
		if f.Ne != nil {
			parts = append(parts, fmt.Sprintf("%s ≠ %v", f.Name, f.Ne))
		}
		if len(f.In) > 0 {
			parts = append(parts, fmt.Sprintf("%s in %v", f.Name, f.In))
		}
		parts = append(parts, compare(f.Name, f.Compare)...)
	}
	if c.EventReceived != "" {
		parts = append(parts, c.EventReceived+" received")
	}
	if c.AccountStatus != "" {
		parts = append(parts, "account_status "+c.AccountStatus)
	}
	if c.LifecycleStage != "" {
		parts = append(parts, "lifecycle_stage "+c.LifecycleStage)
	}
	group := func(cs []playbook.Condition, sep string) {
		var sub []string
		for i := range cs {
			sub = append(sub, describe(&cs[i]))
		}
		if len(sub) > 0 {
			parts = append(parts, "("+strings.Join(sub, sep)+")")
		}
	}
	group(c.All, " and ")
	group(c.Any, " or ")
	if c.Not != nil {
		parts = append(parts, "not "+describe(c.Not))
	}
	return strings.Join(parts, " and ")
}

func compare(name string, c playbook.Compare) []string {
	var out []string
	for _, b := range []struct {
		op string
		v  *float64
	}{{"<", c.Lt}, {"≤", c.Lte}, {">", c.Gt}, {"≥", c.Gte}} {
		if b.v != nil {
			out = append(out, fmt.Sprintf("%s %s %g", name, b.op, *b.v))
		}
	}
	return out
}
