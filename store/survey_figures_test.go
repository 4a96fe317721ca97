package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// surveyFixture writes, with SQL, survey emails and answers of accounts in
// three segments; the tests' figures are counted by hand from here. March
// 2026 is the portfolio's period, February and March the runs analytics
// counts (playbook "pulse": version 1 asks NPS, version 2 CSAT).
//
//	email  account (segment)  run   step    status    written   answer
//	e1     ent1 (enterprise)  rEnt  nps     sent      Mar 5     10 (promoter) Mar 6
//	e2     ent1               rEnt  nps     sent      Mar 5      6 (detractor) Mar 10
//	e3     ent1               rEnt  nps     captured  Mar 5     none
//	e12    ent1               rEnt  nps#2   sent      Mar 11     7 (passive) Mar 12
//	e4     mm1 (mid_market)   rMM   nps     sent      Mar 20     9 (promoter) Apr 1 00:00, after March
//	e5     mm1                rMM   nps     sent      Feb 20     9 (promoter) Mar 2
//	e6     acme (smb)         rSmb  csat    sent      Mar 1 00:00  4 Mar 7
//	e7     smb2 (smb)         rSmb2 csat    sent      Mar 3      5 Mar 8
//	e8     smb2               rSmb2 csat    skipped   Mar 3     none
//	e11    smb2               rSmb2 nps     failed    Mar 3     none
//	e9     acme               rSmb  hello   sent      Mar 3     (not a survey)
//	e10    acme               rOld  nps     sent      Jan 10     3 (detractor) Jan 11
func surveyFixture(t *testing.T, f fixture) {
	t.Helper()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := f.pool.Exec(f.ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	for id, segment := range map[string]string{"ent1": "enterprise", "mm1": "mid_market", "smb2": "smb"} {
		if _, _, err := f.st.UpsertAccount(f.ctx, store.UpsertAccount{ID: id, Name: id, ARR: 1000, Segment: segment,
			CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "adoption", Status: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	day := func(month time.Month, d int) time.Time { return time.Date(2026, month, d, 0, 0, 0, 0, time.UTC) }
	run := func(account string, version int, started time.Time) uuid.UUID {
		t.Helper()
		id := uuid.New()
		exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at)
			VALUES ($1, $2, 'pulse', $3, $5, 'r', 'running', $4)`, id, account, version, started, id.String())
		return id
	}
	email := func(runID uuid.UUID, account, step, kind, status string, written time.Time) uuid.UUID {
		t.Helper()
		id := uuid.New()
		var marked any
		if kind != "" {
			marked = kind
		}
		exec(`INSERT INTO emails (id, run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey, created_at)
			VALUES ($1, $2, $3, $4, $8, 't', 's', 'h', 't', $5, $6, $7)`, id, runID, step, account, status, marked, written, id.String()+"@x.test")
		return id
	}
	answer := func(emailID uuid.UUID, kind string, score int, at time.Time) {
		t.Helper()
		category, err := survey.Category(kind, score)
		if err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO survey_responses (email_id, run_id, step_id, recipient, account_id, kind, score, category, created_at)
			SELECT id, run_id, step_id, recipient, account_id, $2, $3, $4, $5 FROM emails WHERE id = $1`, emailID, kind, score, category, at)
	}

	rOld := run("acme", 1, day(1, 5)) // started before analytics' period
	exec(`UPDATE runs SET status = 'completed', outcome = 'completed', ended_at = started_at + interval '1 day' WHERE id = $1`, rOld)
	rEnt, rMM := run("ent1", 1, day(3, 1)), run("mm1", 1, day(2, 15))
	rSmb, rSmb2 := run("acme", 2, day(3, 1)), run("smb2", 2, day(3, 1))

	answer(email(rEnt, "ent1", "nps", "nps", "sent", day(3, 5)), "nps", 10, day(3, 6))
	answer(email(rEnt, "ent1", "nps", "nps", "sent", day(3, 5)), "nps", 6, day(3, 10))
	email(rEnt, "ent1", "nps", "nps", "captured", day(3, 5))
	answer(email(rEnt, "ent1", "nps#2", "nps", "sent", day(3, 11)), "nps", 7, day(3, 12))
	answer(email(rMM, "mm1", "nps", "nps", "sent", day(3, 20)), "nps", 9, day(4, 1))
	answer(email(rMM, "mm1", "nps#0", "nps", "sent", day(2, 20)), "nps", 9, day(3, 2))
	answer(email(rSmb, "acme", "csat", "csat", "sent", day(3, 1)), "csat", 4, day(3, 7))
	answer(email(rSmb2, "smb2", "csat", "csat", "sent", day(3, 3)), "csat", 5, day(3, 8))
	email(rSmb2, "smb2", "csat#2", "csat", "skipped", day(3, 3))
	email(rSmb2, "smb2", "nps", "nps", "failed", day(3, 3))
	email(rSmb, "acme", "hello", "", "sent", day(3, 3))
	answer(email(rOld, "acme", "nps", "nps", "sent", day(1, 10)), "nps", 3, day(1, 11))
}

// The portfolio counts survey emails written in the period that went out,
// those of them answered whenever, and the answers given in the period.
func TestPortfolioSurveys(t *testing.T) {
	f := newFixture(t)
	surveyFixture(t, f)
	march := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	got, err := f.st.PortfolioSurveys(f.ctx, march, march.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SegmentSurveys{
		// e1, e2, e3, e12 went out; e3 is unanswered. Answers in March:
		// 10, 6, 7.
		{Segment: "enterprise", Counts: survey.Counts{Sent: 4, Answered: 3, NPS: 3, Promoters: 1, Passives: 1, Detractors: 1}},
		// e4 went out in March and was answered (on April 1: not one of
		// March's answers); e5 was written in February, answered in March.
		{Segment: "mid_market", Counts: survey.Counts{Sent: 1, Answered: 1, NPS: 1, Promoters: 1}},
		// e6 (written at the period's first instant) and e7; e8 skipped,
		// e11 failed, e9 is no survey, e10 and its answer are January's.
		{Segment: "smb", Counts: survey.Counts{Sent: 2, Answered: 2, CSAT: 2, CSATSum: 9}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: got %+v, want %+v", want[i].Segment, got[i], want[i])
		}
	}

	// A period without surveys counts none.
	if got, err := f.st.PortfolioSurveys(f.ctx, march.AddDate(1, 0, 0), march.AddDate(1, 1, 0)); err != nil || len(got) != 0 {
		t.Errorf("an empty period: %+v %v", got, err)
	}
}

// Playbook analytics counts every survey email of the runs in scope, and
// every answer to them, by version, step and segment.
func TestSurveyCounts(t *testing.T) {
	f := newFixture(t)
	surveyFixture(t, f)
	sc := store.AnalyticsScope{Key: "pulse", From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	figures, err := f.st.PlaybookFigures(f.ctx, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := figures.Surveys
	type key struct {
		version       int
		step, segment string
	}
	want := map[key]survey.Counts{
		// e1, e2, e3 and e12 (a repeat: nps#2 is the nps step's).
		{1, "nps", "enterprise"}: {Sent: 4, Answered: 3, NPS: 3, Promoters: 1, Passives: 1, Detractors: 1},
		// e4 and e5: whenever they were written or answered. rOld's e10
		// started before the period.
		{1, "nps", "mid_market"}: {Sent: 2, Answered: 2, NPS: 2, Promoters: 2},
		// e6 and e7 went out; e8 was skipped.
		{2, "csat", "smb"}: {Sent: 2, Answered: 2, CSAT: 2, CSATSum: 9},
		// e11 failed: nothing went out, nothing to count (the report
		// shows the step from its definition).
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %d rows", got, len(want))
	}
	for _, g := range got {
		if w, ok := want[key{g.Version, g.Step, g.Segment}]; !ok || g.Counts != w {
			t.Errorf("v%d %s %s: got %+v, want %+v", g.Version, g.Step, g.Segment, g.Counts, w)
		}
	}

	// One version alone.
	sc.Version = 2
	figures, err = f.st.PlaybookFigures(f.ctx, sc, time.Now())
	if got := figures.Surveys; err != nil || len(got) != 1 {
		t.Errorf("version 2: %+v %v", got, err)
	}
}
