package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/internal/temporaltest"
	"github.com/playbookd/playbookd/workflows"
)

// waitKinds are runs parked in each kind of wait the interpreter has, and
// when (in simulated time) they are surely in it. The approval times out
// after 48h (smb, level 1), so the cancels come before.
var waitKinds = []struct {
	name   string
	def    string
	capped time.Duration // the frequency cap's delay, for the cap wait
	at     time.Duration // when the run is cancelled
}{
	{name: "at", at: day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: later, at: 3d, task: {title: Later, assignee: csm}}`},
	{name: "after", at: day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: later, after: 3d, task: {title: Later, assignee: csm}}`},
	{name: "wait", at: day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: pause, wait: 3d}
  - {id: later, task: {title: Later, assignee: csm}}`},
	{name: "send window", at: time.Hour, def: `
key: k
name: K
send_window: {days: [sat], start: "09:00", end: "17:00"}
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: hello, email: {template: welcome, to: champion}}`},
	{name: "frequency cap", at: day, capped: 3 * day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: hello, email: {template: welcome, to: champion}}`},
	{name: "wait_for", at: day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: login, wait_for: {event: first_login}}`},
	{name: "wait_for within", at: day, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - id: login
    wait_for: {event: first_login, within: 3d}
    on_timeout: [{id: nudge, task: {title: Nudge, assignee: csm}}]`},
	{name: "approval", at: time.Hour, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: invite, approval: {assignee: csm, email: {template: qbr-invite, to: exec_sponsor}}}`},
	{name: "task outcome", at: day, def: `
key: k
name: K
steps:
  - {id: call, task: {title: Call, assignee: csm}}
  - {id: called, wait_for: {event: call_completed}}`},
	{name: "repeat", at: 36 * time.Hour, def: `
