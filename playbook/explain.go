package playbook

import (
	"fmt"
	"slices"
	"strings"
)

// Explain says in plain words why the condition holds or does not hold for
// the facts: the clauses that decided it, e.g. "segment is smb, not enterprise
// or mid_market". Run views and simulations show it with skips and branches.
func (c *Condition) Explain(f Facts) string {
	if c == nil {
		return "no condition"
	}
	if c.Holds(f) {
		return strings.Join(c.whyTrue(f), "; ")
	}
	return strings.Join(c.whyFalse(f), "; ")
}

// truth is a condition's value as far as it is known.
type truth int8

const (
	no truth = iota
	yes
	maybe
)

func truthOf(b bool) truth {
	if b {
		return yes
	}
	return no
}

// Settled is Holds as far as the answer is known now: known is false while
// the answer depends on an event that has not arrived (it still may) or, when
// healthDue, on health (a check refreshes it before the test). Other facts
// are taken as they are now.
func (c *Condition) Settled(f Facts, healthDue bool) (holds, known bool) {
	t := c.settled(f, healthDue)
	return t == yes, t != maybe
}

func (c *Condition) settled(f Facts, healthDue bool) truth {
	if c == nil {
		return yes
	}
	out := yes
	and := func(t truth) {
		if t == no || out == no {
			out = no
		} else if t == maybe {
			out = maybe
		}
	}
	health := func(set bool, holds func() bool) {
		switch {
		case !set:
		case healthDue:
			and(maybe)
		default:
			and(truthOf(holds()))
		}
	}
	if len(c.Segment) > 0 {
		and(truthOf(slices.Contains(c.Segment, f.Segment)))
	}
	health(len(c.HealthBand) > 0, func() bool { return slices.Contains(c.HealthBand, f.HealthBand) })
	health(c.HealthScore != nil, func() bool { return f.HealthScore != nil && c.HealthScore.holds(*f.HealthScore) })
	if c.Field != nil {
		and(truthOf(c.Field.holds(f.Fields)))
	}
	if c.EventReceived != "" {
		if f.EventReceived != nil && f.EventReceived(c.EventReceived) {
			and(yes)
		} else {
			and(maybe) // events only accumulate: it may still arrive
		}
	}
	if c.AccountStatus != "" {
		and(truthOf(c.AccountStatus == f.AccountStatus))
	}
	if c.LifecycleStage != "" {
		and(truthOf(c.LifecycleStage == f.LifecycleStage))
	}
	for i := range c.All {
		and(c.All[i].settled(f, healthDue))
	}
	if len(c.Any) > 0 {
		anyOf := no
		for i := range c.Any {
			switch c.Any[i].settled(f, healthDue) {
			case yes:
				anyOf = yes
			case maybe:
				if anyOf == no {
					anyOf = maybe
				}
			case no: // changes nothing: any is no only while every one is
			}
		}
		and(anyOf)
	}
	if c.Not != nil {
		and([]truth{no: yes, yes: no, maybe: maybe}[c.Not.settled(f, healthDue)])
	}
	return out
}

// DependsOn names what a condition that is not settled waits for, e.g.
// "the first_login event".
func (c *Condition) DependsOn(f Facts, healthDue bool) string {
	var parts []string
	var walk func(c *Condition)
	walk = func(c *Condition) {
		if c == nil {
			return
		}
		if c.EventReceived != "" && (f.EventReceived == nil || !f.EventReceived(c.EventReceived)) {
			parts = append(parts, "the "+c.EventReceived+" event")
		}
		if healthDue && (len(c.HealthBand) > 0 || c.HealthScore != nil) {
			parts = append(parts, "the health check")
		}
		for i := range c.All {
			walk(&c.All[i])
		}
		for i := range c.Any {
			walk(&c.Any[i])
		}
		walk(c.Not)
	}
	walk(c)
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), " and ")
}

