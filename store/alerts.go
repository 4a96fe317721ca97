package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/health"
)

// RiskAlert is an account turning to another health band, or showing a
// new risk signal, with what it started and who holds that work now.
type RiskAlert struct {
	ID          int64
	AccountID   string
	AccountName string
	CSMEmail    string
	CSMName     string
	// BandFrom and BandTo say a band change (BandFrom nil: the account's
	// first snapshot); both nil when only signals are new.
	BandFrom *string
	BandTo   *string
	Score    *float64
	Signals  []string
	Occasion string
	// SeenAt is when the member the alerts were listed for marked it seen.
	SeenAt    *time.Time
	CreatedAt time.Time
	// Started are the playbooks it fired, with their runs' open work.
	Started []AlertStart `db:"-"`
}

// Worse says whether the alert is bad news: a band lower than before, or
// a signal. A band going up is good news, still worth telling.
func (a RiskAlert) Worse() bool {
	if a.BandTo == nil {
		return true
	}
	if a.BandFrom == nil {
		return *a.BandTo != health.Green
	}
	to, _ := health.BandRank(*a.BandTo)
	from, _ := health.BandRank(*a.BandFrom)
	return to < from
}

// Headline says what changed, for people: the band, from what to what
// (with the score), or the new signals.
func (a RiskAlert) Headline() string {
	var score string
	if a.Score != nil {
		score = fmt.Sprintf(" (score %g)", math.Round(*a.Score*10)/10)
	}
	switch {
	case a.BandTo == nil:
		return "Risk signal: " + strings.ReplaceAll(strings.Join(a.Signals, ", "), "_", " ")
	case a.BandFrom == nil:
		return "First health score is " + *a.BandTo + score
	case a.Worse():
		return fmt.Sprintf("Health fell from %s to %s%s", *a.BandFrom, *a.BandTo, score)
	default:
		return fmt.Sprintf("Health rose from %s to %s%s", *a.BandFrom, *a.BandTo, score)
	}
}

// AlertStart is one playbook an alert fired: the firing's state (pending
// until a run starts; started; already_live, its live run; skipped, why)
// and the run's open work.
type AlertStart struct {
	AlertID     int64
	PlaybookKey string
	Status      string
	RunID       *uuid.UUID
	Detail      string
	Work        []AlertWork `db:"-"`
}

// AlertWork is an open approval or task of a run an alert started: who
// holds it.
type AlertWork struct {
	Kind          string // approval or task
	ID            uuid.UUID
	RunID         uuid.UUID
	StepID        string
	Title         string // a task's
	AssigneeEmail string
	AssigneeName  string
	Level         int        // an approval's ladder level
	Due           *time.Time // an approval's deadline, a task's due time
}

// Alert kinds of work.
const (
	AlertWorkApproval = "approval"
	AlertWorkTask     = "task"
)

// RiskAlertWindow is how far back alerts are shown: an alert nobody
// looked at for a month is history (the account's page keeps its health
// and events).
const RiskAlertWindow = 30 * 24 * time.Hour

// RiskAlertFilter says whose alerts to list. MemberEmail "": every
// account's (for admin and ops without a member); otherwise the alerts of
// the accounts the member is CSM of and of those whose started runs' open
// work they hold.
type RiskAlertFilter struct {
	MemberEmail string
	Since       time.Time // zero: RiskAlertWindow ago
	// Unseen leaves out the alerts the member marked seen.
	Unseen bool
	// Before is the last id of the previous page (newest first); 0: the
	// first page.
	Before int64
	Limit  int
}

// recordRiskAlert writes the alert of a snapshot or an event in the
// transaction that stores it, after its firings (their occasions end with
// the alert's), and marks those firings as the alert's; nothing when nothing
// changed.
func recordRiskAlert(ctx context.Context, tx pgx.Tx, accountID, occasion string, bandFrom, bandTo *string, score *float64, signals []string) error {
	if bandTo == nil && len(signals) == 0 {
		return nil
	}
	if signals == nil {
		signals = []string{}
	}
	_, err := tx.Exec(ctx, `
		WITH alert AS (
			INSERT INTO risk_alerts (account_id, band_from, band_to, score, signals, occasion) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account_id, occasion) DO NOTHING RETURNING id)
		UPDATE trigger_firings SET risk_alert_id = (SELECT id FROM alert)
		WHERE account_id = $1 AND right(occasion, length($6)) = $6 AND EXISTS (SELECT 1 FROM alert)`,
		accountID, bandFrom, bandTo, score, signals, occasion)
	if err != nil {
		return fmt.Errorf("record risk alert: %w", err)
	}
	return nil
}

// snapshotAlert is what a snapshot changed since the one before it: its
// band (the first snapshot counts when it is not green) and the signals
// that are new.
func snapshotAlert(earlier []HealthSnapshot, h HealthSnapshot) (bandFrom, bandTo *string, signals []string) {
	var before HealthSnapshot
	if len(earlier) > 0 {
		before = earlier[0]
	}
	if h.Band != before.Band && (before.Band != "" || h.Band != "green") {
		to := h.Band
		bandTo = &to
		if before.Band != "" {
			from := before.Band
			bandFrom = &from
		}
	}
	for _, s := range h.Signals {
		if !slices.Contains(before.Signals, s) {
			signals = append(signals, s)
		}
	}
	return bandFrom, bandTo, signals
}

const alertColumns = `r.id, r.account_id, a.name AS account_name, csm.email AS csm_email, csm.name AS csm_name,
	r.band_from, r.band_to, r.score::float8 AS score, r.signals, r.occasion, r.created_at`

// RiskAlerts lists alerts, newest first, each with what it started and who
// holds that work.
func (s *Store) RiskAlerts(ctx context.Context, f RiskAlertFilter) ([]RiskAlert, error) {
	since := f.Since
	if since.IsZero() {
		since = time.Now().Add(-RiskAlertWindow)
	}
	var (
		out []RiskAlert
		err error
	)
	if f.MemberEmail == "" {
		out, err = rowsOf[RiskAlert](ctx, s.pool, `
			SELECT `+alertColumns+`, NULL::timestamptz AS seen_at
			FROM risk_alerts r JOIN accounts a ON a.id = r.account_id JOIN team_members csm ON csm.id = a.csm_id
			WHERE r.created_at >= $1 AND ($2 = 0 OR r.id < $2)
			ORDER BY r.id DESC LIMIT $3`, since, f.Before, limit(f.Limit))
	} else {
		out, err = rowsOf[RiskAlert](ctx, s.pool, `
			WITH me AS (SELECT id FROM team_members WHERE email = $1),
			mine AS (
				SELECT r.id FROM risk_alerts r JOIN accounts a ON a.id = r.account_id
				WHERE a.csm_id = (SELECT id FROM me) AND r.created_at >= $2
				UNION
				SELECT f.risk_alert_id FROM trigger_firings f
				WHERE f.risk_alert_id IS NOT NULL AND f.run_id IN (
					SELECT run_id FROM approvals WHERE assignee_id = (SELECT id FROM me) AND status = 'pending'
					UNION ALL
					SELECT run_id FROM tasks WHERE assignee_id = (SELECT id FROM me) AND status = 'open' AND run_id IS NOT NULL)
			)
			SELECT `+alertColumns+`, seen.seen_at
			FROM risk_alerts r JOIN accounts a ON a.id = r.account_id JOIN team_members csm ON csm.id = a.csm_id
			LEFT JOIN risk_alert_seen seen ON seen.alert_id = r.id AND seen.member_id = (SELECT id FROM me)
			WHERE r.id IN (SELECT id FROM mine) AND r.created_at >= $2 AND ($3 = false OR seen.seen_at IS NULL)
			  AND ($4 = 0 OR r.id < $4)
			ORDER BY r.id DESC LIMIT $5`, f.MemberEmail, since, f.Unseen, f.Before, limit(f.Limit))
	}
	if err != nil {
		return nil, err
	}
	return out, s.startedBy(ctx, out)
}

