package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Unsubscribed says who was unsubscribed by a link.
type Unsubscribed struct {
	Email       string
	AccountName string
}

// UnsubscribeByEmailID unsubscribes the recipient of an outbox row: their
// contacts are flagged and the address is suppressed for every playbook.
// Doing it twice is harmless.
func (s *Store) UnsubscribeByEmailID(ctx context.Context, emailID uuid.UUID) (Unsubscribed, error) {
	var out Unsubscribed
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		var runID uuid.UUID
		err := tx.QueryRow(ctx, `
			SELECT e.recipient, e.account_id, e.run_id, a.name FROM emails e JOIN accounts a ON a.id = e.account_id
			WHERE e.id = $1`, emailID).Scan(&out.Email, &accountID, &runID, &out.AccountName)
		if err != nil {
			return notFound(err)
		}
		return suppress(ctx, tx, out.Email, "unsubscribe", "link", accountID, &runID)
	})
	return out, err
}

// Suppress adds an address to the suppression list (bounce, spam report, ...).
func (s *Store) Suppress(ctx context.Context, email, reason, source string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		err := tx.QueryRow(ctx, `SELECT account_id FROM contacts WHERE email = $1 LIMIT 1`, strings.ToLower(email)).Scan(&accountID)
		if err != nil && err != pgx.ErrNoRows {
			return err
		}
		return suppress(ctx, tx, strings.ToLower(email), reason, source, accountID, nil)
	})
}

func suppress(ctx context.Context, tx pgx.Tx, email, reason, source, accountID string, runID *uuid.UUID) error {
	tag, err := tx.Exec(ctx, `INSERT INTO suppressions (email, reason, source) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING`,
		email, reason, source)
	if err != nil {
		return fmt.Errorf("suppress %s: %w", email, err)
	}
	if reason == "unsubscribe" {
		if _, err := tx.Exec(ctx, `UPDATE contacts SET unsubscribed = true, updated_at = now() WHERE email = $1`, email); err != nil {
			return fmt.Errorf("flag contacts: %w", err)
		}
	}
	if tag.RowsAffected() == 0 || accountID == "" {
		return nil
	}
	return appendEvent(ctx, tx, accountID, runID, "suppressed", map[string]any{"email": email, "reason": reason, "source": source})
}
