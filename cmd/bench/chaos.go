package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type chaosOptions struct {
	repo            string
	adminURL        string
	runs            int
	kills           int
	restartPostgres bool
	topology        string
}

// retryAccounts: on the cluster, this many of the short runs are enrolled
// through the first API replica while it is killed, then retried against
// the second one.
const retryAccounts = 40

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

// waitingPlaybooks park a run in each kind of wait the interpreter has; the
// suite cancels them while the worker is being killed. %s is a weekday
// whose send window is not open today.
var waitingPlaybooks = []struct{ kind, src string }{
	{"at", `{"key":"chaos-wait-at","name":"Chaos: at","steps":[{"id":"first","task":{"title":"First","assignee":"csm"}},
		{"id":"later","at":"30d","task":{"title":"Later","assignee":"csm"}}]}`},
	{"after", `{"key":"chaos-wait-after","name":"Chaos: after","steps":[{"id":"first","task":{"title":"First","assignee":"csm"}},
		{"id":"later","after":"30d","task":{"title":"Later","assignee":"csm"}}]}`},
	{"send window", `{"key":"chaos-wait-window","name":"Chaos: send window",
		"send_window":{"days":["%s"],"start":"09:00","end":"17:00"},
		"steps":[{"id":"first","task":{"title":"First","assignee":"csm"}},{"id":"hello","email":{"template":"welcome","to":["champion"]}}]}`},
	{"frequency cap", `{"key":"chaos-wait-cap","name":"Chaos: frequency cap","steps":[
		{"id":"one","email":{"template":"welcome","to":["champion"]}},{"id":"two","email":{"template":"welcome","to":["champion"]}},
		{"id":"three","email":{"template":"welcome","to":["champion"]}},{"id":"four","email":{"template":"welcome","to":["champion"]}}]}`},
	{"wait_for", `{"key":"chaos-wait-for","name":"Chaos: wait_for","steps":[{"id":"first","task":{"title":"First","assignee":"csm"}},
		{"id":"login","wait_for":{"event":"first_login","within":"30d"},"on_timeout":[{"id":"nudge","task":{"title":"Nudge","assignee":"csm"}}]}]}`},
	{"approval", `{"key":"chaos-wait-approval","name":"Chaos: approval","steps":[{"id":"first","task":{"title":"First","assignee":"csm"}},
		{"id":"invite","approval":{"assignee":"csm","email":{"template":"qbr-invite","to":["champion"]}}}]}`},
	{"repeat", `{"key":"chaos-wait-repeat","name":"Chaos: repeat","steps":[
		{"id":"daily","repeat":{"every":"1d","until":"30d","steps":[{"id":"check","task":{"title":"Check","assignee":"csm"}}]}}]}`},
}

