package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/playbookd/playbookd/states"
)

// Run is the index row of one account in one playbook version.
type Run struct {
	ID              uuid.UUID
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
	WorkflowID      string
	TemporalRunID   string
	Status          states.Run
	Outcome         *string
	StartedAt       time.Time
	EndedAt         *time.Time
}

// NewRun is the input of RecordRunStarted.
type NewRun struct {
	ID              uuid.UUID
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
	WorkflowID      string
	TemporalRunID   string
	StartedAt       time.Time
}

// RecordRunStarted writes the run's index row once; both the API (right after
// starting the workflow) and the workflow's first activity call it, so
// whichever comes second finds the row already there. It fails with
// ErrLiveRun when another live run of the same playbook holds the account.
func (s *Store) RecordRunStarted(ctx context.Context, in NewRun) (Run, error) {
	// One statement on the common path (every enrolment takes it): the run
	// row and its audit event. No conflict target: both the primary key and
	// the one-live-run index are arbiters, so neither raises.
	run, err := rowOf[Run](ctx, s.pool, `
		WITH inserted AS (
			INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id,
			                  status, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, 'running', $7)
			ON CONFLICT DO NOTHING
			RETURNING id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at
		), audit AS (
			INSERT INTO events (account_id, run_id, type, data)
			SELECT account_id, id, 'run_started', jsonb_build_object('playbook', playbook_key, 'version', playbook_version)
			FROM inserted
		)
		SELECT * FROM inserted`,
		in.ID, in.AccountID, in.PlaybookKey, in.PlaybookVersion, in.WorkflowID, in.TemporalRunID, in.StartedAt)
	if !errors.Is(err, ErrNotFound) {
		if err != nil {
			return Run{}, fmt.Errorf("insert run: %w", err)
		}
		return run, nil
	}
	// Nothing inserted: this run was recorded already (the API and the
	// workflow both record it), or another live run holds the pair.
	run, err = getRun(ctx, s.pool, in.ID)
	if errors.Is(err, ErrNotFound) {
		return Run{}, ErrLiveRun
	}
	return run, err
}

// RecordRunFinished closes a live run and its pending approvals (nobody can
// decide them any more); closeTasks also closes its open tasks, for a run
// that was cancelled or exited. A run that completed leaves its tasks to the
// people they are for. Closing an already closed run is a no-op, so a retried
// activity is harmless.
func (s *Store) RecordRunFinished(ctx context.Context, id uuid.UUID, status states.Run, outcome string, closeTasks bool) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		err := tx.QueryRow(ctx, `
			UPDATE runs SET status = $2, outcome = NULLIF($3, ''), ended_at = now()
			WHERE id = $1 AND status IN ('running', 'paused')
			RETURNING account_id`, id, status, outcome).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("finish run: %w", err)
		}
		if closeTasks {
			if _, err := tx.Exec(ctx, `
				UPDATE tasks SET status = 'cancelled', closed_at = now() WHERE run_id = $1 AND status = 'open'`, id); err != nil {
				return fmt.Errorf("close run tasks: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE approvals SET status = 'cancelled', decided_at = now() WHERE run_id = $1 AND status = 'pending'`, id); err != nil {
			return fmt.Errorf("close run approvals: %w", err)
		}
		return appendEvent(ctx, tx, accountID, &id, "run_"+string(status), map[string]any{"outcome": outcome})
	})
}

// GetRun returns one run.
func (s *Store) GetRun(ctx context.Context, id uuid.UUID) (Run, error) {
	return getRun(ctx, s.pool, id)
}

// LiveRun returns the live run of a playbook for an account.
func (s *Store) LiveRun(ctx context.Context, accountID, playbookKey string) (Run, error) {
	return rowOf[Run](ctx, s.pool, runSelect+`
		WHERE account_id = $1 AND playbook_key = $2 AND status IN ('running', 'paused')`, accountID, playbookKey)
}

const runSelect = `
	SELECT id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at
	FROM runs`

func getRun(ctx context.Context, q querier, id uuid.UUID) (Run, error) {
	return rowOf[Run](ctx, q, runSelect+` WHERE id = $1`, id)
}

