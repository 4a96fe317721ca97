package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/playbookd/playbookd/playbook"
)

// analyticsOptions sizes the analytics measurement.
type analyticsOptions struct {
	repo      string
	adminURL  string
	runs      int    // runs seeded (100,000)
	emails    int    // outbox rows per run (10: 1,000,000 rows)
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
// approvals and health snapshots with set-based SQL straight into
// PostgreSQL (no workflows: the endpoint reads only PostgreSQL), then times
// GET /v1/playbooks/{key}/analytics through the running API, one request at
// a time.
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
	var (
		phases []seedPhase
		total  time.Duration
	)
	if opts.database == "" {
		phases, total = seedAnalytics(ctx, s.db, opts)
	}
	emails := s.count(ctx, `SELECT count(*) FROM emails`)
	events := s.count(ctx, `SELECT count(*) FROM sendgrid_events`)
	tasks := s.count(ctx, `SELECT count(*) FROM tasks`)
	approvals := s.count(ctx, `SELECT count(*) FROM approvals`)
	var size string
	if err := s.db.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size); err != nil {
		fatalf("database size: %v", err)
	}

	cases := []struct{ name, path string }{
		{fmt.Sprintf("onboarding, one version (%d runs)", opts.runs*3/10), "/v1/playbooks/onboarding/analytics?version=2"},
		{fmt.Sprintf("onboarding, every version (2 × %d runs)", opts.runs*3/10), "/v1/playbooks/onboarding/analytics"},
		{fmt.Sprintf("red-recovery, every version (%d runs, with health)", opts.runs*2/10), "/v1/playbooks/red-recovery/analytics"},
		{"onboarding, one version, runs started in 30 days", "/v1/playbooks/onboarding/analytics?version=2&from=" +
			time.Now().UTC().AddDate(0, 0, -70).Format(time.DateOnly) + "&to=" + time.Now().UTC().AddDate(0, 0, -41).Format(time.DateOnly)},
	}
	// A slow answer is a figure, not an error: wait for it.
	s.http.Timeout = 5 * time.Minute
	var b strings.Builder
	fmt.Fprintf(&b, "Seeded with set-based SQL (`generate_series`, in one session) into a fresh database: %d runs "+
		"(onboarding v1 and v2 30 %% each, red-recovery and renewal 20 %% each; 70 %% completed, 20 %% live, 10 %% cancelled; "+
		"started 41 to 300 days ago), %d outbox rows (%d per run over the playbook's email steps, %d-byte html and "+
		"%d-byte text bodies, 2 %% skipped, 1 %% failed), %d SendGrid events (delivered, open, click, bounce, unsubscribe), %d tasks, "+
		"%d approvals, two health snapshots per recovery and renewal run; then `VACUUM ANALYZE` (autovacuum would do the same "+
		"in service; index-only scans need the visibility map). Database size after seeding: %s.\n\n",
		opts.runs, emails, opts.emails, opts.bodyBytes, opts.bodyBytes/4, events, tasks, approvals, size)
	if opts.database != "" {
		fmt.Fprintf(&b, "This run measured the database %s, seeded and kept by an earlier run (its seeding times are not in this run).\n\n", opts.database)
	} else {
		b.WriteString("| seeding step | took |\n|---|---:|\n")
		for _, p := range phases {
			fmt.Fprintf(&b, "| %s | %s |\n", p.name, p.took.Round(10*time.Millisecond))
		}
		fmt.Fprintf(&b, "| **total** | **%s** |\n\n", total.Round(10*time.Millisecond))
	}
	fmt.Fprintf(&b, "Latency of `GET /v1/playbooks/{key}/analytics` through the running API (HTTP, JSON, the admin key), "+
		"closed loop: %d requests per case one after another, after 3 unmeasured ones (default period: the year to today); "+
		"errors are answers other than 200 or none within 5 minutes.\n\n", opts.requests)
	b.WriteString("| request | count | errors | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, c := range cases {
		for range 3 {
			_, _, _ = s.raw(ctx, "GET", c.path, "", "")
		}
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
		b.WriteString(row(c.name, ds, errs))
	}
	return b.String()
}

