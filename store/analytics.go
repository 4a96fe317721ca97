package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/survey"
)

// Playbook analytics: what a playbook's runs did, per version and per step.
// The figures are read from summaries (migration 00028), not from history:
// triggers on runs, the outbox, approvals, tasks, events, survey answers and
// accounts write what each change adds to or takes from the counts of its
// run's version, start day and step, in the transaction that makes the
// change. A request adds up the days asked for, whatever the number of runs
// behind them. RebuildAnalytics recomputes the summaries from history.

// AnalyticsScope is the runs counted: one playbook's, started in [From, To)
// (whole days, UTC), of one version (Version > 0) or of every version.
type AnalyticsScope struct {
	Key      string
	Version  int
	From, To time.Time
}

func (s AnalyticsScope) args() []any {
	lo, hi := s.Version, s.Version
	if s.Version == 0 { // a range, not "$2 = 0 OR ...": one plan fits both
		lo, hi = 1, math.MaxInt32
	}
	return []any{s.Key, lo, hi, s.From, s.To}
}

// PlaybookDefinition is one stored version of a playbook, for analytics.
type PlaybookDefinition struct {
	Version    int
	Status     states.Version
	Definition json.RawMessage
}

// PlaybookDefinitions returns every version of a playbook, oldest first;
// none when there is no such playbook.
func (s *Store) PlaybookDefinitions(ctx context.Context, key string) ([]PlaybookDefinition, error) {
	return rowsOf[PlaybookDefinition](ctx, s.pool, `
		SELECT version, status, definition FROM playbook_versions WHERE key = $1 ORDER BY version`, key)
}

// PlaybookFigures is what a playbook's runs in scope did, by version (and
// step), each slice sorted by version, then step.
type PlaybookFigures struct {
	Outcomes  []RunOutcomeCount
	Reached   []StepReach
	Progress  []RunProgress
	Emails    []StepEmails
	Surveys   []StepSurveys
	Approvals []StepApprovals
	Tasks     []StepTasks
	Health    []HealthOutcome
	Firsts    []FirstEventTime
	ARR       []RunARR
}

// RunOutcomeCount counts the runs of a version by status and outcome, with
// the median duration of those that ended. Total rows (Status "") count
// every run of the version.
type RunOutcomeCount struct {
	Version        int
	Status         states.Run
	Outcome        string
	Count          int
	MedianDuration *float64
}

// StepReach counts the runs that left records of a step in one source:
// emails, tasks, approvals or account changes.
type StepReach struct {
	Version int
	Step    string
	Runs    int
}

// RunProgress counts runs by how far they got: the position of the last
// step they left a record of (-1: none), and whether they went through
// every step (completed, not ended early by an exit rule or a decision).
type RunProgress struct {
	Version  int
	MaxPos   int
	Finished bool
	Runs     int
}

// StepEmails counts a step's outbox rows by what became of them. Sent
// counts sent and captured emails; the provider's figures count emails with
// at least one such SendGrid event (a click counts as an open too: images
// may be blocked).
type StepEmails struct {
	Version      int
	Step         string
	Sent         int
	Skipped      int
	Failed       int
	Delivered    int
	Opened       int
	Clicked      int
	Bounced      int
	Unsubscribed int
}

// StepSurveys counts a step's surveys for the accounts of one segment
// (their segment when the survey email was written).
type StepSurveys struct {
	Version int
	Step    string
	Segment string
	survey.Counts
}

// StepApprovals counts a step's approvals by status, with the median time
// from request to decision of those approved or rejected.
type StepApprovals struct {
	Version        int
	Step           string
	Requested      int
	Approved       int
	Rejected       int
	Expired        int
	Pending        int
	MedianDecision *float64
}

// StepTasks counts a step's tasks (an approval step's are its escalation
// tasks): done, open, and open past their due time at now.
type StepTasks struct {
	Version int
	Step    string
	Created int
	Done    int
	Open    int
	Overdue int
}

// HealthOutcome counts the ended runs of a version by the account's health
// band when the run started and when it ended (the latest snapshot measured
// by then, as known when the run ended; "unscored" without one), and the
// account's status now.
type HealthOutcome struct {
	Version       int
	Before        string
	After         string
	AccountStatus string
	Runs          int
}

