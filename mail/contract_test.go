package mail

import (
	"bufio"
	"context"
	"errors"
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

// prism starts Stoplight Prism serving SendGrid's official Mail Send spec
// (shared/sendgrid/tsg_mail_v3.json) as a validating mock: a request that
// does not match the spec gets a 4xx, which the sender reports as
// ErrRejected.
func prism(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("PRISM_PATH")
	_, file, _, _ := runtime.Caller(0)
	spec := filepath.Join(filepath.Dir(file), "..", "..", "shared", "sendgrid", "tsg_mail_v3.json")
	if bin == "" {
		storetest.Unavailable(t, "PRISM_PATH not set (make test installs @stoplight/prism-cli)")
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

// Every kind of request the sender builds is valid against the spec.
func TestSendGridRequestsMatchTheOfficialSpec(t *testing.T) {
	base := prism(t)
	sender := NewSendGrid("SG.contract-test", base)
	from := Address{Name: "Customer Success", Email: "success@playbookd.example"}
	to := Address{Name: "Pat Lee", Email: "pat@acme.example"}
	link := "https://cs.example/v1/unsubscribe?token=abc.def"
	tests := map[string]Message{
		"text and html": {From: from, To: to, Subject: "Welcome", Text: "Hi", HTML: "<p>Hi</p>"},
		"text only":     {From: from, To: to, Subject: "Welcome", Text: "Hi"},
		"everything a playbook email carries": {From: from, To: to, Subject: "Welcome to Acmé ✓", Text: "Hi\n--\nUnsubscribe: " + link,
			HTML: "<p>Hi</p>", Categories: []string{"playbookd", "welcome"},
			CustomArgs: map[string]string{"run_id": "r1", "step_id": "welcome-email", "outbox_id": "o1"},
			Headers:    map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}},
		"dynamic template": {From: from, To: to, TemplateID: "d-0123456789abcdef0123456789abcdef",
			TemplateData: map[string]any{"account_name": "Acme", "unsubscribe_url": link},
			CustomArgs:   map[string]string{"outbox_id": "o2"}, Headers: map[string]string{"List-Unsubscribe": "<" + link + ">"}},
		"no display names": {From: Address{Email: from.Email}, To: Address{Email: to.Email}, Subject: "s", Text: "t"},
	}
	for name, msg := range tests {
		t.Run(name, func(t *testing.T) {
			receipt, err := sender.Send(context.Background(), msg)
			if err != nil {
				t.Fatalf("the spec refuses our request: %v", err)
			}
			if receipt.Status != StatusSent {
				t.Fatalf("receipt = %+v", receipt)
			}
		})
	}
	// The mock really validates: a request without a recipient is refused.
	_, err := sender.Send(context.Background(), Message{From: from, Subject: "s", Text: "t"})
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("an invalid request was not refused: %v", err)
	}
}
