package api_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Onboarding plays (trigger account_created) report time to first login
// and first value, expansion plays (trigger expansion) the ARR of their
// ended runs' accounts; the others neither. Counted by hand from the rows
// written here; every response is checked against openapi.yaml.
func TestPlaybookAnalyticsValueFigures(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := h.pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	for _, def := range []string{
		"key: first-days\nname: First days\ntrigger: {on: account_created}\nsteps:\n  - id: hi\n    task: {title: Hi, assignee: csm}\n",
		"key: upsell\nname: Upsell\ntrigger: {on: expansion}\nsteps:\n  - id: ask\n    task: {title: Ask, assignee: csm}\n",
	} {
		r := h.send(t, "POST", "/v1/playbooks", "application/yaml", def)
		require.Equal(t, 201, r.status, r.raw)
	}
	for _, a := range []string{"v1", "v2", "v3"} {
		exec(`INSERT INTO accounts (id, name, arr, segment, csm_id, timezone)
			SELECT $1, $1, 1000, 'smb', id, 'UTC' FROM team_members WHERE email = 'casey@cs.test'`, a)
	}
	run := func(key, account string, startedDaysAgo float64, endedDaysAgo *float64) {
		t.Helper()
		id := uuid.New()
		status := "running"
		if endedDaysAgo != nil {
			status = "completed"
		}
		exec(`INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status, started_at, ended_at)
			VALUES ($1, $2, $3, 1, $4, 'r', $5, now() - make_interval(secs => $6 * 86400),
			        CASE WHEN $7::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $7::float8 * 86400) END)`,
			id, account, key, id.String(), status, startedDaysAgo, endedDaysAgo)
	}
	ago := func(d float64) *float64 { return &d }
	event := func(account, name string, daysAgo float64) {
		t.Helper()
		exec(`INSERT INTO events (account_id, type, created_at) VALUES ($1, 'event:' || $2, now() - make_interval(secs => $3 * 86400))`, account, name, daysAgo)
	}
	// first-days: v1 logs in after 1 day and gets value after 5; v2 logs
	// in after 3 days; v3 logged in before its run started, and no more.
	run("first-days", "v1", 10, nil)
	event("v1", "first_login", 9)
	event("v1", "first_value", 5)
	run("first-days", "v2", 8, nil)
	event("v2", "first_login", 5)
	run("first-days", "v3", 4, nil)
	event("v3", "first_login", 6)
	// upsell: v1's run ended 2 days ago (completed without an outcome: a
	// run's progress counts it as not through every step, not as an error); it paid 1000 until 3 days ago, then
	// 4000. v2's run is live.
	// (The history is written before the run ends: ARR at a run's start
	// and end is fixed when it ends.)
	exec(`UPDATE arr_history SET valid_from = now() - interval '30 days' WHERE account_id = 'v1'`)
	exec(`UPDATE accounts SET arr = 4000 WHERE id = 'v1'`)
	exec(`UPDATE arr_history SET valid_from = now() - interval '3 days' WHERE account_id = 'v1' AND arr = 4000`)
	run("upsell", "v1", 6, ago(2))
	run("upsell", "v2", 1, nil)

	r := h.do(t, "GET", "/v1/playbooks/first-days/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	v := r.body["versions"].([]any)[0].(map[string]any)
	require.Nil(t, v["arr"])
	require.Equal(t, map[string]any{"runs": 3.0,
		"first_login": map[string]any{"event": "first_login", "reached": 2.0, "median_days": 2.0},
		"first_value": map[string]any{"event": "first_value", "reached": 1.0, "median_days": 5.0}}, v["time_to_value"])

	r = h.do(t, "GET", "/v1/playbooks/upsell/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	v = r.body["versions"].([]any)[0].(map[string]any)
	require.Nil(t, v["time_to_value"])
	require.Equal(t, map[string]any{"runs": 1.0, "start": 1000.0, "end": 4000.0, "now": 4000.0, "gained": 3000.0, "expanded": 1.0}, v["arr"])

	// Neither for a play of another kind.
	r = h.do(t, "GET", "/v1/playbooks/onboarding/analytics", "")
	require.Equal(t, 200, r.status, r.raw)
	v = r.body["versions"].([]any)[0].(map[string]any)
	require.Nil(t, v["arr"])
}
