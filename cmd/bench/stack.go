package main

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// stack is a whole playbookd on this machine, in one of two topologies:
//   - devserver: a Temporal dev server, a fresh PostgreSQL database, and
//     playbookd's API and worker as separate processes (so the worker can be
//     killed and measured on its own);
//   - cluster: scripts/cluster.sh's production topology (a real Temporal
//     server on PostgreSQL, two API and two worker processes), brought up
//     for the suite on a fresh database and a namespace of its own.
type stack struct {
	topology string
	repo     string
	dir      string // logs and the built binary
	bin      string
	temporal *testsuite.DevServer // devserver only
	client   client.Client
	dbName   string
	dbURL    string
	adminURL string
	db       *pgxpool.Pool
	apis     []member // the API replicas, in the order of bases
	workers  []member // the worker processes, in the order of metrics
	env      []string
	bases    []string // the API replicas' URLs
	metrics  []string // the workers' /metrics URLs
	http     *http.Client
}

// member is one playbookd process of the stack, which the suites kill,
// restart and measure whatever started it.
type member interface {
	name() string
	kill9() error
	restart(ctx context.Context) error
	rssMiB() (rss, peak float64, err error)
}

type stackOptions struct {
	repo     string
	adminURL string            // a PostgreSQL URL allowed to create databases
	topology string            // devserver or cluster
	extraEnv map[string]string // SENDGRID_BASE_URL and the like
	noWorker bool              // the API alone (what reads only PostgreSQL)
	database string            // use this existing database (kept by an earlier run) instead of a fresh one
}

const (
	benchAdminKey   = "bench-admin-key-0123456789abcdef"
	benchSigningKey = "bench-signing-key-of-at-least-32-characters"
	benchTaskQueue  = "bench"
)

func startStack(ctx context.Context, opts stackOptions) (*stack, error) {
	if opts.topology == "cluster" {
		return startCluster(ctx, opts)
	}
	dir, err := os.MkdirTemp("", "playbookd-bench-")
	if err != nil {
		return nil, err
	}
	s := &stack{topology: "devserver", repo: opts.repo, dir: dir, adminURL: opts.adminURL, http: newHTTPClient()}
	s.bin = filepath.Join(dir, "playbookd")
	build := exec.CommandContext(ctx, "go", "build", "-o", s.bin, "./cmd/playbookd")
	build.Dir, build.Stderr = opts.repo, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build playbookd: %w", err)
	}
	s.temporal, err = testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  filepath.Join(opts.repo, "bin", "temporal"),
		ClientOptions: &client.Options{Namespace: "default"},
		LogLevel:      "error",
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server (run make test once to build bin/temporal): %w", err)
	}
	s.client = s.temporal.Client()
	if err := s.createDatabase(ctx, opts.database); err != nil {
		s.close()
		return nil, err
	}
	apiAddr, metricsAddr := freeAddr(), freeAddr()
	s.bases, s.metrics = []string{"http://" + apiAddr}, []string{"http://" + metricsAddr + "/metrics"}
	s.env = append(os.Environ(),
		"DATABASE_URL="+s.dbURL,
		"TEMPORAL_ADDRESS="+s.temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"HTTP_ADDR="+apiAddr,
		"METRICS_ADDR="+metricsAddr,
	)
	s.env = append(s.env, playbookdEnv(opts.extraEnv)...)
	migrate := exec.CommandContext(ctx, s.bin, "migrate")
	migrate.Env, migrate.Stderr = s.env, os.Stderr
	if err := migrate.Run(); err != nil {
		s.close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	subs := []string{"api", "worker"}
	if opts.noWorker {
		subs = subs[:1]
	}
	for _, sub := range subs {
		p := &localProc{s: s, sub: sub}
		if err := p.restart(ctx); err != nil {
			s.close()
			return nil, err
		}
		if sub == "api" {
			s.apis = []member{p}
		} else {
			s.workers = []member{p}
		}
	}
	return s, nil
}

