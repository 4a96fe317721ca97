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

// stack is a whole playbookd on this machine: a Temporal dev server, a fresh
// PostgreSQL database, and playbookd's API and worker as separate processes
// (so the worker can be killed and measured on its own).
type stack struct {
	dir      string // logs and the built binary
	bin      string
	temporal *testsuite.DevServer
	client   client.Client
	dbName   string
	dbURL    string
	adminURL string
	db       *pgxpool.Pool
	api      *process
	worker   *process
	env      []string
	base     string // the API's URL
	metrics  string // the worker's /metrics URL
	http     *http.Client
}

type stackOptions struct {
	repo     string
	adminURL string            // a PostgreSQL URL allowed to create databases
	extraEnv map[string]string // SENDGRID_BASE_URL and the like
	noWorker bool              // the API alone (what reads only PostgreSQL)
	database string            // use this existing database (kept by an earlier run) instead of a fresh one
}

const benchAdminKey = "bench-admin-key-0123456789abcdef"

func startStack(ctx context.Context, opts stackOptions) (*stack, error) {
	dir, err := os.MkdirTemp("", "playbookd-bench-")
	if err != nil {
		return nil, err
	}
	s := &stack{dir: dir, adminURL: opts.adminURL, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
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
	s.base, s.metrics = "http://"+apiAddr, "http://"+metricsAddr+"/metrics"
	s.env = append(os.Environ(),
		"DATABASE_URL="+s.dbURL,
		"TEMPORAL_ADDRESS="+s.temporal.FrontendHostPort(),
		"TEMPORAL_NAMESPACE=default",
		"TEMPORAL_TASK_QUEUE=bench",
		"PLAYBOOKD_ADMIN_KEY="+benchAdminKey,
		"PLAYBOOKD_SIGNING_KEY=bench-signing-key-of-at-least-32-characters",
		"EMAIL_CAP=0",
		"EMAILS_PER_SECOND=0",
		"LOG_LEVEL=warn",
		"HTTP_ADDR="+apiAddr,
		"METRICS_ADDR="+metricsAddr,
	)
	for k, v := range opts.extraEnv {
		s.env = append(s.env, k+"="+v)
	}
	migrate := exec.CommandContext(ctx, s.bin, "migrate")
	migrate.Env, migrate.Stderr = s.env, os.Stderr
	if err := migrate.Run(); err != nil {
		s.close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if s.api, err = s.start("api"); err != nil {
		s.close()
		return nil, err
	}
	if !opts.noWorker {
		if s.worker, err = s.start("worker"); err != nil {
			s.close()
			return nil, err
		}
	}
	if err := s.waitReady(ctx); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

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
		s.dbName = name // dropped at the end
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
	<-p.done
}

// stop asks a process to stop and waits a while.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill9()
	}
}

// rssMiB reads a process's resident and peak resident memory.
func (p *process) rssMiB() (rss, peak float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
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

func (s *stack) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.api.done:
			return fmt.Errorf("the API exited at start (log %s): %v", s.api.log.Name(), err)
		case err := <-workerDone(s.worker):
			return fmt.Errorf("the worker exited at start (log %s): %v", s.worker.log.Name(), err)
		default:
		}
		if status, _, err := s.call(ctx, "GET", "/readyz", ""); err == nil && status == 200 {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("playbookd not ready within 90s (logs in %s)", s.dir)
}

// workerDone is the worker's exit, or nothing when there is no worker.
func workerDone(p *process) <-chan error {
	if p == nil {
		return nil
	}
	return p.done
}

// call sends a request with the admin key and decodes a JSON answer.
func (s *stack) call(ctx context.Context, method, path, body string) (int, map[string]any, error) {
	status, raw, err := s.raw(ctx, method, path, "application/json", body)
	if err != nil {
		return 0, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return status, out, nil
}

func (s *stack) raw(ctx context.Context, method, path, contentType, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, strings.NewReader(body))
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
	status, out, err := s.call(ctx, method, path, body)
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
	if s.worker != nil {
		s.worker.stop()
		s.worker = nil
	}
	if s.api != nil {
		s.api.stop()
		s.api = nil
	}
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
