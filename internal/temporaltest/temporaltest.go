// Package temporaltest starts a real Temporal dev server for tests, from the
// CLI binary the test command builds (TEMPORAL_CLI_PATH), or gives a test a
// namespace of its own on a running server (ServerAddressEnv).
package temporaltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/protobuf/types/known/durationpb"

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

// ServerAddressEnv names a running Temporal server (host:port) that Start
// uses instead of a dev server: scripts/cluster.sh's real server on
// PostgreSQL is 127.0.0.1:7333. Plaintext only.
const ServerAddressEnv = "PLAYBOOKD_TEST_TEMPORAL_ADDRESS"

// Server is where a test's Temporal clients and processes connect.
type Server struct {
	HostPort, Namespace string
}

// Start gives the test a Temporal server: a fresh namespace on the server
// ServerAddressEnv names (workflow and schedule ids are fixed by the product,
// so tests sharing a server must not share a namespace), or else a dev server
// of its own with the namespace default.
func Start(t testing.TB) Server {
	t.Helper()
	addr := os.Getenv(ServerAddressEnv)
	if addr == "" {
		return Server{HostPort: StartDevServer(t).FrontendHostPort(), Namespace: "default"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	namespaces, err := client.NewNamespaceClient(client.Options{HostPort: addr})
	if err != nil {
		t.Fatalf("Temporal at %s (%s): %v", addr, ServerAddressEnv, err)
	}
	defer namespaces.Close()
	name := fmt.Sprintf("test-%d", time.Now().UnixNano())
	if err := namespaces.Register(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: name, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	}); err != nil {
		t.Fatalf("register namespace %s on %s: %v", name, addr, err)
	}
	// The frontend learns of a new namespace when it refreshes its cache
	// (every 10 s by default); until then calls in it fail.
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: name})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	for {
		_, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: name, PageSize: 1})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("namespace %s never became usable on %s: %v", name, addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Cleanup(func() {
		// Best effort: the server deletes the namespace's runs in the background.
		c, err := client.Dial(client.Options{HostPort: addr})
		if err == nil {
			defer c.Close()
			_, err = c.OperatorService().DeleteNamespace(context.Background(), &operatorservice.DeleteNamespaceRequest{Namespace: name})
		}
		if err != nil {
			t.Logf("delete namespace %s: %v", name, err)
		}
	})
	return Server{HostPort: addr, Namespace: name}
}
