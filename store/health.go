package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrStaleSnapshot: a snapshot measured before the account's latest one.
var ErrStaleSnapshot = errors.New("measured before the account's latest health snapshot")

// HealthSnapshot is one health measurement of an account.
type HealthSnapshot struct {
	ID             int64
	AccountID      string
	Score          float64
	Band           string
	Model          string
	Components     json.RawMessage
	Inputs         json.RawMessage
	Signals        []string
	ExpansionReady bool
	MeasuredAt     time.Time
	CreatedAt      time.Time
}

// NewHealthSnapshot is what a HealthDecider makes of a measurement.
type NewHealthSnapshot struct {
	Score          float64
	Band           string
	Model          string
	Components     json.RawMessage
	Inputs         json.RawMessage
	Signals        []string
	ExpansionReady bool
	// Fields are merged into the account's custom fields, so that playbook
	// conditions can read measures (seats_used_pct...).
	Fields map[string]any
	// Firings are the triggers this snapshot fires; each occasion is made
	// unique to the snapshot by the store.
	Firings []NewFiring
}

// HealthDecider scores a measurement given the account's earlier snapshots
// (newest first, back to the window asked for). It runs inside the
// transaction that stores its answer, with the account locked, so two
// concurrent snapshots see each other in order.
type HealthDecider func(earlier []HealthSnapshot) (NewHealthSnapshot, error)

// AddHealthSnapshot stores a measurement of the account taken at measuredAt,
// with the triggers it fires, in one transaction.
func (s *Store) AddHealthSnapshot(ctx context.Context, accountID string, measuredAt time.Time, window time.Duration, decide HealthDecider) (HealthSnapshot, error) {
	var h HealthSnapshot
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var latest *time.Time
		err := tx.QueryRow(ctx, `
			SELECT (SELECT max(measured_at) FROM health_snapshots WHERE account_id = a.id)
			FROM accounts a WHERE a.id = $1 FOR UPDATE`, accountID).Scan(&latest)
		if err != nil {
			return notFound(err)
		}
		if latest != nil && measuredAt.Before(*latest) {
			return fmt.Errorf("%w (%s)", ErrStaleSnapshot, latest.UTC().Format(time.RFC3339))
		}
		earlier, err := rowsOf[HealthSnapshot](ctx, tx, `SELECT `+healthColumns+` FROM health_snapshots
			WHERE account_id = $1 AND (measured_at >= $2 OR id = (
				SELECT id FROM health_snapshots WHERE account_id = $1 ORDER BY measured_at DESC, id DESC LIMIT 1))
			ORDER BY measured_at DESC, id DESC`, accountID, measuredAt.Add(-window))
		if err != nil {
			return err
		}
		n, err := decide(earlier)
		if err != nil {
			return err
		}
		if n.Components == nil {
			n.Components = json.RawMessage(`{}`)
		}
		if n.Signals == nil {
			n.Signals = []string{}
		}
		h, err = rowOf[HealthSnapshot](ctx, tx, `
			INSERT INTO health_snapshots (account_id, score, band, model, components, inputs, signals, expansion_ready, measured_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			RETURNING `+healthColumns, accountID, n.Score, n.Band, n.Model, n.Components, n.Inputs, n.Signals,
			n.ExpansionReady, measuredAt)
		if err != nil {
			return fmt.Errorf("insert health snapshot: %w", err)
		}
		if len(n.Fields) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET custom_fields = custom_fields || $2::jsonb WHERE id = $1`,
				accountID, n.Fields); err != nil {
				return fmt.Errorf("update account fields: %w", err)
			}
		}
		suffix := fmt.Sprintf("#snapshot-%d", h.ID)
		for i := range n.Firings {
			n.Firings[i].Occasion += suffix
		}
		if err := addFirings(ctx, tx, accountID, n.Firings); err != nil {
			return err
		}
		for _, sig := range n.Signals {
			if err := appendEvent(ctx, tx, accountID, nil, "risk_signal", map[string]any{"signal": sig, "snapshot_id": h.ID}); err != nil {
				return err
			}
		}
		bandFrom, bandTo, newSignals := snapshotAlert(earlier, h)
		if err := recordRiskAlert(ctx, tx, accountID, suffix, bandFrom, bandTo, &h.Score, newSignals); err != nil {
			return err
		}
		return appendEvent(ctx, tx, accountID, nil, "health_recorded",
			map[string]any{"snapshot_id": h.ID, "score": h.Score, "band": h.Band})
	})
	return h, err
}

const healthColumns = `id, account_id, score::float8 AS score, band, model, components, inputs, signals, expansion_ready,
	measured_at, created_at`

// HealthHistory returns an account's snapshots, newest first, from a page
// cursor (the last id seen; 0 for the first page).
func (s *Store) HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]HealthSnapshot, error) {
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	return rowsOf[HealthSnapshot](ctx, s.pool, `SELECT `+healthColumns+` FROM health_snapshots
		WHERE account_id = $1 AND ($2 = 0 OR (measured_at, id) < (SELECT measured_at, id FROM health_snapshots WHERE id = $2))
		ORDER BY measured_at DESC, id DESC LIMIT $3`, accountID, before, limit(n))
}
