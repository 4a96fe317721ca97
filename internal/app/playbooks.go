package app

import (
	"context"
	"slices"
	"strings"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/store"
)

// Published is a version just published, with what publishing it does
// beyond itself: the API's answer and the console's page say the same.
type Published struct {
	Version  store.PlaybookVersion
	Warnings []catalog.Warning
}

// Publish publishes a version (the catalog holds it to today's rules
// first) and says what publishing it does beyond itself.
func (a *App) Publish(ctx context.Context, key string, version int) (Published, error) {
	v, err := a.Playbooks.Publish(ctx, key, version)
	if err != nil {
		return Published{}, err
	}
	warnings, err := a.Playbooks.PublishWarnings(ctx, v.Key, v.Version)
	return Published{Version: v, Warnings: warnings}, err
}

// RunTally is how many runs of a playbook (or of one version) are live,
// and how the ended ones came out.
type RunTally struct {
	// Counts are the store's counts by version, status and outcome.
	Counts []store.RunCount
	// Live are the running and paused runs.
	Live int
	// Outcomes are the ended runs by outcome (their status when they have
	// none), most first.
	Outcomes []OutcomeCount
}

// OutcomeCount is how many ended runs came out one way.
type OutcomeCount struct {
	Outcome string
	Runs    int
}

// VersionRuns is a version of a playbook with its runs.
type VersionRuns struct {
	store.PlaybookVersion
	RunTally
}

// VersionsWithRuns is every version of a playbook, newest first, each with
// its runs.
func (a *App) VersionsWithRuns(ctx context.Context, key string) ([]VersionRuns, error) {
	vs, err := a.Playbooks.Versions(ctx, key)
	if err != nil {
		return nil, err
	}
	counts, err := a.Playbooks.RunCounts(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]VersionRuns, len(vs))
	for i, v := range vs {
		out[i] = VersionRuns{PlaybookVersion: v, RunTally: tally(counts, key, v.Version)}
	}
	return out, nil
}

// PlaybookRuns is a playbook of the catalog with the runs of all its
// versions.
type PlaybookRuns struct {
	store.PlaybookSummary
	RunTally
}

// PlaybooksWithRuns lists up to n playbooks after afterKey, each with its
// runs.
func (a *App) PlaybooksWithRuns(ctx context.Context, afterKey string, n int) ([]PlaybookRuns, error) {
	list, err := a.Playbooks.List(ctx, afterKey, n)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(list))
	for i, p := range list {
		keys[i] = p.Key
	}
	counts, err := a.Playbooks.RunCounts(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := make([]PlaybookRuns, len(list))
	for i, p := range list {
		out[i] = PlaybookRuns{PlaybookSummary: p, RunTally: tally(counts, p.Key, 0)}
	}
	return out, nil
}

// tally sums the counts of a playbook's version (0: of every version).
func tally(counts []store.RunCount, key string, version int) RunTally {
	var t RunTally
	by := map[string]int{}
	for _, rc := range counts {
		if rc.Key != key || (version > 0 && rc.Version != version) {
			continue
		}
		t.Counts = append(t.Counts, rc)
		if rc.Status.Live() {
			t.Live += rc.Runs
			continue
		}
		name := rc.Outcome
		if name == "" {
			name = string(rc.Status)
		}
		by[name] += rc.Runs
	}
	t.Outcomes = make([]OutcomeCount, 0, len(by))
	for o, n := range by {
		t.Outcomes = append(t.Outcomes, OutcomeCount{Outcome: o, Runs: n})
	}
	slices.SortFunc(t.Outcomes, func(a, b OutcomeCount) int {
		if a.Runs != b.Runs {
			return b.Runs - a.Runs
		}
		return strings.Compare(a.Outcome, b.Outcome)
	})
	return t
}
