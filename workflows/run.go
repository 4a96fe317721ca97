package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
)

// Run outcomes and statuses as recorded in PostgreSQL.
const (
	statusCompleted = "completed"
	statusCancelled = "cancelled"
	statusFailed    = "failed"
)

// PlaybookRun runs one account through one playbook, step by step, sleeping on
// durable timers between them.
func PlaybookRun(ctx workflow.Context, in RunInput) (RunResult, error) {
	r, err := newRun(ctx, in)
	if err != nil {
		return RunResult{}, err
	}
	return r.run(ctx)
}

type playbookRun struct {
	input  RunInput
	anchor time.Time
	steps  []step
	states []StepState
}

func newRun(ctx workflow.Context, in RunInput) (*playbookRun, error) {
	steps, ok := builtinPlaybooks[in.PlaybookKey]
	if !ok {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown playbook %q", in.PlaybookKey), contract.ErrInvalidInput, nil)
	}
	r := &playbookRun{input: in, anchor: workflow.Now(ctx), steps: steps}
	r.states = make([]StepState, len(steps))
	for i, s := range steps {
		r.states[i] = StepState{ID: s.ID, Kind: s.kind(), DueAt: r.anchor.Add(s.At).UTC(), Status: StepPending}
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, r.progress); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *playbookRun) run(ctx workflow.Context) (RunResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	info := workflow.GetInfo(ctx)
	err := workflow.ExecuteActivity(ctx, contract.RecordRunStarted, contract.RecordRunStartedInput{
		RunID: r.input.RunID, WorkflowID: info.WorkflowExecution.ID, TemporalRunID: info.WorkflowExecution.RunID, AccountID: r.input.AccountID,
		PlaybookKey: r.input.PlaybookKey, PlaybookVersion: r.input.PlaybookVersion, StartedAt: r.anchor,
	}).Get(ctx, nil)
	if err != nil {
		return RunResult{}, err
	}

	for i := range r.steps {
		if err := r.runStep(ctx, i); err != nil {
			return r.finish(ctx, err)
		}
	}
	return r.finish(ctx, nil)
}

func (r *playbookRun) runStep(ctx workflow.Context, i int) error {
	s, state := r.steps[i], &r.states[i]
	if wait := state.DueAt.Sub(workflow.Now(ctx)); wait > 0 {
		state.Status = StepWaiting
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	state.Status = StepRunning
	var err error
	switch {
	case s.Email != nil:
		var res contract.SendEmailResult
		err = workflow.ExecuteActivity(ctx, contract.SendEmail, contract.SendEmailInput{
			RunID: r.input.RunID, StepID: s.ID, AccountID: r.input.AccountID,
			Template: s.Email.Template, ToRoles: s.Email.ToRoles,
		}).Get(ctx, &res)
		state.Detail = fmt.Sprintf("%d sent, %d skipped, %d failed", res.Sent, res.Skipped, res.Failed)
		if err == nil && res.Sent+res.Skipped+res.Failed == 0 {
			state.Detail = "no contact with role " + fmt.Sprint(s.Email.ToRoles)
		}
	case s.Task != nil:
		due := workflow.Now(ctx).Add(s.Task.Due).UTC()
		var res contract.CreateTaskResult
		err = workflow.ExecuteActivity(ctx, contract.CreateTask, contract.CreateTaskInput{
			RunID: r.input.RunID, StepID: s.ID, AccountID: r.input.AccountID, Title: s.Task.Title,
			Assignee: s.Task.Assignee, Priority: s.Task.Priority, DueAt: &due,
		}).Get(ctx, &res)
		state.Detail = "task " + res.TaskID + " for " + res.Assignee
	}
	if err != nil {
		state.Status, state.Detail = StepFailed, err.Error()
		return err
	}
	state.Status = StepDone
	return nil
}

// finish records how the run ended. A cancelled workflow context cannot run
// activities, so the record is written from a disconnected one.
func (r *playbookRun) finish(ctx workflow.Context, runErr error) (RunResult, error) {
	result := RunResult{Status: statusCompleted, Outcome: "completed"}
	switch {
	case temporal.IsCanceledError(runErr):
		result = RunResult{Status: statusCancelled, Outcome: "cancelled"}
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	case runErr != nil:
		result = RunResult{Status: statusFailed, Outcome: "failed"}
	}
	err := workflow.ExecuteActivity(ctx, contract.RecordRunFinished, contract.RecordRunFinishedInput{
		RunID: r.input.RunID, Status: result.Status, Outcome: result.Outcome,
	}).Get(ctx, nil)
	if runErr != nil {
		// The run's own failure is what callers must see; a failed record of
		// it is only logged.
		if err != nil {
			workflow.GetLogger(ctx).Error("record run finished", "error", err)
		}
		return result, runErr
	}
	return result, err
}

func (r *playbookRun) progress() (Progress, error) {
	p := Progress{Done: []StepState{}, Upcoming: []StepState{}}
	for i := range r.states {
		s := r.states[i]
		switch {
		case s.Status == StepDone || s.Status == StepFailed:
			p.Done = append(p.Done, s)
		case p.Current == nil && s.Status != StepPending:
			p.Current = &s
		default:
			p.Upcoming = append(p.Upcoming, s)
		}
	}
	return p, nil
}

// activityOptions retry infrastructure errors forever with backoff; business
// failures are non-retryable application errors.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: contract.NonRetryable,
	},
}
