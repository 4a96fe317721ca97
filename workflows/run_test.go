package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/workflows"
)

const day = 24 * time.Hour

// recorder mocks every activity and notes when (in simulated time since the
// start) each step's side effect happened.
type recorder struct {
	env      *testsuite.TestWorkflowEnvironment
	start    time.Time
	emails   map[string]time.Duration
	tasks    map[string]time.Duration
	finished *contract.RecordRunFinishedInput
	// emailErr, when set, is what the SendEmail activity fails with.
	emailErr error
}

func newRecorder(t *testing.T) *recorder {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	(&activities.Activities{}).Register(env)
	r := &recorder{env: env, start: env.Now(), emails: map[string]time.Duration{}, tasks: map[string]time.Duration{}}
	env.OnActivity(contract.RecordRunStarted, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(contract.SendEmail, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
			if r.emailErr != nil {
				return contract.SendEmailResult{}, r.emailErr
			}
			r.emails[in.StepID+":"+in.Template] = env.Now().Sub(r.start)
			return contract.SendEmailResult{Sent: 1}, nil
		})
	env.OnActivity(contract.CreateTask, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
			r.tasks[in.StepID] = env.Now().Sub(r.start)
			return contract.CreateTaskResult{TaskID: "t-" + in.StepID, Assignee: "csm@cs.test"}, nil
		})
	env.OnActivity(contract.RecordRunFinished, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordRunFinishedInput) error {
			r.finished = &in
			return nil
		})
	return r
}

var input = workflows.RunInput{RunID: "5f0c2b9e-0d5f-4a57-9a43-6a4b8f1d2c3e", AccountID: "acme", PlaybookKey: "onboarding", PlaybookVersion: 1}

func TestOnboardingStepsFireOnTheirSeedDays(t *testing.T) {
	r := newRecorder(t)
	r.env.ExecuteWorkflow(workflows.PlaybookRun, input)
	require.True(t, r.env.IsWorkflowCompleted())
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, map[string]time.Duration{"welcome-email:welcome": 0}, r.emails)
	require.Equal(t, map[string]time.Duration{
		"welcome-call":             0,
		"technical-kickoff":        1 * day,  // Day 2
		"data-source-connection":   2 * day,  // Days 3-5
		"first-dashboard-training": 6 * day,  // Day 7
		"first-value-checkpoint":   29 * day, // Day 30
		"qbr-success-planning":     89 * day, // Day 90
	}, r.tasks)
	require.Equal(t, &contract.RecordRunFinishedInput{RunID: input.RunID, Status: "completed", Outcome: "completed"}, r.finished)

	var res workflows.RunResult
	require.NoError(t, r.env.GetWorkflowResult(&res))
	require.Equal(t, workflows.RunResult{Status: "completed", Outcome: "completed"}, res)
}

func TestProgressQueryShowsDoneCurrentUpcoming(t *testing.T) {
	r := newRecorder(t)
	var p workflows.Progress
	r.env.RegisterDelayedCallback(func() {
		v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&p))
	}, 3*day)
	r.env.ExecuteWorkflow(workflows.PlaybookRun, input)
	require.NoError(t, r.env.GetWorkflowError())

	var done []string
	for _, s := range p.Done {
		done = append(done, s.ID)
	}
	require.Equal(t, []string{"welcome-email", "welcome-call", "technical-kickoff", "data-source-connection"}, done)
	require.NotNil(t, p.Current)
	require.Equal(t, "first-dashboard-training", p.Current.ID)
	require.Equal(t, workflows.StepWaiting, p.Current.Status)
	require.Equal(t, r.start.Add(6*day).UTC(), p.Current.DueAt)
	require.Len(t, p.Upcoming, 2)
	require.Equal(t, "1 sent, 0 skipped, 0 failed", p.Done[0].Detail)
}

func TestCancelledRunIsRecordedCancelled(t *testing.T) {
	r := newRecorder(t)
	r.env.RegisterDelayedCallback(r.env.CancelWorkflow, 10*day)
	r.env.ExecuteWorkflow(workflows.PlaybookRun, input)
	require.Error(t, r.env.GetWorkflowError())
	require.NotNil(t, r.finished)
	require.Equal(t, "cancelled", r.finished.Status)
	require.NotContains(t, r.tasks, "first-value-checkpoint", "no step may run after cancel")
}

func TestBusinessFailureEndsRunFailed(t *testing.T) {
	r := newRecorder(t)
	r.emailErr = temporal.NewNonRetryableApplicationError("account gone", contract.ErrAccountNotFound, nil)
	r.env.ExecuteWorkflow(workflows.PlaybookRun, input)

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(r.env.GetWorkflowError(), &appErr))
	require.Equal(t, contract.ErrAccountNotFound, appErr.Type())
	require.Equal(t, "failed", r.finished.Status)
	require.Empty(t, r.tasks, "steps after a failed step must not run")
}

func TestUnknownPlaybookIsRefused(t *testing.T) {
	r := newRecorder(t)
	in := input
	in.PlaybookKey = "nope"
	r.env.ExecuteWorkflow(workflows.PlaybookRun, in)
	require.ErrorContains(t, r.env.GetWorkflowError(), `unknown playbook "nope"`)
}
