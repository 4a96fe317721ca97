package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/playbookd/playbookd/states"
)

// Digest is what one team member has waiting: pending approvals assigned
// to them and their open tasks past due; and the risk on their accounts
// since their last digest.
type Digest struct {
	MemberID  uuid.UUID
	Email     string
	Name      string
	Timezone  string
	Approvals []DigestApproval
	Overdue   []DigestTask
	// Risks are the alerts they are told of (RiskAlerts' rule) since their
	// last digest, or the last day for a first one, that they have not
	// marked seen; oldest first.
	Risks []RiskAlert
}

// DigestApproval is a pending approval in a digest.
type DigestApproval struct {
	ID          uuid.UUID
	AccountName string
	StepID      string
	Level       int
	ExpiresAt   time.Time
}

// DigestTask is an overdue task in a digest.
type DigestTask struct {
	AccountName string
	Title       string
	DueAt       time.Time
}

// Digests returns the team members with pending approvals or tasks due
// before now, each with them (most urgent first), ordered by address.
func (s *Store) Digests(ctx context.Context, now time.Time) ([]Digest, error) {
	byMember := map[uuid.UUID]*Digest{}
	var order []uuid.UUID
	member := func(id uuid.UUID, email, name, zone string) *Digest {
		d, ok := byMember[id]
		if !ok {
			d = &Digest{MemberID: id, Email: email, Name: name, Timezone: zone}
			byMember[id] = d
			order = append(order, id)
		}
		return d
	}
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, t.email, t.name, t.timezone, a.id, ac.name, a.step_id, a.level, a.expires_at
		FROM approvals a JOIN team_members t ON t.id = a.assignee_id JOIN accounts ac ON ac.id = a.account_id
		WHERE a.status = 'pending' AND t.deactivated_at IS NULL
		ORDER BY t.email, a.expires_at, a.id`)
	if err != nil {
		return nil, fmt.Errorf("digest approvals: %w", err)
	}
	var (
		id                uuid.UUID
		email, name, zone string
		ap                DigestApproval
		task              DigestTask
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &name, &zone, &ap.ID, &ap.AccountName, &ap.StepID, &ap.Level, &ap.ExpiresAt}, func() error {
		d := member(id, email, name, zone)
		d.Approvals = append(d.Approvals, ap)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("digest approvals: %w", err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT t.id, t.email, t.name, t.timezone, ac.name, k.title, k.due_at
		FROM tasks k JOIN team_members t ON t.id = k.assignee_id JOIN accounts ac ON ac.id = k.account_id
		WHERE k.status = 'open' AND k.due_at < $1 AND t.deactivated_at IS NULL
		  AND (k.snoozed_until IS NULL OR k.snoozed_until <= $1)
		ORDER BY t.email, k.due_at, k.id`, now)
	if err != nil {
		return nil, fmt.Errorf("digest tasks: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &name, &zone, &task.AccountName, &task.Title, &task.DueAt}, func() error {
		d := member(id, email, name, zone)
		d.Overdue = append(d.Overdue, task)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("digest tasks: %w", err)
	}
	if err := s.digestRisks(ctx, now, member); err != nil {
		return nil, err
	}
	slices.SortFunc(order, func(a, b uuid.UUID) int { return strings.Compare(byMember[a].Email, byMember[b].Email) })
	out := make([]Digest, 0, len(order))
	for _, id := range order {
		out = append(out, *byMember[id])
	}
	return out, nil
}

