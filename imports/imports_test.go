package imports_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/imports"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/triggers"
	"github.com/playbookd/playbookd/workflows"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// noRuns: the imported accounts are past onboarding, so nothing starts.
type noRuns struct{}

func (noRuns) Start(context.Context, runs.StartInput) (store.Run, error) {
	return store.Run{}, errors.New("no run expected")
}
func (noRuns) AccountChanged(context.Context, string) (int, error) { return 0, nil }
func (noRuns) DeliverEvent(context.Context, string, string, map[string]any, []store.NewFiring) (int, error) {
	return 0, nil
}

// fakeTemporal records the workflows started; down makes starts fail.
type fakeTemporal struct {
	mu      sync.Mutex
	down    bool
	started map[string]workflows.AccountImportInput
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	if _, ok := f.started[o.ID]; ok {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("workflow execution already started", "", "")
	}
	f.started[o.ID] = args[0].(workflows.AccountImportInput)
	return nil, nil
}

// crashing fails once at a chosen point, after the real call did its work:
// what a worker killed between a commit and the activity's answer leaves.
type crashing struct {
	imports.Store
	saver      imports.Saver
	mu         sync.Mutex
	saves      int
	crashSave  int // the save that fails after it committed
	crashBatch int // the batch whose counting fails after it committed
	counted    map[int]bool
}

func (c *crashing) SaveAccount(ctx context.Context, in store.UpsertAccount) (triggers.SavedAccount, error) {
	saved, err := c.saver.SaveAccount(ctx, in)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saves++
	if c.saves == c.crashSave {
		return saved, errors.New("worker killed after the commit")
	}
	return saved, err
}

func (c *crashing) CountImportBatch(ctx context.Context, id uuid.UUID, batch, first, last int) error {
	err := c.Store.CountImportBatch(ctx, id, batch, first, last)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && batch == c.crashBatch && !c.counted[batch] {
		c.counted[batch] = true
		return errors.New("worker killed after counting")
	}
	return err
}

type fixture struct {
	pool     *pgxpool.Pool
	st       *store.Store
	temporal *fakeTemporal
	svc      *imports.Service
	crash    *crashing
}

func newFixture(t testing.TB) *fixture {
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	saver := &triggers.Service{Store: st, Runs: noRuns{}, Model: health.Presets[health.DefaultModel], Now: time.Now, Log: quiet}
	f := &fixture{pool: pool, st: st, temporal: &fakeTemporal{started: map[string]workflows.AccountImportInput{}}}
	f.crash = &crashing{Store: st, saver: saver, crashBatch: -1, counted: map[int]bool{}}
	f.svc = &imports.Service{Store: f.crash, Triggers: f.crash, Temporal: f.temporal, TaskQueue: "q", Log: quiet}
	return f
}

func account(id, csm string) store.UpsertAccount {
	return store.UpsertAccount{ID: id, Name: "Account " + id, ARR: 1000, Segment: "smb", CSMEmail: csm, Timezone: "UTC",
		LifecycleStage: "adoption", Status: "active", Contacts: []store.UpsertContact{{Email: "c@" + id + ".test", Role: "champion"}}}
}

// runWorkflow runs the started import's workflow with the real activities,
// in the SDK's test environment, following continue-as-new.
func (f *fixture) runWorkflow(t *testing.T, id uuid.UUID) {
	in, ok := f.temporal.started[workflows.AccountImportWorkflowID(id.String())]
	require.True(t, ok, "the import's workflow was started")
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(quiet))
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute) // a batch takes seconds with -race
	env.RegisterWorkflowWithOptions(workflows.AccountImport, workflow.RegisterOptions{Name: workflows.AccountImportName})
	(&activities.Activities{Imports: f.svc, Log: quiet}).Register(env)
	env.ExecuteWorkflow(workflows.AccountImportName, in)
	require.NoError(t, env.GetWorkflowError())
}