// playbookdEnv: the settings every suite gives playbookd, then the suite's own.
func playbookdEnv(extra map[string]string) []string {
	env := []string{
		"TEMPORAL_TASK_QUEUE=" + benchTaskQueue,
		"PLAYBOOKD_ADMIN_KEY=" + benchAdminKey,
		"PLAYBOOKD_SIGNING_KEY=" + benchSigningKey,
		"EMAIL_CAP=0",
		// The suites send several emails to one address within seconds; the
		// gap between them has tests of its own (store, workflows).
		"EMAIL_MIN_GAP=0",
		// The suites' playbooks email at once whatever the day; those that
		// wait for a window say so in their own definition.
		"SEND_WINDOW=none",
		"EMAILS_PER_SECOND=0",
		"LOG_LEVEL=warn",
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
}

// localProc is a playbookd subcommand the devserver stack runs itself.
type localProc struct {
	s   *stack
	sub string
	p   *process
}

func (l *localProc) name() string { return l.sub }

func (l *localProc) kill9() error {
	l.p.kill9()
	return nil
}

// restart starts the process and waits until it answers.
func (l *localProc) restart(ctx context.Context) error {
	p, err := l.s.start(l.sub)
	if err != nil {
		return err
	}
	l.p = p
	url := l.s.bases[0] + "/readyz"
	if l.sub == "worker" {
		url = l.s.metrics[0]
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			return fmt.Errorf("the %s exited at start (log %s): %v", l.sub, p.log.Name(), err)
		default:
		}
		if status, err := l.s.get(ctx, url); err == nil && status == 200 {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("the %s did not answer %s within 90s (logs in %s)", l.sub, url, l.s.dir)
}

func (l *localProc) rssMiB() (rss, peak float64, err error) { return rssOf(l.p.cmd.Process.Pid) }

// get answers the status of a GET without credentials.
func (s *stack) get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// createDatabase makes a fresh database, dropped at the end, or uses an
// existing one (kept by an earlier run) as it is.
func (s *stack) createDatabase(ctx context.Context, existing string) error {
	admin, err := pgxpool.New(ctx, s.adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := existing
	if existing == "" {
		name = fmt.Sprintf("playbookd_bench_%d", time.Now().UnixNano())
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return fmt.Errorf("create database: %w", err)
		}
		s.dbName = name
	}
	u := strings.Replace(s.adminURL, "/postgres?", "/"+name+"?", 1)
	if u == s.adminURL {
		return fmt.Errorf("BENCH_DATABASE_URL must name the database postgres with a query string, got %s", s.adminURL)
	}
	s.dbURL = u
	s.db, err = pgxpool.New(ctx, s.dbURL)
	return err
}

// process is a playbookd subcommand running in the background.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

func (s *stack) start(sub string) (*process, error) {
	logFile, err := os.OpenFile(filepath.Join(s.dir, sub+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, sub)
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", sub, err)
	}
	p := &process{name: sub, cmd: cmd, log: logFile, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p, nil
}

// kill9 kills a process without warning and waits for it to be gone.
func (p *process) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done //nolint:errcheck // "signal: killed", as asked
}

// stop asks a process to stop and waits a while.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done: //nolint:errcheck // the exit status of a process told to stop says nothing more
	case <-time.After(30 * time.Second):
		p.kill9()
	}
}

// rssOf reads a process's resident and peak resident memory.
func rssOf(pid int) (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak, sc.Err()
}

// base is the API replica request i goes to: requests rotate over them.
func (s *stack) base(i int) string { return s.bases[i%len(s.bases)] }

