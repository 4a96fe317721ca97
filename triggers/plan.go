// Package triggers starts playbooks when the data says so (PRODUCT.md §7):
// account created, health band entered, risk signal seen, renewal window
// reached, expansion criteria met, lifecycle stage changed, account event
// reported, a schedule's occasion come, a survey answered. A trigger is
// recorded as a firing in the same transaction as the change that caused it
// and then processed, so "once per occasion" is a database constraint and a
// crash in between only delays the start until the next sweep.
package triggers

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// Trigger is a published playbook's trigger block.
type Trigger struct {
	PlaybookKey string
	playbook.Trigger
}

// Published reads the trigger blocks of published playbooks (null for one
// without), ordered by key.
func Published(blocks map[string]json.RawMessage) ([]Trigger, error) {
	var out []Trigger
	for key, raw := range blocks {
		var t *playbook.Trigger
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("decode the trigger of playbook %s: %w", key, err)
		}
		if t != nil {
			out = append(out, Trigger{PlaybookKey: key, Trigger: *t})
		}
	}
	slices.SortFunc(out, func(a, b Trigger) int { return strings.Compare(a.PlaybookKey, b.PlaybookKey) })
	return out, nil
}

// AccountFacts is what account triggers look at.
type AccountFacts struct {
	Status         string
	LifecycleStage string
	RenewalDate    *time.Time
}

// OnAccountSaved plans the firings of an account being saved: onCreate fire
// only if the save creates it. account_created fires for active accounts
// created in the onboarding stage, so importing an established book of
// business (lifecycle_stage adoption, renewal...) does not onboard it again.
func OnAccountSaved(triggers []Trigger, a AccountFacts, today time.Time) (onCreate, always []store.NewFiring) {
	if a.Status != "active" {
		return nil, nil
	}
	for _, t := range triggers {
		switch t.On {
		case "account_created":
			if a.LifecycleStage == "onboarding" {
				onCreate = append(onCreate, store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: "account_created"})
			}
		case "renewal_window":
			if a.RenewalDate == nil {
				continue
			}
			if f, ok := RenewalFiring(t, *a.RenewalDate, today); ok {
				always = append(always, f)
			}
		}
	}
	return onCreate, always
}

// RenewalFiring fires once per renewal date, when it is at most days_before
// days away (and not past): a moved date is a new occasion.
func RenewalFiring(t Trigger, renewal, today time.Time) (store.NewFiring, bool) {
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	r, d := day(renewal), day(today)
	if r.Before(d) || r.After(d.AddDate(0, 0, t.DaysBefore)) {
		return store.NewFiring{}, false
	}
	return store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: "renewal_window:" + r.Format(time.DateOnly)}, true
}

// utcDay is a moment's date in UTC, as midnight UTC.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ScheduleGraceDays is how many days an occasion of a schedule trigger
// stays due: the sweep records an occasion on its day or in the six days
// after. A sweep that was down (a worker outage over a long weekend, a
// paused schedule) still fires the occasion it missed; a cadence published
// today does not start runs for occasions weeks or months old (at most a
// week late, it is still that occasion's check-in); and as the shortest
// cadence is a week (playbook.MinScheduleEvery), at most one occasion is
// ever due.
const ScheduleGraceDays = 7

// ScheduleFiring fires a schedule trigger for the latest occasion on or
// before today, when it is at most ScheduleGraceDays-1 days old. The
// occasions are the anchor date plus k·every days (k ≥ 1: the anchor day
// itself is none). Days are UTC dates and every is whole days, so month
// ends and leap years change nothing. The occasion names its date: each
// fires once, and a moved anchor date gives new occasions.
func ScheduleFiring(t Trigger, anchor, today time.Time) (store.NewFiring, bool) {
	every := int(t.Every.Std() / playbook.Day)
	if t.On != "schedule" || every <= 0 {
		return store.NewFiring{}, false
	}
	a, d := utcDay(anchor), utcDay(today)
	elapsed := int(d.Sub(a).Hours() / 24) // UTC days are 24 hours
	if elapsed < every || elapsed%every >= ScheduleGraceDays {
		return store.NewFiring{}, false
	}
	occasion := a.AddDate(0, 0, elapsed-elapsed%every)
	return store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: ScheduleOccasion(occasion)}, true
}

