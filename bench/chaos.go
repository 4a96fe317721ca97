package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

type chaosOptions struct {
	repo            string
	adminURL        string
	runs            int
	kills           int
	restartPostgres bool
}

// A short playbook with the side effects that must happen exactly once:
// two emails and two tasks around a wait.
const chaosPlaybook = `{"key":"chaos-short","name":"Chaos: short","steps":[
	{"id":"hello","email":{"template":"welcome","to":["champion"]}},
	{"id":"call","task":{"title":"Call the champion","assignee":"csm","due":"1d"}},
	{"id":"pause","wait":"15s"},
	{"id":"follow-up","email":{"template":"usage-tips","to":["champion"]}},
	{"id":"review","task":{"title":"Review the account","assignee":"csm","due":"1d"}}]}`

const (
	chaosEmailsPerRun = 2
	chaosTasksPerRun  = 2
)

func runChaos(ctx context.Context, opts chaosOptions) report {
	var r report
	sg := newFlakySendGrid()
	defer sg.close()
	s, err := startStack(ctx, stackOptions{repo: opts.repo, adminURL: opts.adminURL, extraEnv: map[string]string{
		"SENDGRID_API_KEY": "SG.chaos", "SENDGRID_BASE_URL": sg.url,
	}})
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, s.close)
	defer s.close()
	s.setup(ctx, opts.runs, chaosPlaybook)

	started := time.Now()
	parallel(opts.runs, 16, func(i int) {
		s.must(ctx, 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"chaos-short","account_id":"acct-%d"}`, i))
	})
	var events []string
	note := func(format string, args ...any) {
		events = append(events, fmt.Sprintf("- +%s ", time.Since(started).Round(100*time.Millisecond))+fmt.Sprintf(format, args...))
	}
	note("%d runs started; SendGrid stand-in cycling 6 s accepting, 3 s 429, 3 s 503 for %s", opts.runs, throttledFor)
	pgRestart := opts.kills / 2
	for k := range opts.kills {
		time.Sleep(4 * time.Second)
		s.worker.kill9()
		note("worker killed with SIGKILL (%d/%d)", k+1, opts.kills)
		if opts.restartPostgres && k == pgRestart {
			if err := restartPostgres(); err != nil {
				note("PostgreSQL restart failed: %v", err)
			} else {
				note("PostgreSQL restarted")
			}
		}
		time.Sleep(1500 * time.Millisecond)
		if s.worker, err = s.start("worker"); err != nil {
			fatalf("%v", err)
		}
		note("worker restarted")
	}
	finished := func() int { return s.count(ctx, `SELECT count(*) FROM runs WHERE status = 'completed'`) }
	deadline := time.Now().Add(5 * time.Minute)
	for finished() < opts.runs && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	note("%d of %d runs completed", finished(), opts.runs)

	done := finished()
	tasks := s.count(ctx, `SELECT count(*) FROM tasks`)
	taskDupes := s.count(ctx, `SELECT count(*) FROM (SELECT 1 FROM tasks GROUP BY run_id, step_id HAVING count(*) > 1) d`)
	byStatus := map[string]int{}
	rows, err := s.db.Query(ctx, `SELECT status, count(*) FROM emails GROUP BY status ORDER BY status`)
	if err != nil {
		fatalf("%v", err)
	}
	for rows.Next() {
		var st string
		var n int
		_ = rows.Scan(&st, &n)
		byStatus[st] = n
	}
	rows.Close()
	accepted, duplicates, refused := sg.counts()
	uncertain := s.strings(ctx, `SELECT id::text FROM emails WHERE status = 'uncertain'`)
	uncertainSent := sg.acceptedOf(uncertain)
	lostTasks := opts.runs*chaosTasksPerRun - tasks
	emailRows := 0
	var statuses []string
	for st, n := range byStatus {
		emailRows += n
		statuses = append(statuses, fmt.Sprintf("%s %d", st, n))
	}
	r.section("Chaos: worker killed, PostgreSQL restarted, SendGrid throttling")
	r.add("", fmt.Sprintf(`%d runs of a short playbook (an email, a task, a 15 s wait, an email, a task), started through the API;
the worker killed with SIGKILL %d times while they ran%s; a SendGrid stand-in answering 429 and 503 in bursts
for the first %s.

%s

| count | expected | measured |
|---|---:|---:|
| runs completed | %d | %d |
| duplicate emails (accepted twice by SendGrid for one outbox row) | 0 | %d |
| lost tasks | 0 | %d |
| duplicate tasks | 0 | %d |
| outbox rows (one per run, step and recipient) | %d | %d |

Outbox rows by status: %s. SendGrid stand-in: %d accepted, %d answered 429/503.
Rows recorded uncertain (the worker died during the provider call, so the outcome is unknown and
the email is never tried again): %d, of which the stand-in had accepted %d; %d emails were
therefore not sent: playbookd prefers a missed email to a second one, and the delivery webhook
tells which is which.
`, opts.runs, opts.kills, map[bool]string{true: " and PostgreSQL restarted once", false: ""}[opts.restartPostgres], throttledFor,
		strings.Join(events, "\n"), opts.runs, done, duplicates, lostTasks, taskDupes, opts.runs*chaosEmailsPerRun, emailRows,
		strings.Join(statuses, ", "), accepted, refused, len(uncertain), uncertainSent, len(uncertain)-uncertainSent))
	if done != opts.runs || duplicates != 0 || lostTasks != 0 || taskDupes != 0 {
		r.failed = true
		r.add("", fmt.Sprintf("**FAILED** (logs in %s)\n", s.dir))
	}
	return r
}

// restartPostgres restarts the local cluster (the machine's only one).
func restartPostgres() error {
	versions, _ := filepath.Glob("/etc/postgresql/*")
	if len(versions) == 0 {
		return fmt.Errorf("no local cluster under /etc/postgresql")
	}
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", filepath.Base(versions[0]), "main", "restart").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// flakySendGrid stands in for SendGrid's Mail Send endpoint: for its first
// 48 s (while the worker is being killed) it cycles 6 s accepting, 3 s
// answering 429 (with X-RateLimit-Reset) and 3 s 503; then it accepts. It
// counts the messages it accepted per outbox id.
const throttledFor = 48 * time.Second

type flakySendGrid struct {
	url      string
	srv      *http.Server
	started  time.Time
	mu       sync.Mutex
	accepted map[string]int
	refused  int
}

func newFlakySendGrid() *flakySendGrid {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("%v", err)
	}
	f := &flakySendGrid{url: "http://" + l.Addr().String(), started: time.Now(), accepted: map[string]int{}}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(l) }()
	return f
}

func (f *flakySendGrid) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	elapsed := time.Since(f.started)
	phase := elapsed % (12 * time.Second)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case elapsed >= throttledFor:
	case phase >= 9*time.Second:
		f.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case phase >= 6*time.Second:
		f.refused++
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(2*time.Second).Unix(), 10))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	var msg struct {
		Personalizations []struct {
			CustomArgs map[string]string `json:"custom_args"`
		} `json:"personalizations"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil || len(msg.Personalizations) == 0 {
		http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
		return
	}
	f.accepted[msg.Personalizations[0].CustomArgs["outbox_id"]]++
	w.Header().Set("X-Message-Id", fmt.Sprintf("chaos-%d", len(f.accepted)))
	w.WriteHeader(http.StatusAccepted)
}

// counts: messages accepted, outbox ids accepted more than once, refusals.
func (f *flakySendGrid) counts() (accepted, duplicates, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.accepted {
		accepted += n
		if n > 1 {
			duplicates += n - 1
		}
	}
	return accepted, duplicates, f.refused
}

// acceptedOf counts the outbox ids the stand-in accepted.
func (f *flakySendGrid) acceptedOf(ids []string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range ids {
		if f.accepted[id] > 0 {
			n++
		}
	}
	return n
}

func (f *flakySendGrid) close() { _ = f.srv.Close() }
