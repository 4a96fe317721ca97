package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/workflows"
)

// importRun runs AccountImport in simulated time with its activities mocked:
// batchErr says what an attempt at a batch fails with (nil: it succeeds).
type importRun struct {
	env      *testsuite.TestWorkflowEnvironment
	attempts []int // batch numbers, in the order they were tried
	failed   []string
}

func newImportRun(t *testing.T, batchErr func(batch, attempt int) error) *importRun {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(quietLogger)
	r := &importRun{env: suite.NewTestWorkflowEnvironment()}
	r.env.SetTestTimeout(time.Minute) // the default 3 s is too short under -race on a loaded machine
	r.env.RegisterWorkflowWithOptions(workflows.AccountImport, workflow.RegisterOptions{Name: workflows.AccountImportName})
	(&activities.Activities{}).Register(r.env)
	tries := map[int]int{}
	r.env.OnActivity(contract.ApplyImportBatch, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.ImportBatchInput) (contract.ImportBatchResult, error) {
			require.Equal(t, "imp-1", in.ImportID)
			require.Equal(t, 250, in.BatchSize)
			r.attempts = append(r.attempts, in.Batch)
			tries[in.Batch]++
			if batchErr != nil {
				if err := batchErr(in.Batch, tries[in.Batch]); err != nil {
					return contract.ImportBatchResult{}, err
				}
			}
			return contract.ImportBatchResult{Applied: in.BatchSize}, nil
		})
	r.env.OnActivity(contract.FailImport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, id string) error { r.failed = append(r.failed, id); return nil })
	return r
}

func (r *importRun) run(in workflows.AccountImportInput) error {
	r.env.ExecuteWorkflow(workflows.AccountImportName, in)
	return r.env.GetWorkflowError()
}

func batchRange(from, to int) []int {
	var out []int
	for b := from; b < to; b++ {
		out = append(out, b)
	}
	return out
}

func TestAccountImportRunsEachBatchInOrder(t *testing.T) {
	for _, tt := range []struct {
		rows    int
		batches int
	}{
		{1, 1}, {250, 1}, {251, 2}, {1000, 4}, {5000, 20},
	} {
		r := newImportRun(t, nil)
		require.NoError(t, r.run(workflows.AccountImportInput{ImportID: "imp-1", Rows: tt.rows, BatchSize: 250}), "%d rows", tt.rows)
		require.Equal(t, batchRange(0, tt.batches), r.attempts, "%d rows", tt.rows)
		require.Empty(t, r.failed)
	}
}

// A batch that fails (a worker died, PostgreSQL restarted) is tried again,
// after a backoff in simulated time, with the same input: the activity
// applies only what the earlier attempt did not. No later batch runs first.
func TestAccountImportRetriesAFailedBatch(t *testing.T) {
	r := newImportRun(t, func(batch, attempt int) error {
		if batch == 2 && attempt <= 2 {
			return errors.New("connection reset by peer")
		}
		return nil
	})
	start := r.env.Now()
	require.NoError(t, r.run(workflows.AccountImportInput{ImportID: "imp-1", Rows: 1200, BatchSize: 250}))
	require.Equal(t, []int{0, 1, 2, 2, 2, 3, 4}, r.attempts)
	require.GreaterOrEqual(t, r.env.Now().Sub(start), 3*time.Second, "backoff of 1 s then 2 s")
	require.Empty(t, r.failed)
}

// A batch that cannot succeed ends the import as failed; later batches do
// not run.
func TestAccountImportFailsOnANonRetryableError(t *testing.T) {
	r := newImportRun(t, func(batch, _ int) error {
		if batch == 1 {
			return temporal.NewNonRetryableApplicationError("no such import", contract.ErrInvalidInput, nil)
		}
		return nil
	})
	err := r.run(workflows.AccountImportInput{ImportID: "imp-1", Rows: 1000, BatchSize: 250})
	require.Error(t, err)
	require.Equal(t, []int{0, 1}, r.attempts)
	require.Equal(t, []string{"imp-1"}, r.failed)
}

// A large import continues as new every hundred batches, carrying only the
// next batch number: its histories stay small.
func TestAccountImportContinuesAsNew(t *testing.T) {
	in := workflows.AccountImportInput{ImportID: "imp-1", Rows: 50_000, BatchSize: 250}
	var attempts []int
	for run := 0; ; run++ {
		require.Less(t, run, 3, "200 batches take two runs")
		r := newImportRun(t, nil)
		err := r.run(in)
		attempts = append(attempts, r.attempts...)
		var next *workflow.ContinueAsNewError
		if !errors.As(err, &next) {
			require.NoError(t, err)
			break
		}
		require.Len(t, r.attempts, 100)
		require.Equal(t, workflows.AccountImportName, next.WorkflowType.Name)
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(next.Input, &in))
		require.Equal(t, workflows.AccountImportInput{ImportID: "imp-1", Rows: 50_000, BatchSize: 250, Next: 100 * (run + 1)}, in)
	}
	require.Equal(t, batchRange(0, 200), attempts)
}
