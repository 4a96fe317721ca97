package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
)

// The trigger sweep: a Temporal Schedule starts TriggerSweep, which records
// renewal windows reached and schedule occasions due and starts the runs of
// pending firings. Both are idempotent, so a sweep that overlaps, repeats or
// catches up is harmless.
const (
	TriggerSweepName       = "TriggerSweep"
	TriggerSweepScheduleID = "playbookd-trigger-sweep"
)

// TriggerSweepWorkflowID names the workflows the schedule starts.
func TriggerSweepWorkflowID() string { return "trigger-sweep" }

// TriggerSweep runs one sweep.
func TriggerSweep(ctx workflow.Context) (contract.SweepResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, MaximumInterval: 5 * time.Minute},
	})
	var res contract.SweepResult
	err := workflow.ExecuteActivity(ctx, contract.SweepTriggers).Get(ctx, &res)
	return res, err
}
