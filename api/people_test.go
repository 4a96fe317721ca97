package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// refused asserts a 4xx problem naming the field.
func refused(t *testing.T, r response, status int, field string) {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), r.raw)
	if field != "" {
		require.Contains(t, fieldsOf(r.body), field, r.raw)
	}
}

// Members have a role and a time zone; only an admin gives or takes the
// admin role; an admin deactivates a member with a successor, who takes
// their account, approval and task at once; the last admin stays.
func TestTeamRolesAndDeactivation(t *testing.T) {
	h := newHarness(t)
	h.seed(t) // casey (csm) reports to lee (senior_csm), casey is acme's CSM
	r := h.do(t, "POST", "/v1/team", `{"email":"robin@cs.test","name":"Robin","level":"csm","role":"ops","timezone":"Europe/Berlin"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "ops", r.body["role"])
	require.Equal(t, "Europe/Berlin", r.body["timezone"])
	require.Nil(t, r.body["deactivated_at"])
	r = h.do(t, "POST", "/v1/team", `{"email":"robin@cs.test","name":"Robin R","level":"csm"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "ops", r.body["role"], "left out: kept")
	require.Equal(t, "Europe/Berlin", r.body["timezone"])
	refused(t, h.do(t, "POST", "/v1/team", `{"email":"a@cs.test","name":"A","level":"csm","role":"root"}`), 422, "role")
	refused(t, h.do(t, "POST", "/v1/team", `{"email":"a@cs.test","name":"A","level":"csm","timezone":"Mars/Base"}`), 422, "timezone")
	refused(t, h.do(t, "POST", "/v1/team", `{"email":"a@cs.test","name":"A","level":"csm","timezone":7}`), 400, "timezone")

	ops := h.key(t, `{"name":"ops","role":"ops"}`)
	casey := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	refused(t, h.request(t, ops, "POST", "/v1/team", "application/json", `{"email":"a@cs.test","name":"A","level":"csm","role":"admin"}`), 403, "")
	require.Equal(t, 201, h.as(t, ops, "POST", "/v1/team", `{"email":"a@cs.test","name":"A","level":"csm","role":"ops"}`), "ops keep the team")

	var runID, approvalID, taskID string
	r = h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID = r.body["id"].(string)
	ctx := context.Background()
	require.NoError(t, h.pool.QueryRow(ctx, `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at)
		SELECT $1, 'qbr', 'acme', csm_id, '{}', now() + interval '4 hours' FROM accounts WHERE id = 'acme' RETURNING id`, runID).Scan(&approvalID))
	require.NoError(t, h.pool.QueryRow(ctx, `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
		SELECT $1, 'call', 'acme', csm_id, 'Call' FROM accounts WHERE id = 'acme' RETURNING id`, runID).Scan(&taskID))

	deactivate := "/v1/team/casey@cs.test/deactivate"
	refused(t, h.request(t, casey, "POST", deactivate, "application/json", `{"successor":"robin@cs.test"}`), 403, "")
	refused(t, h.request(t, ops, "POST", deactivate, "application/json", `{"successor":"robin@cs.test"}`), 403, "")
	before := h.counts(t)
	for _, bad := range []struct {
		path, body string
		status     int
		field      string
	}{
		{deactivate, `{}`, 422, "successor"},
		{deactivate, `{"successor":"ghost@cs.test"}`, 422, "successor"},
		{deactivate, `{"successor":"casey@cs.test"}`, 422, "successor"},
		{deactivate, `{"successor":"not an address"}`, 422, "successor"},
		{deactivate, `{"successor":"robin@cs.test","keep":true}`, 400, "keep"},
		{"/v1/team/ghost@cs.test/deactivate", `{"successor":"robin@cs.test"}`, 404, ""},
	} {
		refused(t, h.do(t, "POST", bad.path, bad.body), bad.status, bad.field)
	}
	require.Equal(t, before, h.counts(t), "a refused deactivation moves nothing")

	r = h.do(t, "POST", deactivate, `{"successor":"Robin@cs.test"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, []any{"acme"}, r.body["accounts"])
	require.EqualValues(t, 1, r.body["approvals"])
	require.EqualValues(t, 1, r.body["tasks"])
	require.EqualValues(t, 1, r.body["keys_revoked"])
	require.NotNil(t, r.body["member"].(map[string]any)["deactivated_at"])
	require.Equal(t, "robin@cs.test", h.do(t, "GET", "/v1/accounts/acme", "").body["csm_email"])
	require.Equal(t, 401, h.as(t, casey, "GET", "/v1/tasks", ""), "their key stopped")
	r = h.do(t, "GET", "/v1/tasks?assignee=robin@cs.test", "")
	require.Len(t, r.body["items"], 1)
	r = h.do(t, "GET", "/v1/approvals?assignee=robin@cs.test", "")
	require.Len(t, r.body["items"], 1)
	refused(t, h.do(t, "POST", deactivate, `{"successor":"robin@cs.test"}`), 409, "")
	refused(t, h.do(t, "POST", "/v1/keys", `{"name":"x","role":"csm","team_member_email":"casey@cs.test"}`), 422, "team_member_email")
	refused(t, h.do(t, "POST", "/v1/accounts", `{"id":"b","name":"B","arr":1,"csm_email":"casey@cs.test","timezone":"UTC"}`), 422, "csm_email")

	r = h.do(t, "POST", "/v1/team/casey@cs.test/reactivate", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Nil(t, r.body["deactivated_at"])
	require.Equal(t, 404, h.do(t, "POST", "/v1/team/ghost@cs.test/reactivate", "").status)

	// The last active admin member keeps the role and stays active.
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"ada@cs.test","name":"Ada","level":"vp_cs","role":"admin"}`).status)
	refused(t, h.do(t, "POST", "/v1/team/ada@cs.test/deactivate", `{"successor":"robin@cs.test"}`), 409, "")
	refused(t, h.do(t, "POST", "/v1/team", `{"email":"ada@cs.test","name":"Ada","level":"vp_cs","role":"csm"}`), 422, "role")
	refused(t, h.request(t, ops, "POST", "/v1/team", "application/json", `{"email":"ada@cs.test","name":"Ada","level":"vp_cs","role":"ops"}`), 403, "")
}

