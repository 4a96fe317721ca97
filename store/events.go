package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event is one entry of an account's audit timeline.
type Event struct {
	ID        int64
	AccountID string
	RunID     *uuid.UUID
	Type      string
	Data      map[string]any
	CreatedAt time.Time
}

func appendEvent(ctx context.Context, q querier, accountID string, runID *uuid.UUID, typ string, data map[string]any) error {
	_, err := insertEvent(ctx, q, accountID, runID, typ, data)
	return err
}

// insertEvent appends an event and returns its id, which names the
// occasion of the triggers it fires.
func insertEvent(ctx context.Context, q querier, accountID string, runID *uuid.UUID, typ string, data map[string]any) (int64, error) {
	if data == nil {
		data = map[string]any{}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return 0, fmt.Errorf("encode event %s: %w", typ, err)
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO events (account_id, run_id, type, data) VALUES ($1, $2, $3, $4) RETURNING id`,
		accountID, runID, typ, raw).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append event %s: %w", typ, err)
	}
	return id, nil
}

// RunEvents returns a run's audit events, oldest first.
func (s *Store) RunEvents(ctx context.Context, runID uuid.UUID) ([]Event, error) {
	return rowsOf[Event](ctx, s.pool, `
		SELECT id, account_id, run_id, type, data, created_at FROM events WHERE run_id = $1 ORDER BY id`, runID)
}

// AccountEvents returns an account's latest audit events, newest first: its
// own and its runs'.
func (s *Store) AccountEvents(ctx context.Context, accountID string, n int) ([]Event, error) {
	return rowsOf[Event](ctx, s.pool, `
		SELECT id, account_id, run_id, type, data, created_at
		FROM events WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, limit(n))
}
