// Package e2e drives the built playbookd binary as a user would: a real
// PostgreSQL, a real Temporal dev server, the HTTP API.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	temporalclient "go.temporal.io/sdk/client"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/internal/sendgridtest"
	"github.com/playbookd/playbookd/internal/temporaltest"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/workflows"
)

const adminKey = "e2e-admin-key-0123456789abcdefghijk" // as strong as config.CheckAdminKey wants

// syncBuffer collects the subprocess's log safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type client struct {
	t    *testing.T
	base string
}

func (c client) call(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return c.send(method, path, contentType, body)
}

func (c client) send(method, path, contentType, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	var out map[string]any
	require.NoError(c.t, json.Unmarshal(raw, &out), "body: %s", raw)
	return resp.StatusCode, out
}

// eventually polls a list endpoint until check accepts its items.
func (c client) eventually(path string, check func([]any) bool) []any {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body := c.call("GET", path, "")
		require.Equal(c.t, 200, status)
		items, _ := body["items"].([]any)
		if check(items) {
			return items
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s never satisfied the check; last answer: %v", path, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPlaybooksThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	sendgrid := sendgridtest.Start(t) // the official Mail Send spec as SendGrid
	srv := startPlaybookd(t, "SENDGRID_API_KEY=SG.e2e-test-key", "SENDGRID_BASE_URL="+sendgrid,
		"MAIL_POSTAL_ADDRESS=Playbookd Inc., 1 Main St, Springfield, IL 62701, USA") // required when sending
	temporal, cmd, logs, exited, c := srv.temporal, srv.cmd, srv.logs, srv.exited, srv.client

	status, _ := c.call("POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey CSM","level":"csm"}`)
	require.Equal(t, 201, status)
	// The onboarding sends inside Mon-Fri 09:00-17:00 of the account's zone:
	// put the smb account where that is now, if anywhere.
	zone, open := openZone(time.Now())
	status, body := c.call("POST", "/v1/accounts", `{"id":"acme-e2e","name":"Acme","arr":18000,
		"csm_email":"casey@cs.test","timezone":"`+zone+`",
		"contacts":[{"email":"pat@acme.test","name":"Pat Lee","role":"champion"},
		            {"email":"uma@acme.test","name":"Uma","role":"user"}]}`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/accounts", `{"id":"bigco-e2e","name":"BigCo","arr":250000,
		"csm_email":"casey@cs.test","timezone":"America/New_York",
		"contacts":[{"email":"eve@bigco.test","name":"Eve","role":"exec_sponsor"}]}`)
	require.Equal(t, 201, status, body)

	// Creating an account in the onboarding stage starts the built-in
	// onboarding by itself (its trigger): smb is tech-touch (a welcome email
	// to the champion), enterprise gets a welcome call task for the CSM.
	onboarding := c.eventually("/v1/runs?account_id=acme-e2e", func(items []any) bool { return len(items) == 1 })
	run := onboarding[0].(map[string]any)
	runID := run["id"].(string)
	require.Equal(t, "onboarding", run["playbook"])
	require.Equal(t, "playbook/onboarding/account/acme-e2e", run["workflow_id"])

	status, conflict := c.call("POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme-e2e"}`)
	require.Equal(t, 409, status, conflict)
	require.Equal(t, runID, conflict["run_id"])

	if open {
		emails := c.eventually("/v1/emails?account_id=acme-e2e", func(items []any) bool {
			return len(items) == 1 && items[0].(map[string]any)["status"] == "sent"
		})
		email := emails[0].(map[string]any)
		require.Equal(t, "pat@acme.test", email["to"], "the welcome goes to the champion (and admins), not users")
		require.Equal(t, "welcome-email", email["step_id"])
		require.Equal(t, runID, email["run_id"])
		require.Contains(t, email["subject"], "Acme")
		require.Contains(t, email["text"], "Casey CSM")
	} else {
		// Nowhere is it a working day now (a weekend): the email waits.
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, view := c.call("GET", "/v1/runs/"+runID, "")
			cur, _ := view["steps"].(map[string]any)["current"].(map[string]any)
			if cur != nil && cur["id"] == "welcome-email" && strings.Contains(fmt.Sprint(cur["detail"]), "held for the send window") {
				break
			}
			require.True(t, time.Now().Before(deadline), "the welcome email is neither sent nor held: %v", view["steps"])
			time.Sleep(200 * time.Millisecond)
		}
	}

	run = c.eventually("/v1/runs?account_id=bigco-e2e&playbook=onboarding", func(items []any) bool { return len(items) == 1 })[0].(map[string]any)
	tasks := c.eventually("/v1/tasks?assignee=casey@cs.test", func(items []any) bool { return len(items) == 1 })
	task := tasks[0].(map[string]any)
	require.Equal(t, "Welcome call with the customer's stakeholders", task["title"])
	require.Equal(t, "open", task["status"])
	require.Equal(t, run["id"], task["run_id"])

	if open {
		status, view := c.call("GET", "/v1/runs/"+runID, "")
		require.Equal(t, 200, status)
		steps := view["steps"].(map[string]any)
		require.Equal(t, "welcome-email", steps["done"].([]any)[1].(map[string]any)["id"], "%v", steps)
		// The run waits for day 2, where the enterprise-only kickoff will be
		// skipped: the view shows the smb email that will go out then, and
		// lists no enterprise step.
		require.Equal(t, "getting-started-email", steps["current"].(map[string]any)["id"], "%v", steps)
		require.Equal(t, "waiting", steps["current"].(map[string]any)["status"])
		for _, u := range steps["upcoming"].([]any) {
			require.NotEqual(t, "data-source-connection", u.(map[string]any)["id"])
		}
	}

	// CS ops write a playbook in YAML, publish it and run it.
	status, created := c.send("POST", "/v1/playbooks", "application/yaml", `key: quick-hello
name: Quick hello
steps:
  - id: pause
    wait: 2s
  - id: hello
    email: {template: welcome, to: [exec_sponsor]}
  - id: follow-up
    task: {title: Follow up on the hello, assignee: csm, due: 1d}
  - id: invite
    approval:
      assignee: csm
      email: {template: qbr-invite, to: [exec_sponsor]}
`)
	require.Equal(t, 201, status, created)
	status, _ = c.call("POST", "/v1/playbooks/quick-hello/versions/1/publish", "")
	require.Equal(t, 200, status)
	status, run = c.call("POST", "/v1/runs", `{"playbook":"quick-hello","account_id":"bigco-e2e"}`)
	require.Equal(t, 201, status, run)
	quickRun := run["id"].(string)
	c.eventually("/v1/emails?run_id="+quickRun, func(items []any) bool {
		return len(items) == 1 && items[0].(map[string]any)["step_id"] == "hello"
	})
	c.eventually("/v1/tasks?run_id="+quickRun, func(items []any) bool {
		return len(items) == 1 && items[0].(map[string]any)["title"] == "Follow up on the hello"
	})

	// The approval: the CSM edits the draft and approves; the edited email
	// goes out once, and a second decision is refused.
	approvals := c.eventually("/v1/approvals?assignee=casey@cs.test&status=pending", func(items []any) bool { return len(items) == 1 })
	approvalID := approvals[0].(map[string]any)["id"].(string)
	status, decided := c.call("POST", "/v1/approvals/"+approvalID+"/decision",
		`{"decision":"approve","comment":"looks good","edits":{"subject":"Eve, shall we review the quarter?"}}`)
	require.Equal(t, 200, status, decided)
	require.Equal(t, "approved", decided["status"])
	status, again := c.call("POST", "/v1/approvals/"+approvalID+"/decision", `{"decision":"reject"}`)
	require.Equal(t, 409, status, again)
	// Sent through the real sendgrid-go client to Prism, which validates each
	// request against the official spec: "sent" means it was accepted.
	sent := c.eventually("/v1/emails?run_id="+quickRun, func(items []any) bool {
		return len(items) == 2 && items[1].(map[string]any)["status"] == "sent"
	})
	require.Equal(t, "sent", sent[0].(map[string]any)["status"])
	require.Equal(t, "Eve, shall we review the quarter?", sent[1].(map[string]any)["subject"])
	require.Equal(t, "invite", sent[1].(map[string]any)["step_id"], "one email for the approval step")
	// What went out is what the approval stores as approved for Eve, with
	// the email's own unsubscribe link after it.
	decidedList := c.eventually("/v1/approvals?assignee=casey@cs.test&status=approved", func(items []any) bool { return len(items) == 1 })
	approvedDraft := decidedList[0].(map[string]any)["drafts"].([]any)[0].(map[string]any)
	approved := approvedDraft["approved"].(map[string]any)
	require.Equal(t, approved["subject"], sent[1].(map[string]any)["subject"])
	require.Regexp(t, `^`+regexp.QuoteMeta(approved["text"].(string))+`\n+--\n[^\n]+\nUnsubscribe: \S+\n$`, sent[1].(map[string]any)["text"])
	c.eventually("/v1/runs?account_id=bigco-e2e&playbook=quick-hello&status=completed", func(items []any) bool { return len(items) == 1 })

	// The run view joins the task's own state and the approval's decision.
	followUp := c.eventually("/v1/tasks?run_id="+quickRun, func(items []any) bool { return len(items) == 1 })[0].(map[string]any)
	status, completed := c.call("POST", "/v1/tasks/"+followUp["id"].(string)+"/complete", `{"outcome":"done"}`)
	require.Equal(t, 200, status, completed)
	status, view := c.call("GET", "/v1/runs/"+quickRun, "")
	require.Equal(t, 200, status, view)
	byID := map[string]map[string]any{}
	for _, d := range view["steps"].(map[string]any)["done"].([]any) {
		byID[d.(map[string]any)["id"].(string)] = d.(map[string]any)
	}
	require.Equal(t, "completed", byID["follow-up"]["task"].(map[string]any)["status"], "%v", view["steps"])
	decision := byID["invite"]["approval"].(map[string]any)
	require.Equal(t, "approved", decision["status"])
	require.Equal(t, "looks good", decision["comment"])

	// Every email's unsubscribe link works without an API key.
	text := sent[0].(map[string]any)["text"].(string)
	link := strings.TrimSpace(text[strings.Index(text, "Unsubscribe: ")+len("Unsubscribe: "):])
	require.True(t, strings.HasPrefix(link, c.base+"/v1/unsubscribe?token="), link)
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	_, acct := c.call("GET", "/v1/accounts/bigco-e2e", "")
	require.Equal(t, true, acct["contacts"].([]any)[0].(map[string]any)["unsubscribed"], "eve unsubscribed")

	// Health drives recovery: a red snapshot starts exactly one recovery run,
	// a second red one starts nothing, a green one ends it as recovered.
	status, snap := c.call("POST", "/v1/accounts/bigco-e2e/health", `{"score": 31}`)
	require.Equal(t, 201, status, snap)
	require.Equal(t, "red", snap["band"])
	triggered := snap["triggered"].([]any)
	require.Len(t, triggered, 1, "%v", snap)
	require.Equal(t, "red-recovery", triggered[0].(map[string]any)["playbook"])
	require.Equal(t, "started", triggered[0].(map[string]any)["status"])
	recovery := triggered[0].(map[string]any)["run_id"].(string)
	status, snap = c.call("POST", "/v1/accounts/bigco-e2e/health", `{"score": 35}`)
	require.Equal(t, 201, status, snap)
	require.Empty(t, snap["triggered"], "still red: not a band change")
	live := c.eventually("/v1/runs?account_id=bigco-e2e&playbook=red-recovery", func(items []any) bool { return len(items) == 1 })
	require.Equal(t, recovery, live[0].(map[string]any)["id"])
	status, snap = c.call("POST", "/v1/accounts/bigco-e2e/health", `{"score": 86}`)
	require.Equal(t, 201, status, snap)
	require.Equal(t, "green", snap["band"])
	ended := c.eventually("/v1/runs?account_id=bigco-e2e&playbook=red-recovery&status=completed", func(items []any) bool { return len(items) == 1 })
	require.Equal(t, recovery, ended[0].(map[string]any)["id"])
	require.Equal(t, "recovered", ended[0].(map[string]any)["outcome"])

	// The worker created the trigger sweep's schedule; a sweep it starts
	// runs to completion.
	tc, err := temporalclient.Dial(temporalclient.Options{HostPort: temporal.HostPort, Namespace: temporal.Namespace})
	require.NoError(t, err)
	defer tc.Close()
	ctx := context.Background()
	schedule := tc.ScheduleClient().GetHandle(ctx, workflows.TriggerSweepScheduleID)
	require.NoError(t, schedule.Trigger(ctx, temporalclient.ScheduleTriggerOptions{}))
	var sweep *temporalclient.ScheduleWorkflowExecution
	require.Eventually(t, func() bool {
		desc, err := schedule.Describe(ctx)
		if err == nil && len(desc.Info.RecentActions) > 0 {
			sweep = desc.Info.RecentActions[0].StartWorkflowResult
		}
		return sweep != nil
	}, 30*time.Second, 200*time.Millisecond)
	var swept contract.SweepResult
	require.NoError(t, tc.GetWorkflow(ctx, sweep.WorkflowID, sweep.FirstExecutionRunID).Get(ctx, &swept))

	// Observability: the OpenAPI document, Prometheus metrics with the HTTP
	// server's and the Temporal SDK's series, and request logs naming runs.
	doc := get(t, c.base+"/openapi.json")
	require.Contains(t, doc, `"openapi":"3.0.3"`)
	exposition := get(t, c.base+"/metrics")
	require.Contains(t, exposition, `playbookd_http_request_duration_seconds_count{method="POST",route="/v1/accounts/:id/health",status="201"} 3`)
	require.Contains(t, exposition, "temporal_request", "the Temporal client's metrics")
	require.Contains(t, exposition, "temporal_workflow_completed", "the worker's metrics")
	require.Contains(t, logs.String(), `"run_id":"`+runID+`"`, "request logs carry the run id")

	// SIGTERM drains the worker and stops the server; the process exits 0.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "playbookd should exit cleanly on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("playbookd did not stop within 30s of SIGTERM")
	}
	require.Contains(t, logs.String(), "worker stopped")
	require.Contains(t, logs.String(), "API stopped")
}

