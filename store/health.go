package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// HealthSnapshot is one health measurement of an account.
type HealthSnapshot struct {
	ID         int64           `json:"id"`
	AccountID  string          `json:"account_id"`
	Score      float64         `json:"score"`
	Band       string          `json:"band"`
	Components json.RawMessage `json:"components"`
	Inputs     json.RawMessage `json:"inputs"`
	CreatedAt  time.Time       `json:"created_at"`
}

// InsertHealthSnapshot stores a snapshot.
func (s *Store) InsertHealthSnapshot(ctx context.Context, accountID string, score float64, band string, components, inputs json.RawMessage) (HealthSnapshot, error) {
	if components == nil {
		components = json.RawMessage(`{}`)
	}
	if inputs == nil {
		inputs = json.RawMessage(`{}`)
	}
	h := HealthSnapshot{AccountID: accountID, Score: score, Band: band, Components: components, Inputs: inputs}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO health_snapshots (account_id, score, band, components, inputs) VALUES ($1, $2, $3, $4, $5)
		RETURNING id, created_at`, accountID, score, band, components, inputs).Scan(&h.ID, &h.CreatedAt)
	if err != nil {
		return HealthSnapshot{}, fmt.Errorf("insert health snapshot: %w", err)
	}
	return h, nil
}
