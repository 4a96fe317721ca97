package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// importStall is how long a running import may go without progress before
// it is reported interrupted (its API process ended).
const importStall = 2 * time.Minute

// Import is a bulk account import and its progress.
type Import struct {
	ID         uuid.UUID       `json:"id"`
	Status     string          `json:"status"` // running | done | interrupted
	Format     string          `json:"format"`
	Total      int             `json:"total"`
	Processed  int             `json:"processed"`
	Created    int             `json:"created"`
	Updated    int             `json:"updated"`
	Refused    int             `json:"refused"`
	Errors     json.RawMessage `json:"errors"` // [{row, id, errors:[{field, message}]}]
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// CreateImport records an import about to run.
func (s *Store) CreateImport(ctx context.Context, id uuid.UUID, format string, total int) (Import, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO account_imports (id, format, total) VALUES ($1, $2, $3)`, id, format, total); err != nil {
		return Import{}, fmt.Errorf("create import: %w", err)
	}
	return s.GetImport(ctx, id)
}

// ImportProgress is a batch of processed rows.
type ImportProgress struct {
	Created, Updated, Refused int
	Errors                    []any // refused rows, appended to the report
	Done                      bool
}

// AdvanceImport adds a batch to an import's counts.
func (s *Store) AdvanceImport(ctx context.Context, id uuid.UUID, p ImportProgress) error {
	errs, err := json.Marshal(p.Errors)
	if err != nil || p.Errors == nil {
		errs = []byte(`[]`)
	}
	_, err = s.pool.Exec(ctx, `
		UPDATE account_imports SET processed = processed + $2 + $3 + $4, created = created + $2, updated = updated + $3,
		       refused = refused + $4, errors = errors || $5::jsonb, updated_at = now(),
		       status = CASE WHEN $6 THEN 'done' ELSE status END,
		       finished_at = CASE WHEN $6 THEN now() END
		WHERE id = $1`, id, p.Created, p.Updated, p.Refused, errs, p.Done)
	if err != nil {
		return fmt.Errorf("advance import: %w", err)
	}
	return nil
}

// GetImport returns an import; a running one without progress for a while
// is reported interrupted.
func (s *Store) GetImport(ctx context.Context, id uuid.UUID) (Import, error) {
	var im Import
	err := s.pool.QueryRow(ctx, `
		SELECT id, CASE WHEN status = 'running' AND updated_at < now() - $2::int * interval '1 second' THEN 'interrupted' ELSE status END,
		       format, total, processed, created, updated, refused, errors, created_at, updated_at, finished_at
		FROM account_imports WHERE id = $1`, id, int(importStall.Seconds())).Scan(
		&im.ID, &im.Status, &im.Format, &im.Total, &im.Processed, &im.Created, &im.Updated, &im.Refused, &im.Errors,
		&im.CreatedAt, &im.UpdatedAt, &im.FinishedAt)
	if err != nil {
		return Import{}, notFound(err)
	}
	return im, nil
}
