package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/playbook"
)

// frame is a list of steps the run is in (the top level, a branch, an
// on_timeout list, an iteration's body), or a repeat between and around its
// iterations.
type frame struct {
	steps  []playbook.Step
	i      int // the step in progress; for a repeat, the iteration
	suffix string
	repeat *playbook.Repeat
	start  time.Time // a repeat's first iteration
}

func (r *interpreter) enter(steps []playbook.Step, suffix string) *frame {
	f := &frame{steps: steps, suffix: suffix}
	r.frames = append(r.frames, f)
	return f
}

func (r *interpreter) leave() { r.frames = r.frames[:len(r.frames)-1] }

// clock is when the plan has got to: between lo and hi, or at least lo when
// open (after a wait without a deadline).
type clock struct {
	lo, hi time.Time
	open   bool
	why    string // what an unknown time waits for
}

func at(t time.Time) clock { return clock{lo: t, hi: t} }

func (c clock) exact() *time.Time {
	if c.open || !c.lo.Equal(c.hi) {
		return nil
	}
	return Stamp(c.lo)
}

// until is the clock after waiting until t (at once when t is past).
func (c clock) until(t time.Time) clock {
	c.lo, c.hi = later(c.lo, t), later(c.hi, t)
	if !c.open && c.lo.Equal(c.hi) {
		c.why = ""
	}
	return c
}

// after is the clock after waiting until d, itself known within bounds.
func (c clock) after(d clock) clock {
	out := c.until(d.lo)
	out.hi, out.open = later(out.hi, d.hi), c.open || d.open
	if out.why == "" {
		out.why = d.why
	}
	return out
}

func (c clock) add(d time.Duration) clock {
	c.lo, c.hi = c.lo.Add(d), c.hi.Add(d)
	return c
}

// upTo is the clock after a wait of anything from nothing to d, or without
// a bound when d < 0.
func (c clock) upTo(d time.Duration, why string) clock {
	if d < 0 {
		c.open = true
	} else {
		c.hi = c.hi.Add(d)
	}
	if d != 0 {
		c.why = why
	}
	return c
}

func (c clock) window(w *playbook.SendWindow, loc *time.Location) clock {
	c.lo, c.hi = w.NextOpen(c.lo, loc), w.NextOpen(c.hi, loc)
	return c
}