func runChaos(ctx context.Context, opts chaosOptions) report {
	if opts.topology == "cluster" && (opts.kills < 2 || opts.runs < retryAccounts) {
		fatalf("-topology cluster needs -kills 2 or more (the API kill follows the first, the Temporal restart the second) and -runs %d or more", retryAccounts)
	}
	var r report
	sg := newFlakySendGrid()
	defer sg.close()
	s, err := startStack(ctx, stackOptions{repo: opts.repo, adminURL: opts.adminURL, topology: opts.topology, extraEnv: map[string]string{
		"SENDGRID_API_KEY": "SG.chaos", "SENDGRID_BASE_URL": sg.url,
		"MAIL_POSTAL_ADDRESS": "Playbookd Inc., 1 Main St, Springfield, IL 62701, USA", // required when sending
		// The short runs send two emails per address; the cap holds the
		// fourth email of the capped waiting playbook.
		"EMAIL_CAP": "3",
	}})
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, s.close)
	defer s.close()
	// Runs to cancel get accounts of their own: the frequency cap counts
	// per address, and must not hold the short runs' emails.
	perKind := max(1, opts.runs/100)
	toCancel := perKind * len(waitingPlaybooks)
	closedDay := strings.ToLower(time.Now().UTC().Add(72 * time.Hour).Weekday().String()[:3])
	sources := []string{chaosPlaybook}
	for _, w := range waitingPlaybooks {
		sources = append(sources, strings.Replace(w.src, "%s", closedDay, 1))
	}
	s.setup(ctx, opts.runs+toCancel, sources...)

	cluster := opts.topology == "cluster"
	// On the cluster the last retryAccounts short runs are enrolled during
	// the chaos, through the API replica that is then killed.
	upFront := opts.runs
	if cluster {
		upFront = max(0, opts.runs-retryAccounts)
	}
	started := time.Now()
	parallel(upFront, 16, func(i int) {
		s.mustAt(ctx, s.base(i), 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"chaos-short","account_id":"acct-%d"}`, i))
	})
	cancelIDs := make([]string, toCancel)
	parallel(toCancel, 8, func(i int) {
		run := s.mustAt(ctx, s.base(i), 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":%q,"account_id":"acct-%d"}`,
			waitingKey(waitingPlaybooks[i%len(waitingPlaybooks)].src), opts.runs+i))
		cancelIDs[i] = fmt.Sprint(run["id"])
	})
	var events []string
	note := func(format string, args ...any) {
		events = append(events, fmt.Sprintf("- +%s ", time.Since(started).Round(100*time.Millisecond))+fmt.Sprintf(format, args...))
		fmt.Fprintln(os.Stderr, "bench: chaos:", events[len(events)-1][2:])
	}
	note("%d runs started through %d API replica(s); SendGrid stand-in cycling 6 s accepting, 3 s 429, 3 s 503 for %s",
		upFront, len(s.bases), throttledFor)
	pgRestart := opts.kills / 2
	var retry retryResult
	for k := range opts.kills {
		time.Sleep(4 * time.Second)
		w := s.workers[k%len(s.workers)]
		if err := w.kill9(); err != nil {
			fatalf("%v", err)
		}
		note("%s killed with SIGKILL (%d/%d)", w.name(), k+1, opts.kills)
		if opts.restartPostgres && k == pgRestart {
			if err := restartPostgres(); err != nil {
				note("PostgreSQL restart failed: %v", err)
			} else {
				note("PostgreSQL restarted")
			}
		}
		time.Sleep(1500 * time.Millisecond)
		if k == 0 {
			// While the worker is down: the cancels wait in Temporal for it.
			parallel(len(cancelIDs), 8, func(i int) { s.mustAt(ctx, s.base(i), 202, "POST", "/v1/runs/"+cancelIDs[i]+"/cancel", "") })
			note("%d runs waiting in %d kinds of wait cancelled", len(cancelIDs), len(waitingPlaybooks))
		}
		if err := w.restart(ctx); err != nil {
			fatalf("%v", err)
		}
		note("%s restarted", w.name())
		switch {
		case cluster && k == 0:
			time.Sleep(2 * time.Second)
			retry = killAPIDuringEnrolments(ctx, s, upFront, opts.runs, note)
		case cluster && k == 1:
			time.Sleep(2 * time.Second)
			note("Temporal server stopped (SIGTERM)")
			away, err := s.restartTemporal()
			if err != nil {
				fatalf("%v", err)
			}
			note("Temporal server restarted and answering, %s after the stop", away.Round(100*time.Millisecond))
		}
	}

	finished := func() int {
		return s.count(ctx, `SELECT count(*) FROM runs WHERE status = 'completed' AND playbook_key = 'chaos-short'`)
	}
	cancelled := func() int {
		return s.count(ctx, `SELECT count(*) FROM runs WHERE status = 'cancelled' AND playbook_key LIKE 'chaos-wait-%'`)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for (finished() < opts.runs || cancelled() < toCancel) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	note("%d of %d runs completed, %d of %d cancelled runs ended cancelled", finished(), opts.runs, cancelled(), toCancel)

	done, ended := finished(), cancelled()
	stillLive := s.count(ctx, `SELECT count(*) FROM runs WHERE status IN ('running', 'paused')`)
	openOfCancelled := s.count(ctx, `SELECT
		(SELECT count(*) FROM tasks t JOIN runs r ON r.id = t.run_id WHERE r.status = 'cancelled' AND t.status = 'open') +
		(SELECT count(*) FROM approvals a JOIN runs r ON r.id = a.run_id WHERE r.status = 'cancelled' AND a.status = 'pending')`)
	tasks := s.count(ctx, `SELECT count(*) FROM tasks t JOIN runs r ON r.id = t.run_id WHERE r.playbook_key = 'chaos-short'`)
	taskDupes := s.count(ctx, `SELECT count(*) FROM (SELECT 1 FROM tasks GROUP BY run_id, step_id HAVING count(*) > 1) d`)
	byStatus := map[string]int{}
	rows, err := s.db.Query(ctx, `SELECT e.status, count(*) FROM emails e JOIN runs r ON r.id = e.run_id
		WHERE r.playbook_key = 'chaos-short' GROUP BY e.status ORDER BY e.status`)
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
	pg := map[bool]string{true: " and PostgreSQL restarted once", false: " (PostgreSQL not restarted: -restart-postgres=false)"}[opts.restartPostgres]
	if cluster {
		r.section("Chaos on the cluster: workers and an API replica killed, Temporal server " +
			map[bool]string{true: "and PostgreSQL restarted", false: "restarted"}[opts.restartPostgres] + ", SendGrid throttling")
		pg = fmt.Sprintf(", alternating between the two workers; the first API replica killed with SIGKILL once while %d of the runs were "+
			"being enrolled through it, each of them then retried against the second replica; the Temporal server restarted once%s", retryAccounts, pg)
	} else {
		r.section("Chaos: worker killed, " + map[bool]string{true: "PostgreSQL restarted, ", false: ""}[opts.restartPostgres] + "SendGrid throttling")
	}
	r.add("", fmt.Sprintf(`%d runs of a short playbook (an email, a task, a 15 s wait, an email, a task), started through the API;
the worker killed with SIGKILL %d times while they ran%s; a SendGrid stand-in answering 429 and 503 in bursts
for the first %s. Beside them, %d runs parked in each kind of wait (%d per kind) were cancelled through
the API while a worker was down.

%s

| count | expected | measured |
|---|---:|---:|
| runs completed | %d | %d |
| duplicate emails (accepted twice by SendGrid for one outbox row) | 0 | %d |
| lost tasks | 0 | %d |
| duplicate tasks | 0 | %d |
| outbox rows (one per run, step and recipient) | %d | %d |
| runs waiting (at, after, send window, cap, wait_for, approval, repeat) cancelled → ended cancelled | %d | %d |
| open tasks and pending approvals of cancelled runs | 0 | %d |
| runs still running or paused at the end | 0 | %d |
%s
Outbox rows by status: %s. SendGrid stand-in: %d accepted, %d answered 429/503.
Rows recorded uncertain (the worker died during the provider call, so the outcome is unknown and
the email is never tried again): %d, of which the stand-in had accepted %d; %d emails were
therefore not sent: playbookd prefers a missed email to a second one, and the delivery webhook
tells which is which.
`, opts.runs, opts.kills, pg, throttledFor,
		toCancel, perKind,
		strings.Join(events, "\n"), opts.runs, done, duplicates, lostTasks, taskDupes, opts.runs*chaosEmailsPerRun, emailRows,
		toCancel, ended, openOfCancelled, stillLive, retry.rows(), strings.Join(statuses, ", "), accepted, refused, len(uncertain), uncertainSent, len(uncertain)-uncertainSent))
	if done != opts.runs || duplicates != 0 || lostTasks != 0 || taskDupes != 0 || ended != toCancel || openOfCancelled != 0 || stillLive != 0 ||
		!retry.ok() {
		r.failed = true
		r.add("", fmt.Sprintf("**FAILED** (logs in %s)\n", s.dir))
	}
	return r
}

