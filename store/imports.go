package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Import statuses: running until its workflow finishes it.
const (
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

// ErrImportRowApplied is what a save of an import row returns when the row
// was applied before (its batch is being retried): nothing was written.
var ErrImportRowApplied = errors.New("import row already applied")

// Import is a bulk account import and its progress.
type Import struct {
	ID         uuid.UUID
	Status     string // running | done | failed
	Format     string
	Total      int
	Processed  int
	Created    int
	Updated    int
	Refused    int
	Errors     json.RawMessage // [{row, id, errors:[{field, message}]}]
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt *time.Time
}

// ImportRow is one stored row: the validated account to save (an
// UpsertAccount as JSON), or the report of a row refused at validation.
type ImportRow struct {
	Row     int
	Account json.RawMessage
	Refusal json.RawMessage
}

// ImportRowRef names the import row a save applies.
type ImportRowRef struct {
	ImportID uuid.UUID
	Row      int
}

// CreateImport records an import with its rows, in one transaction: once it
// returns, no process needs to hold the rows.
func (s *Store) CreateImport(ctx context.Context, id uuid.UUID, format string, rows []ImportRow) (Import, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO account_imports (id, format, total) VALUES ($1, $2, $3)`, id, format, len(rows)); err != nil {
			return fmt.Errorf("create import: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"import_id", "row_no", "account", "refusal"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				return []any{id, rows[i].Row, jsonOrNull(rows[i].Account), jsonOrNull(rows[i].Refusal)}, nil
			}))
		if err != nil {
			return fmt.Errorf("store import rows: %w", err)
		}
		return nil
	})
	if err != nil {
		return Import{}, err
	}
	return s.GetImport(ctx, id)
}

func jsonOrNull(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return []byte(raw)
}

// MarkImportStarted records that an import's workflow was started.
func (s *Store) MarkImportStarted(ctx context.Context, id uuid.UUID) error {
	if _, err := s.pool.Exec(ctx, `UPDATE account_imports SET started_at = now() WHERE id = $1 AND started_at IS NULL`, id); err != nil {
		return fmt.Errorf("mark import started: %w", err)
	}
	return nil
}

// UnstartedImports returns up to n imports whose workflow was never
// started (Temporal was unreachable), oldest first.
func (s *Store) UnstartedImports(ctx context.Context, n int) ([]Import, error) {
	rows, err := s.pool.Query(ctx, importSelect+` WHERE started_at IS NULL ORDER BY created_at LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("unstarted imports: %w", err)
	}
	return pgx.CollectRows(rows, scanImport)
}

// PendingImportRows returns the rows first to last of an import that are
// not applied yet, in order.
func (s *Store) PendingImportRows(ctx context.Context, id uuid.UUID, first, last int) ([]ImportRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT row_no, account, refusal FROM import_rows
		WHERE import_id = $1 AND row_no BETWEEN $2 AND $3 AND outcome IS NULL ORDER BY row_no`, id, first, last)
	if err != nil {
		return nil, fmt.Errorf("pending import rows: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ImportRow, error) {
		var r ImportRow
		err := row.Scan(&r.Row, &r.Account, &r.Refusal)
		return r, err
	})
}

// applyImportRow marks the row a save applies, in the save's transaction.
func applyImportRow(ctx context.Context, tx pgx.Tx, ref ImportRowRef, created bool) error {
	outcome := "updated"
	if created {
		outcome = "created"
	}
	tag, err := tx.Exec(ctx, `UPDATE import_rows SET outcome = $3 WHERE import_id = $1 AND row_no = $2 AND outcome IS NULL`,
		ref.ImportID, ref.Row, outcome)
	if err != nil {
		return fmt.Errorf("mark import row: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrImportRowApplied
	}
	return nil
}

// RefuseImportRow marks a row refused, with its report; a nil report keeps
// the one stored at validation. A row applied already is left alone.
func (s *Store) RefuseImportRow(ctx context.Context, ref ImportRowRef, report json.RawMessage) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE import_rows SET outcome = 'refused', refusal = COALESCE($3::jsonb, refusal)
		WHERE import_id = $1 AND row_no = $2 AND outcome IS NULL`, ref.ImportID, ref.Row, jsonOrNull(report))
	if err != nil {
		return fmt.Errorf("refuse import row: %w", err)
	}
	return nil
}

