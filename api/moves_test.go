package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/temporaltest"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/worker"
)

const (
	// Two emails three days apart; an account on the approval track waits
	// for a decision first, one on the branch track inside an if.
	nurtureV1 = `key: nurture
name: Nurture
steps:
  - id: first
    email: {template: welcome, to: [champion]}
  - id: review
    when: {field: {name: track, eq: approval}}
    approval: {assignee: csm, email: {template: welcome, to: [champion]}}
  - id: gate
    if: {field: {name: track, eq: branch}}
    then:
      - {id: hold, wait: 10d}
  - id: second
    at: 3d
    email: {template: welcome, to: [champion]}
`
	// A step added before where the runs are (intro), the second email
	// changed (other content, a day earlier), a step added after it.
	nurtureV2 = `key: nurture
name: Nurture
templates:
  - name: nudge
    subject: Checking in
    text: How is it going?
steps:
  - id: intro
    email: {template: welcome, to: [champion]}
  - id: first
    email: {template: welcome, to: [champion]}
  - id: review
    when: {field: {name: track, eq: approval}}
    approval: {assignee: csm, email: {template: welcome, to: [champion]}}
  - id: gate
    if: {field: {name: track, eq: branch}}
    then:
      - {id: hold, wait: 10d}
  - id: second
    at: 2d
    email: {template: nudge, to: [champion]}
  - id: third
    at: 4d
    task: {title: Call them, assignee: csm}
`
)

// newLiveHarness is newHarness whose runs run: a Temporal dev server (or
// PLAYBOOKD_TEST_TEMPORAL_ADDRESS's), and a worker with the real workflows
// and activities over the test's database.
func newLiveHarness(t *testing.T) *harness {
	t.Helper()
	srv := temporaltest.Start(t)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort, Namespace: srv.Namespace, Logger: quietTemporal})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	const queue = "moves"
	h := newHarnessWithDeps(t, func(d *app.Deps) { d.Temporal, d.TaskQueue, d.Namespace = c, queue, srv.Namespace })
	set, err := templates.Builtin()
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acts := &activities.Activities{Store: store.New(h.pool), Sender: mail.Capture{Log: log}, Templates: set,
		From: mail.Address{Name: "CS", Email: "cs@cs.test"}, Links: testLinks, SurveyLinks: testSurveyLinks, Log: log}
	w := worker.New(c, worker.Options{TaskQueue: queue}, acts)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop) // before the database goes
	return h
}

// runProgress is a run as GET /v1/runs/{id} shows it.
type runProgress struct {
	status, current, currentStatus string
	version                        int
	paused                         bool
	events                         []map[string]any
	raw                            string
}

func (h *harness) runProgress(t *testing.T, id string) runProgress {
	t.Helper()
	r := h.do(t, "GET", "/v1/runs/"+id, "")
	require.Equal(t, 200, r.status, r.raw)
	p := runProgress{status: r.body["status"].(string), version: int(r.body["version"].(float64)), raw: r.raw}
	if steps, ok := r.body["steps"].(map[string]any); ok {
		p.paused, _ = steps["paused"].(bool)
		if cur, ok := steps["current"].(map[string]any); ok {
			p.current, p.currentStatus = cur["id"].(string), cur["status"].(string)
		}
	}
	for _, e := range r.body["events"].([]any) {
		p.events = append(p.events, e.(map[string]any))
	}
	return p
}

// waitForRun polls the run until ok holds; a run under load takes its time,
// so the deadline is generous and nothing is read from a sleep.
func (h *harness) waitForRun(t *testing.T, id, what string, ok func(runProgress) bool) runProgress {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		p := h.runProgress(t, id)
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s never got %s: %s", id, what, p.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func at(step, status string) func(runProgress) bool {
	return func(p runProgress) bool { return p.current == step && p.currentStatus == status }
}

