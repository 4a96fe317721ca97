package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/playbookd/playbookd/internal/historystats"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/simulate"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

// perfOptions sizes the performance suite.
type perfOptions struct {
	repo        string
	adminURL    string
	liveRuns    int           // runs held live for the memory figure (10,000)
	starts      int           // starts per side of the throughput comparison
	concurrency int           // concurrent starters on both sides
	rate        int           // requests per second of the latency figures
	duration    time.Duration // how long each latency figure is measured
	decisions   []int         // decision rates, each measured 10 s through the API and 10 s raw
	topology    string        // devserver or cluster
	analytics   analyticsOptions
}

// Playbooks made for the suite: one that holds a run live for a month, one
// that asks for a decision at once.
const (
	holdPlaybook = `{"key":"bench-hold","name":"Bench: hold","steps":[{"id":"hold","wait":"30d"}]}`
	askPlaybook  = `{"key":"bench-ask","name":"Bench: ask","steps":[
		{"id":"ask","approval":{"assignee":"csm","email":{"template":"welcome","to":["champion"]},"on_expire":"skip"}},
		{"id":"hold","wait":"30d"}]}`
)

func runPerf(ctx context.Context, opts perfOptions) report {
	var r report
	r.add("Machine", machine(ctx, opts.adminURL, opts.topology))

	if opts.topology == "devserver" { // neither depends on the topology
		r.section("Billable Temporal actions per built-in playbook")
		r.add("", actionsTable(opts.repo))
		r.section("Simulation time per built-in playbook")
		r.add("", simulationTable())
	}

	s, err := startStack(ctx, stackOptions{repo: opts.repo, adminURL: opts.adminURL, topology: opts.topology})
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, s.close)
	defer s.close()
	importTook := s.setup(ctx, opts.liveRuns, holdPlaybook, askPlaybook)
	r.section("Bulk import")
	r.add("", fmt.Sprintf("%d accounts through `POST /v1/accounts/import` in %s (%.0f rows/s).",
		opts.liveRuns, importTook.Round(time.Millisecond), float64(opts.liveRuns)/importTook.Seconds()))

	r.section("Enrolment throughput")
	r.add("", throughput(ctx, s, opts))

	r.section("Worker memory with live runs")
	r.add("", workerMemory(ctx, s, opts))

	r.section("API latency at a fixed request rate")
	r.add("", latency(ctx, s, opts))
	s.close()

	r.section(fmt.Sprintf("Playbook analytics at %d runs", opts.analytics.runs))
	r.add("", analyticsLatency(ctx, opts.analytics))
	return r
}

// actionsTable counts the committed histories of full runs of each built-in
// (recorded on a real dev server, see workflows/histories_test.go).
func actionsTable(repo string) string {
	var b strings.Builder
	b.WriteString("| playbook | history events | billable actions | by kind |\n|---|---:|---:|---|\n")
	for _, key := range []string{"onboarding", "red-recovery", "at-risk", "renewal", "expansion"} {
		h, err := historystats.Load(filepath.Join(repo, "workflows", "testdata", "histories", key+".json"))
		if err != nil {
			fatalf("%v", err)
		}
		a := historystats.Count(h)
		fmt.Fprintf(&b, "| %s | %d | %d | %s |\n", key, a.Events, a.Total(), a)
	}
	return b.String()
}

// simulationTable times the simulation of each built-in for one enterprise
// account (the segment with the most steps), median of 20.
func simulationTable() string {
	set, err := templates.Builtin()
	if err != nil {
		fatalf("%v", err)
	}
	sources, err := playbooks.Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		fatalf("%v", err)
	}
	var b strings.Builder
	b.WriteString("| playbook | median | slowest of 20 | timeline entries |\n|---|---:|---:|---:|\n")
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for _, src := range sources {
		var times []time.Duration
		entries := 0
		for range 20 {
			t0 := time.Now()
			res, err := simulate.Run(simulate.Sample(src.Definition, "enterprise", start))
			if err != nil {
				fatalf("simulate %s: %v", src.Key, err)
			}
			times = append(times, time.Since(t0))
			entries = len(res.Timeline)
		}
		slices.Sort(times)
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", src.Key, ms(times[len(times)/2]), ms(times[len(times)-1]), entries)
	}
	return b.String()
}