func (f *fixture) count(t testing.TB, sql string, args ...any) int {
	var n int
	require.NoError(t, f.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// Rows are saved once each even when a batch is cut short after a row's
// commit, and when a batch is retried after it was counted: the row is
// marked applied in the transaction that saves it, and a batch is counted
// once. The history carries batch numbers; the rows stay in PostgreSQL
// until the import is done.
func TestImportAppliesEveryRowOnceThroughRetries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	_, _, err := f.st.UpsertAccount(ctx, account("acct-0003", "casey@cs.test")) // imported again: an update
	require.NoError(t, err)
	const n = 600 // three batches
	rows := make([]imports.Row, n)
	for i := range rows {
		id := fmt.Sprintf("acct-%04d", i+1)
		rows[i] = imports.Row{Row: i + 1, ID: id, Account: account(id, "casey@cs.test")}
	}
	rows[9] = imports.Row{Row: 10, ID: "bad\x00id", Errors: []imports.FieldError{{Field: "id", Message: "invalid"}}}
	rows[19].Account.CSMEmail = "nobody@cs.test"
	rows[29] = imports.Row{Row: 30, ID: "acct-0001", Account: account("acct-0001", "casey@cs.test")} // twice in the file
	f.crash.crashSave = 300                                                                          // in the second batch
	f.crash.crashBatch = 1

	started, err := f.svc.Start(ctx, "json", rows)
	require.NoError(t, err)
	require.Empty(t, started.Warning)
	require.Equal(t, n, started.Total)
	require.Equal(t, store.ImportRunning, started.Status)
	require.Equal(t, workflows.AccountImportInput{ImportID: started.ID.String(), Rows: n, BatchSize: imports.BatchSize},
		f.temporal.started[workflows.AccountImportWorkflowID(started.ID.String())])
	require.Equal(t, n, f.count(t, `SELECT count(*) FROM import_rows WHERE import_id = $1`, started.ID), "stored before the answer")

	f.runWorkflow(t, started.ID)
	im, err := f.svc.Get(ctx, started.ID)
	require.NoError(t, err)
	require.Equal(t, store.ImportDone, im.Status)
	require.NotNil(t, im.FinishedAt)
	require.Equal(t, n, im.Processed)
	require.Equal(t, 3, im.Refused)
	require.Equal(t, 1, im.Updated)
	require.Equal(t, n-3-1, im.Created)
	require.JSONEq(t, `[
		{"row":10,"id":"bad\ufffdid","errors":[{"field":"id","message":"invalid"}]},
		{"row":20,"id":"acct-0020","errors":[{"field":"csm_email","message":"no team member has this email; add them with POST /v1/team"}]},
		{"row":30,"id":"acct-0001","errors":[{"field":"id","message":"also on row 1; each account once per import"}]}]`, string(im.Errors))

	require.Equal(t, n-2, f.crash.saves, "each row to save saved once, the one cut short included")
	require.Equal(t, n-3, f.count(t, `SELECT count(*) FROM events WHERE type = 'account_created'`), "acct-0003's before, and each import's once")
	require.Equal(t, 1, f.count(t, `SELECT count(*) FROM events WHERE type = 'account_updated'`), "acct-0003, once")
	require.Equal(t, n-3, f.count(t, `SELECT count(*) FROM accounts`))
	require.Zero(t, f.count(t, `SELECT count(*) FROM import_rows`), "a finished import's rows are deleted")
}

// An import recorded while Temporal is unreachable answers with a warning
// and is started by the sweep (or the next import); starting it again
// starts nothing twice.
func TestImportRecordedWhileTemporalIsDownStartsLater(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.temporal.down = true
	first, err := f.svc.Start(ctx, "csv", []imports.Row{{Row: 1, ID: "a", Account: account("a", "casey@cs.test")}})
	require.NoError(t, err)
	require.Contains(t, first.Warning, "connection refused")
	require.Empty(t, f.temporal.started)

	f.temporal.down = false
	n, err := f.svc.StartPending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = f.svc.StartPending(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "started once")
	f.runWorkflow(t, first.ID)
	im, err := f.svc.Get(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, store.ImportDone, im.Status)
	require.Equal(t, 1, im.Created)

	// A start that finds the workflow started (by another replica) counts
	// as started.
	f.temporal.down = true
	second, err := f.svc.Start(ctx, "json", []imports.Row{{Row: 1, ID: "b", Account: account("b", "casey@cs.test")}})
	require.NoError(t, err)
	require.NotEmpty(t, second.Warning)
	f.temporal.down = false
	f.temporal.started[workflows.AccountImportWorkflowID(second.ID.String())] = workflows.AccountImportInput{}
	third, err := f.svc.Start(ctx, "json", []imports.Row{{Row: 1, ID: "c", Account: account("c", "casey@cs.test")}})
	require.NoError(t, err)
	require.Empty(t, third.Warning)
	require.Zero(t, f.count(t, `SELECT count(*) FROM account_imports WHERE started_at IS NULL`), "the next import started the earlier one")
}

func TestImportRefusesEmptyAndOversizedFiles(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		rows int
		err  error
	}{
		{0, imports.ErrNoRows},
		{imports.MaxRows + 1, imports.ErrTooManyRows},
	} {
		_, err := f.svc.Start(context.Background(), "json", make([]imports.Row, tt.rows))
		require.ErrorIs(t, err, tt.err)
	}
	require.Zero(t, f.count(t, `SELECT count(*) FROM account_imports`))
}

// A workflow that fails leaves the import failed, with what it applied.
func TestFailedImportIsFailed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	started, err := f.svc.Start(ctx, "json", []imports.Row{{Row: 1, ID: "a", Account: account("a", "casey@cs.test")}})
	require.NoError(t, err)
	require.NoError(t, f.svc.Fail(ctx, started.ID.String()))
	im, err := f.svc.Get(ctx, started.ID)
	require.NoError(t, err)
	require.Equal(t, store.ImportFailed, im.Status)
	require.NotNil(t, im.FinishedAt)
	require.Zero(t, f.count(t, `SELECT count(*) FROM import_rows`))
}

// BenchmarkApplyBatch saves batches of new accounts, as the workflow's
// activity does: go test -run '^$' -bench ApplyBatch ./imports
func BenchmarkApplyBatch(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b)
	rows := make([]imports.Row, b.N*imports.BatchSize)
	for i := range rows {
		id := fmt.Sprintf("acct-%06d", i+1)
		rows[i] = imports.Row{Row: i + 1, ID: id, Account: account(id, "casey@cs.test")}
	}
	started, err := f.svc.Start(ctx, "json", rows)
	require.NoError(b, err)
	b.ResetTimer()
	for i := range b.N {
		_, err := f.svc.ApplyBatch(ctx, contract.ImportBatchInput{ImportID: started.ID.String(), Batch: i, BatchSize: imports.BatchSize}, func() {})
		require.NoError(b, err)
	}
	b.ReportMetric(float64(len(rows))/b.Elapsed().Seconds(), "rows/s")
}