// ScheduleOccasion is the occasion of a schedule trigger's date:
// schedule:YYYY-MM-DD.
func ScheduleOccasion(date time.Time) string { return "schedule:" + date.Format(time.DateOnly) }

// SnapshotChange is what a new health snapshot changed.
type SnapshotChange struct {
	PreviousBand           string // "" for the first snapshot
	Band                   string
	NewSignals             []string
	ExpansionReady         bool
	PreviousExpansionReady bool
}

// OnSnapshot plans the firings of a health snapshot: entering a band (a
// second red snapshot is not a change), a new risk signal, newly meeting the
// expansion criteria.
func OnSnapshot(triggers []Trigger, c SnapshotChange) []store.NewFiring {
	var out []store.NewFiring
	for _, t := range triggers {
		switch {
		case t.On == "health_band" && c.Band == t.To && c.PreviousBand != t.To:
			out = append(out, store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: "health_band:" + t.To})
		case t.On == "risk_signal" && slices.Contains(c.NewSignals, t.Signal):
			out = append(out, store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: "risk_signal:" + t.Signal})
		case t.On == "expansion" && c.ExpansionReady && !c.PreviousExpansionReady:
			out = append(out, store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: "expansion"})
		}
	}
	return out
}

// OnSignal plans the firings of a risk signal seen in an event.
func OnSignal(triggers []Trigger, signal string) []store.NewFiring {
	return matching(triggers, "risk_signal:"+signal, func(t Trigger) bool { return t.On == "risk_signal" && t.Signal == signal })
}

// OnStageChanged plans the firings of an active account's lifecycle stage
// changing: stage_changed triggers whose to (and from, when given) match.
// The occasion names the transition; the store ends it with the id of the
// change's event, so each change fires once and a later return to the
// stage fires again.
func OnStageChanged(triggers []Trigger, c store.StageChange) []store.NewFiring {
	if c.Status != "active" || c.From == c.To {
		return nil
	}
	return matching(triggers, "stage_changed:"+c.From+">"+c.To, func(t Trigger) bool {
		return t.On == "stage_changed" && t.To == c.To && (t.From == "" || t.From == c.From)
	})
}

// OnEvent plans the firings of an account event reported by name; the store
// ends the occasion with the event's id: once per event.
func OnEvent(triggers []Trigger, name string) []store.NewFiring {
	return matching(triggers, "event:"+name, func(t Trigger) bool { return t.On == "event" && t.Event == name })
}

// OnSurveyResponse plans the firings of a recorded survey answer of a
// category: survey_response triggers of that category or of none, and the
// event triggers naming survey.EventName (the answer is an account event
// too). The category comes from the signed link, so the plan is made
// before the answer's transaction; the store ends each occasion with the id
// of the answer's event, which only a new answer records: once per answer.
func OnSurveyResponse(triggers []Trigger, category string) []store.NewFiring {
	out := matching(triggers, survey.EventName+":"+category, func(t Trigger) bool {
		return t.On == survey.EventName && (t.Category == "" || t.Category == category)
	})
	return append(out, OnEvent(triggers, survey.EventName)...)
}

// matching plans a firing on the occasion for each trigger that matches.
func matching(triggers []Trigger, occasion string, match func(Trigger) bool) []store.NewFiring {
	var out []store.NewFiring
	for _, t := range triggers {
		if match(t) {
			out = append(out, store.NewFiring{PlaybookKey: t.PlaybookKey, Occasion: occasion})
		}
	}
	return out
}
