package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
)

// valueFixture writes, with SQL, runs of an onboarding play "ob" with the
// account events time to value counts, and of an expansion play "ex" with
// the accounts' ARR history; the tests' figures are counted by hand from
// here. The period is January and February 2026.
//
//	run  play v  account  started   ended    what the account has
//	o1   ob   1  t1       Jan 10 0h          first_login Jan 12 (2 d) and Jan 13; first_value Jan 20 (10 d)
//	o2   ob   1  t2       Jan 11 0h          first_login Jan 10 (before the run) and Jan 15 (4 d)
//	o3   ob   1  t3       Jan 20 0h          first_login Jan 21 12h (1.5 d); first_value Jan 26 (6 d)
//	o4   ob   1  t4       Jan 5              nothing ("first_login" without the prefix is no account event)
//	o5   ob   2  t5       Feb 1              first_value Feb 4 (3 d); first_value_extra Feb 2
//	o6   ob   1  t6       Dec 1 2025         first_login Dec 2 (before the period)
//	x1   ex   1  a1       Jan 10    Jan 20   ARR 1000 from Jan 1, 1500 from Jan 15, 2000 from Feb 1
//	x2   ex   1  a2       Jan 10    Jan 25   ARR 5000 from Jan 1, churned Jan 22
//	x3   ex   1  a3       Jan 12    live     ARR 9000
//	x4   ex   1  a4       Jan 12    Jan 14   ARR 800 from Jan 13 (its history starts after the run)
//	x5   ex   2  a5       Feb 2     Feb 10   ARR 3000 from Jan 1, 2500 from Feb 5
func valueFixture(t *testing.T, f fixture) {
	t.Helper()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.pool.Exec(f.ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for _, id := range []string{"t1", "t2", "t3", "t4", "t5", "t6", "a1", "a2", "a3", "a4", "a5"} {
		if _, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: id, Name: id, ARR: 1000, Segment: "smb",
			CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	day := func(month time.Month, d int, hour int) time.Time {
		return time.Date(2026, month, d, hour, 0, 0, 0, time.UTC)
	}
	run := func(key, account string, version int, started time.Time, ended *time.Time) {
		t.Helper()
		id := uuid.New()
		status := "running"
		if ended != nil {
			status = "completed"
		}
		exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at, ended_at)
			VALUES ($1, $2, $3, $4, $5, 'r', $6, $7, $8)`, id, account, key, version, id.String(), status, started, ended)
	}
	event := func(account, typ string, at time.Time) {
		t.Helper()
		exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, $2, $3)`, account, typ, at)
	}
	history := func(account string, rows ...any) { // (arr, status, from) triples
		t.Helper()
		exec(`DELETE FROM arr_history WHERE account_id = $1`, account)
		for i := 0; i < len(rows); i += 3 {
			exec(`INSERT INTO arr_history (account_id, arr, status, valid_from) VALUES ($1, $2, $3, $4)`, account, rows[i], rows[i+1], rows[i+2])
		}
	}
	ended := func(t time.Time) *time.Time { return &t }

	run("ob", "t1", 1, day(1, 10, 0), nil)
	event("t1", "event:first_login", day(1, 12, 0))
	event("t1", "event:first_login", day(1, 13, 0))
	event("t1", "event:first_value", day(1, 20, 0))
	run("ob", "t2", 1, day(1, 11, 0), nil)
	event("t2", "event:first_login", day(1, 10, 0))
	event("t2", "event:first_login", day(1, 15, 0))
	run("ob", "t3", 1, day(1, 20, 0), nil)
	event("t3", "event:first_login", day(1, 21, 12))
	event("t3", "event:first_value", day(1, 26, 0))
	run("ob", "t4", 1, day(1, 5, 0), nil)
	event("t4", "first_login", day(1, 6, 0))
	run("ob", "t5", 2, day(2, 1, 0), nil)
	event("t5", "event:first_value", day(2, 4, 0))
	event("t5", "event:first_value_extra", day(2, 2, 0))
	exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at)
		VALUES (gen_random_uuid(), 't6', 'ob', 1, 'old', 'r', 'running', '2025-12-01')`)
	event("t6", "event:first_login", time.Date(2025, 12, 2, 0, 0, 0, 0, time.UTC))

	// Each account's ARR now is its latest; its history is written before
	// its run ends, as it would have been (health and ARR at a run's start
	// and end are fixed when it ends).
	now := func(account string, arr int, status string) {
		t.Helper()
		exec(`UPDATE accounts SET arr = $2, status = $3 WHERE id = $1`, account, arr, status)
	}
	now("a1", 2000, "active")
	history("a1", 1000, "active", day(1, 1, 0), 1500, "active", day(1, 15, 0), 2000, "active", day(2, 1, 0))
	run("ex", "a1", 1, day(1, 10, 0), ended(day(1, 20, 0)))
	now("a2", 5000, "churned")
	history("a2", 5000, "active", day(1, 1, 0), 5000, "churned", day(1, 22, 0))
	run("ex", "a2", 1, day(1, 10, 0), ended(day(1, 25, 0)))
	now("a3", 9000, "active")
	history("a3", 9000, "active", day(1, 1, 0))
	run("ex", "a3", 1, day(1, 12, 0), nil)
	now("a4", 800, "active")
	history("a4", 800, "active", day(1, 13, 0))
	run("ex", "a4", 1, day(1, 12, 0), ended(day(1, 14, 0)))
	now("a5", 2500, "active")
	history("a5", 3000, "active", day(1, 1, 0), 2500, "active", day(2, 5, 0))
	run("ex", "a5", 2, day(2, 2, 0), ended(day(2, 10, 0)))
}

var valueScope = store.AnalyticsScope{From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}

func TestFirstEventTimes(t *testing.T) {
	f := newFixture(t)
	valueFixture(t, f)
	sc := valueScope
	sc.Key = "ob"
	figures, err := f.st.PlaybookFigures(f.ctx, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := figures.Firsts
	days := func(d float64) *float64 { return &d }
	want := []store.FirstEventTime{
		{Version: 1, Event: "first_login", Runs: 3, MedianDays: days(2)}, // o1 2, o2 4, o3 1.5
		{Version: 1, Event: "first_value", Runs: 2, MedianDays: days(8)}, // o1 10, o3 6
		{Version: 2, Event: "first_value", Runs: 1, MedianDays: days(3)}, // o5
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.Version != w.Version || g.Event != w.Event || g.Runs != w.Runs || (g.MedianDays == nil) != (w.MedianDays == nil) ||
			(g.MedianDays != nil && math.Abs(*g.MedianDays-*w.MedianDays) > *w.MedianDays/100) { // medians from 2 % buckets
			t.Errorf("v%d %s: got %+v (median %v), want %+v (median %v)", w.Version, w.Event, g, deref(g.MedianDays), w, deref(w.MedianDays))
		}
	}
}

func TestRunARRs(t *testing.T) {
	f := newFixture(t)
	valueFixture(t, f)
	sc := valueScope
	sc.Key = "ex"
	figures, err := f.st.PlaybookFigures(f.ctx, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := figures.ARR
	want := []store.RunARR{
		// x1 1000 → 1500 (now 2000), x2 5000 → 0 (churned), x4 800
		// throughout; x3 is live.
		{Version: 1, Runs: 3, Start: 6800, End: 2300, Now: 2800, Expanded: 1},
		// x5 3000 → 2500.
		{Version: 2, Runs: 1, Start: 3000, End: 2500, Now: 2500, Expanded: 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %+v, want %+v", got[i], want[i])
		}
	}
	// One version alone.
	sc.Version = 2
	if figures, err := f.st.PlaybookFigures(f.ctx, sc, time.Now()); err != nil || len(figures.ARR) != 1 || figures.ARR[0] != want[1] {
		t.Errorf("version 2: %+v %v", figures.ARR, err)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
