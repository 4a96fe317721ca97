package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/playbookd/playbookd/states"
)

// Digest is what one team member has waiting: pending approvals assigned
// to them and their open tasks past due.
type Digest struct {
	MemberID  uuid.UUID
	Email     string
	Name      string
	Approvals []DigestApproval
	Overdue   []DigestTask
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
	member := func(id uuid.UUID, email, name string) *Digest {
		d, ok := byMember[id]
		if !ok {
			d = &Digest{MemberID: id, Email: email, Name: name}
			byMember[id] = d
			order = append(order, id)
		}
		return d
	}
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, t.email, t.name, a.id, ac.name, a.step_id, a.level, a.expires_at
		FROM approvals a JOIN team_members t ON t.id = a.assignee_id JOIN accounts ac ON ac.id = a.account_id
		WHERE a.status = 'pending'
		ORDER BY t.email, a.expires_at, a.id`)
	if err != nil {
		return nil, fmt.Errorf("digest approvals: %w", err)
	}
	var (
		id          uuid.UUID
		email, name string
		ap          DigestApproval
		task        DigestTask
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &name, &ap.ID, &ap.AccountName, &ap.StepID, &ap.Level, &ap.ExpiresAt}, func() error {
		d := member(id, email, name)
		d.Approvals = append(d.Approvals, ap)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("digest approvals: %w", err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT t.id, t.email, t.name, ac.name, k.title, k.due_at
		FROM tasks k JOIN team_members t ON t.id = k.assignee_id JOIN accounts ac ON ac.id = k.account_id
		WHERE k.status = 'open' AND k.due_at < $1
		ORDER BY t.email, k.due_at, k.id`, now)
	if err != nil {
		return nil, fmt.Errorf("digest tasks: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&id, &email, &name, &task.AccountName, &task.Title, &task.DueAt}, func() error {
		d := member(id, email, name)
		d.Overdue = append(d.Overdue, task)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("digest tasks: %w", err)
	}
	out := make([]Digest, 0, len(order))
	for _, id := range order {
		out = append(out, *byMember[id])
	}
	return out, nil
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
