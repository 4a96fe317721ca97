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

// Task is a to-do for a team member, created by a run, or by a person
// (an ad-hoc task: no run, no step, CreatedBy set).
type Task struct {
	ID            uuid.UUID
	RunID         *uuid.UUID // nil: an ad-hoc task
	StepID        string     // "" for an ad-hoc task
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
	// SnoozedUntil keeps the task out of its assignee's inbox until then.
	SnoozedUntil *time.Time
	// CreatedBy is who made an ad-hoc task.
	CreatedBy *string
	// The run's, "" for an ad-hoc task.
	WorkflowID string
	RunStatus  states.Run
}

// Snoozed says whether the task is out of the inbox at now.
func (t Task) Snoozed(now time.Time) bool { return t.SnoozedUntil != nil && t.SnoozedUntil.After(now) }

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
	// Snoozed: SnoozedAwake is an inbox (tasks snoozed until later are left
	// out), SnoozedOnly the snoozed ones; "" all.
	Snoozed string
	// ByDue orders by due time, soonest first and tasks without one last
	// (the inbox); the keyset's At is the due time, NoDue for none.
	ByDue bool
	After *Keyset
	Limit int
}

// NoDue stands for "no due time" in a keyset of tasks ordered by due time:
// after every real one.
var NoDue = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// TaskFilter.Snoozed values.
const (
	SnoozedAwake = "exclude"
	SnoozedOnly  = "only"
)

// ListTasks returns tasks, oldest first.
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	return page[Task](ctx, s.pool, taskSelect+`
		WHERE ($1 = '' OR t.email = $1) AND ($2 = '' OR k.status = $2)
		  AND ($3 = '' OR k.account_id = $3) AND ($4::uuid IS NULL OR k.run_id = $4)
		  AND CASE $5 WHEN 'exclude' THEN k.snoozed_until IS NULL OR k.snoozed_until <= now()
		              WHEN 'only' THEN k.snoozed_until > now() ELSE true END`,
		taskOrder(f.ByDue), f.After, f.Limit, f.AssigneeEmail, f.Status, f.AccountID, f.RunID, f.Snoozed)
}

func taskOrder(byDue bool) keysetOrder {
	if byDue {
		return keysetOrder{at: "COALESCE(k.due_at, '9999-12-31 00:00:00+00'::timestamptz)", id: "k.id"}
	}
	return keysetOrder{at: "k.created_at", id: "k.id"}
}

// An ad-hoc task has no run: its run's columns read as "".
const taskSelect = `
	SELECT k.id, k.run_id, COALESCE(k.step_id, '') AS step_id, k.account_id, t.email AS assignee_email, k.title,
	       k.description, k.priority, k.status, k.due_at, k.created_at, k.closed_at, k.outcome, k.note,
	       k.snoozed_until, k.created_by, COALESCE(r.workflow_id, '') AS workflow_id, COALESCE(r.status, '') AS run_status
	FROM tasks k JOIN team_members t ON t.id = k.assignee_id LEFT JOIN runs r ON r.id = k.run_id`

// resolveAssignee picks the nearest member of the account's escalation ladder
// (CSM, their manager, ...) at the level or above; the top of the ladder when
// nobody is high enough. A deactivated member gets no new work: the ladder
// climbs past them (deactivating moves accounts and reports off a member, so
// this holds by construction too).
func resolveAssignee(ctx context.Context, q querier, accountID, level string) (uuid.UUID, error) {
	// The member picked is locked against a deactivation at the same time
	// (FOR SHARE waits for it); one that committed meanwhile is picked
	// again, from the ladder as the deactivation left it.
	for range 3 {
		id, err := pickAssignee(ctx, q, accountID, level)
		if err != nil {
			return uuid.Nil, err
		}
		active, err := lockActive(ctx, q, id)
		if err != nil || active {
			return id, err
		}
	}
	return uuid.Nil, fmt.Errorf("resolve assignee of account %s: the ladder keeps changing", accountID)
}

func pickAssignee(ctx context.Context, q querier, accountID, level string) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, `
		WITH RECURSIVE ladder(id, manager_id, depth, senior_enough, active) AS (
			SELECT t.id, t.manager_id, 0, `+levelRank("t.level")+` >= `+levelRank("$2")+`, t.deactivated_at IS NULL
			FROM accounts a JOIN team_members t ON t.id = a.csm_id WHERE a.id = $1
			UNION ALL
			SELECT t.id, t.manager_id, l.depth + 1, `+levelRank("t.level")+` >= `+levelRank("$2")+`, t.deactivated_at IS NULL
			FROM team_members t JOIN ladder l ON t.id = l.manager_id
			WHERE l.depth < 32
		)
		SELECT id FROM ladder WHERE active
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
		return appendEvent(ctx, tx, task.AccountID, task.RunID, "task_completed",
			map[string]any{"task_id": id, "step_id": task.StepID, "outcome": outcome})
	})
	return task, err
}

// GetTask returns one task.
func (s *Store) GetTask(ctx context.Context, id uuid.UUID) (Task, error) {
	return rowOf[Task](ctx, s.pool, taskSelect+` WHERE k.id = $1`, id)
}
