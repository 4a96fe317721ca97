package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/survey"
)

// Playbook analytics: what a playbook's runs did, per version and per step,
// read from the runs, the outbox (with what SendGrid reported of each email),
// approvals, tasks and the audit trail. Every query starts from the runs in scope (the index of
// migration 00016) and reaches the rest by run id.

// AnalyticsScope is the runs counted: one playbook's, started in [From, To),
// of one version (Version > 0) or of every version.
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

// scoped is the CTE of the runs in scope; $1..$5 are AnalyticsScope.args.
const scoped = `r AS MATERIALIZED (
	SELECT id, playbook_version AS v, account_id, status, outcome, started_at, ended_at FROM runs
	WHERE playbook_key = $1 AND playbook_version BETWEEN $2 AND $3 AND started_at >= $4 AND started_at < $5)`

// stepOf names the definition step a row belongs to: repeated steps carry
// "#n", escalation tasks "/escalated-Ln" after the step id.
func stepOf(col string) string { return "split_part(split_part(" + col + ", '/', 1), '#', 1)" }

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

// RunOutcomes counts the runs in scope by version, status and outcome.
func (s *Store) RunOutcomes(ctx context.Context, sc AnalyticsScope) ([]RunOutcomeCount, error) {
	return rowsOf[RunOutcomeCount](ctx, s.pool, `
		WITH `+scoped+`
		SELECT v AS version, COALESCE(status, '') AS status, COALESCE(outcome, '') AS outcome, count(*) AS count,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at))::float8 AS median_duration
		FROM r GROUP BY GROUPING SETS ((v, status, outcome), (v)) ORDER BY 1, 2, 3`, sc.args()...)
}