// FirstEventTime is, for one version and one account event, how many runs
// in scope saw the account report the event at or after the run started,
// and the median days from the start to the first such report.
type FirstEventTime struct {
	Version    int
	Event      string // without the "event:" prefix
	Runs       int    // runs whose account reported it
	MedianDays *float64
}

// RunARR is the ARR of the accounts of a version's ended runs in scope
// (each run counts its account once), from the ARR history the database
// keeps (migration 00010): when each run started and when it ended (as
// known when it ended), and the account's ARR now.
// A churned account's ARR is 0 at the moments it was churned. An account
// whose history starts after the run started counts its first known ARR.
type RunARR struct {
	Version  int
	Runs     int
	Start    float64
	End      float64
	Now      float64
	Expanded int // runs whose account paid more at the end than at the start
}

// PlaybookFigures reads the figures of the runs in scope from the
// summaries: the whole months of the period from the monthly counts, the
// days at its ends from the daily ones, plus the deltas not folded in yet,
// plus today's open tasks that fell due before now. Medians come from
// histograms with buckets 2 % wide: within 1 % of the exact median.
func (s *Store) PlaybookFigures(ctx context.Context, sc AnalyticsScope, now time.Time) (PlaybookFigures, error) {
	p := periodOf(sc.From, sc.To)
	lo, hi := sc.args()[1], sc.args()[2]
	rows, err := s.pool.Query(ctx, `
		SELECT playbook_version, step, metric, bucket, sum(n)::bigint FROM (
			SELECT playbook_version, step, metric, bucket, n FROM analytics_counts_monthly
			WHERE playbook_key = $1 AND playbook_version BETWEEN $2 AND $3 AND month >= $6 AND month < $7
			UNION ALL
			SELECT playbook_version, step, metric, bucket, n FROM analytics_counts
			WHERE playbook_key = $1 AND playbook_version BETWEEN $2 AND $3
			  AND ((day >= $4 AND day < $6) OR (day >= $7 AND day < $5))
			UNION ALL
			SELECT playbook_version, step, metric, bucket, n FROM analytics_deltas
			WHERE playbook_key = $1 AND playbook_version BETWEEN $2 AND $3 AND day >= $4 AND day < $5
		) c GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0`, sc.Key, lo, hi, p.from, p.to, p.monthsFrom, p.monthsTo)
	if err != nil {
		return PlaybookFigures{}, fmt.Errorf("playbook figures: %w", err)
	}
	var sum figureSum
	sum.init(dueDay(now))
	var c count
	if _, err := pgx.ForEachRow(rows, []any{&c.version, &c.step, &c.metric, &c.bucket, &c.n}, func() error {
		sum.add(c)
		return nil
	}); err != nil {
		return PlaybookFigures{}, fmt.Errorf("playbook figures: %w", err)
	}
	// Open tasks due today, before now: the counts know due days, not times.
	today := now.UTC().Truncate(24 * time.Hour)
	rows, err = s.pool.Query(ctx, `
		SELECT r.playbook_version, analytics_step(t.step_id), count(*) FROM tasks t JOIN runs r ON r.id = t.run_id
		WHERE t.status = 'open' AND t.run_id IS NOT NULL AND t.due_at >= $6 AND t.due_at < $7
		  AND r.playbook_key = $1 AND r.playbook_version BETWEEN $2 AND $3
		  AND analytics_day(r.started_at) >= $4 AND analytics_day(r.started_at) < $5
		GROUP BY 1, 2`, sc.Key, lo, hi, p.from, p.to, today, now)
	if err != nil {
		return PlaybookFigures{}, fmt.Errorf("playbook figures, tasks due today: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&c.version, &c.step, &c.n}, func() error {
		sum.task(c.version, c.step).Overdue += int(c.n)
		return nil
	}); err != nil {
		return PlaybookFigures{}, fmt.Errorf("playbook figures, tasks due today: %w", err)
	}
	return sum.figures(), nil
}

// RebuildAnalytics recomputes every run's analytics state and every count
// from history (analytics_rebuild, migration 00028). Writers to those tables
// wait while it runs.
func (s *Store) RebuildAnalytics(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `SELECT analytics_rebuild()`); err != nil {
		return fmt.Errorf("rebuild analytics: %w", err)
	}
	return nil
}

