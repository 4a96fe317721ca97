package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Retiring a playbook stops new enrolments: a start is refused naming it,
// its trigger fires nothing; the live run goes on; the list says since
// when; un-retiring brings it back. Designers only.
func TestRetirePlaybook(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	const greet = "key: greet-new\nname: Greet new\ntrigger: {on: account_created}\nsteps:\n  - id: hi\n    task: {title: Hi, assignee: csm}\n"
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", greet).status)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/greet-new/versions/1/publish", "").status)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"greet-new","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	live := r.body["id"].(string)

	r = h.do(t, "POST", "/v1/playbooks/greet-new/retire", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "greet-new", r.body["key"])
	retiredAt := r.body["retired_at"]
	require.NotNil(t, retiredAt)
	r = h.do(t, "POST", "/v1/playbooks/greet-new/retire", "")
	require.Equal(t, retiredAt, r.body["retired_at"], "retiring again keeps the first time")

	account := func(id string) {
		t.Helper()
		r := h.do(t, "POST", "/v1/accounts", `{"id":"`+id+`","name":"`+id+`","arr":1000,"csm_email":"casey@cs.test","timezone":"UTC"}`)
		require.Equal(t, 201, r.status, r.raw)
	}
	account("newco")
	require.Equal(t, 0, h.firings(t, "newco", "greet-new"), "a retired playbook's trigger fires nothing")
	r = h.do(t, "POST", "/v1/runs", `{"playbook":"greet-new","account_id":"newco"}`)
	require.Equal(t, 422, r.status, r.raw)
	require.Contains(t, r.raw, `"field":"playbook"`)
	require.Contains(t, r.raw, "playbook greet-new is retired: it takes no new enrolments; un-retire it to start runs again")
	r = h.do(t, "GET", "/v1/runs/"+live, "")
	require.Equal(t, "running", r.body["status"], "its live run goes on")

	r = h.do(t, "GET", "/v1/playbooks", "")
	for _, item := range r.body["items"].([]any) {
		p := item.(map[string]any)
		if p["key"] == "greet-new" {
			require.Equal(t, retiredAt, p["retired_at"])
		} else {
			require.Nil(t, p["retired_at"], p["key"])
		}
	}

	r = h.do(t, "POST", "/v1/playbooks/greet-new/unretire", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Nil(t, r.body["retired_at"])
	account("nextco")
	require.Equal(t, 1, h.firings(t, "nextco", "greet-new"), "taken back, its trigger fires again")

	require.Equal(t, 404, h.do(t, "POST", "/v1/playbooks/ghost/retire", "").status)
	require.Equal(t, 404, h.do(t, "POST", "/v1/playbooks/ghost/unretire", "").status)
	casey := h.key(t, `{"name":"casey laptop","role":"csm","team_member_email":"casey@cs.test"}`)
	require.Equal(t, 403, h.as(t, casey, "POST", "/v1/playbooks/greet-new/retire", ""))
}
