// Package tasks keeps the team's tasks: those runs create and those people
// make on an account (ad-hoc). Who may complete, reassign or snooze one
// (a csm: their ladder's), that it is still open, and telling its run,
// which may be waiting for it (an ad-hoc task has none to tell).
package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// Bounds of what a completion records.
const (
	MaxOutcomeBytes = 200
	MaxNoteBytes    = 10000
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("task not found")
	ErrClosed   = errors.New("the task is no longer open")
	ErrTooLong  = fmt.Errorf("outcome at most %d characters, note at most %d", MaxOutcomeBytes, MaxNoteBytes)
)

// Store is what keeping tasks needs from PostgreSQL.
type Store interface {
	GetTask(ctx context.Context, id uuid.UUID) (store.Task, error)
	CompleteTask(ctx context.Context, id uuid.UUID, outcome, note string) (store.Task, error)
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	CreateAdHocTask(ctx context.Context, in store.NewAdHocTask) (store.Task, error)
	ReassignTask(ctx context.Context, id uuid.UUID, assigneeEmail, by string) (store.Task, error)
	SnoozeTask(ctx context.Context, id uuid.UUID, until *time.Time, by string) (store.Task, error)
	team.Ladder
}

// Runs tells a run that one of its tasks is done.
type Runs interface {
	TaskCompleted(ctx context.Context, t store.Task) error
}

// Service keeps tasks.
type Service struct {
	Store Store
	Runs  Runs
	// Now is the clock snoozes are measured from (nil: time.Now).
	Now func() time.Time
}

// Complete closes an open task with its outcome ("" is "done") and note,
// and tells its run (an ad-hoc task has none). Completing it again with the same outcome answers the
// task unchanged. Once the task is found it is returned, also with a
// refusal, so the caller can name its run.
func (s *Service) Complete(ctx context.Context, by team.Actor, id uuid.UUID, outcome, note string) (store.Task, error) {
	outcome = strings.TrimSpace(outcome)
	if outcome == "" {
		outcome = "done"
	}
	if len(outcome) > MaxOutcomeBytes || len(note) > MaxNoteBytes {
		return store.Task{}, ErrTooLong
	}
	current, err := s.Store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Task{}, ErrNotFound
	}
	if err != nil {
		return store.Task{}, err
	}
	if err := team.MayAct(ctx, s.Store, by, current.AssigneeEmail); err != nil {
		return current, err
	}
	// Open or not is the row lock's to say: read above, it could change
	// before the write.
	task, err := s.Store.CompleteTask(ctx, id, outcome, note)
	switch {
	case errors.Is(err, store.ErrTaskClosed):
		return current, ErrClosed
	case errors.Is(err, store.ErrNotFound):
		return current, ErrNotFound
	case err != nil:
		return current, err
	}
	if task.RunID == nil {
		return task, nil
	}
	if err := s.Runs.TaskCompleted(ctx, task); err != nil {
		return task, fmt.Errorf("task completed, but its run was not told: %w", err)
	}
	return task, nil
}

// List returns tasks as the filter asks, the assignee as the caller may see
// (team.Inbox): a csm key sees its own, or those below it.
func (s *Service) List(ctx context.Context, by team.Actor, f store.TaskFilter) ([]store.Task, error) {
	assignee, err := team.Inbox(ctx, s.Store, by, f.AssigneeEmail)
	if err != nil {
		return nil, err
	}
	f.AssigneeEmail = assignee
	return s.Store.ListTasks(ctx, f)
}
