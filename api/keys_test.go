package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/workflows"
)

// as sends a JSON request with another key and returns the status.
func (h *harness) as(t *testing.T, key, method, path, body string) int {
	t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return h.request(t, key, method, path, contentType, body).status
}

func (h *harness) key(t *testing.T, body string) string {
	t.Helper()
	r := h.do(t, "POST", "/v1/keys", body)
	require.Equal(t, 201, r.status, r.raw)
	require.True(t, strings.HasPrefix(r.body["key"].(string), "pbk_"))
	return r.body["key"].(string)
}

// A csm decides and completes only their own work, or work of someone below
// them in the ladder; their key cannot change anything else.
func TestCSMKeysActOnlyOnTheirLadder(t *testing.T) {
	h := newHarness(t)
	h.seed(t) // casey (csm) reports to lee (senior_csm)
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"other@cs.test","name":"Other","level":"csm"}`).status)
	casey := h.key(t, `{"name":"casey laptop","role":"csm","team_member_email":"casey@cs.test"}`)
	lead := h.key(t, `{"name":"lee","role":"csm","team_member_email":"lead@cs.test"}`)
	other := h.key(t, `{"name":"other","role":"csm","team_member_email":"other@cs.test"}`)
	ops := h.key(t, `{"name":"cs ops","role":"ops"}`)

	var stored []byte
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT key_hash FROM api_keys WHERE name = 'casey laptop'`).Scan(&stored))
	require.NotContains(t, string(stored), casey[4:12], "keys are stored hashed")

	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status)
	runID := r.body["id"]
	var approvalID, taskID string
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at)
		SELECT $1, 'qbr-invitation', 'acme', csm_id, '{}', now() + interval '4 hours' FROM accounts WHERE id = 'acme'
		RETURNING id`, runID).Scan(&approvalID))
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
		SELECT $1, 'welcome-call', 'acme', csm_id, 'Welcome call' FROM accounts WHERE id = 'acme' RETURNING id`, runID).Scan(&taskID))

	decide := "/v1/approvals/" + approvalID + "/decision"
	require.Equal(t, 403, h.as(t, other, "POST", decide, `{"decision":"approve"}`), "not casey's ladder")
	require.Equal(t, 200, h.as(t, lead, "POST", decide, `{"decision":"approve"}`), "casey's manager may decide")
	require.Equal(t, []workflows.Decision{{ApprovalID: approvalID, Decision: "approve", By: "lead@cs.test"}}, h.temporal.decisions)

	// A csm key sees its own inbox, and the inboxes of those below it.
	inbox := func(key, path string) (int, int) {
		r := h.request(t, key, "GET", path, "", "")
		items, _ := r.body["items"].([]any)
		return r.status, len(items)
	}
	for _, tc := range []struct {
		key, path   string
		status, len int
	}{
		{casey, "/v1/approvals", 200, 1}, {casey, "/v1/tasks", 200, 1},
		{other, "/v1/approvals", 200, 0}, {other, "/v1/tasks?status=open", 200, 0},
		{other, "/v1/tasks?assignee=casey@cs.test", 403, 0}, {other, "/v1/approvals?assignee=casey@cs.test", 403, 0},
		{lead, "/v1/approvals?assignee=casey@cs.test", 200, 1}, {lead, "/v1/tasks", 200, 0},
		{ops, "/v1/tasks", 200, 1},
	} {
		status, n := inbox(tc.key, tc.path)
		require.Equal(t, tc.status, status, tc.path)
		require.Equal(t, tc.len, n, tc.path)
	}

	complete := "/v1/tasks/" + taskID + "/complete"
	require.Equal(t, 403, h.as(t, other, "POST", complete, `{"outcome":"done"}`))
	require.Equal(t, 200, h.as(t, casey, "POST", complete, `{"outcome":"done"}`))

	require.Equal(t, 200, h.as(t, casey, "GET", "/v1/tasks?assignee=casey@cs.test", ""), "csm keys read")
	require.Equal(t, 403, h.as(t, casey, "POST", "/v1/accounts", `{}`), "but do not change accounts")
	require.Equal(t, 403, h.as(t, casey, "POST", "/v1/keys", `{}`))
	require.Equal(t, 403, h.as(t, ops, "POST", "/v1/keys", `{}`), "only admins manage keys")
	require.Equal(t, 200, h.as(t, ops, "GET", "/v1/playbooks", ""))
	require.Equal(t, 401, h.as(t, casey+"x", "GET", "/v1/playbooks", ""))

	// An admin lists keys (never their secrets) and revokes one: it stops at once.
	r = h.do(t, "GET", "/v1/keys?limit=2", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Len(t, r.body["items"], 2)
	require.NotContains(t, r.raw, casey)
	require.NotEmpty(t, r.body["next_cursor"])
	require.Equal(t, 403, h.as(t, ops, "GET", "/v1/keys", ""))
	var opsID string
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT id FROM api_keys WHERE role = 'ops'`).Scan(&opsID))
	require.Equal(t, 403, h.as(t, ops, "POST", "/v1/keys/"+opsID+"/revoke", ""), "not even its own")
	r = h.do(t, "POST", "/v1/keys/"+opsID+"/revoke", "")
	require.Equal(t, 200, r.status, r.raw)
	require.NotNil(t, r.body["revoked_at"])
	require.Equal(t, 401, h.as(t, ops, "GET", "/v1/playbooks", ""))
	require.Equal(t, 404, h.do(t, "POST", "/v1/keys/"+uuid.NewString()+"/revoke", "").status)
	require.Equal(t, 400, h.do(t, "POST", "/v1/keys/not-a-uuid/revoke", "").status)

	for _, bad := range []struct{ body, field string }{
		{`{"name":"x","role":"root"}`, "role"},
		{`{"name":"x","role":"csm"}`, "team_member_email"},
		{`{"name":"x","role":"csm","team_member_email":"ghost@cs.test"}`, "team_member_email"},
		{`{"name":"x","role":"ops","team_member_email":"casey@cs.test"}`, "team_member_email"},
		{`{"role":"ops"}`, "name"},
	} {
		r := h.do(t, "POST", "/v1/keys", bad.body)
		require.Equal(t, 422, r.status, bad.body)
		require.Contains(t, fieldsOf(r.body), bad.field)
	}
}
