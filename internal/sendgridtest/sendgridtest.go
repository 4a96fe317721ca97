// Package sendgridtest starts Stoplight Prism serving SendGrid's official
// Mail Send spec (spec/tsg_mail_v3.json, a copy of shared/sendgrid's) as a
// validating mock: a request that does not match the spec gets a 4xx.
package sendgridtest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/playbookd/playbookd/store/storetest"
)

// PrismPathEnv names the prism binary; the test command installs it.
const PrismPathEnv = "PRISM_PATH"

// Start runs Prism on a free port until the test ends and returns its URL.
func Start(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(PrismPathEnv)
	_, file, _, _ := runtime.Caller(0)
	spec := filepath.Join(filepath.Dir(file), "spec", "tsg_mail_v3.json")
	if bin == "" {
		storetest.Unavailable(t, "%s not set (make test installs @stoplight/prism-cli)", PrismPathEnv)
	}
	if _, err := os.Stat(spec); err != nil {
		storetest.Unavailable(t, "SendGrid spec not found at %s: %v", spec, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "mock", "--errors", "-h", "127.0.0.1", "-p", fmt.Sprint(port), spec)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prism: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.Contains(s.Text(), "Prism is listening") {
				close(ready)
				break
			}
		}
		for s.Scan() { // keep draining so prism never blocks on its output
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("prism did not start within 60s")
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}
