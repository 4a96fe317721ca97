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
		err := tx.QueryRow(ctx, `
			SELECT e.recipient, a.name FROM emails e JOIN accounts a ON a.id = e.account_id
			WHERE e.id = $1`, emailID).Scan(&out.Email, &out.AccountName)
		if err != nil {
			return notFound(err)
		}
		_, err = suppressAll(ctx, tx, "link", []suppression{{email: out.Email, reason: "unsubscribe", emailID: &emailID}})
		return err
	})
	return out, err
}

// Suppress adds an address to the suppression list (bounce, spam report, ...).
func (s *Store) Suppress(ctx context.Context, email, reason, source string) error {
	_, err := suppressAll(ctx, s.pool, source, []suppression{{email: email, reason: reason}})
	return err
}

// suppression is one address for suppressAll. The account and run of the
// outbox row it comes from, if any, get the "suppressed" timeline event;
// else the account of one of the address's contacts does.
type suppression struct {
	email, reason string
	emailID       *uuid.UUID
}

// suppressAll adds addresses to the suppression list in one statement,
// whatever their number; the first reason given for an address wins, as does
// one already listed. Unsubscribing flags the address's contacts in every
// account. It returns how many addresses were added.
func suppressAll(ctx context.Context, q querier, source string, list []suppression) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	emails, reasons, emailIDs := make([]string, len(list)), make([]string, len(list)), make([]string, len(list))
	for i, s := range list {
		emails[i], reasons[i] = strings.ToLower(s.email), s.reason
		if s.emailID != nil {
			emailIDs[i] = s.emailID.String()
		}
	}
	var added int
	err := q.QueryRow(ctx, `
		WITH batch AS (
			SELECT lower(b.email) AS email, b.reason, o.account_id, o.run_id, b.idx
			FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS b (email, reason, email_id, idx)
			LEFT JOIN emails o ON o.id = NULLIF(b.email_id, '')::uuid),
		first AS (SELECT DISTINCT ON (email) * FROM batch ORDER BY email, idx),
		added AS (
			INSERT INTO suppressions (email, reason, source) SELECT email, reason, $4 FROM first ORDER BY idx
			ON CONFLICT (email) DO NOTHING
			RETURNING email, reason),
		flagged AS (
			UPDATE contacts SET unsubscribed = true, updated_at = now()
			WHERE email IN (SELECT email FROM batch WHERE reason = 'unsubscribe') AND NOT unsubscribed),
		contact AS (
			SELECT DISTINCT ON (email) email, account_id FROM contacts
			WHERE email IN (SELECT email FROM added) ORDER BY email, account_id),
		timeline AS (
			INSERT INTO events (account_id, run_id, type, data)
			SELECT COALESCE(f.account_id, c.account_id), f.run_id, 'suppressed',
			       jsonb_build_object('email', a.email, 'reason', a.reason, 'source', $4::text)
			FROM added a JOIN first f USING (email) LEFT JOIN contact c USING (email)
			WHERE COALESCE(f.account_id, c.account_id) IS NOT NULL
			ORDER BY f.idx)
		SELECT count(*) FROM added`, emails, reasons, emailIDs, source).Scan(&added)
	if err != nil {
		return 0, fmt.Errorf("suppress: %w", err)
	}
	return added, nil
}
