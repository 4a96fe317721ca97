// Command bench measures playbookd against the targets of PRODUCT.md §10 and
// runs its reliability (chaos) suite, on this machine, against a real
// Temporal dev server and PostgreSQL. Results are printed and written into
// BENCHMARKS.md between markers.
//
//	go run ./cmd/bench -suite perf    # make bench
//	go run ./cmd/bench -suite chaos   # make chaos
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	suite := flag.String("suite", "perf", "perf, chaos, analytics (the analytics measurement alone; perf includes it), "+
		"or approvals (decisions made the moment an approval is listed)")
	topology := flag.String("topology", "devserver", "devserver: a Temporal dev server, one API, one worker; "+
		"cluster: scripts/cluster.sh (a Temporal server on PostgreSQL, two APIs, two workers), brought up and stopped by the suite")
	decisionRates := flag.String("decision-rates", "10,25,50,100", "perf: decision rates (per second), 10 s each through the API and as raw Updates")
	write := flag.String("write", "BENCHMARKS.md", "file whose generated section is replaced; empty: print only")
	adminURL := flag.String("db", envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL URL allowed to create databases (each run makes a fresh one)")
	liveRuns := flag.Int("live-runs", 10000, "perf: live runs for the worker memory figure")
	starts := flag.Int("starts", 2000, "perf: starts per side of the throughput comparison")
	concurrency := flag.Int("concurrency", 32, "perf: concurrent starters")
	rate := flag.Int("rate", 100, "perf: requests per second of the latency figures")
	duration := flag.Duration("duration", 20*time.Second, "perf: how long each latency figure is measured")
	analyticsRuns := flag.Int("analytics-runs", 1000000, "perf, analytics: runs seeded for the analytics figure (issue 27's target: "+
		"1,000,000 runs, 10,000,000 outbox rows; smaller for a quick check)")
	analyticsEmails := flag.Int("analytics-emails", 10, "perf, analytics: outbox rows per seeded run")
	analyticsBody := flag.Int("analytics-body-bytes", 1000, "perf, analytics: html bytes of each seeded outbox row (text: a quarter)")
	analyticsRequests := flag.Int("analytics-requests", 100, "perf, analytics: requests measured per case")
	analyticsKeep := flag.Bool("analytics-keep-db", false, "analytics: keep the seeded database (for EXPLAIN)")
	analyticsDB := flag.String("analytics-db", "", "analytics: measure this database, kept by an earlier -analytics-keep-db run, without seeding")
	approvalCount := flag.Int("approvals", 100, "approvals: approvals decided the moment they are listed")
	runs := flag.Int("runs", 300, "chaos: live runs")
	kills := flag.Int("kills", 4, "chaos: times the worker is killed with SIGKILL")
	restartPG := flag.Bool("restart-postgres", true, "chaos: restart the local PostgreSQL cluster mid-run (pg_ctlcluster); "+
		"it disrupts everything else using it")
	flag.Parse()
	if *topology != "devserver" && *topology != "cluster" {
		fatalf("-topology must be devserver or cluster, got %q", *topology)
	}
	var rates []int
	for _, f := range strings.Split(*decisionRates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fatalf("-decision-rates: %q is not a positive number", f)
		}
		rates = append(rates, n)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	interrupted = ctx
	repo, err := os.Getwd()
	if err != nil {
		fatalf("%v", err)
	}
	var r report
	ana := analyticsOptions{repo: repo, adminURL: *adminURL, runs: *analyticsRuns, emails: *analyticsEmails,
		bodyBytes: *analyticsBody, requests: *analyticsRequests, keepDB: *analyticsKeep, database: *analyticsDB}
	switch *suite {
	case "perf":
		r = runPerf(ctx, perfOptions{repo: repo, adminURL: *adminURL, liveRuns: *liveRuns, starts: *starts,
			concurrency: *concurrency, rate: *rate, duration: *duration, decisions: rates, topology: *topology, analytics: ana})
	case "analytics":
		r = runAnalytics(ctx, ana)
	case "approvals":
		r = runApprovalRace(ctx, approvalRaceOptions{repo: repo, adminURL: *adminURL, topology: *topology,
			approvals: *approvalCount, concurrency: *concurrency})
	case "chaos":
		r = runChaos(ctx, chaosOptions{repo: repo, adminURL: *adminURL, runs: *runs, kills: *kills, restartPostgres: *restartPG,
			topology: *topology})
	default:
		fatalf("unknown suite %q", *suite)
	}
	fmt.Println(r.String())
	if *write != "" {
		if err := r.writeInto(*write, *suite, *topology); err != nil {
			fatalf("%v", err)
		}
		fmt.Fprintf(os.Stderr, "bench: results written into %s\n", *write)
	}
	if r.failed {
		os.Exit(1)
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// report is the Markdown a suite produces.
type report struct {
	b      strings.Builder
	failed bool
}

func (r *report) section(title string) { fmt.Fprintf(&r.b, "\n### %s\n\n", title) }

func (r *report) add(label, text string) {
	if label != "" {
		fmt.Fprintf(&r.b, "**%s**: ", label)
	}
	r.b.WriteString(text)
	if !strings.HasSuffix(text, "\n") {
		r.b.WriteString("\n")
	}
}

func (r *report) String() string { return r.b.String() }

// writeInto replaces the text between <!-- bench:SUITE:begin --> and
// <!-- bench:SUITE:end --> in the file (appending the markers if missing);
// the cluster's figures have markers of their own (bench:SUITE-cluster:...).
func (r *report) writeInto(path, suite, topology string) error {
	key := suite
	if topology == "cluster" {
		key += "-cluster"
	}
	begin, end := "<!-- bench:"+key+":begin -->", "<!-- bench:"+key+":end -->"
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	stamp := fmt.Sprintf("\n_Measured %s with `go run ./cmd/bench %s`._\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		strings.Join(os.Args[1:], " "))
	body := begin + "\n" + stamp + r.String() + "\n" + end
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		text = strings.TrimRight(text, "\n") + "\n\n" + body + "\n"
	} else {
		text = text[:i] + body + text[j+len(end):]
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// machine describes where the figures were measured.
func machine(ctx context.Context, adminURL, topology string) string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "?"
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(raw), "\n", 2)[0], "MemTotal:"), "%f", &kb); err == nil {
			mem = fmt.Sprintf("%.0f GiB", kb/1024/1024)
		}
	}
	pg := "?"
	if pool, err := pgxpool.New(ctx, adminURL); err == nil {
		_ = pool.QueryRow(ctx, "SHOW server_version").Scan(&pg)
		pool.Close()
	}
	temporal := "?"
	if out, err := exec.Command("bin/temporal", "--version").Output(); err == nil {
		temporal = strings.TrimSpace(string(out)) + " (dev server, in memory, one history shard)"
	}
	shared := "API, worker, dev server, PostgreSQL and the load generator share the machine"
	if topology == "cluster" {
		temporal = "Temporal server v1.29.1 (scripts/cluster.sh: on this PostgreSQL, 16 history shards)"
		shared = "The Temporal server, two APIs, two workers, PostgreSQL and the load generator share the machine"
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("%s, %d cores, %s RAM; %s; PostgreSQL %s; %s. "+
		"%s, with other sessions' builds and test runs going on beside them (load average %s at the start).\n",
		cpu, runtime.NumCPU(), mem, runtime.Version(), pg, temporal, shared, strings.Join(strings.Fields(string(load))[:3], " "))
}