// either is the clock after one of two paths.
func either(a, b clock) clock {
	out := clock{lo: a.lo, hi: later(a.hi, b.hi), open: a.open || b.open, why: a.why}
	if b.lo.Before(a.lo) {
		out.lo = b.lo
	}
	if out.why == "" {
		out.why = b.why
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// planner lists what a run will do from where it is, as far as is known now:
// steps whose condition is already false are left out, times are given only
// when no wait of unknown length comes first, emails are placed in the send
// window. The frequency cap is not known ahead (it counts other runs).
type planner struct {
	r         *interpreter
	facts     playbook.Facts
	healthDue bool // a check_health comes first: health is not known yet
	loc       *time.Location
	c         clock
	out       []StepRecord
	dry       bool // only move the clock
	ended     bool // a planned update ends the run by an exit rule
}

func (r *interpreter) planner(c clock) *planner {
	loc, err := time.LoadLocation(r.account.Timezone)
	if err != nil {
		loc = time.UTC
	}
	p := &planner{r: r, facts: r.facts(), loc: loc, c: c}
	return p
}

// fork is a planner for a path that may or may not be taken: it moves its
// own clock and lists nothing.
func (p *planner) fork(c clock) *planner {
	q := *p
	q.c, q.dry, q.out = c, true, nil
	return &q
}

func (p *planner) steps(steps []playbook.Step, suffix string) {
	for i := range steps {
		if p.ended {
			return
		}
		n := len(p.out)
		if rec, ok := p.step(&steps[i], suffix, true); ok && !p.dry {
			p.out = slices.Insert(p.out, n, rec) // before the steps of its branch
		}
	}
}

// step plans one step from the clock; timed says whether its at/after is
// still ahead. ok is false when the step will be skipped.
func (p *planner) step(s *playbook.Step, suffix string, timed bool) (rec StepRecord, ok bool) {
	if timed {
		switch {
		case s.At != nil:
			p.c = p.c.until(p.r.anchor().Add(s.At.Std()))
		case s.After != nil:
			p.c = p.c.add(s.After.Std())
		}
	}
	holds, known := s.When.Settled(p.facts, p.healthDue)
	if known && !holds {
		return rec, false
	}
	rec = StepRecord{ID: s.ID + suffix, Kind: s.Kind(), Status: "pending", At: p.c.exact()}
	var detail []string
	if !known {
		detail = append(detail, "only if its condition holds then, which depends on "+s.When.DependsOn(p.facts, p.healthDue))
	}
	if rec.At == nil && p.c.why != "" {
		detail = append(detail, "time not known yet: "+p.c.why)
	}
	rec.Detail = joinDetail(append(detail, p.perform(s, suffix, &rec)))
	return rec, true
}

// perform moves the clock and the facts past the step and says what the
// step will do, when that is worth a line.
func (p *planner) perform(s *playbook.Step, suffix string, rec *StepRecord) string {
	r := p.r
	switch s.Kind() {
	case playbook.KindEmail:
		return p.sendWindow(rec)
	case playbook.KindSurvey:
		if w := p.sendWindow(rec); w != "" {
			return surveyName(s.Survey.Kind) + " survey; " + w
		}
		return surveyName(s.Survey.Kind) + " survey"
	case playbook.KindApproval:
		expires, ladder := r.approvalDeadlines(s.Approval)
		p.c = p.c.upTo(ladder, "after the decision on "+s.ID+suffix)
		p.c.hi = r.def.SendWindow.NextOpen(p.c.hi, p.loc) // an approved email waits for the window; a rejected one is not sent
		return fmt.Sprintf("approval by %s, to decide within %s", s.Approval.Assignee, playbook.Duration(expires))
	case playbook.KindWait:
		p.c = p.c.add(s.Wait.Std())
		return "waits " + s.Wait.String()
	case playbook.KindWaitFor:
		return p.waitFor(s, suffix)
	case playbook.KindCheckHealth:
		p.healthDue = true
	case playbook.KindIf:
		return p.branch(s, suffix)
	case playbook.KindRepeat:
		return p.iterations(s.Repeat, suffix, p.c, 0)
	case playbook.KindUpdateAccount:
		p.update(s.UpdateAccount)
	}
	return ""
}

// sendWindow places an email in the send window.
func (p *planner) sendWindow(rec *StepRecord) string {
	due := p.c
	p.c = p.c.window(p.r.def.SendWindow, p.loc)
	rec.At = p.c.exact()
	if d, sent := due.exact(), rec.At; d != nil && sent != nil && !d.Equal(*sent) {
		return fmt.Sprintf("due %s, held for the send window (%s, %s) until %s", d.Format(time.RFC3339), p.r.def.SendWindow,
			p.loc, sent.Format(time.RFC3339))
	}
	return ""
}

func (p *planner) waitFor(s *playbook.Step, suffix string) string {
	w := s.WaitFor
	if p.facts.EventReceived(w.Event) {
		return "the " + w.Event + " event is already here"
	}
	why := "after the " + w.Event + " event"
	if w.Within == nil {
		p.c = p.c.upTo(-1, why)
		return "waits for the " + w.Event + " event, without a deadline"
	}
	timeout := p.fork(p.c.add(w.Within.Std()))
	timeout.steps(s.OnTimeout, suffix)
	p.c = either(p.c.upTo(w.Within.Std(), why), timeout.c)
	return fmt.Sprintf("waits for the %s event up to %s", w.Event, w.Within)
}

func (p *planner) branch(s *playbook.Step, suffix string) string {
	holds, known := s.If.Settled(p.facts, p.healthDue)
	if !known {
		then, other := p.fork(p.c), p.fork(p.c)
		then.steps(s.Then, suffix)
		other.steps(s.Else, suffix)
		p.c = either(then.c, other.c)
		if !then.c.lo.Equal(other.c.lo) || !then.c.hi.Equal(other.c.hi) {
			p.c.why = "after the branch of " + s.ID + suffix
		}
		return "then or else, depending on " + s.If.DependsOn(p.facts, p.healthDue)
	}
	branch, name := s.Then, "then"
	if !holds {
		branch, name = s.Else, "else"
	}
	detail := "will take " + name + ": " + s.If.Explain(p.facts)
	p.steps(branch, suffix)
	return detail
}

// maxPlannedIterations bounds the work of planning a repeat in a query.
const maxPlannedIterations = 1000

// iterations plans a repeat's iterations from the from-th on; start is when
// the repeat began. Each iteration waits for its due time (at once when an
// earlier one ran late), as the interpreter does. The iterations are summed
// up in one line, not listed.
func (p *planner) iterations(rep *playbook.Repeat, suffix string, start clock, from int) string {
	n := iterationCount(rep)
	switch {
	case n < 0 || n-from > maxPlannedIterations:
		p.c = p.c.upTo(-1, "after the repeat")
		return fmt.Sprintf("repeats every %s", rep.Every)
	case from >= n:
		return ""
	}
	every := rep.Every.Std()
	var next *time.Time
	body := p.fork(p.c)
	for k := from; k < n && !body.ended; k++ {
		body.c = body.c.after(start.add(time.Duration(k) * every))
		if k == from {
			next = body.c.exact()
		}
		body.steps(rep.Steps, fmt.Sprintf("%s#%d", suffix, k+1))
	}
	p.c, p.facts, p.healthDue, p.ended = body.c, body.facts, body.healthDue, body.ended
	switch {
	case from == 0:
		return fmt.Sprintf("%d iterations, every %s", n, rep.Every)
	case next != nil:
		return fmt.Sprintf("%d more iterations, every %s, the next at %s", n-from, rep.Every, next.Format(time.RFC3339))
	}
	return fmt.Sprintf("%d more iterations, every %s", n-from, rep.Every)
}

// iterationCount is how many iterations a repeat runs; -1 without a bound.
func iterationCount(rep *playbook.Repeat) int {
	if rep.Every == nil || rep.Every.Std() <= 0 || (rep.Times <= 0 && rep.Until == nil) {
		return -1
	}
	n := rep.Times
	if rep.Until != nil {
		// Iterations start while their offset is below until.
		byUntil := int((rep.Until.Std() + rep.Every.Std() - 1) / rep.Every.Std())
		if n <= 0 || byUntil < n {
			n = byUntil
		}
	}
	return n
}

// update applies a planned update_account; an exit rule it satisfies ends
// the plan.
func (p *planner) update(u *playbook.UpdateAccount) {
	if u.LifecycleStage != "" {
		p.facts.LifecycleStage = u.LifecycleStage
	}
	if u.Status != "" {
		p.facts.AccountStatus = u.Status
	}
	if len(u.Fields) > 0 {
		fields := make(map[string]any, len(p.facts.Fields)+len(u.Fields))
		for k, v := range p.facts.Fields {
			fields[k] = v
		}
		for k, v := range u.Fields {
			fields[k] = v
		}
		p.facts.Fields = fields
	}
	for _, rule := range p.r.def.Exit {
		if holds, known := rule.When.Settled(p.facts, p.healthDue); holds && known {
			p.ended = true
		}
	}
}

func joinDetail(parts []string) string {
	out := ""
	for _, s := range parts {
		if s == "" {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += s
	}
	return out
}

// progress answers ProgressQuery: what the run did, what it is doing and
// what it will do as far as is known now.
func (r *interpreter) progress() (Progress, error) {
	p := Progress{Paused: r.paused, Done: r.done, Upcoming: []StepRecord{}}
	if p.Done == nil {
		p.Done = []StepRecord{}
	}
	if r.current != nil {
		cur := *r.current
		p.Current = &cur
	}
	if r.exitOutcome != "" {
		return p, nil
	}
	now := workflow.Now(r.ctx)
	pl := r.planner(at(now))
	if r.paused {
		pl.c = pl.c.upTo(-1, "when the run is resumed")
	}
	skipped := false // the current step waits for its time but will be skipped then
	if f := r.innermost(); p.Current != nil && f != nil && f.repeat == nil {
		s := &f.steps[f.i]
		if r.checked {
			pl.afterCurrent(s, f.suffix, p.Current, now)
		} else {
			skipped = pl.beforeCurrent(s, f.suffix, p.Current)
		}
	}
	for k := len(r.frames) - 1; k >= 0 && !pl.ended; k-- {
		f := r.frames[k]
		if f.repeat == nil {
			pl.steps(f.steps[f.i+1:], f.suffix)
			continue
		}
		parent := r.frames[k-1] // a repeat is a step of a list
		rec := StepRecord{ID: parent.steps[parent.i].ID + f.suffix, Kind: playbook.KindRepeat, Status: "pending"}
		from := f.i
		if k < len(r.frames)-1 {
			from++ // an iteration is running
		}
		rec.Detail = pl.iterations(f.repeat, f.suffix, at(f.start), from)
		if rec.Detail == "" {
			continue
		}
		rec.At = Stamp(f.start.Add(time.Duration(from) * f.repeat.Every.Std()))
		if p.Current == nil && k == len(r.frames)-1 {
			rec.Status = StepWaiting // between iterations
			p.Current = &rec
			continue
		}
		pl.out = append(pl.out, rec)
	}
	if len(r.frames) == 0 {
		pl.steps(r.def.Steps[r.next:], "")
	}
	if pl.out != nil {
		p.Upcoming = pl.out
	}
	if skipped {
		// The step the run waits for will not happen: what will happen next
		// is what the run waits for.
		p.Current = nil
		if len(p.Upcoming) > 0 {
			next := p.Upcoming[0]
			next.Status = StepWaiting
			if r.paused {
				next.Status = StepPaused
			}
			p.Current, p.Upcoming = &next, p.Upcoming[1:]
		}
	}
	return p, nil
}

func (r *interpreter) innermost() *frame {
	if len(r.frames) == 0 {
		return nil
	}
	return r.frames[len(r.frames)-1]
}

// beforeCurrent plans the current step, which waits for its time (or for a
// resume) before its condition is tested; it reports whether the step will
// be skipped.
func (p *planner) beforeCurrent(s *playbook.Step, suffix string, cur *StepRecord) bool {
	if cur.Status == StepWaiting && cur.At != nil && !p.c.open {
		p.c = at(*cur.At) // the due time: at or after were computed when the step began
	}
	rec, ok := p.step(s, suffix, p.c.open)
	if !ok {
		return true
	}
	if rec.At != nil {
		cur.At = rec.At
	}
	cur.Detail = rec.Detail
	return false
}

// afterCurrent moves the clock past the step being performed.
func (p *planner) afterCurrent(s *playbook.Step, suffix string, cur *StepRecord, now time.Time) {
	bound := p.r.bound
	why := "after the decision on " + cur.ID
	if s.WaitFor != nil {
		why = "after the " + s.WaitFor.Event + " event"
	}
	switch {
	case p.c.open: // paused
	case cur.Status == StepWaiting && cur.At != nil: // a wait, the send window, the cap
		p.c = at(*cur.At)
	case cur.Status == StepAwaiting && bound.IsZero():
		p.c = p.c.upTo(-1, why)
	case cur.Status == StepAwaiting:
		p.c = p.c.upTo(bound.Sub(now), why)
	}
	switch s.Kind() {
	case playbook.KindEmail, playbook.KindSurvey:
		p.c = p.c.window(p.r.def.SendWindow, p.loc) // after the cap, the window again
	case playbook.KindApproval:
		p.c.hi = p.r.def.SendWindow.NextOpen(p.c.hi, p.loc)
	case playbook.KindWaitFor:
		if !bound.IsZero() {
			timeout := p.fork(at(bound))
			timeout.steps(s.OnTimeout, suffix)
			p.c = either(p.c, timeout.c)
		}
	}
}
