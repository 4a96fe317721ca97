package playbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/playbookd/playbookd/accounts"
)

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
	case "schedule":
		v.scheduleEvery(t.Every)
		if t.Anchor != "" {
			v.vocabulary("trigger.anchor", t.Anchor, ScheduleAnchors, "")
		}
	case "survey_response":
		if t.Category != "" {
			v.vocabulary("trigger.category", t.Category, SurveyCategories, "")
		}
	}
	set := map[string]bool{"to": t.To != "", "from": t.From != "", "days_before": t.DaysBefore != 0,
		"signal": t.Signal != "", "event": t.Event != "", "every": t.Every != 0, "anchor": t.Anchor != "",
		"category": t.Category != ""}
	for _, o := range triggerOptions {
		if set[o.field] && !slices.Contains(o.on, t.On) {
			v.add("trigger."+o.field, "only with on: %s", strings.Join(o.on, " or "))
		}
	}
}

// scheduleEvery checks a schedule's cadence: whole days, a week to a leap
// year.
func (v *validator) scheduleEvery(every Duration) {
	span := fmt.Sprintf("whole days or weeks from %dd to %dd, such as 13w or 30d", MinScheduleEvery/Day, MaxScheduleEvery/Day)
	switch {
	case every == 0:
		v.add("trigger.every", "required with on: schedule: the cadence, %s", span)
	case every.Std()%Day != 0:
		v.add("trigger.every", "%s is not whole days: the cadence is %s", every, span)
	case every.Std() < MinScheduleEvery || every.Std() > MaxScheduleEvery:
		v.add("trigger.every", "%s is out of range: the cadence is %s", every, span)
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
		if v.text(p+".field.name", f.Name, "the custom field's name") && v.opts.AccountFields != nil &&
			!slices.ContainsFunc(v.opts.AccountFields, func(d accounts.Field) bool { return d.Name == f.Name }) {
			v.add(p+".field.name", "%q is not a declared account field; declared: %s (ACCOUNT_FIELDS declares more)",
				f.Name, strings.Join(accounts.FieldNames(v.opts.AccountFields), ", "))
		}
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