// movesOf answers a move request's runs by account.
func movesOf(t *testing.T, r response) map[string]map[string]any {
	t.Helper()
	require.Equal(t, 200, r.status, r.raw)
	out := map[string]map[string]any{}
	for _, run := range r.body["runs"].([]any) {
		m := run.(map[string]any)
		out[m["account_id"].(string)] = m
	}
	return out
}

// changesOf is a run's changes, step by step.
func changesOf(run map[string]any) map[string]string {
	out := map[string]string{}
	for _, c := range run["changes"].([]any) {
		m := c.(map[string]any)
		out[m["step"].(string)] = m["change"].(string)
	}
	return out
}

// A book of live runs in every state, previewed and then moved to a new
// version: the run waiting at a top-level step for its time moves, and so
// does the paused one; the one awaiting a decision and the one inside a
// branch stay and say why; the other segment's is left alone. The preview
// changes nothing; the move sends nothing twice.
func TestMovingABookOfRunsToANewVersion(t *testing.T) {
	h := newLiveHarness(t)
	h.seed(t) // acme: enterprise
	ctx := context.Background()
	for _, a := range []struct{ id, track string }{{"waiting", ""}, {"deciding", "approval"}, {"branching", "branch"}, {"pausing", ""}} {
		r := h.do(t, "POST", "/v1/accounts", fmt.Sprintf(`{"id":%q,"name":"%s Inc","arr":8000,"segment":"smb","timezone":"UTC",
			"csm_email":"casey@cs.test","lifecycle_stage":"adoption","custom_fields":{"track":%q},
			"contacts":[{"email":"champ@%s.test","name":"Champ","role":"champion"}]}`, a.id, a.id, a.track, a.id))
		require.Equal(t, 201, r.status, r.raw)
	}
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", nurtureV1).status)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/nurture/versions/1/publish", "").status)
	runIDs := map[string]string{}
	for _, account := range []string{"waiting", "deciding", "branching", "pausing", "acme"} {
		r := h.do(t, "POST", "/v1/runs", `{"playbook":"nurture","account_id":"`+account+`"}`)
		require.Equal(t, 201, r.status, r.raw)
		runIDs[account] = r.body["id"].(string)
	}
	h.waitForRun(t, runIDs["waiting"], "to wait for second", at("second", "waiting"))
	h.waitForRun(t, runIDs["acme"], "to wait for second", at("second", "waiting"))
	h.waitForRun(t, runIDs["deciding"], "to await the review", at("review", "awaiting"))
	branching := h.waitForRun(t, runIDs["branching"], "to wait inside gate", func(p runProgress) bool {
		return strings.Contains(p.current, "hold") && p.currentStatus == "waiting"
	})
	h.waitForRun(t, runIDs["pausing"], "to wait for second", at("second", "waiting"))
	require.Equal(t, 202, h.do(t, "POST", "/v1/runs/"+runIDs["pausing"]+"/pause", "").status)
	h.waitForRun(t, runIDs["pausing"], "paused", func(p runProgress) bool { return p.status == "paused" && p.paused })

	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", nurtureV2).status)
	r := h.do(t, "POST", "/v1/playbooks/nurture/versions/2/moves", `{"from_version":1,"segment":"smb"}`)
	require.Equal(t, 409, r.status, "a draft takes no runs: %s", r.raw)
	require.Equal(t, []string{"version"}, fieldsOf(r.body))
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/nurture/versions/2/publish", "").status)

	versions := func() map[string]int {
		out := map[string]int{}
		for account, id := range runIDs {
			var v int
			require.NoError(t, h.pool.QueryRow(ctx, `SELECT playbook_version FROM runs WHERE id = $1`, id).Scan(&v))
			out[account] = v
		}
		return out
	}
	movedEvents := func(runID string) []map[string]any {
		var out []map[string]any
		rows, err := h.pool.Query(ctx, `SELECT data FROM events WHERE type = 'run_moved' AND run_id = $1`, runID)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var data map[string]any
			require.NoError(t, rows.Scan(&data))
			out = append(out, data)
		}
		require.NoError(t, rows.Err())
		return out
	}
	allOnV1 := map[string]int{"waiting": 1, "deciding": 1, "branching": 1, "pausing": 1, "acme": 1}

	// The preview (dry_run is the default).
	r = h.do(t, "POST", "/v1/playbooks/nurture/versions/2/moves", `{"from_version":1,"segment":"smb"}`)
	preview := movesOf(t, r)
	require.Equal(t, true, r.body["dry_run"])
	require.EqualValues(t, 2, r.body["movable"], r.raw)
	require.EqualValues(t, 2, r.body["staying"], r.raw)
	require.EqualValues(t, 0, r.body["moved"], r.raw)
	require.Len(t, preview, 4, "acme is enterprise: %s", r.raw)
	for _, account := range []string{"waiting", "pausing"} {
		run := preview[account]
		require.Equal(t, true, run["can_move"], "%s: %v", account, run)
		require.Nil(t, run["reason"], account)
		require.Equal(t, "second", run["resumes_at"], account)
		require.Equal(t, false, run["moved"], account)
		changes := changesOf(run)
		require.Equal(t, "done", changes["first"], "%s: %v", account, run["changes"])
		require.Equal(t, "not_run", changes["intro"], "%s: added before where the run is: %v", account, run["changes"])
		require.Equal(t, "moves_and_changes", changes["second"], "%s: a day earlier, other content: %v", account, run["changes"])
		require.Equal(t, "runs", changes["third"], "%s: added after: %v", account, run["changes"])
		require.NotContains(t, changes, "review", "%s: skipped, not done", account)
	}
	require.Equal(t, false, preview["deciding"]["can_move"])
	require.Contains(t, preview["deciding"]["reason"], "approval")
	require.Equal(t, false, preview["branching"]["can_move"])
	require.Contains(t, preview["branching"]["reason"], "branch", branching.raw)
	require.Equal(t, allOnV1, versions(), "a preview moves nothing")
	for account, id := range runIDs {
		require.Empty(t, movedEvents(id), account)
	}

	// The move, by an ops key, for the same scope.
	ops := h.key(t, `{"name":"cs ops","role":"ops"}`)
	r = h.request(t, ops, "POST", "/v1/playbooks/nurture/versions/2/moves", "application/json", `{"from_version":1,"segment":"smb","dry_run":false}`)
	moved := movesOf(t, r)
	require.Equal(t, false, r.body["dry_run"])
	require.EqualValues(t, 2, r.body["moved"], r.raw)
	require.EqualValues(t, 2, r.body["staying"], r.raw)
	for _, account := range []string{"waiting", "pausing"} {
		require.Equal(t, true, moved[account]["moved"], "%s: %v", account, moved[account])
		require.Equal(t, "second", moved[account]["resumes_at"], account)
		events := movedEvents(runIDs[account])
		require.Len(t, events, 1, account)
		require.EqualValues(t, 1, events[0]["from_version"])
		require.EqualValues(t, 2, events[0]["to_version"])
		require.Contains(t, events[0]["by"], "(cs ops)", "who moved it: the key as audit columns name it")
		require.Equal(t, "second", events[0]["resumes_at"])
	}
	for _, account := range []string{"deciding", "branching"} {
		require.Equal(t, false, moved[account]["moved"], account)
		require.Equal(t, false, moved[account]["can_move"], account)
		require.Empty(t, movedEvents(runIDs[account]), account)
	}
	require.Contains(t, moved["deciding"]["reason"], "approval")
	require.Contains(t, moved["branching"]["reason"], "branch")
	require.Equal(t, map[string]int{"waiting": 2, "deciding": 1, "branching": 1, "pausing": 2, "acme": 1}, versions())

	// The moved run goes on on version 2, from where it was: it waits for
	// the new second email, and sent the first one once, intro never.
	p := h.waitForRun(t, runIDs["waiting"], "to wait for the new second", func(p runProgress) bool {
		return p.version == 2 && p.current == "second" && p.currentStatus == "waiting"
	})
	var types []string
	for _, e := range p.events {
		types = append(types, e["type"].(string))
	}
	require.Contains(t, types, "run_moved", p.raw)
	var sent []string
	rows, err := h.pool.Query(ctx, `SELECT step_id FROM emails WHERE run_id = $1 ORDER BY created_at`, runIDs["waiting"])
	require.NoError(t, err)
	for rows.Next() {
		var step string
		require.NoError(t, rows.Scan(&step))
		sent = append(sent, step)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"first"}, sent)
	paused := h.runProgress(t, runIDs["pausing"])
	require.Equal(t, "paused", paused.status, "a paused run moves paused")
	require.Equal(t, 2, paused.version)

	// Moving again finds only the runs that stayed.
	r = h.do(t, "POST", "/v1/playbooks/nurture/versions/2/moves", `{"from_version":1,"account_ids":["waiting","deciding"]}`)
	again := movesOf(t, r)
	require.Len(t, again, 1, r.raw)
	require.Contains(t, again, "deciding")
}

