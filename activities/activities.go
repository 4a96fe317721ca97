// Package activities performs a run's side effects: PostgreSQL writes and
// emails. Every activity is idempotent, so Temporal may retry it or re-run it
// after a worker crash without a second task or email.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// Store is what the activities need from PostgreSQL.
type Store interface {
	RecordRunStarted(ctx context.Context, in store.NewRun) (store.Run, error)
	RecordRunFinished(ctx context.Context, id uuid.UUID, status, outcome string) error
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ContactsWithRoles(ctx context.Context, accountID string, roles []string) ([]store.Contact, error)
	ClaimEmail(ctx context.Context, in store.NewEmail) (store.Email, error)
	MarkEmail(ctx context.Context, id uuid.UUID, status, detail, providerMessageID string) (bool, error)
	CreateTask(ctx context.Context, in store.NewTask) (store.Task, bool, error)
}

// Activities holds the dependencies of every activity.
type Activities struct {
	Store     Store
	Sender    mail.Sender
	Templates *templates.Set
	From      mail.Address
	Log       *slog.Logger
}

// RecordRunStarted indexes the run; the API may have done so already.
func (a *Activities) RecordRunStarted(ctx context.Context, in contract.RecordRunStartedInput) error {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return err
	}
	_, err = a.Store.RecordRunStarted(ctx, store.NewRun{
		ID: runID, AccountID: in.AccountID, PlaybookKey: in.PlaybookKey,
		PlaybookVersion: in.PlaybookVersion, WorkflowID: in.WorkflowID, TemporalRunID: in.TemporalRunID, StartedAt: in.StartedAt,
	})
	switch {
	case errors.Is(err, store.ErrLiveRun):
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrLiveRun, err)
	case err != nil:
		return fmt.Errorf("record run started: %w", err)
	}
	return nil
}

// RecordRunFinished closes the run's index row and its open tasks.
func (a *Activities) RecordRunFinished(ctx context.Context, in contract.RecordRunFinishedInput) error {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return err
	}
	if err := a.Store.RecordRunFinished(ctx, runID, in.Status, in.Outcome); err != nil {
		return fmt.Errorf("record run finished: %w", err)
	}
	return nil
}

// CreateTask creates the step's task once.
func (a *Activities) CreateTask(ctx context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return contract.CreateTaskResult{}, err
	}
	task, created, err := a.Store.CreateTask(ctx, store.NewTask{
		RunID: runID, StepID: in.StepID, AccountID: in.AccountID, AssigneeLevel: in.Assignee,
		Title: in.Title, Priority: in.Priority, DueAt: in.DueAt,
	})
	if errors.Is(err, store.ErrNotFound) {
		return contract.CreateTaskResult{}, accountNotFound(in.AccountID)
	}
	if err != nil {
		return contract.CreateTaskResult{}, fmt.Errorf("create task: %w", err)
	}
	if created {
		a.Log.InfoContext(ctx, "task created", "run_id", in.RunID, "step_id", in.StepID,
			"task_id", task.ID, "assignee", task.AssigneeEmail)
	}
	return contract.CreateTaskResult{TaskID: task.ID.String(), Assignee: task.AssigneeEmail}, nil
}

func parseRunID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("run id %q is not a UUID", s), contract.ErrInvalidInput, err)
	}
	return id, nil
}

func accountNotFound(id string) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("account %q not found", id), contract.ErrAccountNotFound, nil)
}
