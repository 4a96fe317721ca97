package simulate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/playbook"
)

// YearInput is an account's first year under a catalogue of playbooks: the
// plays its own life starts (account created, lifecycle stages, schedules,
// the renewal window, start_playbook), each simulated as Run would from the
// moment it starts. A quiet year: no health changes, signals or events, and
// every approval approved four hours after it is asked.
type YearInput struct {
	Definitions []*playbook.Definition
	// Sample is the account, its contacts and CSM (Sample gives one); its
	// Start is day 0, when the account is created and its contract starts.
	Sample Input
	Days   int // how long to look; 0: 365
}

// YearEntry is one line of the year: which play did what, on which day of
// the account's life, and which seed the step comes from.
type YearEntry struct {
	Day      int    `json:"day"`
	Playbook string `json:"playbook"`
	Entry
	Cite string `json:"cite,omitempty"`
}

// YearRun is one run the year started, and why.
type YearRun struct {
	Playbook string    `json:"playbook"`
	Reason   string    `json:"reason"` // account_created | stage:adoption | schedule:2026-04-02 | renewal_window | started by onboarding
	Start    time.Time `json:"start"`
	Outcome  string    `json:"outcome"`
	// Skipped says why the run did not start: the account's segment, or
	// the play's previous run still live.
	Skipped string `json:"skipped,omitempty"`
}

// YearResult is the year, in time order.
type YearResult struct {
	Runs    []YearRun   `json:"runs"`
	Entries []YearEntry `json:"entries"`
}

// approvalHeadroom is how long after it is asked the simulated CSM approves.
const approvalHeadroom = 4 * time.Hour

type yearStart struct {
	key    string
	reason string
	at     time.Time
}

// Year simulates the account's year. Plays run one at a time in the order
// they start, so each sees the lifecycle stage the earlier ones left; holds
// between plays (priority, the frequency cap across plays) are not
// simulated: each play's timeline is its own.
func Year(ctx context.Context, in YearInput) (YearResult, error) {
	days := in.Days
	if days == 0 {
		days = 365
	}
	start := in.Sample.Start
	end := start.Add(time.Duration(days) * playbook.Day)
	defs := map[string]*playbook.Definition{}
	for _, d := range in.Definitions {
		defs[d.Key] = d
	}
	queue := yearTriggers(in.Definitions, in.Sample.Account, start, end)
	account := in.Sample.Account
	liveUntil := map[string]time.Time{}
	var res YearResult
	for len(queue) > 0 {
		slices.SortStableFunc(queue, func(a, b yearStart) int { return a.at.Compare(b.at) })
		next := queue[0]
		queue = queue[1:]
		def := defs[next.key]
		run := YearRun{Playbook: next.key, Reason: next.reason, Start: next.at}
		switch {
		case def == nil:
			run.Skipped = "no such playbook"
		case len(def.Segments) > 0 && !slices.Contains(def.Segments, account.Segment):
			run.Skipped = "not for the " + account.Segment + " segment"
		case next.at.Before(liveUntil[next.key]):
			run.Skipped = "its previous run is still live"
		}
		if run.Skipped != "" {
			res.Runs = append(res.Runs, run)
			continue
		}
		sim := in.Sample
		sim.Definition, sim.Start, sim.Account = def, next.at, account
		for _, id := range def.ApprovalSteps() {
			sim.Decisions = append(sim.Decisions, Decision{StepID: id, Decision: "approve", At: playbook.Duration(approvalHeadroom)})
		}
		out, err := RunContext(ctx, sim)
		if err != nil {
			return YearResult{}, fmt.Errorf("year: %s from %s: %w", def.Key, next.at.Format(time.DateOnly), err)
		}
		run.Outcome = out.Outcome
		res.Runs = append(res.Runs, run)
		cites := def.StepCites()
		for _, e := range out.Timeline {
			if e.At.After(liveUntil[def.Key]) {
				liveUntil[def.Key] = e.At
			}
			if !e.At.Before(end) || e.Action == "decision" && strings.HasSuffix(e.Detail, notApplied) {
				continue // after the year, or the year's blanket approval of a step that did not ask
			}
			id, _, _ := strings.Cut(e.StepID, "#")
			res.Entries = append(res.Entries, YearEntry{Day: int(e.At.Sub(start) / playbook.Day), Playbook: def.Key, Entry: e, Cite: cites[id]})
			step := def.FindStep(id)
			if step == nil || e.Action == "skip" {
				continue
			}
			if u := step.UpdateAccount; u != nil && e.Action == "update_account" && u.LifecycleStage != "" && u.LifecycleStage != account.LifecycleStage {
				account.LifecycleStage = u.LifecycleStage
				for _, d := range in.Definitions {
					if t := d.Trigger; t != nil && t.On == "stage_changed" && t.To == u.LifecycleStage {
						queue = append(queue, yearStart{d.Key, "stage:" + u.LifecycleStage, e.At})
					}
				}
			}
			if s := step.StartPlaybook; s != nil && e.Action == "start_playbook" {
				queue = append(queue, yearStart{s.Key, "started by " + def.Key, e.At})
			}
		}
	}
	slices.SortStableFunc(res.Entries, func(a, b YearEntry) int { return a.At.Compare(b.At) })
	return res, nil
}

// yearTriggers are the starts known from the first day: account creation,
// each schedule's occasions and the renewal window.
func yearTriggers(defs []*playbook.Definition, account accounts.Snapshot, start, end time.Time) []yearStart {
	var starts []yearStart
	for _, d := range defs {
		t := d.Trigger
		if t == nil {
			continue
		}
		switch t.On {
		case "account_created":
			starts = append(starts, yearStart{d.Key, "account_created", start})
		case "schedule":
			anchor := start
			if t.ScheduleAnchor() == playbook.ScheduleFromContractStart && account.ContractStartAt != nil {
				anchor = *account.ContractStartAt
			}
			for _, at := range t.Occasions(anchor, end) {
				if !at.Before(start) {
					starts = append(starts, yearStart{d.Key, "schedule:" + at.Format(time.DateOnly), at})
				}
			}
		case "renewal_window":
			if account.RenewalAt != nil {
				at := account.RenewalAt.Add(-time.Duration(t.DaysBefore) * playbook.Day)
				if !at.Before(start) && at.Before(end) {
					starts = append(starts, yearStart{d.Key, "renewal_window", at})
				}
			}
		}
	}
	return starts
}