// digestRisks adds to each member's digest the risk alerts they are told of
// since their last digest (of an earlier day: a digest retried today keeps
// its list), unseen, oldest first. Members deactivated get none.
func (s *Store) digestRisks(ctx context.Context, now time.Time, member func(id uuid.UUID, email, name, zone string) *Digest) error {
	type told struct {
		MemberID uuid.UUID
		Email    string
		Name     string
		Timezone string
		AlertID  int64
	}
	rows, err := rowsOf[told](ctx, s.pool, `
		WITH since AS (
			SELECT t.id AS member_id, GREATEST($1::timestamptz - $2::interval, COALESCE(
				(SELECT max(d.created_at) FROM digests d WHERE d.member_id = t.id AND d.day < $1::date),
				$1::timestamptz - interval '1 day')) AS at
			FROM team_members t WHERE t.deactivated_at IS NULL),
		recent AS (SELECT id, account_id, created_at FROM risk_alerts WHERE created_at > (SELECT min(at) FROM since)),
		told AS (
			SELECT r.id AS alert_id, r.created_at, a.csm_id AS member_id FROM recent r JOIN accounts a ON a.id = r.account_id
			UNION
			SELECT r.id, r.created_at, p.assignee_id FROM recent r JOIN trigger_firings f ON f.risk_alert_id = r.id
			JOIN approvals p ON p.run_id = f.run_id AND p.status = 'pending'
			UNION
			SELECT r.id, r.created_at, k.assignee_id FROM recent r JOIN trigger_firings f ON f.risk_alert_id = r.id
			JOIN tasks k ON k.run_id = f.run_id AND k.status = 'open'
		)
		SELECT t.id AS member_id, t.email, t.name, t.timezone, x.alert_id
		FROM told x JOIN since ON since.member_id = x.member_id JOIN team_members t ON t.id = x.member_id
		WHERE x.created_at > since.at
		  AND NOT EXISTS (SELECT 1 FROM risk_alert_seen seen WHERE seen.alert_id = x.alert_id AND seen.member_id = t.id)
		ORDER BY t.email, x.alert_id`, now, RiskAlertWindow)
	if err != nil {
		return fmt.Errorf("digest risks: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.AlertID)
	}
	alerts, err := rowsOf[RiskAlert](ctx, s.pool, `
		SELECT `+alertColumns+`, NULL::timestamptz AS seen_at
		FROM risk_alerts r JOIN accounts a ON a.id = r.account_id JOIN team_members csm ON csm.id = a.csm_id
		WHERE r.id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("digest risks: %w", err)
	}
	if err := s.startedBy(ctx, alerts); err != nil {
		return fmt.Errorf("digest risks: %w", err)
	}
	byID := make(map[int64]RiskAlert, len(alerts))
	for _, a := range alerts {
		byID[a.ID] = a
	}
	for _, r := range rows {
		d := member(r.MemberID, r.Email, r.Name, r.Timezone)
		d.Risks = append(d.Risks, byID[r.AlertID])
	}
	return nil
}

// StartDigest claims the member's digest of the day and moves it from
// pending to sending; it returns the status it found, as StartNotice does.
func (s *Store) StartDigest(ctx context.Context, memberID uuid.UUID, day time.Time) (states.Email, error) {
	var before states.Email
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO digests (member_id, day) VALUES ($1, $2::date) ON CONFLICT DO NOTHING`,
			memberID, day.Format(time.DateOnly)); err != nil {
			return fmt.Errorf("claim digest: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT status FROM digests WHERE member_id = $1 AND day = $2::date FOR UPDATE`,
			memberID, day.Format(time.DateOnly)).Scan(&before); err != nil {
			return fmt.Errorf("claim digest: %w", err)
		}
		if before != states.EmailPending {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE digests SET status = 'sending' WHERE member_id = $1 AND day = $2::date`,
			memberID, day.Format(time.DateOnly))
		return err
	})
	return before, err
}

// SettleDigest records how sending a digest went (an outbox status).
func (s *Store) SettleDigest(ctx context.Context, memberID uuid.UUID, day time.Time, status states.Email, detail string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE digests SET status = $3, detail = $4, sent_at = CASE WHEN $3 IN ('sent', 'captured') THEN now() END
		WHERE member_id = $1 AND day = $2::date AND status = 'sending'`, memberID, day.Format(time.DateOnly), status, detail)
	if err != nil {
		return fmt.Errorf("settle digest: %w", err)
	}
	return nil
}
