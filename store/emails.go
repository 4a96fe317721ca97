package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Email outbox statuses.
const (
	EmailPending   = "pending"   // written, provider not called yet
	EmailSending   = "sending"   // the provider is being called
	EmailUncertain = "uncertain" // the call's outcome is unknown; never retried
	EmailSent      = "sent"      // accepted by SendGrid
	EmailCaptured  = "captured"  // no SendGrid key: stored and logged instead
	EmailFailed    = "failed"    // refused by the provider; not retried
	EmailSkipped   = "skipped"   // recipient unsubscribed or suppressed
)

// Email is one outbox row: one message to one recipient from one run step.
type Email struct {
	ID                uuid.UUID  `json:"id"`
	RunID             uuid.UUID  `json:"run_id"`
	StepID            string     `json:"step_id"`
	AccountID         string     `json:"account_id"`
	ContactID         *uuid.UUID `json:"contact_id"`
	Recipient         string     `json:"to"`
	Template          string     `json:"template"`
	Subject           string     `json:"subject"`
	HTML              string     `json:"html"`
	Text              string     `json:"text"`
	Status            string     `json:"status"`
	Detail            string     `json:"detail,omitempty"`
	ProviderMessageID *string    `json:"provider_message_id,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	SentAt            *time.Time `json:"sent_at"`
	Delivery          string     `json:"delivery,omitempty"` // last SendGrid event: delivered, open, bounce, ...
	DeliveryAt        *time.Time `json:"delivery_at,omitempty"`
}

// NewEmail is the input of ClaimEmail.
type NewEmail struct {
	ID        uuid.UUID // optional: chosen by the caller so the body can link to it
	RunID     uuid.UUID
	StepID    string
	AccountID string
	ContactID *uuid.UUID
	Recipient string
	Template  string
	Subject   string
	HTML      string
	Text      string
	Status    string // EmailPending, or EmailSkipped with Detail
	Detail    string
	// Automated emails obey the cap: at most Cap.Count to one address in any
	// Cap.Window, across playbooks. A zero Cap means no cap.
	Automated bool
	Cap       FrequencyCap
}

// FrequencyCap limits automated emails per address.
type FrequencyCap struct {
	Count  int
	Window time.Duration
}

// CappedError says when the address may get another automated email.
type CappedError struct{ Until time.Time }

func (e *CappedError) Error() string {
	return "frequency cap reached until " + e.Until.Format(time.RFC3339)
}

// ClaimEmail writes the outbox row for (run, step, recipient) unless it exists,
// and returns the row as stored: a caller that finds it already past pending
// must not send again.
func (s *Store) ClaimEmail(ctx context.Context, in NewEmail) (Email, error) {
	var email Email
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if in.Automated && in.Cap.Count > 0 && in.Status == EmailPending {
			if err := checkCap(ctx, tx, in); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO emails (id, run_id, step_id, account_id, contact_id, recipient, template, subject,
			                    html_body, text_body, status, detail, automated)
			VALUES (COALESCE($12, gen_random_uuid()), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13)
			ON CONFLICT (run_id, step_id, recipient) DO NOTHING`,
			in.RunID, in.StepID, in.AccountID, in.ContactID, in.Recipient, in.Template, in.Subject,
			in.HTML, in.Text, in.Status, in.Detail, nilIfZero(in.ID), in.Automated)
		if err != nil {
			return fmt.Errorf("insert email: %w", err)
		}
		email, err = scanEmail(tx.QueryRow(ctx, emailColumns+`
			WHERE run_id = $1 AND step_id = $2 AND recipient = $3`, in.RunID, in.StepID, in.Recipient))
		if err != nil || tag.RowsAffected() == 0 || in.Status != EmailSkipped {
			return err
		}
		return appendEvent(ctx, tx, in.AccountID, &in.RunID, "email_skipped",
			map[string]any{"step_id": in.StepID, "email_id": email.ID, "to": in.Recipient, "reason": in.Detail})
	})
	return email, err
}

// StartSending moves a pending email to sending before the provider is
// called, and returns the status it found: pending means go ahead; sending
// means an earlier attempt died mid-call, so its outcome is unknown.
func (s *Store) StartSending(ctx context.Context, id uuid.UUID) (string, error) {
	var before string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT status FROM emails WHERE id = $1 FOR UPDATE`, id).Scan(&before); err != nil {
			return notFound(err)
		}
		if before != EmailPending {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE emails SET status = 'sending' WHERE id = $1`, id)
		return err
	})
	return before, err
}