// A key says when it was last used.
func TestKeysSayWhenTheyWereLastUsed(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	ops := h.key(t, `{"name":"ops","role":"ops"}`)
	r := h.do(t, "GET", "/v1/keys", "")
	require.Nil(t, r.body["items"].([]any)[0].(map[string]any)["last_used_at"])
	require.Equal(t, 200, h.as(t, ops, "GET", "/v1/playbooks", ""))
	r = h.do(t, "GET", "/v1/keys", "")
	require.NotNil(t, r.body["items"].([]any)[0].(map[string]any)["last_used_at"])
}

// A csm closes their own loops on the accounts of their ladder: reports
// the event a run waits for, makes, reassigns and snoozes tasks, logs a
// call that the health score then reads, and reads the account's timeline;
// elsewhere they get 403.
func TestCSMClosesTheirOwnLoops(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"other@cs.test","name":"Other","level":"csm"}`).status)
	casey := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	lead := h.key(t, `{"name":"lee","role":"csm","team_member_email":"lead@cs.test"}`)
	other := h.key(t, `{"name":"other","role":"csm","team_member_email":"other@cs.test"}`)
	send := func(key, method, path, body string) response {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		return h.request(t, key, method, path, ct, body)
	}

	// Events.
	require.Equal(t, 201, h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`).status)
	r := send(casey, "POST", "/v1/accounts/acme/events", `{"name":"first_login"}`)
	require.Equal(t, 202, r.status, r.raw)
	require.EqualValues(t, 1, r.body["delivered_to_runs"])
	require.Equal(t, 202, send(lead, "POST", "/v1/accounts/acme/events", `{"name":"first_login"}`).status, "their manager too")
	r = send(other, "POST", "/v1/accounts/acme/events", `{"name":"first_login"}`)
	refused(t, r, 403, "")
	require.Contains(t, r.body["detail"], "escalation ladder")
	refused(t, send(casey, "POST", "/v1/accounts/ghost/events", `{"name":"first_login"}`), 404, "")
	refused(t, send(casey, "POST", "/v1/accounts/acme/events", `{"name":"First Login"}`), 422, "name")

	// Ad-hoc tasks.
	before := h.counts(t)
	for _, bad := range []struct {
		key, body string
		status    int
		field     string
	}{
		{casey, `{"account_id":"acme"}`, 422, "title"},
		{casey, `{"account_id":"acme","title":"x","priority":"asap"}`, 422, "priority"},
		{casey, `{"account_id":"acme","title":"x","due_at":"tomorrow"}`, 422, "due_at"},
		{casey, `{"account_id":"acme","title":"x","owner":"me"}`, 400, "owner"},
		{casey, `{"account_id":"ghost","title":"x"}`, 422, "account_id"},
		{casey, `{"account_id":"acme","title":"x","assignee":"ghost@cs.test"}`, 403, ""},
		{adminKey, `{"account_id":"acme","title":"x"}`, 422, "assignee"},
		{adminKey, `{"account_id":"acme","title":"x","assignee":"ghost@cs.test"}`, 422, "assignee"},
		{other, `{"account_id":"acme","title":"x"}`, 403, ""},
		{casey, `{"account_id":"acme","title":"x","assignee":"lead@cs.test"}`, 403, ""},
	} {
		refused(t, send(bad.key, "POST", "/v1/tasks", bad.body), bad.status, bad.field)
	}
	require.Equal(t, before, h.counts(t), "nothing written")
	due := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	r = send(casey, "POST", "/v1/tasks", `{"account_id":"acme","title":"Send the deck","priority":"high","due_at":"`+due+`"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Nil(t, r.body["run_id"])
	require.Nil(t, r.body["step_id"])
	require.Equal(t, "casey@cs.test", r.body["created_by"])
	require.Equal(t, "casey@cs.test", r.body["assignee"])
	taskID := r.body["id"].(string)
	r = send(lead, "POST", "/v1/tasks", `{"account_id":"acme","title":"Check in","assignee":"casey@cs.test"}`)
	require.Equal(t, 201, r.status, r.raw)

	// Reassign and snooze.
	reassign, snooze := "/v1/tasks/"+taskID+"/reassign", "/v1/tasks/"+taskID+"/snooze"
	refused(t, send(other, "POST", reassign, `{"assignee":"other@cs.test"}`), 403, "")
	refused(t, send(casey, "POST", reassign, `{}`), 422, "assignee")
	refused(t, send(casey, "POST", "/v1/tasks/not-a-uuid/reassign", `{"assignee":"casey@cs.test"}`), 400, "id")
	r = send(lead, "POST", reassign, `{"assignee":"lead@cs.test"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "lead@cs.test", r.body["assignee"])
	refused(t, send(casey, "POST", reassign, `{"assignee":"casey@cs.test"}`), 403, "")
	require.Equal(t, 200, send(lead, "POST", reassign, `{"assignee":"casey@cs.test"}`).status)

	for _, bad := range []struct{ body, field string }{
		{`{}`, "until"}, {`{"until":"soon"}`, "until"},
		{`{"until":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `"}`, "until"},
		{`{"until":"` + time.Now().AddDate(2, 0, 0).UTC().Format(time.RFC3339) + `"}`, "until"},
	} {
		refused(t, send(casey, "POST", snooze, bad.body), 422, bad.field)
	}
	refused(t, send(other, "POST", snooze, `{"until":null}`), 403, "")
	until := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	r = send(casey, "POST", snooze, `{"until":"`+until+`"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, until, r.body["snoozed_until"])
	inbox := func(query string) []string {
		t.Helper()
		r := send(casey, "GET", "/v1/tasks?status=open"+query, "")
		require.Equal(t, 200, r.status, r.raw)
		var ids []string
		for _, it := range r.body["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		return ids
	}
	require.NotContains(t, inbox("&snoozed=exclude"), taskID, "out of the inbox")
	require.Contains(t, inbox("&snoozed=only"), taskID)
	require.Contains(t, inbox(""), taskID, "other lists show it")
	refused(t, send(casey, "GET", "/v1/tasks?snoozed=maybe", ""), 400, "snoozed")
	r = send(casey, "POST", snooze, `{"until":null}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Nil(t, r.body["snoozed_until"])
	require.Contains(t, inbox("&snoozed=exclude"), taskID)

	signals := len(h.temporal.signals)
	r = send(casey, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"sent"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, h.temporal.signals, signals, "an ad-hoc task tells no run")
	refused(t, send(casey, "POST", reassign, `{"assignee":"casey@cs.test"}`), 409, "")

	// Notes, the last contact, the timeline.
	for _, bad := range []struct {
		key, body string
		status    int
		field     string
	}{
		{casey, `{"kind":"email","body":"x"}`, 422, "kind"},
		{casey, `{"kind":"call"}`, 422, "body"},
		{casey, `{"kind":"call","body":"x","happened_at":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}`, 422, "happened_at"},
		{casey, `{"kind":"call","body":"x","happened_at":"yesterday"}`, 422, "happened_at"},
		{casey, `{"kind":"call","body":"x","mood":"good"}`, 400, "mood"},
		{other, `{"kind":"call","body":"x"}`, 403, ""},
	} {
		refused(t, send(bad.key, "POST", "/v1/accounts/acme/notes", bad.body), bad.status, bad.field)
	}
	refused(t, send(casey, "POST", "/v1/accounts/ghost/notes", `{"kind":"call","body":"x"}`), 404, "")
	called := time.Now().Add(-50 * time.Hour).UTC().Truncate(time.Second)
	r = send(casey, "POST", "/v1/accounts/acme/notes", `{"kind":"call","body":"Kickoff: they want SSO first","happened_at":"`+called.Format(time.RFC3339)+`"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "casey@cs.test", r.body["author"])
	noteID := r.body["id"].(string)

	r = h.do(t, "POST", "/v1/accounts/acme/health", `{"email_response_rate":0.5}`)
	require.Equal(t, 201, r.status, r.raw)
	var inputs map[string]any
	raw, _ := json.Marshal(r.body["inputs"])
	require.NoError(t, json.Unmarshal(raw, &inputs))
	require.InDelta(t, 2.1, inputs["days_since_last_contact"], 0.05, "the call, read as the last contact")

	var items []map[string]any
	cursor := ""
	for range 20 {
		r = send(other, "GET", "/v1/accounts/acme/timeline?limit=3"+cursor, "")
		require.Equal(t, 200, r.status, r.raw)
		for _, it := range r.body["items"].([]any) {
			items = append(items, it.(map[string]any))
		}
		next, _ := r.body["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(next)
	}
	kinds := map[string]bool{}
	var call map[string]any
	for i, it := range items {
		kinds[it["kind"].(string)] = true
		if it["note_id"] == noteID {
			call = it
		}
		if i > 0 {
			at, err := time.Parse(time.RFC3339Nano, it["at"].(string))
			require.NoError(t, err)
			prev, err := time.Parse(time.RFC3339Nano, items[i-1]["at"].(string))
			require.NoError(t, err)
			require.False(t, at.After(prev), "newest first")
		}
	}
	require.NotNil(t, call, "the call is on the timeline")
	require.Equal(t, "call", call["kind"])
	require.True(t, strings.HasPrefix(call["summary"].(string), "Call logged by casey@cs.test: Kickoff"))
	for _, k := range []string{"call", "run", "task", "health", "event", "account"} {
		require.True(t, kinds[k], "a %s entry", k)
	}
	refused(t, h.do(t, "GET", "/v1/accounts/ghost/timeline", ""), 404, "")
	refused(t, h.do(t, "GET", "/v1/accounts/acme/timeline?cursor=nope", ""), 400, "cursor")
}
