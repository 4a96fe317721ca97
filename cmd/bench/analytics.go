package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playbookd/playbookd/playbook"
)

// analyticsOptions sizes the analytics measurement.
type analyticsOptions struct {
	repo      string
	adminURL  string
	runs      int    // runs seeded (1,000,000: issue 27's target)
	emails    int    // outbox rows per run (10: 10,000,000 rows)
	bodyBytes int    // html bytes per outbox row (text is a quarter of it)
	requests  int    // requests measured per case
	keepDB    bool   // leave the seeded database for EXPLAIN
	database  string // measure a database seeded and kept by an earlier run
}

// runAnalytics is `-suite analytics` alone: the stack without a worker.
func runAnalytics(ctx context.Context, opts analyticsOptions) report {
	var r report
	r.add("Machine", machine(ctx, opts.adminURL, "devserver"))
	r.section(fmt.Sprintf("Playbook analytics at %d runs", opts.runs))
	r.add("", analyticsLatency(ctx, opts))
	return r
}

// analyticsLatency seeds runs, outbox rows, SendGrid events, tasks,
// approvals, health snapshots and account events with set-based SQL
// straight into PostgreSQL (no workflows: the endpoint reads only
// PostgreSQL), then times GET /v1/playbooks/{key}/analytics through the
// running API, one request at a time.
func analyticsLatency(ctx context.Context, opts analyticsOptions) string {
	s, err := startStack(ctx, stackOptions{repo: opts.repo, adminURL: opts.adminURL, noWorker: true, database: opts.database})
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, s.close)
	defer s.close()
	if opts.keepDB {
		defer func() { fmt.Printf("bench: the seeded database %s is kept\n", s.dbName); s.dbName = "" }()
	}
	var seeded seeding
	if opts.database == "" {
		seeded = seedAnalytics(ctx, s.db, opts)
	}
	emails := s.count(ctx, `SELECT count(*) FROM emails`)
	events := s.count(ctx, `SELECT count(*) FROM sendgrid_events`)
	tasks := s.count(ctx, `SELECT count(*) FROM tasks`)
	approvals := s.count(ctx, `SELECT count(*) FROM approvals`)
	firstLogins := s.count(ctx, `SELECT count(*) FROM events WHERE type = 'event:first_login'`)
	firstValues := s.count(ctx, `SELECT count(*) FROM events WHERE type = 'event:first_value'`)
	var size string
	if err := s.db.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size); err != nil {
		fatalf("database size: %v", err)
	}

	// Runs start 41 to 300 days ago (see seedAnalytics): 70 to 41 days ago,
	// both days included, is 30 days of starts.
	from, to := time.Now().UTC().AddDate(0, 0, -70).Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, -41).Format(time.DateOnly)
	// Every start: from the 2nd of the month of the first starts (300 days
	// ago) to the 30th (or the last day) of the month 41 days ago.
	first, last := time.Now().UTC().AddDate(0, 0, -300), time.Now().UTC().AddDate(0, 0, -41)
	midFrom := time.Date(first.Year(), first.Month(), 2, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	midTo := time.Date(last.Year(), last.Month(), 30, 0, 0, 0, 0, time.UTC)
	if midTo.Month() != last.Month() { // February
		midTo = time.Date(last.Year(), last.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	}
	cases := []struct{ name, path string }{
		{fmt.Sprintf("onboarding, one version (%d runs)", opts.runs*3/10), "/v1/playbooks/onboarding/analytics?version=2"},
		{fmt.Sprintf("onboarding, every version (2 × %d runs)", opts.runs*3/10), "/v1/playbooks/onboarding/analytics"},
		{fmt.Sprintf("red-recovery, every version (%d runs, with health)", opts.runs*2/10), "/v1/playbooks/red-recovery/analytics"},
		{fmt.Sprintf("onboarding, one version, runs started in 30 days (%s to %s)", from, to),
			"/v1/playbooks/onboarding/analytics?version=2&from=" + from + "&to=" + to},
		// The summaries read whole months by month and the other days one
		// by one: a period from the 2nd of a month to the 30th of a month
		// reads the most days for its length.
		{fmt.Sprintf("onboarding, every version, runs started %s to %s (the most days read one by one)", midFrom, midTo.Format(time.DateOnly)),
			"/v1/playbooks/onboarding/analytics?from=" + midFrom + "&to=" + midTo.Format(time.DateOnly)},
	}
	// A slow answer is a figure, not an error: wait for it.
	s.http.Timeout = 5 * time.Minute
	var b strings.Builder
	fmt.Fprintf(&b, "Seeded with set-based SQL (`generate_series`, in chunks of runs on %d sessions at once) into a fresh database: %d runs "+
		"(onboarding v1 and v2 30 %% each, red-recovery and renewal 20 %% each; 70 %% completed, 20 %% live, 10 %% cancelled; "+
		"started 41 to 300 days ago), %d outbox rows (%d per run over the playbook's email steps, %d-byte html and "+
		"%d-byte text bodies, 2 %% skipped, 1 %% failed), %d SendGrid events (delivered, open, click, bounce, unsubscribe; "+
		"the outbox rows' flags agree with them), %d tasks, %d approvals, two health snapshots per recovery and renewal run, "+
		"and for onboarding runs' accounts %d `first_login` and %d `first_value` reports (1 to 14 and 3 to 39 days after the start). "+
		"The seeding sessions run with `session_replication_role = replica`, so no row trigger fires (nor foreign-key checks: "+
		"the rows are consistent by construction; the accounts' ARR history, which a trigger keeps in service, is written by "+
		"the same statement); the outbox's, events', tasks' and approvals' indexes and keys are dropped before their rows and "+
		"built once after. Then `VACUUM ANALYZE` (autovacuum would do the same in service; index-only scans need the "+
		"visibility map) and, where the schema has it, `analytics_rebuild()` (the summaries from history, with triggers on) "+
		"and `VACUUM ANALYZE` of what it wrote. Database size after seeding: %s.\n\n",
		seedSessions(), opts.runs, emails, opts.emails, opts.bodyBytes, opts.bodyBytes/4, events, tasks, approvals,
		firstLogins, firstValues, size)
	if opts.database != "" {
		fmt.Fprintf(&b, "This run measured the database %s, seeded and kept by an earlier run (its seeding times are not in this run).\n\n", opts.database)
	} else {
		fmt.Fprintf(&b, "Load average (1, 5, 15 min) before seeding: %s.\n\n", seeded.loadBefore)
		b.WriteString("| seeding step | rows | took | load average after |\n|---|---:|---:|---|\n")
		for _, p := range seeded.phases {
			rows := ""
			if p.rows > 0 {
				rows = fmt.Sprint(p.rows)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", p.name, rows, p.took.Round(10*time.Millisecond), p.load)
		}
		fmt.Fprintf(&b, "| **total** | | **%s** | %s |\n\n", seeded.total.Round(10*time.Millisecond), seeded.loadAfter)
	}
	fmt.Fprintf(&b, "Latency of `GET /v1/playbooks/{key}/analytics` through the running API (HTTP, JSON, the admin key), "+
		"closed loop: %d requests per case one after another, after 3 unmeasured ones (default period: the year to today); "+
		"errors are answers other than 200 or none within 5 minutes. Load average (1, 5, 15 min) when measuring began: %s.\n\n",
		opts.requests, loadAverage())
	b.WriteString("| request | count | errors | p50 | p99 | max | 1-min load average, start → end |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, c := range cases {
		for range 3 {
			_, _, _ = s.raw(ctx, "GET", c.path, "", "")
		}
		loadStart := loadAverage1()
		var ds []time.Duration
		errs := 0
		for range opts.requests {
			t0 := time.Now()
			status, _, err := s.raw(ctx, "GET", c.path, "", "")
			ds = append(ds, time.Since(t0))
			if err != nil || status != 200 {
				errs++
			}
		}
		fmt.Fprintf(&b, "%s %s → %s |\n", strings.TrimSuffix(row(c.name, ds, errs), "\n"), loadStart, loadAverage1())
	}
	return b.String()
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures: the machine is
// shared, and a figure means little without what else it was doing.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if err != nil || len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func loadAverage1() string { return strings.Fields(loadAverage() + " ?")[0] }

type seedPhase struct {
	name string
	rows int64
	took time.Duration
	load string // load average when it ended
}

type seeding struct {
	phases                []seedPhase
	total                 time.Duration
	loadBefore, loadAfter string
}

// seedSessions is how many sessions seed at once: one INSERT ... SELECT
// uses one core, and the database is on this machine.
// (At 100,000 runs, two sessions seeded the outbox in 15 s, one in 20 s.)
func seedSessions() int { return max(1, runtime.NumCPU()) }

// seeder runs the seeding's SQL on its sessions and times each step.
type seeder struct {
	ctx     context.Context
	conns   []*pgxpool.Conn
	started time.Time
	phases  []seedPhase
}

func (sd *seeder) done(name string, rows int64, t0 time.Time) {
	p := seedPhase{name: name, rows: rows, took: time.Since(t0), load: loadAverage()}
	sd.phases = append(sd.phases, p)
	what := name
	if rows > 0 {
		what = fmt.Sprintf("%s (%d rows)", name, rows)
	}
	fmt.Printf("bench: seeded: %s in %s, %s into seeding, load average %s\n",
		what, p.took.Round(10*time.Millisecond), time.Since(sd.started).Round(time.Second), p.load)
}

// step runs one statement on the first session.
func (sd *seeder) step(name, sql string, args ...any) {
	t0 := time.Now()
	tag, err := sd.conns[0].Exec(sd.ctx, sql, args...)
	if err != nil {
		fatalf("seed %s: %v", name, err)
	}
	rows := tag.RowsAffected()
	if !tag.Insert() && !strings.HasPrefix(tag.String(), "SELECT ") { // CREATE TABLE AS says SELECT n
		rows = 0
	}
	sd.done(name, rows, t0)
}

// perRuns runs sql, whose $1 and $2 bound the run numbers (bench_runs.i,
// from $1 included to $2 excluded), over every run in chunks, on all the
// sessions at once, printing progress: one statement over 10,000,000 rows
// would use one core and say nothing for many minutes.
func (sd *seeder) perRuns(name string, runs int, sql string) {
	t0 := time.Now()
	chunk := max(1000, (runs+19)/20)
	chunks := (runs + chunk - 1) / chunk
	var (
		next, finished, rows atomic.Int64
		wg                   sync.WaitGroup
	)
	for _, c := range sd.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= runs {
					return
				}
				tag, err := c.Exec(sd.ctx, sql, lo, min(lo+chunk, runs))
				if err != nil {
					fatalf("seed %s (runs %d to %d): %v", name, lo, min(lo+chunk, runs), err)
				}
				n, total := finished.Add(1), rows.Add(tag.RowsAffected())
				if chunks > 1 {
					fmt.Printf("bench: seeding %s: chunk %d/%d, %d rows in %s (load average %s)\n",
						name, n, chunks, total, time.Since(t0).Round(time.Second), loadAverage())
				}
			}
		}()
	}
	wg.Wait()
	sd.done(name, rows.Load(), t0)
}

