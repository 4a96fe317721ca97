package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
)

// winback is a recovery play (triggered by a risk signal, so health and
// retention are reported) in two versions; v2 sends another first email.
const winbackV1 = `key: winback
name: Win back
trigger: {on: risk_signal, signal: champion_left}
steps:
  - id: hello
    at: 0d
    email: {template: getting-started, to: [champion]}
  - id: call
    at: 1d
    when: {segment: [enterprise]}
    task: {title: Call, assignee: csm, due: 1d}
  - id: ask
    at: 2d
    approval: {assignee: csm, email: {template: qbr-invite, to: [exec_sponsor]}, on_reject: skip, on_expire: skip}
  - id: rest
    wait: 1d
`

// seedAnalytics writes, with SQL, runs of winback and what they left: the
// figures TestPlaybookAnalytics expects are counted by hand from here.
func seedAnalytics(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml", winbackV1)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/winback/versions/1/publish", "").status)
	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", winbackV1[:len(winbackV1)-len("  - id: rest\n    wait: 1d\n")]+
		"  - id: rest\n    wait: 2d\n")
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/winback/versions/2/publish", "").status)

	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := h.pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	for _, a := range []string{"a1", "a2", "a3", "a4", "a5", "a6", "old"} {
		exec(`INSERT INTO accounts (id, name, arr, segment, csm_id, timezone)
			SELECT $1, $1, 1000, 'smb', id, 'UTC' FROM team_members WHERE email = 'casey@cs.test'`, a)
	}
	exec(`UPDATE accounts SET status = 'churned' WHERE id = 'a2'`)

	// A run: version, account, status, outcome, started days ago, ended days ago (-1: live).
	run := func(version int, account, status, outcome string, startedDaysAgo, endedDaysAgo int) uuid.UUID {
		t.Helper()
		id := uuid.New()
		var ended, out any
		if endedDaysAgo >= 0 {
			ended = endedDaysAgo
		}
		if outcome != "" {
			out = outcome
		}
		exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, outcome, started_at, ended_at)
			VALUES ($1, $2, 'winback', $3, $8, 'r', $4, $5, now() - make_interval(days => $6),
			        CASE WHEN $7::int IS NULL THEN NULL ELSE now() - make_interval(days => $7::int) END)`,
			id, account, version, status, out, startedDaysAgo, ended, id.String())
		return id
	}
	email := func(runID uuid.UUID, account, step, status string, events ...string) {
		t.Helper()
		id := uuid.New()
		exec(`INSERT INTO emails (id, run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
			VALUES ($1, $2, $3, $4, 'x@' || $4 || '.test', 't', 's', 'h', 't', $5)`, id, runID, step, account, status)
		// Through the webhook's store call, which sets the outbox row's flags.
		var batch []store.DeliveryEvent
		for i, ev := range events {
			batch = append(batch, store.DeliveryEvent{Key: fmt.Sprintf("%s-%d", id, i), EmailID: &id, Event: ev, At: time.Now()})
		}
		if len(batch) > 0 {
			_, err := store.New(h.pool).RecordDeliveries(ctx, batch)
			require.NoError(t, err)
		}
	}
	task := func(runID uuid.UUID, account, step, status string, dueHoursAgo int) {
		t.Helper()
		exec(`INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, status, due_at, closed_at)
			SELECT $1, $2, $3, id, 'task', $4, now() - make_interval(hours => $5), CASE WHEN $4 = 'open' THEN NULL ELSE now() END
			FROM team_members WHERE email = 'casey@cs.test'`, runID, step, account, status, dueHoursAgo)
	}
	approval := func(runID uuid.UUID, account, step, status string, decideHours int) {
		t.Helper()
		exec(`INSERT INTO approvals (run_id, step_id, account_id, assignee_id, status, draft, expires_at, created_at, decided_at)
			SELECT $1, $2, $3, id, $4, '{}', now(), now() - interval '1 day',
			       CASE WHEN $4 = 'pending' THEN NULL ELSE now() - interval '1 day' + make_interval(hours => $5) END
			FROM team_members WHERE email = 'casey@cs.test'`, runID, step, account, status, decideHours)
	}
	health := func(account, band string, daysAgo float64) {
		t.Helper()
		score := map[string]int{"red": 30, "yellow": 60, "green": 90}[band]
		exec(`INSERT INTO health_snapshots (account_id, score, band, measured_at) VALUES ($1, $2, $3, now() - make_interval(secs => $4))`,
			account, score, band, daysAgo*86400)
	}

	// The accounts' health, measured before their runs ended (a run's
	// health before and after is fixed when it ends).
	health("a1", "red", 31)
	health("a1", "green", 21)
	health("a2", "yellow", 41)
	health("a2", "red", 25)
	health("a2", "green", 1) // after the run ended: not "after"
	health("a5", "red", 11)
	health("a5", "green", 7)

	// Version 1.
	a1 := run(1, "a1", "completed", "completed", 30, 20) // 10 days
	email(a1, "a1", "hello", "sent", "processed", "delivered", "open")
	task(a1, "a1", "call", "completed", 48)
	approval(a1, "a1", "ask", "approved", 2)
	task(a1, "a1", "ask/escalated-L2", "completed", 1)   // the approval climbed: its escalation task
	a2 := run(1, "a2", "completed", "completed", 40, 20) // 20 days; smb: no call
	email(a2, "a2", "hello", "sent", "delivered", "click")
	approval(a2, "a2", "ask", "rejected", 4)
	a3 := run(1, "a3", "running", "", 5, -1)
	email(a3, "a3", "hello", "sent", "bounce")
	task(a3, "a3", "call", "open", 24)                 // overdue
	a4 := run(1, "a4", "cancelled", "cancelled", 3, 2) // 1 day
	email(a4, "a4", "hello", "skipped")
	old := run(1, "old", "completed", "completed", 500, 490) // before the period
	email(old, "old", "hello", "sent", "delivered")

	// Version 2.
	b1 := run(2, "a5", "completed", "recovered", 10, 6) // 4 days; left at ask by the exit rule
	email(b1, "a5", "hello", "captured", "delivered", "unsubscribe")
	approval(b1, "a5", "ask", "expired", 0)
	b2 := run(2, "a6", "running", "", 1, -1)
	email(b2, "a6", "hello", "failed")

	// Another playbook's run of the same accounts counts nowhere here.
	other := run(1, "a1", "running", "", 1, -1)
	exec(`UPDATE runs SET playbook_key = 'onboarding' WHERE id = $1`, other)
	email(other, "a1", "hello", "sent", "delivered")
}

const day = 86400.0

func TestPlaybookAnalytics(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	seedAnalytics(t, h)

	r := h.do(t, "GET", "/v1/playbooks/winback/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	var report struct {
		Playbook string `json:"playbook"`
		Versions []struct {
			Version int `json:"version"`
			Runs    struct {
				Started, Live, Ended int
				Median               *float64 `json:"median_duration_seconds"`
				Outcomes             []struct {
					Outcome string
					Count   int
					Median  float64 `json:"median_duration_seconds"`
				}
			}
			Steps []struct {
				ID               string
				Recorded         bool
				Passed           int
				Reached, Skipped *int
				Emails, Tasks    map[string]int
				Approvals        map[string]any
			}
			Health    map[string]any
			Retention map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.raw), &report))
	require.Equal(t, "winback", report.Playbook)
	require.Len(t, report.Versions, 2)
	v1, v2 := report.Versions[0], report.Versions[1]
	require.Equal(t, 1, v1.Version)
	require.Equal(t, 2, v2.Version)

	// Version 1: a1 and a2 went through, a3 is live, a4 was cancelled; the
	// old run started before the period.
	require.Equal(t, 4, v1.Runs.Started)
	require.Equal(t, 1, v1.Runs.Live)
	require.Equal(t, 3, v1.Runs.Ended)
	require.InEpsilon(t, 10*day, *v1.Runs.Median, 0.01, "median of 1, 10 and 20 days") // medians are read from buckets 2 % wide
	require.Len(t, v1.Runs.Outcomes, 2)
	require.Equal(t, "cancelled", v1.Runs.Outcomes[0].Outcome)
	require.Equal(t, 1, v1.Runs.Outcomes[0].Count)
	require.InEpsilon(t, 1*day, v1.Runs.Outcomes[0].Median, 0.01) // medians are read from buckets 2 % wide
	require.Equal(t, "completed", v1.Runs.Outcomes[1].Outcome)
	require.Equal(t, 2, v1.Runs.Outcomes[1].Count)
	require.InEpsilon(t, 15*day, v1.Runs.Outcomes[1].Median, 0.01) // medians are read from buckets 2 % wide

	type stepWant struct {
		id               string
		passed           int
		reached, skipped *int
	}
	n := func(i int) *int { return &i }
	for v, want := range map[int][]stepWant{
		// hello: all four reached it. call: a1 and a3 reached it; a2 went
		// past it (it finished), a4 never got there. ask: a1 and a2. rest
		// leaves no record: the two that finished passed it.
		1: {{"hello", 4, n(4), n(0)}, {"call", 3, n(2), n(1)}, {"ask", 2, n(2), n(0)}, {"rest", 2, nil, nil}},
		// b1 reached ask (past call, skipped), then left by the exit rule;
		// b2 only sent hello.
		2: {{"hello", 2, n(2), n(0)}, {"call", 1, n(0), n(1)}, {"ask", 1, n(1), n(0)}, {"rest", 0, nil, nil}},
	} {
		steps := report.Versions[v-1].Steps
		require.Len(t, steps, len(want))
		for i, w := range want {
			s := steps[i]
			require.Equal(t, w.id, s.ID)
			require.Equal(t, w.passed, s.Passed, "v%d %s passed", v, w.id)
			require.Equal(t, w.reached, s.Reached, "v%d %s reached", v, w.id)
			require.Equal(t, w.skipped, s.Skipped, "v%d %s skipped", v, w.id)
			require.Equal(t, w.reached != nil, s.Recorded)
		}
	}
	hello1, call1, ask1 := v1.Steps[0], v1.Steps[1], v1.Steps[2]
	require.Equal(t, map[string]int{"sent": 3, "skipped": 1, "failed": 0, "delivered": 2, "opened": 2, "clicked": 1,
		"bounced": 1, "unsubscribed": 0}, hello1.Emails)
	require.Equal(t, map[string]int{"created": 2, "done": 1, "open": 1, "overdue": 1}, call1.Tasks)
	require.Equal(t, map[string]int{"created": 1, "done": 1, "open": 0, "overdue": 0}, ask1.Tasks, "the escalation task")
	require.EqualValues(t, 2, ask1.Approvals["requested"])
	require.EqualValues(t, 1, ask1.Approvals["approved"])
	require.EqualValues(t, 1, ask1.Approvals["rejected"])
	require.InEpsilon(t, 3*3600, ask1.Approvals["median_decision_seconds"], 0.01, "median of 2 h and 4 h") // medians are read from buckets 2 % wide

	hello2, ask2 := v2.Steps[0], v2.Steps[2]
	require.Equal(t, map[string]int{"sent": 1, "skipped": 0, "failed": 1, "delivered": 1, "opened": 0, "clicked": 0,
		"bounced": 0, "unsubscribed": 1}, hello2.Emails)
	require.EqualValues(t, 1, ask2.Approvals["expired"])
	require.Nil(t, ask2.Approvals["median_decision_seconds"], "nothing decided")
	require.Equal(t, 2, v2.Runs.Started)
	require.Equal(t, 1, v2.Runs.Live)
	require.InEpsilon(t, 4*day, *v2.Runs.Median, 0.01) // medians are read from buckets 2 % wide
	require.Equal(t, "recovered", v2.Runs.Outcomes[0].Outcome)

	// Health of the ended runs' accounts: a1 red → green, a2 yellow → red
	// (its green came after the run), a4 never scored.
	require.Equal(t, map[string]any{"runs": 3.0, "before": map[string]any{"green": 0.0, "yellow": 1.0, "orange": 0.0, "red": 1.0, "unscored": 1.0},
		"after":    map[string]any{"green": 1.0, "yellow": 0.0, "orange": 0.0, "red": 1.0, "unscored": 1.0},
		"improved": 1.0, "unchanged": 0.0, "worsened": 1.0, "unknown": 1.0}, v1.Health)
	require.Equal(t, map[string]any{"runs": 3.0, "retained": 2.0, "churned": 1.0, "retained_pct": 66.7}, v1.Retention)
	require.Equal(t, 1.0, v2.Health["improved"])
	require.Equal(t, 100.0, v2.Retention["retained_pct"])

	// One version alone has the same figures.
	r = h.do(t, "GET", "/v1/playbooks/winback/analytics?version=2", "")
	require.Equal(t, 200, r.status, r.raw)
	var one struct{ Versions []json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(r.raw), &one))
	require.Len(t, one.Versions, 1)
	v2raw, _ := json.Marshal(report.Versions[1])
	var again = report.Versions[1]
	require.NoError(t, json.Unmarshal(one.Versions[0], &again))
	v2again, _ := json.Marshal(again)
	require.JSONEq(t, string(v2raw), string(v2again))

	// A period that leaves out a3, a4 and b2 (started less than 6 days ago).
	from := nowDate(-45)
	to := nowDate(-6)
	r = h.do(t, "GET", "/v1/playbooks/winback/analytics?from="+from+"&to="+to, "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, from, r.body["from"])
	versions := r.body["versions"].([]any)
	require.EqualValues(t, 2, versions[0].(map[string]any)["runs"].(map[string]any)["started"])
	require.EqualValues(t, 1, versions[1].(map[string]any)["runs"].(map[string]any)["started"])

	// A playbook without health triggers reports no health.
	r = h.do(t, "GET", "/v1/playbooks/onboarding/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	ob := r.body["versions"].([]any)[0].(map[string]any)
	require.Nil(t, ob["health"])
	require.EqualValues(t, 1, ob["runs"].(map[string]any)["started"])
}

func TestPlaybookAnalyticsRefusals(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		path   string
		status int
		fields []string
	}{
		{"/v1/playbooks/ghost/analytics", 404, nil},
		{"/v1/playbooks/onboarding/analytics?version=99", 404, nil},
		{"/v1/playbooks/onboarding/analytics?version=0", 400, []string{"version"}},
		{"/v1/playbooks/onboarding/analytics?version=x&from=2026-02-30&to=tomorrow", 400, []string{"version", "from", "to"}},
		{"/v1/playbooks/onboarding/analytics?from=2026-05-01&to=2026-01-01", 400, []string{"from"}},
		{"/v1/playbooks/onboarding/analytics?from=1800-01-01", 400, []string{"from"}},
		{"/v1/playbooks/onboarding/analytics?verison=2", 400, []string{"verison"}},
	} {
		r := h.do(t, "GET", tt.path, "")
		require.Equal(t, tt.status, r.status, "%s: %s", tt.path, r.raw)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), tt.path)
		if tt.fields != nil {
			require.ElementsMatch(t, tt.fields, fieldsOf(r.body), tt.path)
		}
	}
	// Every role reads it.
	_, err := h.pool.Exec(context.Background(), `INSERT INTO team_members (email, name, level) VALUES ('casey@cs.test', 'Casey', 'csm')`)
	require.NoError(t, err)
	for _, role := range []string{"ops", "csm"} {
		body := `{"name":"k","role":"` + role + `"` + map[string]string{"csm": `,"team_member_email":"casey@cs.test"`}[role] + `}`
		k := h.do(t, "POST", "/v1/keys", body)
		require.Equal(t, 201, k.status, k.raw)
		r := h.request(t, k.body["key"].(string), "GET", "/v1/playbooks/onboarding/analytics", "", "")
		require.Equal(t, 200, r.status, role)
	}
}

// nowDate is the date days from today (UTC).
func nowDate(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }
