// Package worker wires workflows and activities into Temporal workers.
package worker

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/workflows"
)

// stopTimeout is how long a stopping worker lets running activities finish
// before it gives up on them (Temporal then retries them elsewhere).
const stopTimeout = 20 * time.Second

// Options tunes the workers.
type Options struct {
	TaskQueue string
	// EmailsPerSecond limits email sends across all workers (the email task
	// queue's rate limit, enforced by Temporal); 0: unlimited.
	EmailsPerSecond float64
	// WorkflowCacheSize bounds the runs kept in memory between workflow
	// tasks (the SDK's sticky cache, process-wide; default 10,000). A run
	// that is not cached is replayed from its history when it next has work.
	WorkflowCacheSize int
}

// Workers are the run worker and the email worker.
type Workers struct {
	run, email sdkworker.Worker
}

// New builds a worker polling the task queue with every workflow and
// activity, and one polling the email task queue with the email activity.
func New(c client.Client, opts Options, acts *activities.Activities) *Workers {
	if opts.WorkflowCacheSize > 0 {
		sdkworker.SetStickyWorkflowCacheSize(opts.WorkflowCacheSize)
	}
	run := sdkworker.New(c, opts.TaskQueue, sdkworker.Options{WorkerStopTimeout: stopTimeout})
	run.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	run.RegisterWorkflowWithOptions(workflows.TriggerSweep, workflow.RegisterOptions{Name: workflows.TriggerSweepName})
	run.RegisterWorkflowWithOptions(workflows.AccountImport, workflow.RegisterOptions{Name: workflows.AccountImportName})
	acts.Register(run)
	email := sdkworker.New(c, workflows.EmailTaskQueue(opts.TaskQueue), sdkworker.Options{
		WorkerStopTimeout: stopTimeout, TaskQueueActivitiesPerSecond: opts.EmailsPerSecond,
	})
	acts.RegisterEmail(email)
	return &Workers{run: run, email: email}
}

// Start starts both workers.
func (w *Workers) Start() error {
	if err := w.run.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := w.email.Start(); err != nil {
		w.run.Stop()
		return fmt.Errorf("start email worker: %w", err)
	}
	return nil
}

// Stop drains both: running activities get stopTimeout to finish.
func (w *Workers) Stop() {
	w.email.Stop()
	w.run.Stop()
}
