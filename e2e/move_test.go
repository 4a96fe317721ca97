package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store/storetest"
)

// moveDeadline bounds each wait of the move test: generous, as the e2e
// tests share two cores with everything else in CI.
const moveDeadline = 2 * time.Minute

// Version 1 emails first at once and second a day later; version 2 sends
// another second (a template of its own) 20 seconds after the enrolment,
// so a run moved while it waits for second's day gets it within the test.
const (
	nurtureMoveV1 = `key: nurture-move
name: Nurture (move)
templates:
  - name: move-hello
    subject: "Hello {{.Account.Name}}"
    text: |
      Hi {{.Contact.FirstName}}, welcome aboard.
  - name: move-old-news
    subject: "Old news for {{.Account.Name}}"
    text: |
      The first version's second email.
steps:
  - id: first
    email: {template: move-hello, to: [champion]}
  - id: second
    at: 1d
    email: {template: move-old-news, to: [champion]}
`
	nurtureMoveV2 = `key: nurture-move
name: Nurture (move)
templates:
  - name: move-hello
    subject: "Hello {{.Account.Name}}"
    text: |
      Hi {{.Contact.FirstName}}, welcome aboard.
  - name: move-fresh-news
    subject: "Fresh news for {{.Account.Name}}"
    text: |
      The second version's second email.
steps:
  - id: first
    email: {template: move-hello, to: [champion]}
  - id: second
    at: 20s
    email: {template: move-fresh-news, to: [champion]}
`
)