// playbookd is the built binary running `playbookd dev` against a fresh
// database and its own Temporal dev server.
type playbookd struct {
	temporal temporaltest.Server
	cmd      *exec.Cmd
	logs     *syncBuffer
	exited   chan error
	client   client
}

// startPlaybookd builds the binary and starts it, ready, with the extra
// environment; it is killed when the test ends (its log shown if it failed).
func startPlaybookd(t *testing.T, env ...string) *playbookd {
	dbURL := storetest.NewEmptyDatabase(t) // the binary migrates it
	temporal := temporaltest.Start(t)      // a dev server, or PLAYBOOKD_TEST_TEMPORAL_ADDRESS's cluster

	bin := filepath.Join(t.TempDir(), "playbookd")
	build := exec.Command("go", "build", "-o", bin, "../cmd/playbookd")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run(), "build playbookd")

	addr := freeAddr(t)
	p := &playbookd{temporal: temporal, logs: &syncBuffer{}, exited: make(chan error, 1), client: client{t: t, base: "http://" + addr}}
	p.cmd = exec.Command(bin, "dev")
	p.cmd.Env = append(append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+temporal.HostPort,
		"TEMPORAL_NAMESPACE="+temporal.Namespace,
		"TEMPORAL_TASK_QUEUE=e2e-"+fmt.Sprint(time.Now().UnixNano()),
		"HTTP_ADDR="+addr,
		"PLAYBOOKD_ADMIN_KEY="+adminKey,
		"PLAYBOOKD_SIGNING_KEY=e2e-signing-key-of-at-least-32-chars",
		"PUBLIC_BASE_URL=http://"+addr,
		"LOG_LEVEL=info",
		// The playbooks these tests write have no send window of their own
		// and must email at once on any day; the organisation's window has
		// workflow and simulation tests.
		"SEND_WINDOW=none",
	), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("playbookd log:\n%s", p.logs.String())
		}
	})
	waitReady(t, p.client.base, p.exited)
	return p
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, string(raw))
	return string(raw)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

func waitReady(t *testing.T, base string, exited <-chan error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("playbookd exited during start-up: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatal("playbookd was not ready within 60s")
}

// openZone names a zone where now falls inside Mon-Fri 09:00-16:30 (a margin
// before the 17:00 close), or Europe/Berlin and false when none does.
func openZone(now time.Time) (string, bool) {
	w := &playbook.SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "16:30"}
	for offset := -12; offset <= 14; offset++ {
		name := "Etc/GMT"
		if offset != 0 {
			name = fmt.Sprintf("Etc/GMT%+d", -offset) // POSIX signs: Etc/GMT-3 is UTC+3
		}
		loc, err := time.LoadLocation(name)
		if err == nil && w.NextOpen(now, loc).Equal(now) {
			return name, true
		}
	}
	return "Europe/Berlin", false
}
