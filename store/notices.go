package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Approval notice channels and statuses. A notice's statuses are an outbox
// row's: pending, sending while the post is made, then sent, failed (refused)
// or uncertain (the post may have arrived; never made again).
const (
	NoticeSlack = "slack"

	NoticePending   = "pending"
	NoticeSending   = "sending"
	NoticeSent      = "sent"
	NoticeFailed    = "failed"
	NoticeUncertain = "uncertain"
)

// ApprovalNotice names one notice: an approval at one ladder level, on one
// channel.
type ApprovalNotice struct {
	ApprovalID uuid.UUID
	Level      int
	Channel    string
}

// StartNotice claims the notice (written once, whoever asks first) and moves
// it from pending to sending. It returns the status it found: pending means
// post now; sending means an earlier attempt died while posting; anything
// else was settled before.
func (s *Store) StartNotice(ctx context.Context, n ApprovalNotice) (string, error) {
	var before string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO approval_notices (approval_id, level, channel) VALUES ($1, $2, $3)
			ON CONFLICT (approval_id, level, channel) DO NOTHING`, n.ApprovalID, n.Level, n.Channel); err != nil {
			return fmt.Errorf("claim notice: %w", err)
		}
		if err := tx.QueryRow(ctx, `
			SELECT status FROM approval_notices WHERE approval_id = $1 AND level = $2 AND channel = $3 FOR UPDATE`,
			n.ApprovalID, n.Level, n.Channel).Scan(&before); err != nil {
			return fmt.Errorf("claim notice: %w", err)
		}
		if before != NoticePending {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE approval_notices SET status = 'sending' WHERE approval_id = $1 AND level = $2 AND channel = $3`,
			n.ApprovalID, n.Level, n.Channel)
		return err
	})
	return before, err
}

// SettleNotice records how a post being made went: sent, failed, uncertain,
// or pending again for a retry.
func (s *Store) SettleNotice(ctx context.Context, n ApprovalNotice, status, detail string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE approval_notices SET status = $4, detail = $5, sent_at = CASE WHEN $4 = 'sent' THEN now() END
		WHERE approval_id = $1 AND level = $2 AND channel = $3 AND status = 'sending'`,
		n.ApprovalID, n.Level, n.Channel, status, detail)
	if err != nil {
		return fmt.Errorf("settle notice: %w", err)
	}
	return nil
}

// NoticeStatus returns a notice's status, or ErrNotFound before it was claimed.
func (s *Store) NoticeStatus(ctx context.Context, n ApprovalNotice) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `SELECT status FROM approval_notices WHERE approval_id = $1 AND level = $2 AND channel = $3`,
		n.ApprovalID, n.Level, n.Channel).Scan(&status)
	return status, notFound(err)
}
