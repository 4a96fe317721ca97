// Package activities performs a run's side effects: PostgreSQL writes,
// emails, webhooks and starts of other playbooks. Every activity is
// idempotent, so Temporal may retry it or re-run it after a worker crash
// without a second task, approval or email.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/unsubscribe"
)

// Store is what the activities need from PostgreSQL.
type Store interface {
	RecordRunStarted(ctx context.Context, in store.NewRun) (store.Run, error)
	SetRunStatus(ctx context.Context, id uuid.UUID, status states.Run) error
	RecordRunMoved(ctx context.Context, m store.RunMove) error
	RecordRunFinished(ctx context.Context, id uuid.UUID, status states.Run, outcome string, closeTasks bool) error
	GetAccount(ctx context.Context, id string) (store.Account, error)
	AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error)
	ChangeAccount(ctx context.Context, id string, runID uuid.UUID, stepID string, change store.AccountChange) (accounts.Snapshot, error)
	ContactsWithRoles(ctx context.Context, accountID string, roles []string) ([]store.Contact, error)
	ClaimEmail(ctx context.Context, in store.NewEmail) (store.Email, error)
	MarkEmail(ctx context.Context, id uuid.UUID, status states.Email, detail, providerMessageID string) (bool, error)
	StartSending(ctx context.Context, id uuid.UUID) (states.Email, error)
	CreateTask(ctx context.Context, in store.NewTask) (store.Task, bool, error)
	CreateApproval(ctx context.Context, in store.NewApproval) (store.Approval, error)
	GetApproval(ctx context.Context, id uuid.UUID) (store.Approval, error)
	DecideApproval(ctx context.Context, id uuid.UUID, d store.ApprovalDecision) (store.Approval, error)
	EscalateApproval(ctx context.Context, id uuid.UUID, level int, expiresAt time.Time) (store.Escalation, error)
	GetRun(ctx context.Context, id uuid.UUID) (store.Run, error)
	TeamMemberByEmail(ctx context.Context, email string) (store.TeamMember, error)
	StartNotice(ctx context.Context, n store.ApprovalNotice) (string, error)
	SettleNotice(ctx context.Context, n store.ApprovalNotice, status, detail string) error
	Digests(ctx context.Context, now time.Time) ([]store.Digest, error)
	StartDigest(ctx context.Context, memberID uuid.UUID, day time.Time) (states.Email, error)
	SettleDigest(ctx context.Context, memberID uuid.UUID, day time.Time, status states.Email, detail string) error
}

// RunStarter enrols an account in a playbook; start_playbook steps use it.
// It returns contract.ErrNoSuchPlaybook for an unknown key.
type RunStarter interface {
	StartForAccount(ctx context.Context, playbookKey, accountID string) (runID string, alreadyLive bool, err error)
}

// Activities holds the dependencies of every activity.
type Activities struct {
	Store     Store
	Sender    mail.Sender
	Templates *templates.Set
	From      mail.Address
	Runs      RunStarter
	Links     *unsubscribe.Links // signed one-click unsubscribe links
	// SurveyLinks sign a survey email's answer links, one per score; nil:
	// survey steps fail.
	SurveyLinks *survey.Links
	Cap         store.FrequencyCap // automated emails per address; zero: no cap
	HTTP        *http.Client       // for notify webhooks, from NewWebhookClient; nil: production's guard
	Secrets     Secrets            // the webhook URLs notify steps name; nil: such steps fail
	Triggers    Triggers
	Imports     Imports
	Log         *slog.Logger
	// PublicBaseURL is where people open the console: approval notices link
	// to PublicBaseURL/console/approvals/<id>.
	PublicBaseURL string
	// SlackWebhookURL, when set, gets a message for every approval assigned
	// or escalated, through HTTP.
	SlackWebhookURL string
	// Digests turns on the daily digest to each team member, sent by the
	// first trigger sweep of the day at or after DigestHourUTC.
	Digests       bool
	DigestHourUTC int
}

// Triggers is the trigger service: its sweep, and account changes that may
// fire stage_changed triggers.
type Triggers interface {
	Sweep(ctx context.Context) (contract.SweepResult, error)
	ChangeAccount(ctx context.Context, id string, runID uuid.UUID, stepID string, change store.AccountChange) (accounts.Snapshot, error)
}