// whyFalse lists the clauses of a condition that does not hold.
func (c *Condition) whyFalse(f Facts) []string {
	var out []string
	add := func(failed bool, format string, args ...any) {
		if failed {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	if len(c.Segment) > 0 {
		add(!slices.Contains(c.Segment, f.Segment), "segment is %s, not %s", f.Segment, strings.Join(c.Segment, " or "))
	}
	if len(c.HealthBand) > 0 {
		add(!slices.Contains(c.HealthBand, f.HealthBand), "health band is %s, not %s", orUnknown(f.HealthBand), strings.Join(c.HealthBand, " or "))
	}
	if s := c.HealthScore; s != nil {
		switch {
		case f.HealthScore == nil:
			out = append(out, "no health score yet, wanted "+s.String())
		case !s.holds(*f.HealthScore):
			out = append(out, fmt.Sprintf("health score is %g, not %s", *f.HealthScore, s))
		}
	}
	if c.Field != nil && !c.Field.holds(f.Fields) {
		out = append(out, c.Field.whyFalse(f.Fields))
	}
	if c.EventReceived != "" {
		add(f.EventReceived == nil || !f.EventReceived(c.EventReceived), "no %s event received", c.EventReceived)
	}
	if c.AccountStatus != "" {
		add(c.AccountStatus != f.AccountStatus, "account status is %s, not %s", orUnknown(f.AccountStatus), c.AccountStatus)
	}
	if c.LifecycleStage != "" {
		add(c.LifecycleStage != f.LifecycleStage, "lifecycle stage is %s, not %s", orUnknown(f.LifecycleStage), c.LifecycleStage)
	}
	for i := range c.All {
		if !c.All[i].Holds(f) {
			out = append(out, c.All[i].whyFalse(f)...)
		}
	}
	if len(c.Any) > 0 && !slices.ContainsFunc(c.Any, func(a Condition) bool { return a.Holds(f) }) {
		var each []string
		for i := range c.Any {
			each = append(each, strings.Join(c.Any[i].whyFalse(f), " and "))
		}
		out = append(out, "none of the alternatives holds: "+strings.Join(each, "; "))
	}
	if c.Not != nil && c.Not.Holds(f) {
		out = append(out, c.Not.whyTrue(f)...)
	}
	return out
}

// whyTrue lists the facts that make a holding condition hold.
func (c *Condition) whyTrue(f Facts) []string {
	var out []string
	add := func(set bool, format string, args ...any) {
		if set {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	add(len(c.Segment) > 0, "segment is %s", f.Segment)
	add(len(c.HealthBand) > 0, "health band is %s", f.HealthBand)
	if c.HealthScore != nil && f.HealthScore != nil {
		out = append(out, fmt.Sprintf("health score is %g, %s", *f.HealthScore, c.HealthScore))
	}
	if c.Field != nil {
		v, ok := f.Fields[c.Field.Name]
		add(true, "field %s is %s", c.Field.Name, fieldValue(v, ok))
	}
	add(c.EventReceived != "", "%s event received", c.EventReceived)
	add(c.AccountStatus != "", "account status is %s", f.AccountStatus)
	add(c.LifecycleStage != "", "lifecycle stage is %s", f.LifecycleStage)
	for i := range c.All {
		out = append(out, c.All[i].whyTrue(f)...)
	}
	for i := range c.Any {
		if c.Any[i].Holds(f) {
			out = append(out, c.Any[i].whyTrue(f)...)
			break
		}
	}
	if c.Not != nil {
		out = append(out, c.Not.whyFalse(f)...)
	}
	if len(out) == 0 {
		out = append(out, "no condition")
	}
	return out
}

func (fc *FieldCondition) whyFalse(fields map[string]any) string {
	v, ok := fields[fc.Name]
	is := fmt.Sprintf("field %s is %s", fc.Name, fieldValue(v, ok))
	switch {
	case fc.Exists != nil && ok != *fc.Exists && ok:
		return is + ", wanted not set"
	case fc.Exists != nil && ok != *fc.Exists:
		return is + ", wanted set"
	case fc.Eq != nil && !(ok && sameValue(v, fc.Eq)):
		return is + ", not " + fmt.Sprint(fc.Eq)
	case fc.Ne != nil && ok && sameValue(v, fc.Ne):
		return is + ", which is excluded"
	case len(fc.In) > 0 && !(ok && slices.ContainsFunc(fc.In, func(x any) bool { return sameValue(v, x) })):
		var in []string
		for _, x := range fc.In {
			in = append(in, fmt.Sprint(x))
		}
		return is + ", not one of " + strings.Join(in, ", ")
	}
	return is + ", not " + fc.Compare.String()
}

// String says what a comparison asks for, e.g. "at least 40 and below 70".
func (c Compare) String() string {
	var parts []string
	for _, b := range []struct {
		v    *float64
		word string
	}{{c.Gt, "above"}, {c.Gte, "at least"}, {c.Lt, "below"}, {c.Lte, "at most"}} {
		if b.v != nil {
			parts = append(parts, fmt.Sprintf("%s %g", b.word, *b.v))
		}
	}
	return strings.Join(parts, " and ")
}

func fieldValue(v any, ok bool) string {
	if !ok {
		return "not set"
	}
	return fmt.Sprint(v)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// FindStep returns the step with the id, nested ones included; nil when
// there is none.
func (def *Definition) FindStep(id string) *Step {
	var found *Step
	walkSteps("steps", def.Steps, func(_ string, s *Step) {
		if found == nil && s.ID == id {
			found = s
		}
	})
	return found
}
