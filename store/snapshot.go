package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/accounts"
)

// AccountSnapshot is what a run sees of its account, with the latest health.
func (s *Store) AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error) {
	return accountSnapshot(ctx, s.pool, id)
}

func accountSnapshot(ctx context.Context, q querier, id string) (accounts.Snapshot, error) {
	var (
		snap                   accounts.Snapshot
		renewal, contractStart *time.Time
		fields                 []byte
		score                  *float64
		band                   *string
	)
	err := q.QueryRow(ctx, `
		SELECT a.id, a.segment, a.status, a.lifecycle_stage, a.timezone, a.renewal_date, a.contract_start,
		       a.custom_fields, h.score::float8, h.band
		FROM accounts a
		LEFT JOIN LATERAL (SELECT score, band FROM health_snapshots WHERE account_id = a.id ORDER BY measured_at DESC, id DESC LIMIT 1) h ON true
		WHERE a.id = $1`, id,
	).Scan(&snap.ID, &snap.Segment, &snap.Status, &snap.LifecycleStage, &snap.Timezone, &renewal, &contractStart,
		&fields, &score, &band)
	if err != nil {
		return accounts.Snapshot{}, notFound(err)
	}
	if err := json.Unmarshal(fields, &snap.Fields); err != nil {
		return accounts.Snapshot{}, fmt.Errorf("decode custom fields: %w", err)
	}
	loc, err := time.LoadLocation(snap.Timezone)
	if err != nil {
		loc = time.UTC
	}
	snap.RenewalAt = accounts.AnchorInstant(renewal, loc)
	snap.ContractStartAt = accounts.AnchorInstant(contractStart, loc)
	snap.HealthScore = score
	if band != nil {
		snap.HealthBand = *band
	}
	return snap, nil
}

// AccountChange is what an update_account step sets; empty fields are kept.
type AccountChange struct {
	LifecycleStage string
	Status         string
	Fields         map[string]any // merged into custom fields
	// OnStageChange plans the triggers a changed lifecycle stage fires,
	// recorded in the same transaction.
	OnStageChange StagePlanner
}

// ChangeAccount applies a step's change and returns the new snapshot.
func (s *Store) ChangeAccount(ctx context.Context, id string, runID uuid.UUID, stepID string, change AccountChange) (accounts.Snapshot, error) {
	var snap accounts.Snapshot
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// No fields is SQL NULL, merged as nothing: a nil map would encode
		// as JSON null, and an object || null is an array the column refuses.
		var fields []byte
		if len(change.Fields) > 0 {
			var err error
			if fields, err = json.Marshal(change.Fields); err != nil {
				return fmt.Errorf("encode fields: %w", err)
			}
		}
		before, status, found, err := lockStage(ctx, tx, id)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		tag, err := tx.Exec(ctx, `
			UPDATE accounts SET lifecycle_stage = COALESCE(NULLIF($2, ''), lifecycle_stage),
			                    status = COALESCE(NULLIF($3, ''), status),
			                    custom_fields = custom_fields || COALESCE($4::jsonb, '{}'::jsonb),
			                    updated_at = now()
			WHERE id = $1`, id, change.LifecycleStage, change.Status, fields)
		if err != nil {
			return fmt.Errorf("change account: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if snap, err = accountSnapshot(ctx, tx, id); err != nil {
			return err
		}
		if change.Status != "" {
			status = change.Status
		}
		stage := StageChange{From: before, To: snap.LifecycleStage, Status: status}
		if err := recordStageChange(ctx, tx, id, &runID, stage, change.OnStageChange); err != nil {
			return err
		}
		return appendEvent(ctx, tx, id, &runID, "account_changed", map[string]any{"step_id": stepID,
			"lifecycle_stage": change.LifecycleStage, "status": change.Status, "fields": change.Fields})
	})
	return snap, err
}