// seedAnalytics writes the data set and returns how long each step took.
func seedAnalytics(ctx context.Context, db *pgxpool.Pool, opts analyticsOptions) seeding {
	out := seeding{loadBefore: loadAverage()}
	sd := &seeder{ctx: ctx, started: time.Now()}
	for range seedSessions() {
		conn, err := db.Acquire(ctx)
		if err != nil {
			fatalf("acquire: %v", err)
		}
		defer conn.Release()
		// replica: row triggers (and the foreign keys' checks, which are
		// triggers) do not fire for the millions of rows seeded here; what
		// triggers keep is written or rebuilt from history after. It needs a
		// superuser, as the bench connects. More sort memory for the indexes
		// built after the rows.
		if _, err := conn.Exec(ctx, `SET session_replication_role = replica; SET maintenance_work_mem = '1GB'`); err != nil {
			fatalf("seeding session: %v", err)
		}
		sd.conns = append(sd.conns, conn)
	}
	fmt.Printf("bench: seeding %d runs and %d outbox rows on %d sessions (load average %s)\n",
		opts.runs, opts.runs*opts.emails, len(sd.conns), out.loadBefore)

	// The steps each playbook's runs leave records of, from the built-ins
	// the API published at start: a table every session sees, dropped at the
	// end like bench_runs.
	sd.step("step table", `CREATE UNLOGGED TABLE bench_steps (key text, kind text, idx int, step text, n int)`)
	writeBenchSteps(ctx, sd.conns[0])

	sd.step("onboarding version 2", `
		INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
		SELECT key, 2, name, 'draft', definition, source, source_format FROM playbook_versions WHERE key = 'onboarding' AND version = 1`)
	sd.step("team member", `INSERT INTO team_members (email, name, level) VALUES ('csm@bench.test', 'Casey', 'csm')`)
	// The trigger accounts_arr_history does not fire here: the statement
	// writes what it would.
	sd.perRuns("accounts and their ARR history", opts.runs, `
		WITH a AS (
			INSERT INTO accounts (id, name, arr, segment, csm_id, timezone, lifecycle_stage, status)
			SELECT 'acct-' || i, 'Account ' || i, 5000 + i, 'smb', (SELECT id FROM team_members WHERE email = 'csm@bench.test'),
			       'UTC', 'adoption', CASE WHEN i % 50 = 0 THEN 'churned' ELSE 'active' END
			FROM generate_series($1::int, $2::int - 1) i
			RETURNING id, arr, status)
		INSERT INTO arr_history (account_id, arr, status) SELECT id, arr, status FROM a`)
	// Run i of account acct-i, numbered so that the later steps take the
	// runs chunk by chunk: i % 10 picks the playbook, (i / 10) % 10 the
	// status.
	sd.step("run numbers", `
		CREATE UNLOGGED TABLE bench_runs AS
		SELECT i, gen_random_uuid() AS id, 'acct-' || i AS account_id, p.key AS playbook_key, p.version AS playbook_version, s.status,
		       CASE s.status WHEN 'completed' THEN CASE WHEN p.key = 'red-recovery' AND j % 2 = 0 THEN 'recovered'
		                                                WHEN j = 9 THEN 'churned' ELSE 'completed' END
		                     WHEN 'cancelled' THEN 'cancelled' END AS outcome,
		       t.started AS started_at,
		       CASE WHEN s.status IN ('completed', 'cancelled') THEN t.started + make_interval(days => 1 + i % 40) END AS ended_at
		FROM generate_series(0, `+fmt.Sprint(opts.runs)+` - 1) i
		CROSS JOIN LATERAL (SELECT (i / 10) % 10 AS j) jj
		CROSS JOIN LATERAL (SELECT CASE WHEN i % 10 < 6 THEN 'onboarding' WHEN i % 10 < 8 THEN 'red-recovery' ELSE 'renewal' END AS key,
		                           CASE WHEN i % 10 BETWEEN 3 AND 5 THEN 2 ELSE 1 END AS version) p
		CROSS JOIN LATERAL (SELECT CASE WHEN j < 6 OR j = 9 THEN 'completed' WHEN j < 8 THEN 'running' ELSE 'cancelled' END AS status) s
		CROSS JOIN LATERAL (SELECT now() - make_interval(days => 41 + i % 260, secs => i % 86400) AS started) t`)
	sd.step("run numbers' key", `ALTER TABLE bench_runs ADD PRIMARY KEY (i)`)
	sd.perRuns("runs", opts.runs, `
		INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at)
		SELECT id, account_id, playbook_key, playbook_version, 'bench/' || i, 'r', status, outcome, started_at, ended_at
		FROM bench_runs WHERE i >= $1 AND i < $2`)

	// Row by row, each uuid-keyed B-tree takes every insert at a random
	// place; sorted once after the rows, it is built in a fraction of that.
	var deferred []deferredIndexes
	t0 := time.Now()
	for _, table := range []string{"emails", "sendgrid_events", "tasks", "approvals", "events"} {
		deferred = append(deferred, deferIndexes(ctx, sd.conns[0], table))
	}
	sd.done("indexes and keys of emails, sendgrid_events, tasks, approvals and events dropped", 0, t0)

	// An outbox row's id, status and engagement are functions of its run
	// and number, so the SendGrid events step finds them again without
	// reading the outbox (whose indexes are not there yet), and the flags
	// the webhook would set agree with the events without an UPDATE of
	// every row.
	emailsOfRuns := fmt.Sprintf(`
		FROM bench_runs r
		CROSS JOIN generate_series(0, %d - 1) x
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'email' AND b.idx = x %% b.n
		CROSS JOIN LATERAL (SELECT md5(r.id::text || ':' || x)::uuid AS id, abs(hashtext(r.id::text || x)) %% 100 AS s,
		                           abs(hashtext(x || ':' || r.id::text)) %% 1000 AS h) m
		CROSS JOIN LATERAL (SELECT CASE WHEN m.s < 2 THEN 'skipped' WHEN m.s = 2 THEN 'failed' ELSE 'sent' END AS status,
		                           r.started_at + make_interval(days => x) AS at) st`, opts.emails)
	sd.perRuns("outbox", opts.runs, fmt.Sprintf(`
		INSERT INTO emails (id, run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, created_at, sent_at,
		                    delivered, opened, clicked, bounced, unsubscribed)
		SELECT m.id, r.id, b.step, r.account_id, 'c' || x || '@' || r.account_id || '.test', 'bench', 'A subject line',
		       repeat('h', %d), repeat('t', %d), st.status, st.at, st.at,
		       st.status = 'sent' AND m.h < 950, st.status = 'sent' AND m.h < 450, st.status = 'sent' AND m.h < 120,
		       st.status = 'sent' AND m.h >= 970, st.status = 'sent' AND m.h BETWEEN 500 AND 504
		%s
		WHERE r.i >= $1 AND r.i < $2`, opts.bodyBytes, opts.bodyBytes/4, emailsOfRuns))
	// A click counts as an open (the flag opened), as the webhook has it.
	sd.perRuns("SendGrid events", opts.runs, `
		INSERT INTO sendgrid_events (event_key, event, email_id, occurred_at)
		SELECT m.id || ':' || ev.name, ev.name, m.id, st.at + make_interval(mins => ev.k)
		`+emailsOfRuns+`
		CROSS JOIN (VALUES ('delivered', 0), ('open', 1), ('click', 2), ('bounce', 3), ('unsubscribe', 4)) ev (name, k)
		WHERE r.i >= $1 AND r.i < $2 AND st.status = 'sent'
		  AND CASE ev.k WHEN 0 THEN m.h < 950 WHEN 1 THEN m.h < 450 WHEN 2 THEN m.h < 120
		                WHEN 3 THEN m.h >= 970 ELSE m.h BETWEEN 500 AND 504 END`)
	sd.perRuns("tasks", opts.runs, `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, status, due_at, created_at, closed_at)
		SELECT r.id, b.step, r.account_id, (SELECT id FROM team_members WHERE email = 'csm@bench.test'), 'A task', s.status,
		       r.started_at + make_interval(days => 1 + b.idx),
		       r.started_at, CASE WHEN s.status <> 'open' THEN r.started_at + make_interval(hours => 4 + h % 72) END
		FROM bench_runs r
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'task'
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text || b.step)) % 100 AS h) hh
		CROSS JOIN LATERAL (SELECT CASE WHEN h < 60 THEN 'completed' WHEN h < 90 THEN 'open' ELSE 'cancelled' END AS status) s
		WHERE r.i >= $1 AND r.i < $2`)
	sd.perRuns("approvals", opts.runs, `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, status, draft, expires_at, created_at, decided_at)
		SELECT r.id, b.step, r.account_id, (SELECT id FROM team_members WHERE email = 'csm@bench.test'), s.status, '{}',
		       r.started_at + interval '2 days', r.started_at,
		       CASE WHEN s.status <> 'pending' THEN r.started_at + make_interval(mins => 30 + h * 7) END
		FROM bench_runs r
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'approval'
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text)) % 100 AS h) hh
		CROSS JOIN LATERAL (SELECT CASE WHEN h < 55 THEN 'approved' WHEN h < 70 THEN 'rejected' WHEN h < 85 THEN 'expired'
		                                WHEN h < 95 THEN 'cancelled' ELSE 'pending' END AS status) s
		WHERE r.i >= $1 AND r.i < $2`)
	sd.perRuns("health snapshots", opts.runs, `
		INSERT INTO health_snapshots (account_id, score, band, measured_at)
		SELECT r.account_id, v.score, CASE WHEN v.score >= 80 THEN 'green' WHEN v.score >= 50 THEN 'yellow' ELSE 'red' END, v.at
		FROM bench_runs r
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text)) % 100 AS h) hh
		CROSS JOIN LATERAL (VALUES (20 + h % 40, r.started_at - interval '1 hour'),
		                           (30 + h % 70, COALESCE(r.ended_at, r.started_at + interval '5 days') - interval '1 hour')) v (score, at)
		WHERE r.i >= $1 AND r.i < $2 AND r.playbook_key IN ('red-recovery', 'renewal')`)
	// What integrators report through POST /v1/accounts/{id}/events (no run
	// of its own), for time to value: 80 % of onboarding runs' accounts log
	// in 1 to 14 days after the start, 50 % get value 2 to 25 days after
	// that (before today: runs started 41 days ago or more).
	sd.perRuns("first_login and first_value reports", opts.runs, `
		INSERT INTO events (account_id, type, created_at)
		SELECT r.account_id, ev.type, r.started_at + make_interval(days => ev.days, secs => hh.h % 86400)
		FROM bench_runs r
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text || ':value')) AS h) hh
		CROSS JOIN LATERAL (SELECT 1 + (hh.h / 100) % 14 AS login) l
		CROSS JOIN LATERAL (VALUES ('event:first_login', hh.h % 100 < 80, l.login),
		                           ('event:first_value', hh.h % 100 < 50, l.login + 2 + (hh.h / 10000) % 24)) ev (type, happened, days)
		WHERE r.i >= $1 AND r.i < $2 AND r.playbook_key = 'onboarding' AND ev.happened`)

	for _, d := range deferred {
		t0 := time.Now()
		d.build(ctx, sd.conns[0])
		sd.done(fmt.Sprintf("%s: %d indexes and keys built", d.table, len(d.builds)), 0, t0)
	}
	sd.step("drop the seeding's tables", `DROP TABLE bench_runs, bench_steps`)
	// Vacuumed before the rebuild reads them: the first reader of a freshly
	// written row marks it (hint bits) and so writes its page again, and
	// VACUUM writes each page once anyway to mark it all-visible.
	for _, table := range []string{"runs", "emails", "sendgrid_events", "tasks", "approvals", "health_snapshots", "accounts", "arr_history", "events"} {
		sd.step("VACUUM ANALYZE "+table, "VACUUM ANALYZE "+table)
	}
	if _, err := sd.conns[0].Exec(ctx, `SET session_replication_role = origin`); err != nil {
		fatalf("seed: %v", err)
	}
	var rebuild bool
	if err := sd.conns[0].QueryRow(ctx, `SELECT to_regproc('analytics_rebuild') IS NOT NULL`).Scan(&rebuild); err != nil {
		fatalf("seed: look for analytics_rebuild: %v", err)
	}
	if rebuild {
		// (SELECT analytics_rebuild(), in a DO block: its one row is not rows seeded)
		sd.step("analytics summaries rebuilt from history", `DO $$ BEGIN PERFORM analytics_rebuild(); END $$`)
		// The summaries it wrote, whatever their tables; the history
		// tables are all-visible and are not read again.
		sd.step("VACUUM ANALYZE (the database, for the summaries)", `VACUUM ANALYZE`)
	}
	for _, c := range sd.conns {
		if _, err := c.Exec(ctx, `RESET ALL`); err != nil {
			fatalf("seed: %v", err)
		}
	}
	out.phases, out.total, out.loadAfter = sd.phases, time.Since(sd.started), loadAverage()
	fmt.Printf("bench: seeding took %s (load average %s before, %s after)\n", out.total.Round(time.Second), out.loadBefore, out.loadAfter)
	return out
}

