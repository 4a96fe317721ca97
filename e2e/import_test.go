package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	temporalclient "go.temporal.io/sdk/client"

	"github.com/playbookd/playbookd/internal/temporaltest"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/workflows"
)

// proc is a playbookd subcommand running in the background.
type proc struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

func startProc(t *testing.T, bin string, env []string, sub string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, sub), logs: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = env, p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("playbookd %s log:\n%s", sub, p.logs.String())
		}
	})
	return p
}

// kill9 kills the process without warning and waits until it is gone.
func (p *proc) kill9(t *testing.T) {
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.exited //nolint:errcheck // "signal: killed", as asked
}

// An import runs as a workflow: the API that took it can die at once, and
// the worker killed in the middle of a batch resumes where it was cut off.
// Every row is applied exactly once and the import ends done.
func TestImportSurvivesKilledAPIAndWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ctx := context.Background()
	dbURL := storetest.NewEmptyDatabase(t)
	temporal := temporaltest.StartDevServer(t)
	bin := filepath.Join(t.TempDir(), "playbookd")
	build := exec.Command("go", "build", "-o", bin, "../cmd/playbookd")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run(), "build playbookd")
	addr := freeAddr(t)
	env := append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TASK_QUEUE=e2e-import-"+fmt.Sprint(time.Now().UnixNano()),
		"HTTP_ADDR="+addr,
		"METRICS_ADDR="+freeAddr(t),
		"PLAYBOOKD_ADMIN_KEY="+adminKey,
		"PLAYBOOKD_SIGNING_KEY=e2e-signing-key-of-at-least-32-chars",
		"LOG_LEVEL=info",
	)
	migrate := exec.Command(bin, "migrate")
	migrate.Env, migrate.Stderr = env, os.Stderr
	require.NoError(t, migrate.Run())
	db, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	count := func(sql string, args ...any) int {
		var n int
		require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}

	api := startProc(t, bin, env, "api")
	worker := startProc(t, bin, env, "worker")
	c := client{t: t, base: "http://" + addr}
	waitReady(t, c.base, api.exited)
	status, _ := c.call("POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey CSM","level":"csm"}`)
	require.Equal(t, 201, status)

	// Every 100th account is created in onboarding: its trigger starts one
	// onboarding run, whatever happens to the processes.
	const n, onboarded = 3000, 30
	rows := make([]string, n)
	for i := range rows {
		stage := "adoption"
		if i%100 == 0 {
			stage = "onboarding"
		}
		rows[i] = fmt.Sprintf(`{"id":"imp-%04d","name":"Imported %d","arr":%d,"csm_email":"casey@cs.test","timezone":"UTC",
			"lifecycle_stage":%q,"contacts":[{"email":"champion@imp-%04d.test","role":"champion"}]}`, i, i, 1000+i, stage, i)
	}
	started := time.Now()
	status, im := c.call("POST", "/v1/accounts/import", "["+strings.Join(rows, ",")+"]")
	require.Equal(t, 202, status, im)
	id := im["id"].(string)

	// The API dies as soon as it has answered: the rows are stored and the
	// workflow started, so the worker goes on without it.
	api.kill9(t)
	progress := func() (processed, applied int) {
		return count(`SELECT processed FROM account_imports WHERE id = $1`, id),
			count(`SELECT count(*) FROM import_rows WHERE import_id = $1 AND outcome IS NOT NULL`, id)
	}
	deadline := time.Now().Add(time.Minute)
	// Wait for a batch counted and the next one half applied.
	for processed, applied := progress(); processed < 250 || applied < processed+100; processed, applied = progress() {
		require.True(t, time.Now().Before(deadline), "the import does not advance without the API")
		select {
		case err := <-worker.exited:
			t.Fatalf("the worker exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Then the worker dies in the middle of a batch.
	worker.kill9(t)
	processed, applied := progress()
	t.Logf("worker killed after %d rows counted, %d applied", processed, applied)
	require.Less(t, processed, applied, "killed in the middle of a batch")
	require.Less(t, applied, n, "killed before the end")

	api = startProc(t, bin, env, "api")
	waitReady(t, c.base, api.exited)
	status, im = c.call("GET", "/v1/accounts/imports/"+id, "")
	require.Equal(t, 200, status, im)
	require.Equal(t, "running", im["status"], "no worker: the import waits")
	startProc(t, bin, env, "worker") // stopped with the test

	deadline = time.Now().Add(2 * time.Minute)
	for im["status"] == "running" {
		require.True(t, time.Now().Before(deadline), "import still running: %v", im)
		time.Sleep(200 * time.Millisecond)
		_, im = c.call("GET", "/v1/accounts/imports/"+id, "")
	}
	t.Logf("%d rows imported in %s, through two kills", n, time.Since(started).Round(time.Millisecond))
	require.Equal(t, "done", im["status"], im)
	require.EqualValues(t, n, im["processed"])
	require.EqualValues(t, n, im["created"])
	require.EqualValues(t, 0, im["updated"])
	require.EqualValues(t, 0, im["refused"])
	require.Empty(t, im["errors"])
	require.Equal(t, n, count(`SELECT count(*) FROM accounts`))
	require.Equal(t, n, count(`SELECT count(*) FROM events WHERE type = 'account_created'`), "each row applied once")
	require.Zero(t, count(`SELECT count(*) FROM events WHERE type = 'account_updated'`), "no row applied twice")
	require.Equal(t, n, count(`SELECT count(*) FROM contacts`))
	require.Zero(t, count(`SELECT count(*) FROM import_rows`), "a finished import's rows are deleted")
	require.Equal(t, onboarded, count(`SELECT count(*) FROM trigger_firings WHERE playbook_key = 'onboarding'`))

	// A row whose save committed just before the kill may have left its
	// firing pending: the trigger sweep starts it. One run per account.
	tc, err := temporalclient.Dial(temporalclient.Options{HostPort: temporal.FrontendHostPort(), Namespace: "default"})
	require.NoError(t, err)
	defer tc.Close()
	require.NoError(t, tc.ScheduleClient().GetHandle(ctx, workflows.TriggerSweepScheduleID).Trigger(ctx, temporalclient.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM trigger_firings WHERE status = 'pending'`) == 0
	}, 30*time.Second, 200*time.Millisecond)
	require.Equal(t, onboarded, count(`SELECT count(DISTINCT account_id) FROM runs WHERE playbook_key = 'onboarding'`))
	require.Equal(t, onboarded, count(`SELECT count(*) FROM runs WHERE playbook_key = 'onboarding'`))
}