// Bad requests are 4xx problems naming the field, and change nothing.
func TestMovingRunsRefusesBadRequests(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", nurtureV1).status)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/nurture/versions/1/publish", "").status)
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", nurtureV2).status) // a draft

	manyIDs := `"a"` + strings.Repeat(`,"a"`, 1000)
	tests := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"empty body", "/v1/playbooks/nurture/versions/1/moves", "", 400, "body"},
		{"no from_version", "/v1/playbooks/nurture/versions/1/moves", `{"segment":"smb"}`, 422, "from_version"},
		{"from_version 0", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":0}`, 422, "from_version"},
		{"negative from_version", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":-1}`, 422, "from_version"},
		{"from_version a string", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":"1"}`, 400, "from_version"},
		{"from_version not whole", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":1.5}`, 400, "from_version"},
		{"unknown segment", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"segment":"huge"}`, 422, "segment"},
		{"account_ids not a list", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"account_ids":"acme"}`, 400, "account_ids"},
		{"bad account id", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"account_ids":["acme","a b"]}`, 422, "account_ids[1]"},
		{"empty account id", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"account_ids":[""]}`, 422, "account_ids[0]"},
		{"too many accounts", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"account_ids":[` + manyIDs + `]}`, 422, "account_ids"},
		{"dry_run not a boolean", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"dry_run":"no"}`, 400, "dry_run"},
		{"unknown field", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":2,"to_version":1}`, 400, "to_version"},
		{"bad path version", "/v1/playbooks/nurture/versions/v2/moves", `{"from_version":1}`, 400, "version"},
		{"to the same version", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":1}`, 422, "from_version"},
		{"to a draft", "/v1/playbooks/nurture/versions/2/moves", `{"from_version":1,"dry_run":false}`, 409, "version"},
		{"unknown playbook", "/v1/playbooks/nope/versions/2/moves", `{"from_version":1}`, 404, ""},
		{"unknown target version", "/v1/playbooks/nurture/versions/9/moves", `{"from_version":1}`, 404, ""},
		{"unknown from_version", "/v1/playbooks/nurture/versions/1/moves", `{"from_version":9}`, 404, "from_version"},
	}
	before := h.counts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, "POST", tt.path, tt.body)
			require.Equal(t, tt.status, r.status, r.raw)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			if tt.field != "" {
				require.Contains(t, fieldsOf(r.body), tt.field, r.raw)
			}
		})
	}
	require.Equal(t, before, h.counts(t), "a refused request wrote something")

	// A csm key does not move runs.
	csm := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	r := h.request(t, csm, "POST", "/v1/playbooks/nurture/versions/1/moves", "application/json", `{"from_version":2}`)
	require.Equal(t, 403, r.status, r.raw)
}