type seedPhase struct {
	name string
	took time.Duration
}

// seedAnalytics writes the data set and returns how long each step took.
func seedAnalytics(ctx context.Context, db *pgxpool.Pool, opts analyticsOptions) ([]seedPhase, time.Duration) {
	conn, err := db.Acquire(ctx)
	if err != nil {
		fatalf("acquire: %v", err)
	}
	defer conn.Release()
	var phases []seedPhase
	started := time.Now()
	step := func(name, sql string, args ...any) {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			fatalf("seed %s: %v", name, err)
		}
		phases = append(phases, seedPhase{name, time.Since(t0)})
	}
	// The steps each playbook's runs leave records of, from the built-ins
	// the API published at start.
	step("step table", `CREATE TEMP TABLE bench_steps (key text, kind text, idx int, step text, n int)`)
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

	step("onboarding version 2", `
		INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
		SELECT key, 2, name, 'draft', definition, source, source_format FROM playbook_versions WHERE key = 'onboarding' AND version = 1`)
	step("team and accounts", `
		WITH m AS (INSERT INTO team_members (email, name, level) VALUES ('csm@bench.test', 'Casey', 'csm') RETURNING id)
		INSERT INTO accounts (id, name, arr, segment, csm_id, timezone, lifecycle_stage, status)
		SELECT 'acct-' || i, 'Account ' || i, 5000 + i, 'smb', m.id, 'UTC', 'adoption', CASE WHEN i % 50 = 0 THEN 'churned' ELSE 'active' END
		FROM generate_series(0, $1 - 1) i, m`, opts.runs)
	// i % 10 picks the playbook, (i / 10) % 10 the status.
	step("runs", `
		INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at)
		SELECT gen_random_uuid(), 'acct-' || i, p.key, p.version, 'bench/' || i, 'r', s.status,
		       CASE s.status WHEN 'completed' THEN CASE WHEN p.key = 'red-recovery' AND j % 2 = 0 THEN 'recovered'
		                                                WHEN j = 9 THEN 'churned' ELSE 'completed' END
		                     WHEN 'cancelled' THEN 'cancelled' END,
		       t.started, CASE WHEN s.status IN ('completed', 'cancelled') THEN t.started + make_interval(days => 1 + i % 40) END
		FROM generate_series(0, $1 - 1) i
		CROSS JOIN LATERAL (SELECT (i / 10) % 10 AS j) jj
		CROSS JOIN LATERAL (SELECT CASE WHEN i % 10 < 6 THEN 'onboarding' WHEN i % 10 < 8 THEN 'red-recovery' ELSE 'renewal' END AS key,
		                           CASE WHEN i % 10 BETWEEN 3 AND 5 THEN 2 ELSE 1 END AS version) p
		CROSS JOIN LATERAL (SELECT CASE WHEN j < 6 OR j = 9 THEN 'completed' WHEN j < 8 THEN 'running' ELSE 'cancelled' END AS status) s
		CROSS JOIN LATERAL (SELECT now() - make_interval(days => 41 + i % 260, secs => i % 86400) AS started) t`, opts.runs)
	step("outbox", `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, created_at, sent_at)
		SELECT r.id, b.step, r.account_id, 'c' || x || '@' || r.account_id || '.test', 'bench', 'A subject line',
		       repeat('h', $2), repeat('t', $2 / 4),
		       CASE WHEN h % 100 < 2 THEN 'skipped' WHEN h % 100 = 2 THEN 'failed' ELSE 'sent' END,
		       r.started_at + make_interval(days => x), r.started_at + make_interval(days => x)
		FROM runs r
		CROSS JOIN generate_series(0, $1 - 1) x
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'email' AND b.idx = x % b.n
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text || x)) AS h) hh`, opts.emails, opts.bodyBytes)
	step("SendGrid events", `
		INSERT INTO sendgrid_events (event_key, event, email_id, occurred_at)
		SELECT e.id || ':' || ev.name, ev.name, e.id, e.created_at + make_interval(mins => ev.k)
		FROM emails e
		CROSS JOIN LATERAL (SELECT abs(hashtext(e.id::text)) % 1000 AS h) hh
		CROSS JOIN (VALUES ('delivered', 0), ('open', 1), ('click', 2), ('bounce', 3), ('unsubscribe', 4)) ev (name, k)
		WHERE e.status = 'sent' AND CASE ev.k WHEN 0 THEN h < 950 WHEN 1 THEN h < 450 WHEN 2 THEN h < 120
		                                      WHEN 3 THEN h >= 970 ELSE h BETWEEN 500 AND 504 END`)
	// The webhook sets these flags with each event it records (migration
	// 00017 backfilled the events before it); events seeded here are not
	// through the webhook.
	step("outbox flags from SendGrid events", `
		UPDATE emails e SET delivered = s.delivered, opened = s.opened, clicked = s.clicked, bounced = s.bounced,
		                    unsubscribed = s.unsubscribed
		FROM (SELECT email_id, bool_or(event = 'delivered') AS delivered, bool_or(event IN ('open', 'click')) AS opened,
		             bool_or(event = 'click') AS clicked, bool_or(event = 'bounce') AS bounced,
		             bool_or(event IN ('unsubscribe', 'group_unsubscribe')) AS unsubscribed
		      FROM sendgrid_events WHERE email_id IS NOT NULL GROUP BY email_id) s
		WHERE e.id = s.email_id`)
	step("tasks", `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, status, due_at, created_at, closed_at)
		SELECT r.id, b.step, r.account_id, a.csm_id, 'A task', s.status, r.started_at + make_interval(days => 1 + b.idx),
		       r.started_at, CASE WHEN s.status <> 'open' THEN r.started_at + make_interval(hours => 4 + h % 72) END
		FROM runs r JOIN accounts a ON a.id = r.account_id
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'task'
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text || b.step)) % 100 AS h) hh
		CROSS JOIN LATERAL (SELECT CASE WHEN h < 60 THEN 'completed' WHEN h < 90 THEN 'open' ELSE 'cancelled' END AS status) s`)
	step("approvals", `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, status, draft, expires_at, created_at, decided_at)
		SELECT r.id, b.step, r.account_id, a.csm_id, s.status, '{}', r.started_at + interval '2 days', r.started_at,
		       CASE WHEN s.status <> 'pending' THEN r.started_at + make_interval(mins => 30 + h * 7) END
		FROM runs r JOIN accounts a ON a.id = r.account_id
		JOIN bench_steps b ON b.key = r.playbook_key AND b.kind = 'approval'
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text)) % 100 AS h) hh
		CROSS JOIN LATERAL (SELECT CASE WHEN h < 55 THEN 'approved' WHEN h < 70 THEN 'rejected' WHEN h < 85 THEN 'expired'
		                                WHEN h < 95 THEN 'cancelled' ELSE 'pending' END AS status) s`)
	step("health snapshots", `
		INSERT INTO health_snapshots (account_id, score, band, measured_at)
		SELECT r.account_id, v.score, CASE WHEN v.score >= 80 THEN 'green' WHEN v.score >= 50 THEN 'yellow' ELSE 'red' END, v.at
		FROM runs r
		CROSS JOIN LATERAL (SELECT abs(hashtext(r.id::text)) % 100 AS h) hh
		CROSS JOIN LATERAL (VALUES (20 + h % 40, r.started_at - interval '1 hour'),
		                           (30 + h % 70, COALESCE(r.ended_at, r.started_at + interval '5 days') - interval '1 hour')) v (score, at)
		WHERE r.playbook_key IN ('red-recovery', 'renewal')`)
	for _, table := range []string{"runs", "emails", "sendgrid_events", "tasks", "approvals", "health_snapshots", "accounts", "events"} {
		step("VACUUM ANALYZE "+table, "VACUUM ANALYZE "+table)
	}
	return phases, time.Since(started)
}