key: k
name: K
steps:
  - {id: first, task: {title: First, assignee: csm}}
  - {id: daily, repeat: {every: 1d, until: 5d, steps: [{id: check, task: {title: Check, assignee: csm}}]}}`},
}

// A run cancelled in any wait ends cancelled at once, closes its open
// tasks and approvals, and does nothing more.
func TestCancelInEveryWaitEndsTheRunCancelled(t *testing.T) {
	for _, tt := range waitKinds {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("smb"))
			r.capped = tt.capped
			r.at(tt.at, r.env.CancelWorkflow)
			r.run(parse(t, tt.def))
			require.Error(t, r.env.GetWorkflowError())
			require.NotNil(t, r.finished, "the end of the run is recorded")
			require.EqualValues(t, "cancelled", r.finished.Status)
			require.True(t, r.finished.CloseTasks)
			require.NotEmpty(t, r.effects, "the run was under way")
			for _, e := range r.effects {
				require.LessOrEqual(t, e.At, tt.at, "nothing happens after the cancel: %+v", e)
			}
		})
	}
}

// An exit rule that holds while the run waits ends it with the rule's
// outcome, in every kind of wait.
func TestExitRuleInEveryWaitEndsTheRun(t *testing.T) {
	for _, tt := range waitKinds {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("smb"))
			r.capped = tt.capped
			r.at(tt.at, func() {
				churned := r.account
				churned.Status = "churned"
				r.env.SignalWorkflow(workflows.AccountChangedSignal, churned)
			})
			r.run(parse(t, tt.def+"\nexit: [{when: {account_status: churned}, outcome: churned}]\n"))
			require.NoError(t, r.env.GetWorkflowError())
			require.Equal(t, "churned", r.finished.Outcome)
			require.True(t, r.finished.CloseTasks)
			for _, e := range r.effects {
				require.LessOrEqual(t, e.At, tt.at, "nothing happens after the exit: %+v", e)
			}
		})
	}
}

// finishRecorder stubs every activity for runs on a real server and keeps
// how each run was recorded as finished.
type finishRecorder struct {
	mu       sync.Mutex
	finished map[string]contract.RecordRunFinishedInput // by run id
}

func (f *finishRecorder) register(w, emailWorker worker.Worker, acct accounts.Snapshot) {
	reg := func(w worker.Worker, name string, fn any) {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	reg(w, contract.BeginRun, func(context.Context, contract.BeginRunInput) (accounts.Snapshot, error) { return acct, nil })
	reg(w, contract.RecordRunStatus, func(context.Context, contract.RecordRunStatusInput) error { return nil })
	reg(w, contract.RecordRunFinished, func(_ context.Context, in contract.RecordRunFinishedInput) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.finished[in.RunID] = in
		return nil
	})
	reg(w, contract.CreateTask, func(_ context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
		return contract.CreateTaskResult{TaskID: "t-" + in.StepID, Assignee: "csm@cs.example"}, nil
	})
	reg(w, contract.CreateApproval, func(_ context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
		return contract.CreateApprovalResult{ApprovalID: "a-" + in.StepID, Assignee: "csm@cs.example"}, nil
	})
	// Every email is held by the frequency cap for three days.
	reg(emailWorker, contract.SendEmail, func(context.Context, contract.SendEmailInput) (contract.SendEmailResult, error) {
		until := time.Now().Add(3 * day).UTC()
		return contract.SendEmailResult{DeferUntil: &until}, nil
	})
}

func (f *finishRecorder) get(runID string) (contract.RecordRunFinishedInput, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.finished[runID]
	return in, ok
}

// parked says whether a run is blocked in its wait: a current step waiting
// or awaiting, or (between repeat iterations, where no step is current) the
// first iteration done.
func parked(p workflows.Progress) bool {
	if p.Current != nil {
		return p.Current.Status == workflows.StepWaiting || p.Current.Status == workflows.StepAwaiting
	}
	for _, d := range p.Done {
		if strings.HasPrefix(d.ID, "check#") {
			return true
		}
	}
	return false
}

// On a real server a cancelled timer settles at once, which the test
// environment does not reproduce: a run cancelled (or ended by an exit rule)
// in a timer wait once spun until the worker reported a deadlock, and never
// ended.
func TestCancelAndExitInEveryWaitOnARealServer(t *testing.T) {
	srv := temporaltest.StartDevServer(t)
	c := srv.Client()
	const queue = "cancels"
	w := worker.New(c, queue, worker.Options{})
	emailWorker := worker.New(c, workflows.EmailTaskQueue(queue), worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	rec := &finishRecorder{finished: map[string]contract.RecordRunFinishedInput{}}
	acct := account("smb")
	rec.register(w, emailWorker, acct)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	require.NoError(t, emailWorker.Start())
	t.Cleanup(emailWorker.Stop)

	churned := acct
	churned.Status = "churned"
	enders := []struct {
		name    string
		end     func(ctx context.Context, run client.WorkflowRun) error
		outcome string
	}{
		{"cancel", func(ctx context.Context, run client.WorkflowRun) error {
			return c.CancelWorkflow(ctx, run.GetID(), run.GetRunID())
		}, "cancelled"},
		{"exit rule", func(ctx context.Context, run client.WorkflowRun) error {
			return c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.AccountChangedSignal, churned)
		}, "churned"},
	}
	// A send window open only three days from now, whatever today is.
	closedDay := strings.ToLower(time.Now().UTC().Add(3 * day).Weekday().String()[:3])
	n := 0
	for _, ender := range enders {
		for _, tt := range waitKinds {
			n++
			runID := fmt.Sprintf("00000000-0000-0000-0000-%012d", n)
			t.Run(ender.name+" in "+tt.name, func(t *testing.T) {
				t.Parallel()
				src := strings.Replace(tt.def, "days: [sat]", "days: ["+closedDay+"]", 1) +
					"\nexit: [{when: {account_status: churned}, outcome: churned}]\n"
				def := parse(t, src)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ender-" + runID, TaskQueue: queue},
					workflows.PlaybookRunName, workflows.RunInput{RunID: runID, AccountID: acct.ID, PlaybookKey: def.Key,
						PlaybookVersion: 1, Definition: *def})
				require.NoError(t, err)
				require.Eventually(t, func() bool {
					v, err := c.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.ProgressQuery)
					var p workflows.Progress
					return err == nil && v.Get(&p) == nil && parked(p)
				}, 20*time.Second, 50*time.Millisecond, "the run reaches its wait")

				require.NoError(t, ender.end(ctx, run))
				waitCtx, stop := context.WithTimeout(ctx, 15*time.Second)
				defer stop()
				var res workflows.RunResult
				err = run.Get(waitCtx, &res)
				if ender.outcome == "cancelled" {
					var cancelled *temporal.CanceledError
					require.ErrorAs(t, err, &cancelled, "the run ends cancelled")
				} else {
					require.NoError(t, err, "the run ends")
					require.Equal(t, ender.outcome, res.Outcome)
				}
				finished, ok := rec.get(runID)
				require.True(t, ok, "the end of the run is recorded")
				require.Equal(t, ender.outcome, finished.Outcome)
				require.True(t, finished.CloseTasks, "its open tasks and approvals are closed")
			})
		}
	}
}