// The definition of done, through the binary: a run waiting
// between two emails moves to a version whose second email changed; the
// contact gets the first once and the new second once, the run ends on the
// new version, and its audit says who moved it from which version to which.
func TestAMovedRunGetsEachEmailOnceThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	began := time.Now()
	ctx := context.Background()
	// Our own database, to read the outbox and the run row: the later
	// DATABASE_URL wins in the binary's environment (os/exec keeps the last).
	dbURL := storetest.NewEmptyDatabase(t)
	srv := startPlaybookd(t, "DATABASE_URL="+dbURL,
		// Two emails to one contact within seconds: the minimum gap (24h by
		// default) would hold the second, and the cap would count the
		// built-in plays' emails; neither is what this test is about.
		"EMAIL_MIN_GAP=0", "EMAIL_CAP=0")
	c := srv.client
	db, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	t.Logf("%5.1fs playbookd dev is up", time.Since(began).Seconds())

	status, body := c.call("POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey CSM","level":"csm"}`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/accounts", `{"id":"move-e2e","name":"Moving Co","arr":18000,
		"csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption",
		"contacts":[{"email":"pat@moving.test","name":"Pat Lee","role":"champion"}]}`)
	require.Equal(t, 201, status, body)

	status, body = c.send("POST", "/v1/playbooks", "application/yaml", nurtureMoveV1)
	require.Equal(t, 201, status, body)
	require.EqualValues(t, 1, body["version"], body)
	status, body = c.call("POST", "/v1/playbooks/nurture-move/versions/1/publish", "")
	require.Equal(t, 200, status, body)
	status, body = c.call("POST", "/v1/runs", `{"playbook":"nurture-move","account_id":"move-e2e"}`)
	require.Equal(t, 201, status, body)
	runID := body["id"].(string)

	// first goes out; the run then waits for second's day.
	waitUntil(t, "first is captured", func() (bool, any) {
		_, emails := c.call("GET", "/v1/emails?run_id="+runID, "")
		for _, e := range items(emails) {
			if e["step_id"] == "first" && e["status"] == "captured" {
				return true, emails
			}
		}
		return false, emails
	})
	waitUntil(t, "the run waits at second", func() (bool, any) {
		_, view := c.call("GET", "/v1/runs/"+runID, "")
		cur, _ := view["steps"].(map[string]any)["current"].(map[string]any)
		return cur != nil && cur["id"] == "second" && cur["status"] == "waiting", view["steps"]
	})
	t.Logf("%5.1fs run %s sent first and waits at second (version 1)", time.Since(began).Seconds(), runID)

	status, body = c.send("POST", "/v1/playbooks", "application/yaml", nurtureMoveV2)
	require.Equal(t, 201, status, body)
	require.EqualValues(t, 2, body["version"], body)
	status, body = c.call("POST", "/v1/playbooks/nurture-move/versions/2/publish", "")
	require.Equal(t, 200, status, body)

	// The dry run, of every live run of version 1 (no segment, no
	// accounts: the default scope): the run can move, resumes at second,
	// first is done and second comes sooner with the new email; nothing
	// moves.
	status, plan := c.call("POST", "/v1/playbooks/nurture-move/versions/2/moves", `{"from_version":1,"dry_run":true}`)
	require.Equal(t, 200, status, plan)
	require.Equal(t, true, plan["dry_run"], plan)
	require.EqualValues(t, 1, plan["from_version"], plan)
	require.EqualValues(t, 2, plan["to_version"], plan)
	require.EqualValues(t, 1, plan["movable"], plan)
	require.EqualValues(t, 0, plan["moved"], plan)
	require.EqualValues(t, 0, plan["staying"], plan)
	previewed := onlyRun(t, plan)
	require.Equal(t, runID, previewed["run_id"])
	require.Equal(t, true, previewed["can_move"], previewed)
	require.Equal(t, false, previewed["moved"], previewed)
	require.Equal(t, "second", previewed["resumes_at"], previewed)
	changes := map[string]map[string]any{}
	for _, ch := range previewed["changes"].([]any) {
		ch := ch.(map[string]any)
		changes[fmt.Sprint(ch["step"])] = ch
	}
	require.Equal(t, "done", changes["first"]["change"], "%v", previewed["changes"])
	require.Equal(t, "moves_and_changes", changes["second"]["change"],
		"a day after enrolment, then 20 seconds after it, with another subject: %v", previewed["changes"])
	require.Contains(t, changes["second"]["detail"], "Fresh news for Moving Co", "%v", changes["second"])
	require.Len(t, changes, 2, "%v", previewed["changes"])
	_, view := c.call("GET", "/v1/runs/"+runID, "")
	require.EqualValues(t, 1, view["version"], "a dry run moves nothing")
	t.Logf("%5.1fs dry run: can move, resumes at second; changes %v", time.Since(began).Seconds(), previewed["changes"])

	// The move, of the runs of the accounts named.
	status, plan = c.call("POST", "/v1/playbooks/nurture-move/versions/2/moves", `{"from_version":1,"dry_run":false,"account_ids":["move-e2e"]}`)
	require.Equal(t, 200, status, plan)
	require.Equal(t, false, plan["dry_run"], plan)
	require.EqualValues(t, 1, plan["moved"], plan)
	require.EqualValues(t, 0, plan["staying"], plan)
	moved := onlyRun(t, plan)
	require.Equal(t, runID, moved["run_id"])
	require.Equal(t, true, moved["moved"], moved)
	require.Equal(t, "second", moved["resumes_at"], moved)
	t.Logf("%5.1fs moved to version 2", time.Since(began).Seconds())

	view = waitUntil(t, "the moved run completes", func() (bool, any) {
		_, view := c.call("GET", "/v1/runs/"+runID, "")
		return view["status"] == "completed", view
	}).(map[string]any)
	t.Logf("%5.1fs the run completed", time.Since(began).Seconds())
	require.EqualValues(t, 2, view["version"], view)
	var movedEvents []map[string]any
	for _, e := range view["events"].([]any) {
		if e := e.(map[string]any); e["type"] == "run_moved" {
			movedEvents = append(movedEvents, e["data"].(map[string]any))
		}
	}
	require.Len(t, movedEvents, 1, "%v", view["events"])
	require.EqualValues(t, 1, movedEvents[0]["from_version"], movedEvents[0])
	require.EqualValues(t, 2, movedEvents[0]["to_version"], movedEvents[0])
	require.NotEmpty(t, movedEvents[0]["by"], movedEvents[0])
	require.Equal(t, "second", movedEvents[0]["resumes_at"], movedEvents[0])

	// The database: the run row on version 2, one run_moved event, and the
	// run's whole outbox: first with version 1's email, second with version
	// 2's, once each, to the champion.
	var version, movedCount int
	require.NoError(t, db.QueryRow(ctx, `SELECT playbook_version FROM runs WHERE id = $1`, runID).Scan(&version))
	require.Equal(t, 2, version)
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM events WHERE run_id = $1 AND type = 'run_moved'`, runID).Scan(&movedCount))
	require.Equal(t, 1, movedCount)
	type sent struct{ Step, To, Template, Subject, Status string }
	rows, err := db.Query(ctx, `SELECT step_id, recipient, template, subject, status FROM emails WHERE run_id = $1 ORDER BY created_at`, runID)
	require.NoError(t, err)
	var outbox []sent
	for rows.Next() {
		var s sent
		require.NoError(t, rows.Scan(&s.Step, &s.To, &s.Template, &s.Subject, &s.Status))
		outbox = append(outbox, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []sent{
		{"first", "pat@moving.test", "move-hello", "Hello Moving Co", "captured"},
		{"second", "pat@moving.test", "move-fresh-news", "Fresh news for Moving Co", "captured"},
	}, outbox)

	// What the mail sender was handed (capture logs each email it is given):
	// each email once, and never version 1's second.
	got := map[string]int{}
	for _, line := range strings.Split(srv.logs.String(), "\n") {
		var entry struct{ Msg, To, Subject string }
		if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(entry.Msg, "email captured") && entry.To == "pat@moving.test" {
			got[entry.Subject]++
		}
	}
	require.Equal(t, 1, got["Hello Moving Co"], "%v", got)
	require.Equal(t, 1, got["Fresh news for Moving Co"], "%v", got)
	require.Zero(t, got["Old news for Moving Co"], "%v", got)
	t.Logf("%5.1fs outbox and sender: %v", time.Since(began).Seconds(), got)
}

// waitUntil polls check until it holds or moveDeadline passes; the last
// answer is returned, or shown when it never held.
func waitUntil(t *testing.T, what string, check func() (bool, any)) any {
	t.Helper()
	deadline := time.Now().Add(moveDeadline)
	for {
		ok, last := check()
		if ok {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last answer: %v", what, moveDeadline, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func items(list map[string]any) []map[string]any {
	raw, _ := list["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func onlyRun(t *testing.T, plan map[string]any) map[string]any {
	t.Helper()
	runs, _ := plan["runs"].([]any)
	require.Len(t, runs, 1, "%v", plan)
	return runs[0].(map[string]any)
}
