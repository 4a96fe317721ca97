package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
)

// Imports applies bulk imports' batches (imports.Service).
type Imports interface {
	ApplyBatch(ctx context.Context, in contract.ImportBatchInput, beat func()) (contract.ImportBatchResult, error)
	Fail(ctx context.Context, importID string) error
	StartPending(ctx context.Context) (int, error)
}

// ApplyImportBatch saves the rows of a batch not applied by an earlier
// attempt, heartbeating after each, and counts the batch once.
func (a *Activities) ApplyImportBatch(ctx context.Context, in contract.ImportBatchInput) (contract.ImportBatchResult, error) {
	if a.Imports == nil {
		return contract.ImportBatchResult{}, noImports
	}
	res, err := a.Imports.ApplyBatch(ctx, in, func() { activity.RecordHeartbeat(ctx) })
	return res, importError(err)
}

// FailImport marks an import failed.
func (a *Activities) FailImport(ctx context.Context, importID string) error {
	if a.Imports == nil {
		return noImports
	}
	return importError(a.Imports.Fail(ctx, importID))
}

var noImports = temporal.NewNonRetryableApplicationError("this worker has no import service", contract.ErrInvalidInput, nil)

func importError(err error) error {
	if errors.Is(err, contract.ErrNoSuchImport) {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, err)
	}
	return err
}