// SweepTriggers records renewal windows reached and schedule occasions
// due, starts pending firings' runs, and the workflows of imports recorded
// while Temporal was unreachable, and sends the day's digests when due (the
// schedule's activity).
func (a *Activities) SweepTriggers(ctx context.Context) (contract.SweepResult, error) {
	if a.Triggers == nil {
		return contract.SweepResult{}, temporal.NewNonRetryableApplicationError("this worker has no trigger service", contract.ErrInvalidInput, nil)
	}
	res, err := a.Triggers.Sweep(ctx)
	if err != nil {
		return res, err
	}
	if a.Imports != nil {
		if res.ImportsStarted, err = a.Imports.StartPending(ctx); err != nil {
			return res, err
		}
	}
	if a.Digests {
		res.Digests, err = a.sendDigests(ctx, time.Now())
	}
	return res, err
}

// BeginRun indexes the run (the API may have done so already) and returns
// what the run needs to know of its account.
func (a *Activities) BeginRun(ctx context.Context, in contract.BeginRunInput) (accounts.Snapshot, error) {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return accounts.Snapshot{}, err
	}
	_, err = a.Store.RecordRunStarted(ctx, store.NewRun{
		ID: runID, AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: in.PlaybookVersion,
		WorkflowID: in.WorkflowID, TemporalRunID: in.TemporalRunID, StartedAt: in.StartedAt,
	})
	switch {
	case errors.Is(err, store.ErrLiveRun):
		return accounts.Snapshot{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrLiveRun, err)
	case err != nil:
		return accounts.Snapshot{}, fmt.Errorf("record run started: %w", err)
	}
	return a.LoadAccount(ctx, in.AccountID)
}

// LoadAccount returns the account's current snapshot with its latest health.
func (a *Activities) LoadAccount(ctx context.Context, accountID string) (accounts.Snapshot, error) {
	snap, err := a.Store.AccountSnapshot(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return snap, accountNotFound(accountID)
	}
	if err != nil {
		return snap, fmt.Errorf("load account: %w", err)
	}
	return snap, nil
}

// RecordRunStatus records pause and resume.
func (a *Activities) RecordRunStatus(ctx context.Context, in contract.RecordRunStatusInput) error {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return err
	}
	return a.Store.SetRunStatus(ctx, runID, in.Status)
}

// RecordRunMoved records a run's move to another version of its playbook.
func (a *Activities) RecordRunMoved(ctx context.Context, in contract.RecordRunMovedInput) error {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return err
	}
	return a.Store.RecordRunMoved(ctx, store.RunMove{RunID: runID, FromVersion: in.FromVersion, ToVersion: in.ToVersion,
		By: in.By, At: in.At, ResumesAt: in.ResumesAt})
}

// RecordRunFinished closes the run's index row and its open tasks and approvals.
func (a *Activities) RecordRunFinished(ctx context.Context, in contract.RecordRunFinishedInput) error {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return err
	}
	if err := a.Store.RecordRunFinished(ctx, runID, in.Status, in.Outcome, in.CloseTasks); err != nil {
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
		Title: in.Title, Description: in.Description, Priority: in.Priority, DueAt: in.DueAt,
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

// UpdateAccount applies an update_account step and returns the new snapshot.
func (a *Activities) UpdateAccount(ctx context.Context, in contract.UpdateAccountInput) (accounts.Snapshot, error) {
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return accounts.Snapshot{}, err
	}
	change := store.AccountChange{LifecycleStage: in.LifecycleStage, Status: in.Status, Fields: in.Fields}
	// The trigger service records what a changed stage fires with the change;
	// a worker without one (tests of other activities) only changes.
	changeAccount := a.Store.ChangeAccount
	if a.Triggers != nil {
		changeAccount = a.Triggers.ChangeAccount
	}
	snap, err := changeAccount(ctx, in.AccountID, runID, in.StepID, change)
	if errors.Is(err, store.ErrNotFound) {
		return snap, accountNotFound(in.AccountID)
	}
	return snap, err
}

// StartPlaybook enrols the account in another playbook; a live run there is
// not an error.
func (a *Activities) StartPlaybook(ctx context.Context, in contract.StartPlaybookInput) (contract.StartPlaybookResult, error) {
	runID, live, err := a.Runs.StartForAccount(ctx, in.PlaybookKey, in.AccountID)
	if errors.Is(err, contract.ErrNoSuchPlaybook) {
		return contract.StartPlaybookResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no published playbook %q", in.PlaybookKey), contract.ErrUnknownPlaybook, err)
	}
	if errors.Is(err, contract.ErrPlaybookOverLimits) {
		return contract.StartPlaybookResult{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, err)
	}
	if err != nil {
		return contract.StartPlaybookResult{}, fmt.Errorf("start playbook %s: %w", in.PlaybookKey, err)
	}
	return contract.StartPlaybookResult{RunID: runID, AlreadyLive: live}, nil
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
