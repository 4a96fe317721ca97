package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
)

// AccountImportName is the registered name of AccountImport.
const AccountImportName = "AccountImport"

// AccountImportWorkflowID derives an import's workflow ID from its id, so a
// repeated start (the sweep, a second replica) is the same workflow.
func AccountImportWorkflowID(importID string) string { return "account-import/" + importID }

// AccountImportInput names an import whose rows are stored in PostgreSQL:
// the history carries batch numbers, never rows.
type AccountImportInput struct {
	ImportID  string
	Rows      int
	BatchSize int
	Next      int // the next batch: set when the import continues as new
}

// importBatchesPerRun bounds a history: a batch is six events, so a run
// stays under a thousand however large the import.
const importBatchesPerRun = 100

// importActivityOptions: a batch heartbeats after each row, so one cut short
// by a dying worker is retried within the heartbeat timeout; infrastructure
// errors (PostgreSQL down) retry until they pass.
var importActivityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    20 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: contract.NonRetryable,
	},
}

// AccountImport saves an import's rows batch by batch, in order. Each batch
// is idempotent (a row is marked applied in the transaction that saves it,
// and a batch is counted once), so a retried batch applies only what is
// left. The batch that reaches the total marks the import done; an import
// that cannot go on is marked failed.
func AccountImport(ctx workflow.Context, in AccountImportInput) error {
	if in.BatchSize <= 0 {
		return temporal.NewNonRetryableApplicationError("the batch size must be positive", contract.ErrInvalidInput, nil)
	}
	batches := (in.Rows + in.BatchSize - 1) / in.BatchSize
	actx := workflow.WithActivityOptions(ctx, importActivityOptions)
	for done := 0; in.Next < batches; done++ {
		if done == importBatchesPerRun || (done > 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
			return workflow.NewContinueAsNewError(ctx, AccountImportName, in)
		}
		batch := contract.ImportBatchInput{ImportID: in.ImportID, Batch: in.Next, BatchSize: in.BatchSize}
		if err := workflow.ExecuteActivity(actx, contract.ApplyImportBatch, batch).Get(actx, nil); err != nil {
			failImport(ctx, in.ImportID)
			return err
		}
		in.Next++
	}
	return nil
}

// failImport marks the import failed, even when the workflow was cancelled.
func failImport(ctx workflow.Context, importID string) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	if err := workflow.ExecuteActivity(ctx, contract.FailImport, importID).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("import not marked failed", "import_id", importID, "error", err)
	}
}
