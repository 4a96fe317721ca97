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

// NewAdHocTask is a task a person makes on an account, outside any run.
type NewAdHocTask struct {
	AccountID     string
	AssigneeEmail string // an active team member
	Title         string
	Description   string
	Priority      string
	DueAt         *time.Time
	CreatedBy     string // who made it, as audit columns name people
}

// CreateAdHocTask stores a task without a run for an active member:
// ErrNotFound for an unknown account, ErrUnknownMember or
// ErrInactiveMember for the assignee.
func (s *Store) CreateAdHocTask(ctx context.Context, in NewAdHocTask) (Task, error) {
	var task Task
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		assigneeID, err := activeMember(ctx, tx, in.AssigneeEmail)
		if err != nil {
			return err
		}
		var id uuid.UUID
		err = tx.QueryRow(ctx, `
			INSERT INTO tasks (account_id, assignee_id, title, description, priority, due_at, created_by)
			SELECT a.id, $2, $3, $4, $5, $6, $7 FROM accounts a WHERE a.id = $1
			RETURNING id`, in.AccountID, assigneeID, in.Title, in.Description, in.Priority, in.DueAt, in.CreatedBy).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("insert task: %w", err)
		}
		if task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1`, id); err != nil {
			return err
		}
		return appendEvent(ctx, tx, in.AccountID, nil, "task_created",
			map[string]any{"task_id": id, "assignee": task.AssigneeEmail, "title": in.Title, "by": in.CreatedBy})
	})
	return task, err
}

// openTaskForUpdate locks an open task: ErrNotFound, or ErrTaskClosed with
// the task as it is.
func openTaskForUpdate(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Task, error) {
	current, err := rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1 FOR UPDATE OF k`, id)
	if err != nil {
		return Task{}, err
	}
	if current.Status != states.TaskOpen {
		return current, ErrTaskClosed
	}
	return current, nil
}

// ReassignTask gives an open task to another active member; giving it to
// its assignee changes nothing.
func (s *Store) ReassignTask(ctx context.Context, id uuid.UUID, assigneeEmail, by string) (Task, error) {
	var task Task
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		current, err := openTaskForUpdate(ctx, tx, id)
		if err != nil {
			return err
		}
		if current.AssigneeEmail == assigneeEmail {
			task = current
			return nil
		}
		assigneeID, err := activeMember(ctx, tx, assigneeEmail)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET assignee_id = $2 WHERE id = $1`, id, assigneeID); err != nil {
			return fmt.Errorf("reassign task: %w", err)
		}
		if task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1`, id); err != nil {
			return err
		}
		return appendEvent(ctx, tx, task.AccountID, task.RunID, "task_reassigned",
			map[string]any{"task_id": id, "step_id": task.StepID, "from": current.AssigneeEmail, "to": assigneeEmail, "by": by})
	})
	return task, err
}

// SnoozeTask keeps an open task out of its assignee's inbox until the time
// (nil: back in the inbox now).
func (s *Store) SnoozeTask(ctx context.Context, id uuid.UUID, until *time.Time, by string) (Task, error) {
	var task Task
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := openTaskForUpdate(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET snoozed_until = $2 WHERE id = $1`, id, until); err != nil {
			return fmt.Errorf("snooze task: %w", err)
		}
		var err error
		if task, err = rowOf[Task](ctx, tx, taskSelect+` WHERE k.id = $1`, id); err != nil {
			return err
		}
		data := map[string]any{"task_id": id, "step_id": task.StepID, "by": by, "until": until}
		typ := "task_snoozed"
		if until == nil {
			typ, data["until"] = "task_woken", nil
		}
		return appendEvent(ctx, tx, task.AccountID, task.RunID, typ, data)
	})
	return task, err
}