// SetRunStatus records a live run as running or paused.
func (s *Store) SetRunStatus(ctx context.Context, id uuid.UUID, status states.Run) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		err := tx.QueryRow(ctx, `
			UPDATE runs SET status = $2 WHERE id = $1 AND status IN ('running', 'paused') AND status <> $2
			RETURNING account_id`, id, status).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("set run status: %w", err)
		}
		return appendEvent(ctx, tx, accountID, &id, "run_"+string(status), nil)
	})
}

// RunMove is a run's move to another version of its playbook, as its
// workflow records it.
type RunMove struct {
	RunID       uuid.UUID
	FromVersion int
	ToVersion   int
	By          string
	At          time.Time
	ResumesAt   string
}

// RecordRunMoved gives the run its new version and appends the audit
// event, once: a retry after the first finds the run on the new version and
// does nothing. How far the run got is re-read along the new version's
// steps (the analytics triggers then move its figures).
func (s *Store) RecordRunMoved(ctx context.Context, m RunMove) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var accountID string
		err := tx.QueryRow(ctx, `
			UPDATE runs SET playbook_version = $3, furthest_pos = COALESCE((
				SELECT max(p.pos) FROM playbook_step_positions p, unnest(runs.reached) AS m
				WHERE p.playbook_key = runs.playbook_key AND p.playbook_version = $3 AND p.step_id = analytics_marker_step(m)), -1)
			WHERE id = $1 AND playbook_version = $2
			RETURNING account_id`, m.RunID, m.FromVersion, m.ToVersion).Scan(&accountID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record run moved: %w", err)
		}
		return appendEvent(ctx, tx, accountID, &m.RunID, "run_moved", map[string]any{
			"from_version": m.FromVersion, "to_version": m.ToVersion, "by": m.By,
			"at": m.At.UTC().Format(time.RFC3339), "resumes_at": m.ResumesAt})
	})
}

// LiveVersionRun is a live run of a playbook version, with its account's
// name and segment.
type LiveVersionRun struct {
	Run
	AccountName string
	Segment     string
}

// LiveRunsOfVersion returns the running and paused runs of a playbook
// version, oldest first: of one segment ("": every one), of the accounts
// named (none: every account).
func (s *Store) LiveRunsOfVersion(ctx context.Context, key string, version int, segment string, accountIDs []string) ([]LiveVersionRun, error) {
	return rowsOf[LiveVersionRun](ctx, s.pool, `
		SELECT r.id, r.account_id, r.playbook_key, r.playbook_version, r.workflow_id, r.temporal_run_id, r.status, r.outcome,
		       r.started_at, r.ended_at, a.name AS account_name, a.segment
		FROM runs r JOIN accounts a ON a.id = r.account_id
		WHERE r.playbook_key = $1 AND r.playbook_version = $2 AND r.status IN ('running', 'paused')
		  AND ($3 = '' OR a.segment = $3) AND (COALESCE(cardinality($4::text[]), 0) = 0 OR r.account_id = ANY ($4))
		ORDER BY r.started_at, r.id`, key, version, segment, accountIDs)
}

// LiveRuns returns an account's running and paused runs.
func (s *Store) LiveRuns(ctx context.Context, accountID string) ([]Run, error) {
	return rowsOf[Run](ctx, s.pool, runSelect+`
		WHERE account_id = $1 AND status IN ('running', 'paused') ORDER BY started_at`, accountID)
}

// RunFilter narrows ListRuns.
type RunFilter struct {
	AccountID   string
	PlaybookKey string
	Status      states.Run
	After       *Keyset
	Limit       int
}

// ListRuns returns runs, newest first.
func (s *Store) ListRuns(ctx context.Context, f RunFilter) ([]Run, error) {
	return page[Run](ctx, s.pool, runSelect+`
		WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR playbook_key = $2) AND ($3 = '' OR status = $3)`,
		keysetOrder{at: "started_at", id: "id", newestFirst: true}, f.After, f.Limit, f.AccountID, f.PlaybookKey, f.Status)
}