// CountImportBatch adds a batch's rows (first to last, all applied) to the
// import's counts, once: counted says which batch comes next, so a batch
// counted before is left alone. The batch that reaches the total finishes
// the import, and its rows are deleted: the report is what stays.
func (s *Store) CountImportBatch(ctx context.Context, id uuid.UUID, batch, first, last int) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `
			WITH b AS (
				SELECT count(*) FILTER (WHERE outcome = 'created') AS created,
				       count(*) FILTER (WHERE outcome = 'updated') AS updated,
				       count(*) FILTER (WHERE outcome = 'refused') AS refused,
				       count(*) FILTER (WHERE outcome IS NULL) AS pending,
				       COALESCE(jsonb_agg(refusal ORDER BY row_no) FILTER (WHERE outcome = 'refused'), '[]') AS errors
				FROM import_rows WHERE import_id = $1 AND row_no BETWEEN $3 AND $4)
			UPDATE account_imports i SET
				processed = i.processed + b.created + b.updated + b.refused,
				created = i.created + b.created, updated = i.updated + b.updated, refused = i.refused + b.refused,
				errors = i.errors || b.errors, counted = $2 + 1, updated_at = now(),
				status = CASE WHEN i.processed + b.created + b.updated + b.refused = i.total THEN 'done' ELSE i.status END,
				finished_at = CASE WHEN i.processed + b.created + b.updated + b.refused = i.total THEN now() END
			FROM b WHERE i.id = $1 AND i.counted = $2 AND b.pending = 0
			RETURNING i.status`, id, batch, first, last).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.countedAlready(ctx, tx, id, batch)
		}
		if err != nil {
			return fmt.Errorf("count import batch: %w", err)
		}
		if status == ImportDone {
			return deleteImportRows(ctx, tx, id)
		}
		return nil
	})
}

// countedAlready tells a batch counted before (nothing to do) from an
// unknown import or a batch with rows not applied yet.
func (s *Store) countedAlready(ctx context.Context, tx pgx.Tx, id uuid.UUID, batch int) error {
	var counted int
	err := tx.QueryRow(ctx, `SELECT counted FROM account_imports WHERE id = $1`, id).Scan(&counted)
	switch {
	case err != nil:
		return notFound(err)
	case counted > batch:
		return nil
	default:
		return fmt.Errorf("count import batch %d: %d batches counted, or rows not applied yet", batch, counted)
	}
}

func deleteImportRows(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if _, err := tx.Exec(ctx, `DELETE FROM import_rows WHERE import_id = $1`, id); err != nil {
		return fmt.Errorf("delete import rows: %w", err)
	}
	return nil
}

// FailImport ends a running import as failed, keeping what it applied and
// its report; its remaining rows are deleted (the file can be sent again:
// rows are upserts).
func (s *Store) FailImport(ctx context.Context, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE account_imports SET status = 'failed', finished_at = now(), updated_at = now()
			WHERE id = $1 AND status = 'running'`, id)
		if err != nil {
			return fmt.Errorf("fail import: %w", err)
		}
		return deleteImportRows(ctx, tx, id)
	})
}

const importSelect = `
		SELECT id, status, format, total, processed, created, updated, refused, errors, created_at, updated_at, finished_at
		FROM account_imports`

func scanImport(row pgx.CollectableRow) (Import, error) {
	var im Import
	err := row.Scan(&im.ID, &im.Status, &im.Format, &im.Total, &im.Processed, &im.Created, &im.Updated, &im.Refused, &im.Errors,
		&im.CreatedAt, &im.UpdatedAt, &im.FinishedAt)
	return im, err
}

// GetImport returns an import.
func (s *Store) GetImport(ctx context.Context, id uuid.UUID) (Import, error) {
	rows, err := s.pool.Query(ctx, importSelect+` WHERE id = $1`, id)
	if err != nil {
		return Import{}, fmt.Errorf("get import: %w", err)
	}
	im, err := pgx.CollectExactlyOneRow(rows, scanImport)
	return im, notFound(err)
}

// IsContentError reports whether PostgreSQL refused a write for the data
// itself (a data exception or a broken constraint, SQLSTATE classes 22 and
// 23): writing the same data again cannot succeed.
func IsContentError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}
