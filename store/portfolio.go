package store

import (
	"context"
	"fmt"
	"time"

	"github.com/playbookd/playbookd/survey"
)

// BandCounts counts active accounts by their latest band; Unscored have no
// snapshot yet.
type BandCounts struct {
	Green    int
	Yellow   int
	Orange   int // only under a four-band model
	Red      int
	Unscored int
}

// BandDistribution counts active accounts by latest band.
func (s *Store) BandDistribution(ctx context.Context) (BandCounts, error) {
	var b BandCounts
	err := s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE h.band = 'green'), count(*) FILTER (WHERE h.band = 'yellow'),
		       count(*) FILTER (WHERE h.band = 'orange'), count(*) FILTER (WHERE h.band = 'red'),
		       count(*) FILTER (WHERE h.band IS NULL)
		FROM accounts a `+latestHealth+` WHERE a.status = 'active'`).Scan(&b.Green, &b.Yellow, &b.Orange, &b.Red, &b.Unscored)
	if err != nil {
		return BandCounts{}, fmt.Errorf("band distribution: %w", err)
	}
	return b, nil
}

// Cohort is the accounts active at a period's start, followed to its end.
type Cohort struct {
	Accounts int     // active at the start
	Retained int     // of those, active at the end
	ARRStart float64 // their ARR at the start
	// ARRKept is what they still pay at the end, capped at their start ARR
	// (contraction and churn count, expansion does not).
	ARRKept float64
	ARREnd  float64 // what they pay at the end, expansion included
}

// RetentionCohort follows the accounts active at from to the moment to,
// through the ARR history the database keeps (migration 00010). Accounts
// that joined during the period are not in it, as seed 003's formulas have it.
// An account's history starts on its contract_start when that came before
// playbookd saw it, and one seen churned first stopped at its renewal_date
// when that lies in between (migration 00027): an imported book has its past.
func (s *Store) RetentionCohort(ctx context.Context, from, to time.Time) (Cohort, error) {
	var c Cohort
	err := s.pool.QueryRow(ctx, `
		WITH at_start AS (
			SELECT DISTINCT ON (account_id) account_id, arr, status FROM arr_history
			WHERE valid_from <= $1 ORDER BY account_id, valid_from DESC, id DESC
		), at_end AS (
			SELECT DISTINCT ON (account_id) account_id, arr, status FROM arr_history
			WHERE valid_from <= $2 ORDER BY account_id, valid_from DESC, id DESC
		)
		SELECT count(*), count(*) FILTER (WHERE e.status = 'active'),
		       COALESCE(sum(s.arr), 0)::float8,
		       COALESCE(sum(CASE WHEN e.status = 'active' THEN LEAST(e.arr, s.arr) ELSE 0 END), 0)::float8,
		       COALESCE(sum(CASE WHEN e.status = 'active' THEN e.arr ELSE 0 END), 0)::float8
		FROM at_start s JOIN at_end e USING (account_id)
		WHERE s.status = 'active'`, from, to).Scan(&c.Accounts, &c.Retained, &c.ARRStart, &c.ARRKept, &c.ARREnd)
	if err != nil {
		return Cohort{}, fmt.Errorf("retention cohort: %w", err)
	}
	return c, nil
}

// OutcomeStats is how runs of one playbook ended in a period.
type OutcomeStats struct {
	PlaybookKey    string
	Outcome        string
	Count          int
	MedianDuration float64
}

// PlaybookOutcomes counts runs ended in [from, to) by playbook and outcome
// (status when there is none), with their median duration.
func (s *Store) PlaybookOutcomes(ctx context.Context, from, to time.Time) ([]OutcomeStats, error) {
	return rowsOf[OutcomeStats](ctx, s.pool, `
		SELECT playbook_key, COALESCE(outcome, status) AS outcome, count(*) AS count,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at))::float8 AS median_duration
		FROM runs WHERE ended_at >= $1 AND ended_at < $2
		GROUP BY 1, 2 ORDER BY 1, 2`, from, to)
}

// LiveRunCounts counts live runs by playbook.
func (s *Store) LiveRunCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT playbook_key, count(*) FROM runs WHERE status IN ('running', 'paused') GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("live run counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			return nil, err
		}
		out[key] = n
	}
	return out, rows.Err()
}

// SegmentSurveys counts surveys for the accounts of one segment (their
// segment now).
type SegmentSurveys struct {
	Segment string
	survey.Counts
}

// PortfolioSurveys counts surveys by segment over [from, to): the survey
// emails written in the period that went out (sent or captured, as
// playbook analytics counts sent emails) and, of those, the ones answered
// whenever; and the answers given in the period, whatever email they
// answer, by kind and NPS category with the CSAT scores added up.
//
// Both halves start from an account and read its rows of the period by
// range (kind = ANY lets survey_responses_account_idx bound all three
// columns): the partial emails_survey_idx holds survey emails only, so the
// rest of the outbox is never read.
func (s *Store) PortfolioSurveys(ctx context.Context, from, to time.Time) ([]SegmentSurveys, error) {
	return rowsOf[SegmentSurveys](ctx, s.pool, `
		WITH sent AS (
			SELECT a.segment, count(*) AS sent, count(sr.id) AS answered
			FROM accounts a
			JOIN emails e ON e.account_id = a.id AND e.survey IS NOT NULL AND e.created_at >= $1 AND e.created_at < $2
			LEFT JOIN survey_responses sr ON sr.email_id = e.id
			WHERE e.status IN ('sent', 'captured')
			GROUP BY 1
		), answers AS (
			SELECT a.segment, count(*) FILTER (WHERE sr.kind = 'nps') AS nps,
			       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'promoter') AS promoters,
			       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'passive') AS passives,
			       count(*) FILTER (WHERE sr.kind = 'nps' AND sr.category = 'detractor') AS detractors,
			       count(*) FILTER (WHERE sr.kind = 'csat') AS csat,
			       COALESCE(sum(sr.score) FILTER (WHERE sr.kind = 'csat'), 0) AS csat_sum
			FROM accounts a
			JOIN survey_responses sr ON sr.account_id = a.id AND sr.kind = ANY ('{nps,csat}') AND sr.created_at >= $1 AND sr.created_at < $2
			GROUP BY 1
		)
		SELECT segment, COALESCE(s.sent, 0) AS sent, COALESCE(s.answered, 0) AS answered,
		       COALESCE(r.nps, 0) AS nps, COALESCE(r.promoters, 0) AS promoters, COALESCE(r.passives, 0) AS passives,
		       COALESCE(r.detractors, 0) AS detractors, COALESCE(r.csat, 0) AS csat, COALESCE(r.csat_sum, 0) AS csat_sum
		FROM sent s FULL JOIN answers r USING (segment) ORDER BY 1`, from, to)
}