// callAt sends a request with the admin key to the replica at base and
// decodes a JSON answer.
func (s *stack) callAt(ctx context.Context, base, method, path, body string) (int, map[string]any, error) {
	status, raw, err := s.rawAt(ctx, base, method, path, "application/json", body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return status, out, nil
}

func (s *stack) raw(ctx context.Context, method, path, contentType, body string) (int, []byte, error) {
	return s.rawAt(ctx, s.bases[0], method, path, contentType, body)
}

func (s *stack) rawAt(ctx context.Context, base, method, path, contentType, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchAdminKey)
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// must fails the suite on an unexpected answer.
func (s *stack) must(ctx context.Context, want int, method, path, body string) map[string]any {
	return s.mustAt(ctx, s.bases[0], want, method, path, body)
}

// mustAt is must on the replica at base.
func (s *stack) mustAt(ctx context.Context, base string, want int, method, path, body string) map[string]any {
	status, out, err := s.callAt(ctx, base, method, path, body)
	if err != nil || status != want {
		fatalf("%s %s: %d %v %v", method, path, status, out, err)
	}
	return out
}

// setup adds a CSM with a manager and n accounts (acct-0...) through the
// bulk import, each with a champion, past onboarding so nothing starts by
// itself, and publishes the given playbooks.
func (s *stack) setup(ctx context.Context, accounts int, playbooks ...string) time.Duration {
	s.must(ctx, 201, "POST", "/v1/team", `{"email":"lead@bench.test","name":"Lead","level":"senior_csm"}`)
	s.must(ctx, 201, "POST", "/v1/team", `{"email":"csm@bench.test","name":"Casey","level":"csm","manager_email":"lead@bench.test"}`)
	for _, src := range playbooks {
		v := s.must(ctx, 201, "POST", "/v1/playbooks", src)
		s.must(ctx, 200, "POST", fmt.Sprintf("/v1/playbooks/%s/versions/%v/publish", v["key"], v["version"]), "")
	}
	var rows bytes.Buffer
	rows.WriteString("[")
	for i := range accounts {
		if i > 0 {
			rows.WriteString(",")
		}
		fmt.Fprintf(&rows, `{"id":"acct-%d","name":"Account %d","arr":%d,"csm_email":"csm@bench.test","timezone":"UTC",
			"lifecycle_stage":"adoption","contacts":[{"email":"champion-%d@bench.test","name":"Champ","role":"champion"}]}`,
			i, i, 5000+i*10, i)
	}
	rows.WriteString("]")
	started := time.Now()
	im := s.must(ctx, 202, "POST", "/v1/accounts/import", rows.String())
	for {
		im = s.must(ctx, 200, "GET", fmt.Sprintf("/v1/accounts/imports/%v", im["id"]), "")
		if im["status"] != "running" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if im["created"] != float64(accounts) {
		fatalf("import: %v", im)
	}
	return time.Since(started)
}

// count runs a COUNT query on the stack's database.
func (s *stack) count(ctx context.Context, sql string, args ...any) int {
	var n int
	if err := s.db.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		fatalf("%s: %v", sql, err)
	}
	return n
}

// strings runs a query of one text column on the stack's database.
func (s *stack) strings(ctx context.Context, sql string) []string {
	rows, err := s.db.Query(ctx, sql)
	if err != nil {
		fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		fatalf("%s: %v", sql, err)
	}
	return out
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(what string, timeout time.Duration, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if interrupted.Err() != nil { // Ctrl-C: clean up (stop the cluster) and end
			fatalf("interrupted while waiting for %s", what)
		}
		if time.Now().After(deadline) {
			fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// parallel runs fn(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// close stops everything and drops the database; a second call does
// nothing (a suite may close one stack before starting the next).
func (s *stack) close() {
	for _, m := range append(s.workers, s.apis...) {
		if l, ok := m.(*localProc); ok && l.p != nil {
			l.p.stop()
			l.p = nil
		}
	}
	if s.topology == "cluster" {
		stopCluster(s.repo)
		s.topology = ""
	}
	if s.client != nil && s.temporal == nil {
		s.client.Close()
	}
	s.client = nil
	if s.db != nil {
		s.db.Close()
		s.db = nil
	}
	if s.temporal != nil {
		_ = s.temporal.Stop()
		s.temporal = nil
	}
	if s.dbName != "" {
		if admin, err := pgxpool.New(context.Background(), s.adminURL); err == nil {
			_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+s.dbName+" WITH (FORCE)")
			admin.Close()
		}
		s.dbName = ""
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// interrupted is done once the suite has been asked to stop (SIGINT, SIGTERM).
var interrupted = context.Background()

// cleanups run before a fatal exit, so no dev server or database is left.
var cleanups []func()

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	// Called from any goroutine, possibly while others hold what the
	// cleanups wait for: a failed suite must end, cleaned up or not.
	done := make(chan struct{})
	go func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "bench: clean-up did not finish in a minute; exiting anyway")
	}
	os.Exit(1)
}
