package runs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/workflows"
)

// DeliverEvent records an account event, with the trigger firings it causes,
// and hands it to the account's live runs (wait_for, event_received). It
// returns how many runs got it.
func (s *Service) DeliverEvent(ctx context.Context, accountID, name string, data map[string]any, firings []store.NewFiring) (int, error) {
	if _, err := s.Store.GetAccount(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, ErrUnknownAccount
		}
		return 0, err
	}
	if err := s.Store.RecordAccountEvent(ctx, accountID, name, data, firings); err != nil {
		return 0, err
	}
	return s.SignalEvent(ctx, accountID, name, data)
}

// SignalEvent hands an account event recorded already (a survey answer,
// recorded with what it fires in its own transaction) to the account's live
// runs. It returns how many runs got it.
func (s *Service) SignalEvent(ctx context.Context, accountID, name string, data map[string]any) (int, error) {
	return s.signalLive(ctx, accountID, workflows.EventSignal, workflows.Event{Name: name, Data: data})
}

// AccountChanged tells the account's live runs its new snapshot, so exit
// rules are checked and date anchors re-planned.
func (s *Service) AccountChanged(ctx context.Context, accountID string) (int, error) {
	snap, err := s.Store.AccountSnapshot(ctx, accountID)
	if err != nil {
		return 0, err
	}
	return s.signalLive(ctx, accountID, workflows.AccountChangedSignal, snap)
}

func (s *Service) signalLive(ctx context.Context, accountID, signal string, arg any) (int, error) {
	live, err := s.Store.LiveRuns(ctx, accountID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, run := range live {
		err := s.Temporal.SignalWorkflow(ctx, run.WorkflowID, "", signal, arg)
		var gone *serviceerror.NotFound
		if errors.As(err, &gone) {
			continue // ended between the query and the signal
		}
		if err != nil {
			return n, fmt.Errorf("signal run %s: %w", run.ID, err)
		}
		n++
	}
	return n, nil
}

// Control pauses, resumes or cancels a live run.
func (s *Service) Control(ctx context.Context, id uuid.UUID, action string) (store.Run, error) {
	run, err := s.Store.GetRun(ctx, id)
	if err != nil {
		return store.Run{}, err
	}
	if run.Status != states.RunRunning && run.Status != states.RunPaused {
		return run, notLive(run)
	}
	switch action {
	case "cancel":
		err = s.Temporal.CancelWorkflow(ctx, run.WorkflowID, "")
	case "pause":
		err = s.Temporal.SignalWorkflow(ctx, run.WorkflowID, "", workflows.PauseSignal, nil)
	case "resume":
		err = s.Temporal.SignalWorkflow(ctx, run.WorkflowID, "", workflows.ResumeSignal, nil)
	default:
		return run, fmt.Errorf("unknown run action %q", action)
	}
	var gone *serviceerror.NotFound
	if errors.As(err, &gone) {
		return run, notLive(run)
	}
	return run, err
}

// notLive says how the run ended, as PostgreSQL last recorded it.
func notLive(run store.Run) error { return fmt.Errorf("%w (%s)", ErrNotLive, run.Status) }

// ErrDecisionRefused wraps the workflow's reason for refusing a decision
// (the approval is no longer pending).
var ErrDecisionRefused = errors.New("decision refused")

// Decision answers a pending approval: what a caller sends a run. It is the
// workflow's Update argument field for field (Decide converts one to the
// other, which stops compiling if they drift), so callers need not know
// the workflow's types.
type Decision struct {
	ApprovalID string
	Decision   string // approve | reject
	By         string
	Comment    string
	Edits      *message.Content // nil: the drafts as they are
}

// DecisionResult is the run's answer to a decision.
type DecisionResult struct {
	ApprovalID string          `json:"approval_id"`
	Status     states.Approval `json:"status"` // approved | rejected
}

// Decide delivers a decision on an approval to its run through the Update,
// answered synchronously.
func (s *Service) Decide(ctx context.Context, workflowID string, d Decision) (DecisionResult, error) {
	handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   workflows.DecideUpdate,
		Args:         []any{workflows.Decision(d)},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.DecisionResult
		err = handle.Get(ctx, &res)
		if err == nil {
			return DecisionResult(res), nil
		}
	}
	// The validator's and the handler's errors are refusals; anything else
	// (Temporal unreachable) is an infrastructure error.
	var gone *serviceerror.NotFound
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &gone):
		return DecisionResult{}, fmt.Errorf("%w: the run has ended", ErrDecisionRefused)
	case errors.As(err, &appErr):
		return DecisionResult{}, fmt.Errorf("%w: %s", ErrDecisionRefused, appErr.Message())
	}
	return DecisionResult{}, err
}

// TaskCompletedEvent is the event a completed task sends its run: the step id
// with '-' as '_' and "_completed", e.g. welcome_call_completed, so a
// definition can wait_for a CSM's work.
func TaskCompletedEvent(stepID string) string {
	base := playbook.BaseStepID(stepID) // repeated steps share one event name
	return strings.ReplaceAll(base, "-", "_") + "_completed"
}

// TaskCompleted tells the task's run, when it is still live.
func (s *Service) TaskCompleted(ctx context.Context, t store.Task) error {
	if t.RunStatus != states.RunRunning && t.RunStatus != states.RunPaused {
		return nil
	}
	err := s.Temporal.SignalWorkflow(ctx, t.WorkflowID, "", workflows.EventSignal, workflows.Event{
		Name: TaskCompletedEvent(t.StepID), Data: map[string]any{"task_id": t.ID.String(), "outcome": t.Outcome}})
	var gone *serviceerror.NotFound
	if errors.As(err, &gone) {
		return nil
	}
	return err
}

// ErrMoveRefused is a run that did not move to another version: it was not
// at a safe point, or the versions do not fit; the message says why.
var ErrMoveRefused = errors.New("the run stays on its version")

// MoveState asks a live run whether it could move now and what it would
// carry.
func (s *Service) MoveState(ctx context.Context, workflowID string) (workflows.MoveState, error) {
	encoded, err := s.Temporal.QueryWorkflow(ctx, workflowID, "", workflows.MoveStateQuery)
	if err != nil {
		return workflows.MoveState{}, err
	}
	var st workflows.MoveState
	if err := encoded.Get(&st); err != nil {
		return workflows.MoveState{}, err
	}
	return st, nil
}

// Move asks a live run to move to another version now, through the
// Update, answered once the run has recorded the move; ErrMoveRefused, with
// the run's reason, when it stays.
func (s *Service) Move(ctx context.Context, workflowID string, req workflows.MoveRequest) (workflows.MoveResult, error) {
	handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   workflows.MoveUpdate,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.MoveResult
		if err = handle.Get(ctx, &res); err == nil {
			return res, nil
		}
	}
	var gone *serviceerror.NotFound
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &gone):
		return workflows.MoveResult{}, fmt.Errorf("%w: the run has ended", ErrMoveRefused)
	case errors.As(err, &appErr):
		return workflows.MoveResult{}, fmt.Errorf("%w: %s", ErrMoveRefused, appErr.Message())
	}
	return workflows.MoveResult{}, err
}