// startedBy fills in what each alert started and the open work of those
// runs, in two queries for the whole list.
func (s *Store) startedBy(ctx context.Context, alerts []RiskAlert) error {
	if len(alerts) == 0 {
		return nil
	}
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	starts, err := rowsOf[AlertStart](ctx, s.pool, `
		SELECT f.risk_alert_id AS alert_id, f.playbook_key, f.status, f.run_id, f.detail
		FROM trigger_firings f WHERE f.risk_alert_id = ANY($1) ORDER BY f.id`, ids)
	if err != nil {
		return err
	}
	var runIDs []uuid.UUID
	for _, st := range starts {
		if st.RunID != nil {
			runIDs = append(runIDs, *st.RunID)
		}
	}
	work, err := openWorkOf(ctx, s.pool, runIDs)
	if err != nil {
		return err
	}
	byAlert := map[int64][]AlertStart{}
	for _, st := range starts {
		if st.RunID != nil {
			st.Work = work[*st.RunID]
		}
		byAlert[st.AlertID] = append(byAlert[st.AlertID], st)
	}
	for i := range alerts {
		alerts[i].Started = byAlert[alerts[i].ID]
	}
	return nil
}

// openWorkOf returns the pending approvals and open tasks of runs, by run,
// the soonest due first.
func openWorkOf(ctx context.Context, q querier, runIDs []uuid.UUID) (map[uuid.UUID][]AlertWork, error) {
	out := map[uuid.UUID][]AlertWork{}
	if len(runIDs) == 0 {
		return out, nil
	}
	work, err := rowsOf[AlertWork](ctx, q, `
		SELECT 'approval' AS kind, p.id, p.run_id, p.step_id, '' AS title, t.email AS assignee_email,
		       t.name AS assignee_name, p.level, p.expires_at AS due
		FROM approvals p JOIN team_members t ON t.id = p.assignee_id
		WHERE p.run_id = ANY($1) AND p.status = 'pending'
		UNION ALL
		SELECT 'task', k.id, k.run_id, k.step_id, k.title, t.email, t.name, 0, k.due_at
		FROM tasks k JOIN team_members t ON t.id = k.assignee_id
		WHERE k.run_id = ANY($1) AND k.status = 'open'
		ORDER BY due NULLS LAST, id`, runIDs)
	if err != nil {
		return nil, err
	}
	for _, w := range work {
		out[w.RunID] = append(out[w.RunID], w)
	}
	return out, nil
}

// ErrNotYourAlert refuses marking seen an alert the member is not told of.
var ErrNotYourAlert = errors.New("this alert is not one of yours")

// MarkRiskAlertSeen records that the member saw the alert: it leaves their
// inbox (and their next digest); the others it concerns still see it.
// Marking it again changes nothing.
func (s *Store) MarkRiskAlertSeen(ctx context.Context, id int64, memberEmail string) (RiskAlert, error) {
	mine, err := s.RiskAlerts(ctx, RiskAlertFilter{MemberEmail: memberEmail, Since: time.Unix(0, 0), Before: id + 1, Limit: 1})
	if err != nil {
		return RiskAlert{}, err
	}
	if len(mine) == 0 || mine[0].ID != id {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM risk_alerts WHERE id = $1)`, id).Scan(&exists); err != nil {
			return RiskAlert{}, fmt.Errorf("look up alert: %w", err)
		}
		if !exists {
			return RiskAlert{}, ErrNotFound
		}
		return RiskAlert{}, ErrNotYourAlert
	}
	a := mine[0]
	err = s.pool.QueryRow(ctx, `
		INSERT INTO risk_alert_seen (member_id, alert_id) SELECT id, $2 FROM team_members WHERE email = $1
		ON CONFLICT (member_id, alert_id) DO UPDATE SET seen_at = risk_alert_seen.seen_at
		RETURNING seen_at`, memberEmail, id).Scan(&a.SeenAt)
	if err != nil {
		return RiskAlert{}, fmt.Errorf("mark alert seen: %w", err)
	}
	return a, nil
}