// throughput compares enrolling accounts through the API with starting the
// same workflow (same input, same task queue, so the worker does the same
// work after either) straight from an SDK client, on the same dev server in
// the same run, alternating halves so neither side gets the quieter moment.
// The API side enrols acct-0..n-1, the raw side acct-n..2n-1.
func throughput(ctx context.Context, s *stack, opts perfOptions) string {
	n, c := opts.starts, opts.concurrency
	def, err := playbook.Parse([]byte(holdPlaybook), playbook.Options{})
	if err != nil {
		fatalf("%v", err)
	}
	var failures atomic.Int64
	rawSide := func(from, to int) time.Duration {
		t0 := time.Now()
		parallel(to-from, c, func(i int) {
			account := fmt.Sprintf("acct-%d", n+from+i)
			_, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: workflows.RunWorkflowID("bench-hold", account), TaskQueue: benchTaskQueue,
			}, workflows.PlaybookRunName, workflows.RunInput{RunID: uuid.NewString(), AccountID: account,
				PlaybookKey: "bench-hold", PlaybookVersion: 1, Definition: *def})
			if err != nil {
				failures.Add(1)
			}
		})
		return time.Since(t0)
	}
	apiSide := func(from, to int) time.Duration {
		t0 := time.Now()
		parallel(to-from, c, func(i int) {
			status, _, err := s.callAt(ctx, s.base(i), "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"bench-hold","account_id":"acct-%d"}`, from+i))
			if err != nil || status != 201 {
				failures.Add(1)
			}
		})
		return time.Since(t0)
	}
	// Each quarter starts once the worker has begun every run so far, so no
	// side pays for the other's follow-up work.
	begun := 0
	drain := func(d time.Duration, started int) time.Duration {
		begun += started
		waitFor("the worker to begin every run", 10*time.Minute, func() bool { return activityCount(s, "BeginRun") >= float64(begun) })
		return d
	}
	half := n / 2
	raw := drain(rawSide(0, half), half)
	api := drain(apiSide(0, half), half)
	api += drain(apiSide(half, n), n-half)
	raw += drain(rawSide(half, n), n-half)
	if failures.Load() > 0 {
		fatalf("%d starts failed", failures.Load())
	}
	rawRate, apiRate := float64(n)/raw.Seconds(), float64(n)/api.Seconds()
	httpMean := meanOf(s.apiMetrics(), "playbookd_http_request_duration_seconds", `route="/v1/runs"`)
	startMean := meanOf(s.apiMetrics(), "temporal_request_latency", `operation="StartWorkflowExecution"`)
	return fmt.Sprintf(`%d enrolments each way, %d concurrent clients (the API side rotating over %d API replica(s)), in halves (raw, API, API, raw) on the
same Temporal server, each half starting once the workers had begun every earlier run. Where an enrolment's time goes, from the
API's own metrics: %s per `+"`POST /v1/runs`"+` on average, of which %s waiting for Temporal's
StartWorkflowExecution; a raw start took %s on average (concurrency / rate).
`, n, c, len(s.bases), ms(httpMean), ms(startMean), ms(time.Duration(float64(c)/rawRate*float64(time.Second)))) + fmt.Sprintf(`

| path | runs started/s | took |
|---|---:|---:|
| raw: SDK `+"`ExecuteWorkflow`"+` of the same workflow and input | %.0f | %s |
| `+"`POST /v1/runs`"+` (auth, validation, account snapshot, definition, start, run row) | %.0f | %s |

Ratio API / raw: **%.0f %%** (target ≥ 80 %%).
`, rawRate, raw.Round(time.Millisecond), apiRate, api.Round(time.Millisecond), 100*apiRate/rawRate)
}

// apiMetrics are the API replicas' Prometheus endpoints.
func (s *stack) apiMetrics() []string {
	out := make([]string, len(s.bases))
	for i, b := range s.bases {
		out[i] = b + "/metrics"
	}
	return out
}

