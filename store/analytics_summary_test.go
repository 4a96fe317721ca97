package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/playbookd/playbookd/store"
)

// The summaries the triggers keep, change by change, equal what
// analytics_rebuild computes from history, on a book where everything a run
// leaves behind changes in every way it can: outbox rows written, sent,
// skipped, failed and flagged by SendGrid; repeated survey emails and their
// answers; tasks opened, done and due at every kind of moment; approvals
// pending, decided and expired; account changes; first logins before and
// after runs started; runs ending; accounts churning and changing ARR after
// their runs ended; runs moving to another version; several records of one
// step written at once; and folds of the deltas in between.
func TestAnalyticsSummariesAgreeWithHistory(t *testing.T) {
	f := newFixture(t)
	b := newSummaryBook(t, f)
	b.write(rand.New(rand.NewPCG(27, 1)))

	before := b.snapshot()
	if len(before.counts) < 100 {
		t.Fatalf("the book counts only %d figures: the fixture does not exercise the summaries", len(before.counts))
	}
	scope := store.AnalyticsScope{Key: "agree", From: b.base.AddDate(0, 0, -1), To: b.base.AddDate(0, 0, 60)}
	figures, err := f.st.PlaybookFigures(f.ctx, scope, b.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.CompactAnalytics(f.ctx); err != nil {
		t.Fatal(err)
	}
	if compacted := b.snapshot(); !reflect.DeepEqual(compacted, before) {
		t.Errorf("folding the deltas changed the figures:\n%s", diffSnapshots(before, compacted))
	}
	if n := b.count(`SELECT count(*) FROM analytics_deltas`); n != 0 {
		t.Errorf("%d deltas left after a fold with nothing else running", n)
	}
	if n := b.count(`SELECT count(*) FROM analytics_counts WHERE n = 0`) + b.count(`SELECT count(*) FROM analytics_counts_monthly WHERE n = 0`); n != 0 {
		t.Errorf("%d counts of 0 kept after a fold", n)
	}
	b.monthsAddUp("after the folds")
	// A period read as whole months and days reads as its days alone.
	for _, sc := range []store.AnalyticsScope{scope,
		{Key: "agree", From: b.base.AddDate(0, 0, 3), To: b.base.AddDate(0, 1, 0)},               // March 5 to April 1: days only
		{Key: "agree", Version: 2, From: b.base.AddDate(0, 0, -1), To: b.base.AddDate(0, 2, -1)}, // March 1 to April 30
	} {
		withMonths, err := f.st.PlaybookFigures(f.ctx, sc, b.now)
		if err != nil {
			t.Fatal(err)
		}
		undo := store.ReadDaysOnly()
		daysOnly, err := f.st.PlaybookFigures(f.ctx, sc, b.now)
		undo()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(withMonths, daysOnly) {
			t.Errorf("%s..%s v%d: read by months and days %+v, by days %+v", sc.From, sc.To, sc.Version, withMonths, daysOnly)
		}
	}

	if err := f.st.RebuildAnalytics(f.ctx); err != nil {
		t.Fatal(err)
	}
	b.monthsAddUp("after the rebuild")
	rebuilt := b.snapshot()
	if !reflect.DeepEqual(rebuilt, before) {
		t.Errorf("the summaries kept change by change differ from those rebuilt from history:\n%s", diffSnapshots(before, rebuilt))
	}
	again, err := f.st.PlaybookFigures(f.ctx, scope, b.now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, figures) {
		t.Errorf("the report's figures changed with the rebuild:\nkept    %+v\nrebuilt %+v", figures, again)
	}
}

// summaryBook writes the book of TestAnalyticsSummariesAgreeWithHistory.
type summaryBook struct {
	t         *testing.T
	f         fixture
	base, now time.Time
	csm       uuid.UUID
	accounts  []string
}

// The definition's steps, as the positions need them: a branch, a repeat
// and nesting.
const summaryDefinition = `{"key": "agree", "steps": [
	{"id": "welcome"}, {"id": "kickoff"},
	{"id": "check", "then": [{"id": "ask"}], "else": [{"id": "nudge"}]},
	{"id": "loop", "repeat": {"steps": [{"id": "pulse"}]}},
	{"id": "stage"}, {"id": "wrap-up"}]}`

func newSummaryBook(t *testing.T, f fixture) *summaryBook {
	b := &summaryBook{t: t, f: f, base: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	b.now = b.base.AddDate(0, 0, 30).Add(13 * time.Hour)
	for _, v := range []int{1, 2} {
		b.exec(`INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
			VALUES ('agree', $1, 'Agree', 'draft', $2, '{}', 'json')`, v, summaryDefinition)
	}
	if err := f.pool.QueryRow(f.ctx, `SELECT id FROM team_members WHERE email = 'csm@cs.test'`).Scan(&b.csm); err != nil {
		t.Fatal(err)
	}
	segments := []string{"enterprise", "mid_market", "smb"}
	for i := range 24 {
		id := fmt.Sprintf("acct-%02d", i)
		if _, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: id, Name: id, ARR: float64(1000 * (i + 1)), Segment: segments[i%3],
			CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"}); err != nil {
			t.Fatal(err)
		}
		b.accounts = append(b.accounts, id)
	}
	return b
}

func (b *summaryBook) exec(sql string, args ...any) {
	b.t.Helper()
	if _, err := b.f.pool.Exec(b.f.ctx, sql, args...); err != nil {
		b.t.Fatalf("%s: %v", sql, err)
	}
}

// monthsAddUp holds the monthly counts equal to the daily ones added up.
func (b *summaryBook) monthsAddUp(when string) {
	b.t.Helper()
	if n := b.count(`
		SELECT count(*) FROM (
			(SELECT playbook_key, playbook_version, date_trunc('month', day)::date, step, metric, bucket, sum(n)
			 FROM analytics_counts GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
			 EXCEPT ALL SELECT playbook_key, playbook_version, month, step, metric, bucket, n FROM analytics_counts_monthly)
			UNION ALL
			(SELECT playbook_key, playbook_version, month, step, metric, bucket, n FROM analytics_counts_monthly
			 EXCEPT ALL SELECT playbook_key, playbook_version, date_trunc('month', day)::date, step, metric, bucket, sum(n)
			 FROM analytics_counts GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0)) d`); n != 0 {
		b.t.Errorf("%s: %d monthly counts differ from the daily ones added up", when, n)
	}
	if b.count(`SELECT count(*) FROM analytics_counts_monthly`) == 0 {
		b.t.Errorf("%s: no monthly counts", when)
	}
}

func (b *summaryBook) count(sql string) int {
	b.t.Helper()
	var n int
	if err := b.f.pool.QueryRow(b.f.ctx, sql).Scan(&n); err != nil {
		b.t.Fatal(err)
	}
	return n
}

func (b *summaryBook) write(rng *rand.Rand) {
	t := b.t
	bands := []string{"green", "yellow", "orange", "red"}
	for _, a := range b.accounts {
		for range rng.IntN(3) {
			b.exec(`INSERT INTO health_snapshots (account_id, score, band, measured_at) VALUES ($1, 50, $2, $3)`,
				a, bands[rng.IntN(4)], b.base.Add(time.Duration(rng.IntN(40*24)-5*24)*time.Hour))
		}
	}
	// An account's report recorded before its runs are (their rows come
	// later, their starts earlier): the runs count it from their start.
	b.exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:first_value', $2)`, b.accounts[0], b.base.AddDate(0, 0, 40))
	type run struct {
		id      uuid.UUID
		account string
		started time.Time
	}
	var runs []run
	for i, a := range b.accounts {
		for j, key := range []string{"agree", "agree-other"} {
			if key == "agree-other" && i%2 == 0 {
				continue
			}
			r := run{id: uuid.New(), account: a, started: b.base.Add(time.Duration(rng.IntN(28*24*60)) * time.Minute)}
			b.exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at)
				VALUES ($1, $2, $3, $4, $5, 'r', 'running', $6)`, r.id, a, key, 1+(i+j)%2, r.id.String(), r.started)
			runs = append(runs, r)
		}
	}
	// The other key's versions exist too, so its runs have positions.
	for _, v := range []int{1, 2} {
		b.exec(`INSERT INTO playbook_versions (key, version, name, status, definition, source, source_format)
			VALUES ('agree-other', $1, 'Other', 'draft', $2, '{}', 'json')`, v, summaryDefinition)
	}

	statuses := []string{"sent", "captured", "skipped", "failed", "uncertain"}
	flags := []string{"delivered", "opened", "clicked", "bounced", "unsubscribed"}
	for n, r := range runs {
		at := func(hours int) time.Time { return r.started.Add(time.Duration(hours) * time.Hour) }
		if rng.IntN(3) == 0 { // a first login before the run started does not count for it
			b.exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:first_login', $2)`, r.account, at(-rng.IntN(48)-1))
		}
		// Welcome: one to three recipients, each sent or not, then flagged.
		for k := range 1 + rng.IntN(3) {
			var id uuid.UUID
			if err := b.f.pool.QueryRow(b.f.ctx, `INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, created_at)
				VALUES ($1, 'welcome', $2, $3, 't', 's', 'h', 'x', $4) RETURNING id`, r.id, r.account, fmt.Sprintf("p%d@x.test", k), at(0)).Scan(&id); err != nil {
				t.Fatal(err)
			}
			b.exec(`UPDATE emails SET status = 'sending' WHERE id = $1`, id)
			b.exec(`UPDATE emails SET status = $2 WHERE id = $1`, id, statuses[rng.IntN(len(statuses))])
			for _, fl := range flags {
				if rng.IntN(3) == 0 {
					b.exec(`UPDATE emails SET `+fl+` = true WHERE id = $1`, id)
				}
			}
		}
		// Kickoff task, due at some moment around now; some done.
		var due *time.Time
		switch rng.IntN(5) {
		case 0: // days ago
			d := b.now.AddDate(0, 0, -3)
			due = &d
		case 1: // earlier today
			d := b.now.Add(-2 * time.Hour)
			due = &d
		case 2: // later today
			d := b.now.Add(3 * time.Hour)
			due = &d
		case 3: // next week
			d := b.now.AddDate(0, 0, 7)
			due = &d
		}
		var task uuid.UUID
		if err := b.f.pool.QueryRow(b.f.ctx, `INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, due_at, created_at)
			VALUES ($1, 'kickoff', $2, $3, 'Kickoff', $4, $5) RETURNING id`, r.id, r.account, b.csm, due, at(1)).Scan(&task); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(2) == 0 {
			b.exec(`UPDATE tasks SET status = 'completed', closed_at = $2 WHERE id = $1`, task, at(30))
		}
		if rng.IntN(4) == 0 { // a due date moved
			b.exec(`UPDATE tasks SET due_at = $2 WHERE id = $1`, task, b.now.AddDate(0, 0, -1))
		}
		// The branch: an approval (some escalated, decided or expired), or a nudge.
		if rng.IntN(3) > 0 {
			var approval uuid.UUID
			if err := b.f.pool.QueryRow(b.f.ctx, `INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at, created_at)
				VALUES ($1, 'ask', $2, $3, '{}', $4, $5) RETURNING id`, r.id, r.account, b.csm, at(100), at(2)).Scan(&approval); err != nil {
				t.Fatal(err)
			}
			if rng.IntN(3) == 0 {
				b.exec(`INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, created_at)
					VALUES ($1, 'ask/escalated-L1', $2, $3, 'Escalated', $4)`, r.id, r.account, b.csm, at(26))
			}
			switch rng.IntN(4) {
			case 0:
				b.exec(`UPDATE approvals SET status = 'approved', decided_at = $2 WHERE id = $1`, approval, at(2+rng.IntN(50)))
			case 1:
				b.exec(`UPDATE approvals SET status = 'rejected', decided_at = $2 WHERE id = $1`, approval, at(3))
			case 2:
				b.exec(`UPDATE approvals SET status = 'expired' WHERE id = $1`, approval)
			}
		} else {
			b.exec(`INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
				VALUES ($1, 'nudge', $2, 'p0@x.test', 't', 's', 'h', 'x', 'captured')`, r.id, r.account)
		}
		// The repeat: survey emails pulse#1, pulse#2, some answered.
		for k := 1; k <= rng.IntN(3); k++ {
			kind := []string{"nps", "csat"}[rng.IntN(2)]
			var email uuid.UUID
			if err := b.f.pool.QueryRow(b.f.ctx, `INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, survey)
				VALUES ($1, $2, $3, 'p0@x.test', 't', 's', 'h', 'x', $4) RETURNING id`, r.id, fmt.Sprintf("pulse#%d", k), r.account, kind).Scan(&email); err != nil {
				t.Fatal(err)
			}
			b.exec(`UPDATE emails SET status = $2 WHERE id = $1`, email, []string{"sent", "captured", "skipped"}[rng.IntN(3)])
			if rng.IntN(2) == 0 {
				score, category := 9, "promoter"
				if kind == "csat" {
					score, category = 1+rng.IntN(5), "passive"
				} else if rng.IntN(2) == 0 {
					score, category = 4, "detractor"
				}
				b.exec(`INSERT INTO survey_responses (email_id, run_id, step_id, recipient, account_id, kind, score, category)
					VALUES ($1, $2, $3, 'p0@x.test', $4, $5, $6, $7)`, email, r.id, fmt.Sprintf("pulse#%d", k), r.account, kind, score, category)
			}
		}
		if rng.IntN(2) == 0 { // the account's stage changed by the run
			b.exec(`INSERT INTO events (account_id, run_id, type, data) VALUES ($1, $2, 'account_changed', '{"step_id": "stage"}')`, r.account, r.id)
		}
		if rng.IntN(3) == 0 {
			b.exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:first_login', $2)`, r.account, at(24*(1+rng.IntN(10))))
		}
		if rng.IntN(4) == 0 {
			b.exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:first_value', $2)`, r.account, at(24*(3+rng.IntN(20))))
		}
		// Most runs end, one way or another.
		switch rng.IntN(5) {
		case 0: // live
		case 1:
			b.exec(`UPDATE runs SET status = 'cancelled', ended_at = $2 WHERE id = $1`, r.id, at(5))
		case 2:
			b.exec(`UPDATE runs SET status = 'completed', outcome = 'exited', ended_at = $2 WHERE id = $1`, r.id, at(40))
		default:
			b.exec(`UPDATE runs SET status = 'completed', outcome = 'completed', ended_at = $2 WHERE id = $1`, r.id, at(24*(10+rng.IntN(30))))
		}
		if n%17 == 5 {
			if _, err := b.f.st.CompactAnalytics(b.f.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Accounts churn, come back and change ARR after their runs ended.
	for i, a := range b.accounts {
		switch i % 4 {
		case 1:
			b.exec(`UPDATE accounts SET status = 'churned' WHERE id = $1`, a)
		case 2:
			b.exec(`UPDATE accounts SET arr = arr * 2 WHERE id = $1`, a)
		case 3:
			b.exec(`UPDATE accounts SET status = 'churned' WHERE id = $1`, a)
			b.exec(`UPDATE accounts SET status = 'active', arr = 500 WHERE id = $1`, a)
		}
	}

	// Runs move to the other version of their playbook: their figures
	// move with them.
	for _, r := range runs[3:6] {
		var version int
		if err := b.f.pool.QueryRow(b.f.ctx, `SELECT playbook_version FROM runs WHERE id = $1`, r.id).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if err := b.f.st.RecordRunMoved(b.f.ctx, store.RunMove{RunID: r.id, FromVersion: version, ToVersion: 3 - version,
			By: "ops@cs.test", At: b.now}); err != nil {
			t.Fatal(err)
		}
	}

	// Several records of one run's steps at once: the step counts once,
	// and the run gets as far as the furthest.
	r := runs[0]
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for k := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.f.pool.Exec(context.Background(), `INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
				VALUES ($1, 'wrap-up', $2, $3, 't', 's', 'h', 'x', 'sent')`, r.id, r.account, fmt.Sprintf("late%d@x.test", k))
			errs <- err
		}()
	}
	for _, step := range []string{"nudge", "stage"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.f.pool.Exec(context.Background(), `INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
				VALUES ($1, $2, $3, $4, 'Late')`, r.id, step, r.account, b.csm)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// summarySnapshot is every count (counts and deltas added up) and every
// run's analytics state.
type summarySnapshot struct {
	counts map[string]int64
	runs   map[string]string
}

func (b *summaryBook) snapshot() summarySnapshot {
	b.t.Helper()
	s := summarySnapshot{counts: map[string]int64{}, runs: map[string]string{}}
	rows, err := b.f.pool.Query(b.f.ctx, `
		SELECT concat_ws(' ', playbook_key, playbook_version, day, step, metric, bucket), sum(n)::bigint FROM (
			SELECT playbook_key, playbook_version, day, step, metric, bucket, n FROM analytics_counts
			UNION ALL SELECT playbook_key, playbook_version, day, step, metric, bucket, n FROM analytics_deltas) c
		GROUP BY 1 HAVING sum(n) <> 0`)
	if err != nil {
		b.t.Fatal(err)
	}
	var (
		k string
		n int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { s.counts[k] = n; return nil }); err != nil {
		b.t.Fatal(err)
	}
	rows, err = b.f.pool.Query(b.f.ctx, `
		SELECT id::text, concat_ws(' | ', (SELECT string_agg(x, ',' ORDER BY x) FROM unnest(reached) x), furthest_pos,
		       band_at_start, band_at_end, arr_at_start, arr_at_end, first_login_at, first_value_at) FROM runs`)
	if err != nil {
		b.t.Fatal(err)
	}
	var v string
	if _, err := pgx.ForEachRow(rows, []any{&k, &v}, func() error { s.runs[k] = v; return nil }); err != nil {
		b.t.Fatal(err)
	}
	return s
}

func diffSnapshots(a, b summarySnapshot) string {
	var out string
	for k, n := range a.counts {
		if b.counts[k] != n {
			out += fmt.Sprintf("  count %s: %d, then %d\n", k, n, b.counts[k])
		}
	}
	for k, n := range b.counts {
		if _, ok := a.counts[k]; !ok {
			out += fmt.Sprintf("  count %s: none, then %d\n", k, n)
		}
	}
	for k, v := range a.runs {
		if b.runs[k] != v {
			out += fmt.Sprintf("  run %s: %s, then %s\n", k, v, b.runs[k])
		}
	}
	return out
}
