package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/states"
)

// Task is a to-do for a team member, created by a run.
type Task struct {
	ID            uuid.UUID
	RunID         uuid.UUID
	StepID        string
	AccountID     string
	AssigneeEmail string
	Title         string
	Description   string
	Priority      string
	Status        states.Task
	DueAt         *time.Time
	CreatedAt     time.Time
	ClosedAt      *time.Time
	Outcome       string
	Note          string
	WorkflowID    string
	RunStatus     states.Run
}

// NewTask is the input of CreateTask. AssigneeLevel picks the first member of
// the account's escalation ladder (CSM, their manager, ...) at that level or
// above; the top of the ladder when nobody is high enough.
type NewTask struct {
	RunID         uuid.UUID
	StepID        string
	AccountID     string
	AssigneeLevel string
	Title         string
	Description   string
	Priority      string
	DueAt         *time.Time
}

// CreateTask makes the task of a run step once: a second call for the same run
// and step returns the first task and created=false.
func (s *Store) CreateTask(ctx context.Context, in NewTask) (Task, bool, error) {
	var (
		task    Task
		created bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		assigneeID, err := resolveAssignee(ctx, tx, in.AccountID, in.AssigneeLevel)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, description, priority, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (run_id, step_id) DO NOTHING`,
			in.RunID, in.StepID, in.AccountID, assigneeID, in.Title, in.Description, in.Priority, in.DueAt)
		if err != nil {
			return fmt.Errorf("insert task: %w", err)
		}
		created = tag.RowsAffected() == 1
		task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.run_id = $1 AND k.step_id = $2`, in.RunID, in.StepID)
		if err != nil || !created {
			return err
		}
		return appendEvent(ctx, tx, in.AccountID, &in.RunID, "task_created",
			map[string]any{"step_id": in.StepID, "task_id": task.ID, "assignee": task.AssigneeEmail, "title": in.Title})
	})
	return task, created, err
}

// TaskFilter narrows ListTasks; empty fields match everything.
type TaskFilter struct {
	AssigneeEmail string
	Status        states.Task
	AccountID     string
	RunID         *uuid.UUID
	After         *Keyset
	Limit         int
}

// ListTasks returns tasks, oldest first.
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	return page[Task](ctx, s.pool, taskSelect+`
		WHERE ($1 = '' OR t.email = $1) AND ($2 = '' OR k.status = $2)
		  AND ($3 = '' OR k.account_id = $3) AND ($4::uuid IS NULL OR k.run_id = $4)`,
		keysetOrder{at: "k.created_at", id: "k.id"}, f.After, f.Limit, f.AssigneeEmail, f.Status, f.AccountID, f.RunID)
}

const taskSelect = `
	SELECT k.id, k.run_id, k.step_id, k.account_id, t.email AS assignee_email, k.title, k.description, k.priority,
	       k.status, k.due_at, k.created_at, k.closed_at, k.outcome, k.note, r.workflow_id, r.status AS run_status
	FROM tasks k JOIN team_members t ON t.id = k.assignee_id JOIN runs r ON r.id = k.run_id`

// resolveAssignee picks the nearest member of the account's escalation ladder
// (CSM, their manager, ...) at the level or above; the top of the ladder when
// nobody is high enough.
func resolveAssignee(ctx context.Context, q querier, accountID, level string) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, `
		WITH RECURSIVE ladder(id, manager_id, depth, senior_enough) AS (
			SELECT t.id, t.manager_id, 0, `+levelRank("t.level")+` >= `+levelRank("$2")+`
			FROM accounts a JOIN team_members t ON t.id = a.csm_id WHERE a.id = $1
			UNION ALL
			SELECT t.id, t.manager_id, l.depth + 1, `+levelRank("t.level")+` >= `+levelRank("$2")+`
			FROM team_members t JOIN ladder l ON t.id = l.manager_id
			WHERE l.depth < 32
		)
		SELECT id FROM ladder
		ORDER BY senior_enough DESC, CASE WHEN senior_enough THEN depth ELSE -depth END
		LIMIT 1`, accountID, level, accounts.Levels).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, fmt.Errorf("account %s: %w", accountID, ErrNotFound)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("resolve assignee: %w", err)
	}
	return id, nil
}

// levelRank is the SQL expression ranking a team level, lowest first, by
// its place in accounts.Levels (the query's $3).
func levelRank(expr string) string {
	return "array_position($3::text[], " + expr + "::text)"
}

// ErrTaskClosed refuses completing a task that is no longer open.
var ErrTaskClosed = errors.New("the task is no longer open")

// CompleteTask closes an open task with its outcome and note. Completing it
// again with the same outcome returns it unchanged.
func (s *Store) CompleteTask(ctx context.Context, id uuid.UUID, outcome, note string) (Task, error) {
	var task Task
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		current, err := rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1 FOR UPDATE OF k`, id)
		if err != nil {
			return err
		}
		if current.Status != states.TaskOpen {
			if current.Status == states.TaskCompleted && current.Outcome == outcome {
				task = current
				return nil
			}
			return ErrTaskClosed
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'completed', outcome = $2, note = $3, closed_at = now() WHERE id = $1`,
			id, outcome, note); err != nil {
			return fmt.Errorf("complete task: %w", err)
		}
		if task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1`, id); err != nil {
			return err
		}
		return appendEvent(ctx, tx, task.AccountID, &task.RunID, "task_completed",
			map[string]any{"task_id": id, "step_id": task.StepID, "outcome": outcome})
	})
	return task, err
}

// GetTask returns one task.
func (s *Store) GetTask(ctx context.Context, id uuid.UUID) (Task, error) {
	return rowOf[Task](ctx, s.pool, taskSelect+` WHERE k.id = $1`, id)
}