// waitingKey reads the key of a waiting playbook's source.
func waitingKey(src string) string {
	var def struct{ Key string }
	if err := json.Unmarshal([]byte(strings.Replace(src, "%s", "mon", 1)), &def); err != nil {
		fatalf("waiting playbook: %v", err)
	}
	return def.Key
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

// retryResult is what became of the enrolments cut by the API replica's kill.
type retryResult struct {
	ran         bool
	sent        int // enrolments sent to the first replica
	answered    int // of which it answered 201 before it died
	sameRun     int // retried on the second replica: 409 naming the run the first had answered
	firstLost   int // the first replica's answer was lost; the retry named one run (201 or 409)
	mismatched  int // the retry named another run than the first answer, or none within a minute
	slowRetries int // retries that needed more than one attempt (409 before the run row existed)
	dbWrong     int // accounts whose short runs in PostgreSQL are not exactly the one named
}

// rows are the retry's lines of the chaos table (none when it did not run).
func (r retryResult) rows() string {
	if !r.ran {
		return ""
	}
	return fmt.Sprintf(`| enrolments retried on the other API replica after the first was killed, naming the run the first had answered | %d | %d |
| ... whose first answer was lost with the replica, naming one run (201, or 409 with its run_id) | %d | %d |
| ... naming another run, or none within a minute | 0 | %d |
| accounts of those enrolments without exactly that one run in PostgreSQL | 0 | %d |
| retries that needed more than one attempt (409 without run_id until the worker recorded the run) | — | %d |
`, r.answered, r.sameRun, r.sent-r.answered, r.firstLost, r.mismatched, r.dbWrong, r.slowRetries)
}

func (r retryResult) ok() bool { return !r.ran || (r.mismatched == 0 && r.dbWrong == 0) }

// killAPIDuringEnrolments enrols accounts acct-from..acct-to-1 through the
// first API replica, kills it with SIGKILL when half have been answered,
// then retries every enrolment, as a client would, against the second
// replica: an account has one live run per playbook, so the retry must name
// the run the first replica started (201 if it never reached Temporal, 409
// with its run_id otherwise). The first replica is then started again.
func killAPIDuringEnrolments(ctx context.Context, s *stack, from, to int, note func(string, ...any)) retryResult {
	n := to - from
	res := retryResult{ran: true, sent: n}
	body := func(i int) string { return fmt.Sprintf(`{"playbook":"chaos-short","account_id":"acct-%d"}`, from+i) }
	first := make([]string, n)
	var created atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		parallel(n, 4, func(i int) {
			status, out, err := s.callAt(ctx, s.bases[0], "POST", "/v1/runs", body(i))
			if err == nil && status == 201 {
				first[i] = fmt.Sprint(out["id"])
				created.Add(1)
			}
			time.Sleep(50 * time.Millisecond)
		})
	}()
	waitFor("a third of the enrolments through the first API replica", time.Minute, func() bool { return created.Load() >= int64(n/3) })
	atKill := created.Load()
	if err := s.apis[0].kill9(); err != nil {
		fatalf("%v", err)
	}
	<-done
	for _, id := range first {
		if id != "" {
			res.answered++
		}
	}
	note("%s killed with SIGKILL while enrolling %d accounts through it: %d answered 201 when the kill began, %d in all; "+
		"the other %d were cut off or refused", s.apis[0].name(), n, atKill, res.answered, n-res.answered)
	got := make([]string, n)
	var mu sync.Mutex
	parallel(n, 8, func(i int) {
		deadline := time.Now().Add(time.Minute)
		for attempt := 1; time.Now().Before(deadline); attempt++ {
			status, out, err := s.callAt(ctx, s.bases[1], "POST", "/v1/runs", body(i))
			id := ""
			switch {
			case err == nil && status == 201:
				id = fmt.Sprint(out["id"])
			case err == nil && status == 409 && out["run_id"] != nil:
				id = fmt.Sprint(out["run_id"])
			}
			if id != "" {
				got[i] = id
				if attempt > 1 {
					mu.Lock()
					res.slowRetries++
					mu.Unlock()
				}
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	})
	for i := range n {
		switch {
		case got[i] == "" || (first[i] != "" && first[i] != got[i]):
			res.mismatched++
		case first[i] != "":
			res.sameRun++
		default:
			res.firstLost++
		}
		ids := s.strings(ctx, fmt.Sprintf(`SELECT id::text FROM runs WHERE playbook_key = 'chaos-short' AND account_id = 'acct-%d'`, from+i))
		if len(ids) != 1 || ids[0] != got[i] {
			res.dbWrong++
		}
	}
	note("%d enrolments retried against %s: %d named the run %s had answered, %d whose answer was lost named one run, %d other",
		n, s.apis[1].name(), res.sameRun, s.apis[0].name(), res.firstLost, res.mismatched)
	if err := s.apis[0].restart(ctx); err != nil {
		fatalf("%v", err)
	}
	note("%s restarted", s.apis[0].name())
	return res
}