// CompactAnalytics folds the deltas the triggers appended into the counts;
// it returns how many counts changed (0 too when another fold is running).
func (s *Store) CompactAnalytics(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT analytics_compact()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("compact analytics: %w", err)
	}
	return n, nil
}

// monthsInReads lets a test read a period from the daily counts alone.
var monthsInReads = true

// period is a report's days [from, to) as the summaries read them: the
// whole months in it [monthsFrom, monthsTo) from the monthly counts, the
// days before and after them from the daily ones.
type period struct{ from, to, monthsFrom, monthsTo pgtype.Date }

func periodOf(fromT, toT time.Time) period {
	day := func(t time.Time) time.Time {
		t = t.UTC()
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	from, to := day(fromT), day(toT)
	if !toT.UTC().Equal(to) {
		to = to.AddDate(0, 0, 1) // a period ending within a day includes it, as analytics_day does
	}
	first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !first.Equal(from) {
		first = first.AddDate(0, 1, 0)
	}
	last := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !monthsInReads || !first.Before(last) {
		first, last = to, to // no whole month: every day from the daily counts
	}
	date := func(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }
	return period{from: date(from), to: date(to), monthsFrom: date(first), monthsTo: date(last)}
}

// count is one summed row of the summaries.
type count struct {
	version      int
	step, metric string
	bucket       int
	n            int64
}

// dueDay is the open tasks' due-day bucket of now's day: days since
// 2000-01-01 (analytics_task_counts).
func dueDay(now time.Time) int {
	return int(now.UTC().Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
}

type versionStep struct {
	version int
	step    string
}

type outcomeKey struct {
	version         int
	status, outcome string
}

// histogram counts values by bucket (analytics_bucket).
type histogram map[int]int64

// median is the median of the counted values, read from the midpoints of
// their buckets (as percentile_cont would interpolate); nil when empty.
func (h histogram) median() *float64 {
	var total int64
	buckets := make([]int, 0, len(h))
	for b, n := range h {
		total += n
		buckets = append(buckets, b)
	}
	if total <= 0 {
		return nil
	}
	slices.Sort(buckets)
	at := func(i int64) float64 { // the value of the i-th smallest, from 0
		for _, b := range buckets {
			if i < h[b] {
				return bucketValue(b)
			}
			i -= h[b]
		}
		return bucketValue(buckets[len(buckets)-1])
	}
	pos := 0.5 * float64(total-1)
	lo := math.Floor(pos)
	v := at(int64(lo))
	if pos > lo {
		v += (at(int64(lo)+1) - v) * (pos - lo)
	}
	return &v
}

// bucketValue is the geometric midpoint of a bucket 2 % wide; bucket -1
// holds durations under a second.
func bucketValue(b int) float64 {
	if b < 0 {
		return 0
	}
	return math.Pow(1.02, float64(b)+0.5)
}

// figureSum turns the summed rows into the figures.
type figureSum struct {
	today     int
	outcomes  map[outcomeKey]int
	durations map[outcomeKey]histogram // status "" is every ended run of the version
	progress  map[RunProgress]int      // Runs 0 in the key
	reached   map[StepReach]int        // the source in Step's key as "src:step"
	emails    map[versionStep]*StepEmails
	surveys   map[StepSurveys]*survey.Counts // Counts zero in the key
	approvals map[versionStep]*StepApprovals
	decisions map[versionStep]histogram
	tasks     map[versionStep]*StepTasks
	health    map[HealthOutcome]int
	firsts    map[versionStep]histogram // step holds the event
	arr       map[int]*RunARR
}

func (f *figureSum) init(today int) {
	*f = figureSum{today: today, outcomes: map[outcomeKey]int{}, durations: map[outcomeKey]histogram{},
		progress: map[RunProgress]int{}, reached: map[StepReach]int{}, emails: map[versionStep]*StepEmails{},
		surveys: map[StepSurveys]*survey.Counts{}, approvals: map[versionStep]*StepApprovals{}, decisions: map[versionStep]histogram{},
		tasks: map[versionStep]*StepTasks{}, health: map[HealthOutcome]int{}, firsts: map[versionStep]histogram{}, arr: map[int]*RunARR{}}
}

func (f *figureSum) task(version int, step string) *StepTasks {
	k := versionStep{version, step}
	if f.tasks[k] == nil {
		f.tasks[k] = &StepTasks{Version: version, Step: step}
	}
	return f.tasks[k]
}

func (f *figureSum) histogram(m map[versionStep]histogram, k versionStep) histogram {
	if m[k] == nil {
		m[k] = histogram{}
	}
	return m[k]
}

func (f *figureSum) add(c count) {
	kind, rest, _ := strings.Cut(c.metric, ":")
	n := int(c.n)
	vs := versionStep{c.version, c.step}
	switch kind {
	case "run": // run:<status>:<outcome>, bucket = how far it got
		status, outcome, _ := strings.Cut(rest, ":")
		f.outcomes[outcomeKey{c.version, status, outcome}] += n
		f.progress[RunProgress{Version: c.version, MaxPos: c.bucket, Finished: status == string(states.RunCompleted) && outcome == "completed"}] += n
	case "duration":
		status, outcome, _ := strings.Cut(rest, ":")
		for _, k := range []outcomeKey{{c.version, status, outcome}, {c.version, "", ""}} {
			if f.durations[k] == nil {
				f.durations[k] = histogram{}
			}
			f.durations[k][c.bucket] += c.n
		}
	case "reach":
		f.reached[StepReach{Version: c.version, Step: rest + ":" + c.step}] += n
	case "email":
		e := f.emails[vs]
		if e == nil {
			e = &StepEmails{Version: c.version, Step: c.step}
			f.emails[vs] = e
		}
		switch rest {
		case "sent":
			e.Sent += n
		case "skipped":
			e.Skipped += n
		case "failed":
			e.Failed += n
		case "delivered":
			e.Delivered += n
		case "opened":
			e.Opened += n
		case "clicked":
			e.Clicked += n
		case "bounced":
			e.Bounced += n
		case "unsubscribed":
			e.Unsubscribed += n
		}
	case "survey": // survey:<segment>:<figure>
		segment, figure, _ := strings.Cut(rest, ":")
		k := StepSurveys{Version: c.version, Step: c.step, Segment: segment}
		s := f.surveys[k]
		if s == nil {
			s = &survey.Counts{}
			f.surveys[k] = s
		}
		switch figure {
		case "sent":
			s.Sent += n
		case "answered":
			s.Answered += n
		case "nps":
			s.NPS += n
		case "promoters":
			s.Promoters += n
		case "passives":
			s.Passives += n
		case "detractors":
			s.Detractors += n
		case "csat":
			s.CSAT += n
		case "csat_sum":
			s.CSATSum += n
		}
	case "approval":
		a := f.approvals[vs]
		if a == nil {
			a = &StepApprovals{Version: c.version, Step: c.step}
			f.approvals[vs] = a
		}
		switch rest {
		case "requested":
			a.Requested += n
		case "approved":
			a.Approved += n
		case "rejected":
			a.Rejected += n
		case "expired":
			a.Expired += n
		case "pending":
			a.Pending += n
		}
	case "decision":
		f.histogram(f.decisions, vs)[c.bucket] += c.n
	case "task":
		t := f.task(c.version, c.step)
		switch rest {
		case "created":
			t.Created += n
		case "done":
			t.Done += n
		case "open":
			t.Open += n
		case "due":
			if c.bucket < f.today {
				t.Overdue += n
			}
		}
	case "health": // health:<before>:<after>:<account status>
		parts := strings.SplitN(rest, ":", 3)
		if len(parts) == 3 {
			f.health[HealthOutcome{Version: c.version, Before: parts[0], After: parts[1], AccountStatus: parts[2]}] += n
		}
	case "arr":
		a := f.arr[c.version]
		if a == nil {
			a = &RunARR{Version: c.version}
			f.arr[c.version] = a
		}
		switch rest {
		case "runs":
			a.Runs += n
		case "start":
			a.Start += float64(c.n) / 100
		case "end":
			a.End += float64(c.n) / 100
		case "now":
			a.Now += float64(c.n) / 100
		case "expanded":
			a.Expanded += n
		}
	case "milestone":
		f.histogram(f.firsts, versionStep{c.version, rest})[c.bucket] += c.n
	}
}

func (f *figureSum) figures() PlaybookFigures {
	var p PlaybookFigures
	started := map[int]int{}
	for k, n := range f.outcomes {
		started[k.version] += n
		if n != 0 {
			p.Outcomes = append(p.Outcomes, RunOutcomeCount{Version: k.version, Status: states.Run(k.status), Outcome: k.outcome,
				Count: n, MedianDuration: f.durations[k].median()})
		}
	}
	for v, n := range started {
		p.Outcomes = append(p.Outcomes, RunOutcomeCount{Version: v, Count: n, MedianDuration: f.durations[outcomeKey{v, "", ""}].median()})
	}
	slices.SortFunc(p.Outcomes, func(a, b RunOutcomeCount) int {
		return cmpAll(a.Version-b.Version, strings.Compare(string(a.Status), string(b.Status)), strings.Compare(a.Outcome, b.Outcome))
	})
	for k, n := range f.progress {
		if n != 0 {
			k.Runs = n
			p.Progress = append(p.Progress, k)
		}
	}
	for k, n := range f.reached {
		_, step, _ := strings.Cut(k.Step, ":")
		p.Reached = append(p.Reached, StepReach{Version: k.Version, Step: step, Runs: n})
	}
	for _, e := range f.emails {
		p.Emails = append(p.Emails, *e)
	}
	for k, c := range f.surveys {
		k.Counts = *c
		p.Surveys = append(p.Surveys, k)
	}
	for k, a := range f.approvals {
		a.MedianDecision = f.decisions[k].median()
		p.Approvals = append(p.Approvals, *a)
	}
	for _, t := range f.tasks {
		p.Tasks = append(p.Tasks, *t)
	}
	for k, n := range f.health {
		k.Runs = n
		p.Health = append(p.Health, k)
	}
	for k, h := range f.firsts {
		var runs int64
		for _, n := range h {
			runs += n
		}
		days := h.median()
		if days != nil {
			*days /= 86400
		}
		p.Firsts = append(p.Firsts, FirstEventTime{Version: k.version, Event: k.step, Runs: int(runs), MedianDays: days})
	}
	for _, a := range f.arr {
		p.ARR = append(p.ARR, *a)
	}
	byVersionStep := func(av int, as string, bv int, bs string) int { return cmpAll(av-bv, strings.Compare(as, bs)) }
	slices.SortFunc(p.Progress, func(a, b RunProgress) int {
		return cmpAll(a.Version-b.Version, a.MaxPos-b.MaxPos, boolCmp(a.Finished, b.Finished))
	})
	slices.SortFunc(p.Reached, func(a, b StepReach) int {
		return cmpAll(byVersionStep(a.Version, a.Step, b.Version, b.Step), a.Runs-b.Runs)
	})
	slices.SortFunc(p.Emails, func(a, b StepEmails) int { return byVersionStep(a.Version, a.Step, b.Version, b.Step) })
	slices.SortFunc(p.Surveys, func(a, b StepSurveys) int {
		return cmpAll(byVersionStep(a.Version, a.Step, b.Version, b.Step), strings.Compare(a.Segment, b.Segment))
	})
	slices.SortFunc(p.Approvals, func(a, b StepApprovals) int { return byVersionStep(a.Version, a.Step, b.Version, b.Step) })
	slices.SortFunc(p.Tasks, func(a, b StepTasks) int { return byVersionStep(a.Version, a.Step, b.Version, b.Step) })
	slices.SortFunc(p.Health, func(a, b HealthOutcome) int {
		return cmpAll(a.Version-b.Version, strings.Compare(a.Before, b.Before), strings.Compare(a.After, b.After),
			strings.Compare(a.AccountStatus, b.AccountStatus))
	})
	slices.SortFunc(p.Firsts, func(a, b FirstEventTime) int { return byVersionStep(a.Version, a.Event, b.Version, b.Event) })
	slices.SortFunc(p.ARR, func(a, b RunARR) int { return a.Version - b.Version })
	return p
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// cmpAll is the first of comparisons that is not 0.
func cmpAll(cs ...int) int {
	for _, c := range cs {
		if c != 0 {
			return c
		}
	}
	return 0
}