// StepPosition is where a step comes in its version's definition (depth
// first, branches in order).
type StepPosition struct {
	Version int
	Step    string
	Pos     int
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

// StepProgress counts, for the runs in scope, the runs that left records
// of each step (per source), and how far each run got along positions.
func (s *Store) StepProgress(ctx context.Context, sc AnalyticsScope, positions []StepPosition) ([]StepReach, []RunProgress, error) {
	versions, steps, pos := make([]int32, len(positions)), make([]string, len(positions)), make([]int32, len(positions))
	for i, p := range positions {
		versions[i], steps[i], pos[i] = int32(p.Version), p.Step, int32(p.Pos)
	}
	// One pass over the records of the runs in scope: each run's steps per
	// source, once (rs); a step's runs are counted in each source it leaves
	// records in, and the caller keeps the largest (an approval step's
	// approvals include the runs of its emails and escalation tasks). How
	// far a run got is the furthest of its steps, by a hash join of the
	// runs with rs, not by index lookups per run and source.
	recordsIn := func(src, table, alias, step, extra string) string {
		return `SELECT ` + src + ` AS src, r.id, r.v, ` + stepOf(step) + ` AS step FROM r JOIN ` + table + ` ` + alias +
			` ON ` + alias + `.run_id = r.id` + extra
	}
	rows, err := s.pool.Query(ctx, `
		WITH `+scoped+`,
		pos AS MATERIALIZED (SELECT * FROM unnest($6::int[], $7::text[], $8::int[]) AS p (v, step, pos)),
		rs AS MATERIALIZED (
			SELECT src, id, v, step FROM (
				`+recordsIn("1", "emails", "e", "e.step_id", "")+`
				UNION ALL `+recordsIn("2", "tasks", "t", "t.step_id", "")+`
				UNION ALL `+recordsIn("3", "approvals", "a", "a.step_id", "")+`
				UNION ALL `+recordsIn("4", "events", "ev", "(ev.data->>'step_id')", ` AND ev.type = 'account_changed'`)+`
			) u GROUP BY 1, 2, 3, 4),
		per_run AS (
			SELECT r.v, r.status = 'completed' AND r.outcome IS NOT DISTINCT FROM 'completed' AS finished, COALESCE(max(p.pos), -1) AS max_pos
			FROM r LEFT JOIN rs ON rs.id = r.id LEFT JOIN pos p ON p.v = rs.v AND p.step = rs.step
			GROUP BY r.id, r.v, r.status, r.outcome
		)
		SELECT false AS reach, v, '' AS step, max_pos, finished, count(*)::int AS runs FROM per_run GROUP BY 2, 4, 5
		UNION ALL
		SELECT true, v, step, 0, false, count(*)::int FROM rs GROUP BY src, v, step`,
		append(sc.args(), versions, steps, pos)...)
	if err != nil {
		return nil, nil, fmt.Errorf("step progress: %w", err)
	}
	defer rows.Close()
	var (
		reached  []StepReach
		progress []RunProgress
	)
	for rows.Next() {
		var (
			reach, finished bool
			v, maxPos, n    int
			step            string
		)
		if err := rows.Scan(&reach, &v, &step, &maxPos, &finished, &n); err != nil {
			return nil, nil, fmt.Errorf("step progress: %w", err)
		}
		if reach {
			reached = append(reached, StepReach{Version: v, Step: step, Runs: n})
		} else {
			progress = append(progress, RunProgress{Version: v, MaxPos: maxPos, Finished: finished, Runs: n})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("step progress: %w", err)
	}
	return reached, progress, nil
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

// EmailCounts counts the emails of the runs in scope by version and step,
// from the outbox's analytics index alone: SendGrid's events are flags on
// the outbox row (migration 00017), not read here.
func (s *Store) EmailCounts(ctx context.Context, sc AnalyticsScope) ([]StepEmails, error) {
	return rowsOf[StepEmails](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, `+stepOf("e.step_id")+` AS step,
		       count(*) FILTER (WHERE e.status IN ('sent', 'captured')) AS sent,
		       count(*) FILTER (WHERE e.status = 'skipped') AS skipped,
		       count(*) FILTER (WHERE e.status = 'failed') AS failed,
		       count(*) FILTER (WHERE e.delivered) AS delivered, count(*) FILTER (WHERE e.opened) AS opened,
		       count(*) FILTER (WHERE e.clicked) AS clicked, count(*) FILTER (WHERE e.bounced) AS bounced,
		       count(*) FILTER (WHERE e.unsubscribed) AS unsubscribed
		FROM r JOIN emails e ON e.run_id = r.id
		GROUP BY 1, 2`, sc.args()...)
}

// StepSurveys counts a step's surveys for the accounts of one segment
// (their segment now).
type StepSurveys struct {
	Version int
	Step    string
	Segment string
	survey.Counts
}

// SurveyCounts counts the survey emails of the runs in scope by version,
// step and segment: those that went out (sent or captured, as EmailCounts
// counts sent), those of them answered, and every answer to the step's
// emails by kind and NPS category, with the CSAT scores added up. Like the
// rest of the report it counts what the runs did, whenever. Survey emails
// are read from a partial index of their own (migration 00025): only
// survey emails, and no read of the outbox's rows.
func (s *Store) SurveyCounts(ctx context.Context, sc AnalyticsScope) ([]StepSurveys, error) {
	return rowsOf[StepSurveys](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, `+stepOf("e.step_id")+` AS step, a.segment,
		       count(*) FILTER (WHERE e.status IN ('sent', 'captured')) AS sent,
		       count(sr.id) FILTER (WHERE e.status IN ('sent', 'captured')) AS answered,
		       count(*) FILTER (WHERE sr.kind = 'nps') AS nps,
		       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'promoter') AS promoters,
		       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'passive') AS passives,
		       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'detractor') AS detractors,
		       count(*) FILTER (WHERE sr.kind = 'csat') AS csat,
		       COALESCE(sum(sr.score) FILTER (WHERE sr.kind = 'csat'), 0) AS csat_sum
		FROM r JOIN emails e ON e.run_id = r.id AND e.survey IS NOT NULL
		JOIN accounts a ON a.id = r.account_id
		LEFT JOIN survey_responses sr ON sr.email_id = e.id
		GROUP BY 1, 2, 3`, sc.args()...)
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

// ApprovalCounts counts the approvals of the runs in scope by version and step.
func (s *Store) ApprovalCounts(ctx context.Context, sc AnalyticsScope) ([]StepApprovals, error) {
	return rowsOf[StepApprovals](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, `+stepOf("a.step_id")+` AS step, count(*) AS requested,
		       count(*) FILTER (WHERE a.status = 'approved') AS approved, count(*) FILTER (WHERE a.status = 'rejected') AS rejected,
		       count(*) FILTER (WHERE a.status = 'expired') AS expired, count(*) FILTER (WHERE a.status = 'pending') AS pending,
		       (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.decided_at - a.created_at))
		            FILTER (WHERE a.status IN ('approved', 'rejected')))::float8 AS median_decision
		FROM r JOIN approvals a ON a.run_id = r.id GROUP BY 1, 2`, sc.args()...)
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

// TaskCounts counts the tasks of the runs in scope by version and step.
func (s *Store) TaskCounts(ctx context.Context, sc AnalyticsScope, now time.Time) ([]StepTasks, error) {
	return rowsOf[StepTasks](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, `+stepOf("t.step_id")+` AS step, count(*) AS created,
		       count(*) FILTER (WHERE t.status = 'completed') AS done, count(*) FILTER (WHERE t.status = 'open') AS open,
		       count(*) FILTER (WHERE t.status = 'open' AND t.due_at < $6) AS overdue
		FROM r JOIN tasks t ON t.run_id = r.id GROUP BY 1, 2`, append(sc.args(), now)...)
}

// HealthOutcome counts the ended runs of a version by the account's health
// band when the run started and when it ended (the latest snapshot measured
// by then; "unscored" without one), and the account's status now.
type HealthOutcome struct {
	Version       int
	Before        string
	After         string
	AccountStatus string
	Runs          int
}

// HealthOutcomes counts the ended runs in scope by health band before and
// after, and whether their account is still a customer.
func (s *Store) HealthOutcomes(ctx context.Context, sc AnalyticsScope) ([]HealthOutcome, error) {
	return rowsOf[HealthOutcome](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, COALESCE(hb.band, 'unscored') AS before, COALESCE(ha.band, 'unscored') AS after,
		       a.status AS account_status, count(*) AS runs
		FROM r JOIN accounts a ON a.id = r.account_id
		LEFT JOIN LATERAL (SELECT band FROM health_snapshots h WHERE h.account_id = r.account_id AND h.measured_at <= r.started_at
		                   ORDER BY h.measured_at DESC, h.id DESC LIMIT 1) hb ON true
		LEFT JOIN LATERAL (SELECT band FROM health_snapshots h WHERE h.account_id = r.account_id AND h.measured_at <= r.ended_at
		                   ORDER BY h.measured_at DESC, h.id DESC LIMIT 1) ha ON true
		WHERE r.ended_at IS NOT NULL
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`, sc.args()...)
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

// FirstEventTimes measures time to the first report of each event (stored
// as events of type 'event:<name>') after each run in scope started, per
// version. Reports before the run started do not count: they were not the
// run's doing.
func (s *Store) FirstEventTimes(ctx context.Context, sc AnalyticsScope, events []string) ([]FirstEventTime, error) {
	return rowsOf[FirstEventTime](ctx, s.pool, `
		WITH `+scoped+`
		SELECT r.v AS version, n.name AS event, count(f.at) AS runs,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - r.started_at) / 86400)::float8 AS median_days
		FROM r CROSS JOIN unnest($6::text[]) AS n(name)
		LEFT JOIN LATERAL (SELECT min(e.created_at) AS at FROM events e
		                   WHERE e.account_id = r.account_id AND e.type = 'event:' || n.name AND e.created_at >= r.started_at) f ON true
		GROUP BY 1, 2 ORDER BY 1, 2`, append(sc.args(), events)...)
}

// RunARR is the ARR of the accounts of a version's ended runs in scope
// (each run counts its account once), from the ARR history the database
// keeps (migration 00010): when each run started, when it ended, and now.
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

// RunARRs reads RunARR per version.
func (s *Store) RunARRs(ctx context.Context, sc AnalyticsScope) ([]RunARR, error) {
	// at(t): the last history row at or before t, else the first after it.
	at := func(t string) string {
		return `(SELECT CASE WHEN h.status = 'active' THEN h.arr ELSE 0 END FROM arr_history h WHERE h.account_id = r.account_id
			ORDER BY h.valid_from > ` + t + `, CASE WHEN h.valid_from <= ` + t + ` THEN h.valid_from END DESC, h.valid_from, h.id DESC LIMIT 1)`
	}
	return rowsOf[RunARR](ctx, s.pool, `
		WITH `+scoped+`, m AS (
			SELECT r.v, COALESCE(`+at("r.started_at")+`, 0) AS s, COALESCE(`+at("r.ended_at")+`, 0) AS e, COALESCE(`+at("now()")+`, 0) AS n
			FROM r WHERE r.ended_at IS NOT NULL)
		SELECT v AS version, count(*) AS runs, sum(s)::float8 AS start, sum(e)::float8 AS "end", sum(n)::float8 AS now,
		       count(*) FILTER (WHERE e > s) AS expanded
		FROM m GROUP BY 1 ORDER BY 1`, sc.args()...)
}
