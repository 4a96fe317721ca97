// Package temporaltest starts a real Temporal dev server for tests, from the
// CLI binary the test command builds (TEMPORAL_CLI_PATH).
package temporaltest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/store/storetest"
)

// CLIPathEnv names the Temporal CLI binary; bin/temporal in the repo otherwise.
const CLIPathEnv = "TEMPORAL_CLI_PATH"

// StartDevServer starts an in-memory dev server on a free port and stops it
// when the test ends. Without the CLI the test is skipped, or failed when
// storetest.RequireEnv is set.
func StartDevServer(t testing.TB) *testsuite.DevServer {
	t.Helper()
	path := os.Getenv(CLIPathEnv)
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(file), "..", "..", "bin", "temporal")
	}
	if _, err := os.Stat(path); err != nil {
		storetest.Unavailable(t, "Temporal CLI not found at %s (set %s or run make test): %v", path, CLIPathEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  path,
		ClientOptions: &client.Options{Namespace: "default"},
		LogLevel:      "error",
	})
	if err != nil {
		t.Fatalf("start Temporal dev server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Logf("stop Temporal dev server: %v", err)
		}
	})
	return srv
}