// writeBenchSteps fills bench_steps: per playbook and kind of record, the
// steps its runs leave records of (idx from 0, n of them).
func writeBenchSteps(ctx context.Context, conn *pgxpool.Conn) {
	rows, err := conn.Query(ctx, `SELECT key, definition FROM playbook_versions WHERE key IN ('onboarding', 'red-recovery', 'renewal') AND version = 1`)
	if err != nil {
		fatalf("read definitions: %v", err)
	}
	type kindStep struct{ key, kind, step string }
	var found []kindStep
	for rows.Next() {
		var (
			key string
			raw json.RawMessage
			def playbook.Definition
		)
		if err := rows.Scan(&key, &raw); err != nil {
			fatalf("read definitions: %v", err)
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			fatalf("decode %s: %v", key, err)
		}
		var visit func([]playbook.Step)
		visit = func(steps []playbook.Step) {
			for i := range steps {
				st := &steps[i]
				switch k := st.Kind(); k {
				case playbook.KindEmail, playbook.KindTask:
					found = append(found, kindStep{key, k, st.ID})
				case playbook.KindApproval: // an approved email has its approval's step
					found = append(found, kindStep{key, k, st.ID}, kindStep{key, playbook.KindEmail, st.ID})
				}
				visit(st.Then)
				visit(st.Else)
				visit(st.OnTimeout)
				if st.Repeat != nil {
					visit(st.Repeat.Steps)
				}
			}
		}
		visit(def.Steps)
	}
	if err := rows.Err(); err != nil {
		fatalf("read definitions: %v", err)
	}
	counts := map[string]int{}
	for _, f := range found {
		k := f.key + "/" + f.kind
		if f.kind == playbook.KindTask && counts[k] >= 3 { // three tasks per run at most
			continue
		}
		if f.kind == playbook.KindApproval && counts[k] >= 1 {
			continue
		}
		if _, err := conn.Exec(ctx, `INSERT INTO bench_steps (key, kind, idx, step) VALUES ($1, $2, $3, $4)`, f.key, f.kind, counts[k], f.step); err != nil {
			fatalf("step table: %v", err)
		}
		counts[k]++
	}
	if _, err := conn.Exec(ctx, `UPDATE bench_steps b SET n = (SELECT count(*) FROM bench_steps c WHERE c.key = b.key AND c.kind = b.kind)`); err != nil {
		fatalf("step table: %v", err)
	}
}

