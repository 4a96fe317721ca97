// Package runs starts playbook runs and reports on them. The API and, later,
// automatic triggers share it, so "one live run per account and playbook"
// is enforced the same way whatever starts a run.
package runs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/workflows"
)

// Sentinel errors.
var (
	ErrUnknownPlaybook = errors.New("unknown playbook")
	ErrUnknownVersion  = errors.New("unknown playbook version")
	ErrUnknownAccount  = errors.New("unknown account")
	ErrInactiveAccount = errors.New("account is churned")
)

// LiveRunError says which run already holds the account in the playbook.
type LiveRunError struct {
	RunID      *uuid.UUID
	WorkflowID string
}

func (e *LiveRunError) Error() string { return store.ErrLiveRun.Error() }

// Is makes errors.Is(err, store.ErrLiveRun) hold.
func (e *LiveRunError) Is(target error) bool { return target == store.ErrLiveRun }

// Temporal is the part of the Temporal client runs need.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
}

// Store is the part of the store runs need.
type Store interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	RecordRunStarted(ctx context.Context, in store.NewRun) (store.Run, error)
	GetRun(ctx context.Context, id uuid.UUID) (store.Run, error)
	LiveRun(ctx context.Context, accountID, playbookKey string) (store.Run, error)
	RunEvents(ctx context.Context, runID uuid.UUID) ([]store.Event, error)
}

// Service starts and describes runs.
type Service struct {
	Temporal      Temporal
	Store         Store
	TaskQueue     string
	Namespace     string
	TemporalUIURL string
}

// StartInput names a playbook and an account; Version 0 means the current one.
type StartInput struct {
	PlaybookKey string
	Version     int
	AccountID   string
}

// Start enrols an account in a playbook. It returns a *LiveRunError when the
// pair already has a live run.
func (s *Service) Start(ctx context.Context, in StartInput) (store.Run, error) {
	version, ok := workflows.KnownPlaybook(in.PlaybookKey)
	if !ok {
		return store.Run{}, ErrUnknownPlaybook
	}
	if in.Version != 0 && in.Version != version {
		return store.Run{}, ErrUnknownVersion
	}
	acct, err := s.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Run{}, ErrUnknownAccount
	}
	if err != nil {
		return store.Run{}, err
	}
	if acct.Status != "active" {
		return store.Run{}, ErrInactiveAccount
	}

	runID := uuid.New()
	workflowID := workflows.RunWorkflowID(in.PlaybookKey, in.AccountID)
	started, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflowID,
		TaskQueue: s.TaskQueue,
		// Temporal refuses a second live workflow with the same ID; a finished
		// one may be followed by a new run.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.PlaybookRunName, workflows.RunInput{
		RunID: runID.String(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: version,
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return store.Run{}, s.liveRunError(ctx, in, workflowID)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("start workflow: %w", err)
	}
	// The workflow records the run too; recording it here as well makes the
	// 201 answer and an immediate GET agree.
	run, err := s.Store.RecordRunStarted(ctx, store.NewRun{
		ID: runID, AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: version,
		WorkflowID: workflowID, TemporalRunID: started.GetRunID(), StartedAt: time.Now(),
	})
	if errors.Is(err, store.ErrLiveRun) {
		return store.Run{}, s.liveRunError(ctx, in, workflowID)
	}
	return run, err
}

func (s *Service) liveRunError(ctx context.Context, in StartInput, workflowID string) error {
	live := &LiveRunError{WorkflowID: workflowID}
	if run, err := s.Store.LiveRun(ctx, in.AccountID, in.PlaybookKey); err == nil {
		live.RunID = &run.ID
	}
	return live
}

// View is a run with its progress.
type View struct {
	store.Run
	TemporalUI    string              `json:"temporal_ui"`
	Progress      *workflows.Progress `json:"steps,omitempty"`
	ProgressError string              `json:"steps_error,omitempty"`
	Events        []store.Event       `json:"events"`
}

// Get returns a run, its steps as the workflow reports them and its audit
// events. Steps come from a workflow query; when it cannot be answered (no
// worker, history past retention) the view says so instead of failing.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (View, error) {
	run, err := s.Store.GetRun(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := View{Run: run, TemporalUI: s.uiLink(run.WorkflowID, run.TemporalRunID)}
	if v.Events, err = s.Store.RunEvents(ctx, id); err != nil {
		return View{}, err
	}
	encoded, err := s.Temporal.QueryWorkflow(ctx, run.WorkflowID, run.TemporalRunID, workflows.ProgressQuery)
	if err == nil {
		var p workflows.Progress
		if err = encoded.Get(&p); err == nil {
			v.Progress = &p
		}
	}
	if err != nil {
		v.ProgressError = err.Error()
	}
	return v, nil
}

func (s *Service) uiLink(workflowID, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.TemporalUIURL,
		url.PathEscape(s.Namespace), url.PathEscape(workflowID), url.PathEscape(runID))
}