// meanOf reads a histogram's mean from Prometheus endpoints, over the series
// whose labels contain match.
func meanOf(urls []string, name, match string) time.Duration {
	var lines []string
	for _, u := range urls {
		lines = append(lines, scrape(u)...)
	}
	count := sumOf(lines, name+"_count", match)
	if count == 0 {
		return 0
	}
	return time.Duration(sumOf(lines, name+"_sum", match) / count * float64(time.Second))
}

// scrape reads a Prometheus endpoint's lines; none when it does not answer.
func scrape(url string) []string {
	resp, err := http.Get(url)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return strings.Split(string(raw), "\n")
}

// sumOf adds the values of a series over the label sets containing match.
func sumOf(lines []string, series, match string) float64 {
	total := 0.0
	for _, line := range lines {
		if strings.HasPrefix(line, series+"{") && strings.Contains(line, match) {
			if v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64); err == nil {
				total += v
			}
		}
	}
	return total
}

// workerMemory starts runs until opts.liveRuns are live, waits for the
// worker to have begun every one, and reads its resident memory.
func workerMemory(ctx context.Context, s *stack, opts perfOptions) string {
	started := time.Now()
	parallel(opts.liveRuns-2*opts.starts, opts.concurrency, func(i int) {
		s.mustAt(ctx, s.base(i), 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"bench-hold","account_id":"acct-%d"}`, i+2*opts.starts))
	})
	waitFor("every run begun by the worker", 10*time.Minute, func() bool {
		return activityCount(s, "BeginRun") >= float64(opts.liveRuns)
	})
	took := time.Since(started)
	time.Sleep(5 * time.Second) // let the last workflow tasks settle
	live := s.count(ctx, `SELECT count(*) FROM runs WHERE status = 'running'`)
	var b strings.Builder
	fmt.Fprintf(&b, `%d live runs (each waiting on a 30-day timer after its first activity), on %d worker process(es). A worker keeps at
most WORKFLOW_CACHE_SIZE runs in memory between their steps (default 2,000; the SDK's own default,
10,000, would cache every one of them); the others are replayed from history when their next step comes.
Starting the %d further runs and the workers beginning all of them took %s.

| worker process | runs begun (BeginRun) | resident (VmRSS) MiB | peak resident (VmHWM) MiB |
|---|---:|---:|---:|
`, live, len(s.workers), opts.liveRuns-2*opts.starts, took.Round(time.Second))
	for i, w := range s.workers {
		rss, peak, err := w.rssMiB()
		if err != nil {
			fatalf("worker memory: %v", err)
		}
		begun := sumOf(scrape(s.metrics[i]), "temporal_activity_execution_latency_count", `activity_type="BeginRun"`)
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.0f |\n", w.name(), begun, rss, peak)
	}
	b.WriteString("\nTarget ≤ 300 MB (per worker process).\n")
	return b.String()
}

// activityCount sums the workers' executed activities of one type.
func activityCount(s *stack, activityType string) float64 {
	total := 0.0
	for _, u := range s.metrics {
		total += sumOf(scrape(u), "temporal_activity_execution_latency_count", `activity_type="`+activityType+`"`)
	}
	return total
}

// latency measures reads and decisions at a fixed rate (open loop: requests
// leave on schedule whether or not earlier ones have answered).
func latency(ctx context.Context, s *stack, opts perfOptions) string {
	total := int(opts.duration.Seconds()) * opts.rate
	runIDs := s.strings(ctx, `SELECT id::text FROM runs ORDER BY started_at LIMIT 500`)
	reads := []struct {
		name string
		path func(i int) string
	}{
		{"GET /v1/accounts/{id}", func(i int) string { return fmt.Sprintf("/v1/accounts/acct-%d", i%opts.liveRuns) }},
		{"GET /v1/runs?account_id=", func(i int) string { return fmt.Sprintf("/v1/runs?account_id=acct-%d", i%opts.liveRuns) }},
		{"GET /v1/tasks?assignee=", func(int) string { return "/v1/tasks?assignee=csm@bench.test&status=open" }},
		{"GET /v1/runs/{id} (workflow query)", func(i int) string { return "/v1/runs/" + runIDs[i%len(runIDs)] }},
	}
	readLat := openLoop(opts.rate, total, func(i int) (string, bool) {
		r := reads[i%len(reads)]
		status, _, err := s.rawAt(ctx, s.base(i/len(reads)), "GET", r.path(i), "", "")
		return r.name, err == nil && status == 200
	})

	var b strings.Builder
	fmt.Fprintf(&b, "Reads: %d requests/s for %s, open loop, with %d live runs, rotating over four endpoints "+
		"(and over %d API replica(s)). Errors are answers other than 200, or no answer within 30 s.\n\n",
		opts.rate, opts.duration, opts.liveRuns, len(s.bases))
	b.WriteString("| requests | count | errors | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, l := range readLat.rows("reads, all") {
		b.WriteString(l)
	}
	b.WriteString("\nTarget p99 < 50 ms at 100 requests/s for reads and decisions.\n")
	b.WriteString(decisions(ctx, s, opts))
	return b.String()
}

// decisions measures approving pending approvals at rising rates, 10 s
// each, through the API and as the raw SDK Update the API sends (the same
// Update name, argument and wait stage, straight through a Temporal
// client) on runs of the same playbook, so the API's own cost is a ratio
// that does not depend on how fast this machine's Temporal server is. At
// each rate the two sides take turns going first.
func decisions(ctx context.Context, s *stack, opts perfOptions) string {
	// Each decision needs a pending approval: one run of bench-ask per
	// account, twice as many as the API side approves.
	asks := 0
	for _, r := range opts.decisions {
		asks += 2 * r * 10
	}
	asks = min(asks, opts.liveRuns)
	parallel(asks, opts.concurrency, func(i int) {
		s.mustAt(ctx, s.base(i), 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"bench-ask","account_id":"acct-%d"}`, i))
	})
	waitFor("pending approvals", 10*time.Minute, func() bool {
		return s.count(ctx, `SELECT count(*) FROM approvals WHERE status = 'pending'`) >= asks
	})
	type pending struct{ approval, workflow string }
	rows, err := s.db.Query(ctx, `SELECT a.id::text, r.workflow_id FROM approvals a JOIN runs r ON r.id = a.run_id
		WHERE a.status = 'pending' ORDER BY a.created_at`)
	if err != nil {
		fatalf("%v", err)
	}
	var queue []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.approval, &p.workflow); err != nil {
			fatalf("%v", err)
		}
		queue = append(queue, p)
	}
	rows.Close()

	api := func(rate int, batch []pending) *latencies {
		return openLoop(rate, len(batch), func(i int) (string, bool) {
			status, _, err := s.rawAt(ctx, s.base(i), "POST", "/v1/approvals/"+batch[i].approval+"/decision",
				"application/json", `{"decision":"approve"}`)
			return "api", err == nil && status == 200
		})
	}
	raw := func(rate int, batch []pending) *latencies {
		return openLoop(rate, len(batch), func(i int) (string, bool) {
			// The same patience as the HTTP client's with the API.
			ctx, cancel := context.WithTimeout(ctx, s.http.Timeout)
			defer cancel()
			h, err := s.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: batch[i].workflow, UpdateName: workflows.DecideUpdate,
				Args:         []any{workflows.Decision{ApprovalID: batch[i].approval, Decision: "approve", By: "admin"}},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err == nil {
				var res workflows.DecisionResult
				err = h.Get(ctx, &res)
			}
			return "raw", err == nil
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, `
Decisions: at each rate, 10 s of `+"`POST /v1/approvals/{id}/decision`"+` (rotating over %d API replica(s)) and 10 s of the
raw SDK Update the API sends (`+"`UpdateWorkflow`"+` of the same Update with the same argument, waiting for it to
complete, from the load generator's own Temporal client), each approving a distinct pending approval of a live run
of the same playbook; the run then sends the approved email and starts a timer. The sides take turns going first;
after each, the suite waits until every approved run has sent its email, then 2 s. Answered/s = successful
answers / (last answer − first request); an error is a refusal or no answer within 30 s, on either side.

| rate asked | API: answered/s | raw Update: answered/s | API / raw | API p50 | API p99 | raw p50 | raw p99 | errors API / raw |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
`, len(s.bases))
	for k, rate := range opts.decisions {
		n := min(rate*10, len(queue)/2)
		if n == 0 {
			break
		}
		apiBatch, rawBatch := queue[:n], queue[n:2*n]
		queue = queue[2*n:]
		var a, r *latencies
		if k%2 == 0 {
			r = raw(rate, rawBatch)
			drainDecisions(ctx, s)
			a = api(rate, apiBatch)
		} else {
			a = api(rate, apiBatch)
			drainDecisions(ctx, s)
			r = raw(rate, rawBatch)
		}
		drainDecisions(ctx, s)
		ap, rp := a.by["api"], r.by["raw"]
		fmt.Fprintf(&b, "| %d/s | %.1f | %.1f | **%.0f %%** | %s | %s | %s | %s | %d / %d |\n", rate,
			a.achieved(), r.achieved(), 100*a.achieved()/r.achieved(),
			ms(pct(ap, 0.50)), ms(pct(ap, 0.99)), ms(pct(rp, 0.50)), ms(pct(rp, 0.99)), a.errors["api"], r.errors["raw"])
	}
	b.WriteString("\nTarget: API decisions ≥ 90 % of raw Updates at the same rate; p99 < 50 ms at 100/s.\n")
	return b.String()
}

// drainDecisions waits until every approved run has sent its approved
// email (the follow-up work of a decision), then 2 s more, so neither side
// of the comparison pays for the other's backlog.
func drainDecisions(ctx context.Context, s *stack) {
	waitFor("the approved emails", 10*time.Minute, func() bool {
		return s.count(ctx, `SELECT (SELECT count(*) FROM approvals WHERE status = 'approved') -
			(SELECT count(*) FROM emails e JOIN runs r ON r.id = e.run_id WHERE r.playbook_key = 'bench-ask')`) <= 0
	})
	time.Sleep(2 * time.Second)
}

type latencies struct {
	mu     sync.Mutex
	by     map[string][]time.Duration
	errors map[string]int
	count  int
	took   time.Duration // from the first request to the last answer
}

// achieved is the rate of successful answers: answers other than errors /
// (last answer - first request).
func (l *latencies) achieved() float64 {
	errs := 0
	for _, n := range l.errors {
		errs += n
	}
	return float64(l.count-errs) / l.took.Seconds()
}

// openLoop sends total requests at rate per second and records each one's
// latency under the name send returns.
func openLoop(rate, total int, send func(i int) (string, bool)) *latencies {
	l := &latencies{by: map[string][]time.Duration{}, errors: map[string]int{}, count: total}
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var first time.Time
	for i := range total {
		<-tick.C
		if i == 0 {
			first = time.Now()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			name, ok := send(i)
			d := time.Since(t0)
			l.mu.Lock()
			defer l.mu.Unlock()
			l.by[name] = append(l.by[name], d)
			if !ok {
				l.errors[name]++
			}
		}()
	}
	wg.Wait()
	l.took = time.Since(first)
	return l
}

// rows renders one table row per request kind, plus an "all" row when named.
func (l *latencies) rows(all string) []string {
	names := make([]string, 0, len(l.by))
	var every []time.Duration
	errs := 0
	for name, ds := range l.by {
		names = append(names, name)
		every = append(every, ds...)
		errs += l.errors[name]
	}
	slices.Sort(names)
	var out []string
	if all != "" {
		out = append(out, row(all, every, errs))
	}
	for _, name := range names {
		out = append(out, row(name, l.by[name], l.errors[name]))
	}
	return out
}

func row(name string, ds []time.Duration, errs int) string {
	slices.Sort(ds)
	return fmt.Sprintf("| %s | %d | %d | %s | %s | %s |\n", name, len(ds), errs, ms(pct(ds, 0.50)), ms(pct(ds, 0.99)), ms(ds[len(ds)-1]))
}

// pct is the p-th percentile of durations (sorted here).
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(p*float64(len(ds))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
