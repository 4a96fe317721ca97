package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// The cluster's frontend and the processes' ports, as scripts/cluster.sh
// sets them; the API and worker ports move when make run's take them.
const (
	clusterTemporalAddr = "127.0.0.1:7333"
	localAdminURL       = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// startCluster brings up scripts/cluster.sh's topology for one suite: its
// own playbookd database and its own Temporal namespace, so workflow IDs of
// earlier runs (kept in the Temporal server's PostgreSQL databases) never
// collide with this run's. An already running cluster is not reused: its
// processes would lack the suite's settings (the SendGrid stand-in).
func startCluster(ctx context.Context, opts stackOptions) (*stack, error) {
	if out, _ := exec.Command(filepath.Join(opts.repo, "scripts", "cluster.sh"), "status").Output(); strings.Contains(string(out), "pid") {
		return nil, fmt.Errorf("a cluster already runs (scripts/cluster.sh status); stop it first: scripts/cluster.sh stop")
	}
	stamp := time.Now().UnixNano()
	// scripts/cluster.sh uses the local PostgreSQL whatever -db says.
	s := &stack{topology: "cluster", repo: opts.repo, adminURL: localAdminURL, http: newHTTPClient(),
		dir: filepath.Join(opts.repo, ".data", "cluster"), dbName: fmt.Sprintf("playbookd_bench_%d", stamp)}
	namespace := fmt.Sprintf("bench-%d", stamp)
	apiPort, metricsPort := freePair(8080, 18080), freePair(9090, 19090)
	env := append(os.Environ(),
		"CLUSTER_DATABASE="+s.dbName,
		"CLUSTER_NAMESPACE="+namespace,
		"CLUSTER_API_PORT="+strconv.Itoa(apiPort),
		"CLUSTER_WORKER_METRICS_PORT="+strconv.Itoa(metricsPort),
		// PostgreSQL's 100 connections are shared with everything else on
		// this machine: at the pools' defaults the cluster alone ran out.
		"CLUSTER_TEMPORAL_DB_CONNS="+envOr("CLUSTER_TEMPORAL_DB_CONNS", "8"),
		"CLUSTER_PLAYBOOKD_DB_CONNS="+envOr("CLUSTER_PLAYBOOKD_DB_CONNS", "8"),
	)
	env = append(env, playbookdEnv(opts.extraEnv)...)
	cleanups = append(cleanups, func() { stopCluster(opts.repo) })
	up := exec.CommandContext(ctx, filepath.Join(opts.repo, "scripts", "cluster.sh"), "up", "--background")
	up.Dir, up.Env, up.Stdout, up.Stderr = opts.repo, env, os.Stderr, os.Stderr
	if err := up.Run(); err != nil {
		s.close()
		return nil, fmt.Errorf("scripts/cluster.sh up: %w", err)
	}
	s.dbURL = strings.Replace(s.adminURL, "/postgres?", "/"+s.dbName+"?", 1)
	var err error
	if s.db, err = pgxpool.New(ctx, s.dbURL); err != nil {
		s.close()
		return nil, err
	}
	if s.client, err = client.Dial(client.Options{HostPort: clusterTemporalAddr, Namespace: namespace}); err != nil {
		s.close()
		return nil, fmt.Errorf("connect to the cluster's Temporal: %w", err)
	}
	for i := range 2 {
		s.bases = append(s.bases, fmt.Sprintf("http://127.0.0.1:%d", apiPort+i))
		s.metrics = append(s.metrics, fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort+i))
		s.apis = append(s.apis, &clusterProc{s: s, proc: fmt.Sprintf("api%d", i+1), ready: s.bases[i] + "/readyz"})
		s.workers = append(s.workers, &clusterProc{s: s, proc: fmt.Sprintf("worker%d", i+1), ready: s.metrics[i]})
	}
	return s, nil
}

// freePair is the first of two consecutive free ports, want if it can be.
func freePair(want, fallback int) int {
	for _, p := range []int{want, fallback} {
		if portFree(p) && portFree(p+1) {
			return p
		}
	}
	fatalf("ports %d-%d and %d-%d are taken", want, want+1, fallback, fallback+1)
	return 0
}

func portFree(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// clusterCmd runs scripts/cluster.sh with arguments, its output on stderr.
func clusterCmd(repo string, args ...string) error {
	cmd := exec.Command(filepath.Join(repo, "scripts", "cluster.sh"), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/cluster.sh %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

func stopCluster(repo string) { _ = clusterCmd(repo, "stop") }

// clusterProc is one process of the cluster, handled through scripts/cluster.sh.
type clusterProc struct {
	s     *stack
	proc  string // api1, worker2, ...
	ready string // the URL that answers 200 once it is up
}

func (c *clusterProc) name() string { return c.proc }

func (c *clusterProc) kill9() error { return clusterCmd(c.s.repo, "kill", c.proc) }

func (c *clusterProc) restart(ctx context.Context) error {
	if err := clusterCmd(c.s.repo, "start", c.proc); err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if status, err := c.s.get(ctx, c.ready); err == nil && status == 200 {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s within 90s (log %s)", c.proc, c.ready, filepath.Join(c.s.dir, c.proc+".log"))
}

func (c *clusterProc) rssMiB() (rss, peak float64, err error) {
	raw, err := os.ReadFile(filepath.Join(c.s.dir, c.proc+".pid"))
	if err != nil {
		return 0, 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, 0, err
	}
	return rssOf(pid)
}

// restartTemporal stops the cluster's Temporal server (SIGTERM) and starts
// it again, waiting until it answers; how long it was away is returned.
func (s *stack) restartTemporal() (time.Duration, error) {
	t0 := time.Now()
	if err := clusterCmd(s.repo, "stop", "temporal"); err != nil {
		return 0, err
	}
	if err := clusterCmd(s.repo, "start", "temporal"); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}
