// Package worker wires workflows and activities into a Temporal worker.
package worker

import (
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

// New builds a worker polling taskQueue with every workflow and activity.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{WorkerStopTimeout: stopTimeout})
	w.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	acts.Register(w)
	return w
}