// MarkEmail records the provider's answer for an email being sent (or still
// pending). It returns false when the row had already been settled.
func (s *Store) MarkEmail(ctx context.Context, id uuid.UUID, status, detail, providerMessageID string) (bool, error) {
	var marked bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			accountID, stepID, recipient string
			runID                        uuid.UUID
		)
		err := tx.QueryRow(ctx, `
			UPDATE emails SET status = $2, detail = $3, provider_message_id = NULLIF($4, ''),
			       sent_at = CASE WHEN $2 IN ('sent', 'captured') THEN now() END
			WHERE id = $1 AND status IN ('pending', 'sending')
			RETURNING account_id, run_id, step_id, recipient`, id, status, detail, providerMessageID,
		).Scan(&accountID, &runID, &stepID, &recipient)
		if err != nil {
			if err == pgx.ErrNoRows {
				return nil
			}
			return fmt.Errorf("mark email: %w", err)
		}
		marked = true
		if status == EmailPending {
			return nil // back to pending for a retry: nothing happened
		}
		return appendEvent(ctx, tx, accountID, &runID, "email_"+status,
			map[string]any{"step_id": stepID, "email_id": id, "to": recipient, "detail": detail})
	})
	return marked, err
}

// EmailFilter narrows ListEmails; empty fields match everything.
type EmailFilter struct {
	AccountID string
	RunID     *uuid.UUID
	Status    string
	After     *Keyset
	Limit     int
}

// ListEmails returns outbox rows, oldest first.
func (s *Store) ListEmails(ctx context.Context, f EmailFilter) ([]Email, error) {
	at, id := f.After.args()
	rows, err := s.pool.Query(ctx, emailColumns+`
		WHERE ($1 = '' OR account_id = $1) AND ($2::uuid IS NULL OR run_id = $2) AND ($3 = '' OR status = $3)
		  AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6::uuid))
		ORDER BY created_at, id LIMIT $4`, f.AccountID, f.RunID, f.Status, limit(f.Limit), at, id)
	if err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	return collect(rows, scanEmail)
}

const emailColumns = `
	SELECT id, run_id, step_id, account_id, contact_id, recipient, template, subject, html_body, text_body,
	       status, detail, provider_message_id, created_at, sent_at, delivery, delivery_at
	FROM emails`

func scanEmail(row pgx.Row) (Email, error) {
	var e Email
	err := row.Scan(&e.ID, &e.RunID, &e.StepID, &e.AccountID, &e.ContactID, &e.Recipient, &e.Template,
		&e.Subject, &e.HTML, &e.Text, &e.Status, &e.Detail, &e.ProviderMessageID, &e.CreatedAt, &e.SentAt, &e.Delivery, &e.DeliveryAt)
	if err != nil {
		return Email{}, notFound(err)
	}
	return e, nil
}

// GetEmail returns one outbox row.
func (s *Store) GetEmail(ctx context.Context, id uuid.UUID) (Email, error) {
	return scanEmail(s.pool.QueryRow(ctx, emailColumns+` WHERE id = $1`, id))
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// RecordDelivery stores a provider event on its outbox row (only a newer one
// replaces an older) and the audit timeline. It reports whether the row exists.
func (s *Store) RecordDelivery(ctx context.Context, id uuid.UUID, event, reason string, at time.Time) (bool, error) {
	found := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID, recipient string
		var runID uuid.UUID
		err := tx.QueryRow(ctx, `SELECT account_id, run_id, recipient FROM emails WHERE id = $1`, id).Scan(&accountID, &runID, &recipient)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		if _, err := tx.Exec(ctx, `UPDATE emails SET delivery = $2, delivery_at = $3
			WHERE id = $1 AND (delivery_at IS NULL OR delivery_at <= $3)`, id, event, at); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		return appendEvent(ctx, tx, accountID, &runID, "email_"+event,
			map[string]any{"email_id": id, "to": recipient, "reason": reason, "at": at})
	})
	return found, err
}

// checkCap returns a *CappedError when the address already got Cap.Count
// automated emails in the window. The per-address lock makes concurrent runs
// count each other; a row that already exists for this run and step is not
// capped (a retry).
func checkCap(ctx context.Context, tx pgx.Tx, in NewEmail) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('email-cap:' || $1))`, in.Recipient); err != nil {
		return fmt.Errorf("lock recipient: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM emails WHERE run_id = $1 AND step_id = $2 AND recipient = $3)`,
		in.RunID, in.StepID, in.Recipient).Scan(&exists); err != nil || exists {
		return err
	}
	rows, err := tx.Query(ctx, `
		SELECT created_at FROM emails
		WHERE recipient = $1 AND automated AND status IN ('pending', 'sending', 'sent', 'captured', 'uncertain')
		  AND created_at > now() - make_interval(secs => $2)
		ORDER BY created_at DESC`, in.Recipient, in.Cap.Window.Seconds())
	if err != nil {
		return fmt.Errorf("count recent emails: %w", err)
	}
	recent, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("count recent emails: %w", err)
	}
	if len(recent) < in.Cap.Count {
		return nil
	}
	// Free again when the oldest of the last Count emails leaves the window.
	return &CappedError{Until: recent[in.Cap.Count-1].Add(in.Cap.Window)}
}