// deferredIndexes are a table's indexes, the keys (primary, unique,
// exclusion) that own indexes and the foreign keys of other tables that
// reference those keys, as the catalog defines them: dropped before the
// table's rows are seeded and built again, once, after.
type deferredIndexes struct {
	table  string
	builds []string
}

func deferIndexes(ctx context.Context, conn *pgxpool.Conn, table string) deferredIndexes {
	// Dropped in this order (what references a key before the key), built
	// in the reverse one.
	rows, err := conn.Query(ctx, `
		SELECT 1 AS ord, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::text::regclass AND conrelid <> confrelid
		UNION ALL
		SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
		       format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		FROM pg_constraint WHERE contype IN ('p', 'u', 'x') AND conrelid = $1::text::regclass
		UNION ALL
		SELECT 3, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
		FROM pg_index i WHERE i.indrelid = $1::text::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
		ORDER BY 1`, table)
	if err != nil {
		fatalf("indexes of %s: %v", table, err)
	}
	var drops, builds []string
	for rows.Next() {
		var (
			ord         int
			drop, build string
		)
		if err := rows.Scan(&ord, &drop, &build); err != nil {
			fatalf("indexes of %s: %v", table, err)
		}
		drops, builds = append(drops, drop), append([]string{build}, builds...)
	}
	if err := rows.Err(); err != nil {
		fatalf("indexes of %s: %v", table, err)
	}
	for _, sql := range drops {
		if _, err := conn.Exec(ctx, sql); err != nil {
			fatalf("%s: %v", sql, err)
		}
	}
	return deferredIndexes{table: table, builds: builds}
}

func (d deferredIndexes) build(ctx context.Context, conn *pgxpool.Conn) {
	for _, sql := range d.builds {
		if _, err := conn.Exec(ctx, sql); err != nil {
			fatalf("%s: %v", sql, err)
		}
	}
}
