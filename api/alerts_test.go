package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// items is a list answer's items.
func items(t *testing.T, r response) []map[string]any {
	t.Helper()
	require.Equal(t, 200, r.status, r.raw)
	raw, _ := r.body["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// An account that turns red tells its CSM, with what started and who
// holds it; the manager holding the recovery's approval is told too, a
// peer is not; each marks it seen for themselves.
func TestRiskAlertsReachTheCSMThroughTheAPI(t *testing.T) {
	h := newHarness(t)
	h.seed(t) // casey (csm) reports to lee (senior_csm)
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"other@cs.test","name":"Other","level":"csm"}`).status)
	casey := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	lead := h.key(t, `{"name":"lee","role":"csm","team_member_email":"lead@cs.test"}`)
	other := h.key(t, `{"name":"other","role":"csm","team_member_email":"other@cs.test"}`)

	require.Equal(t, 201, h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 85}`).status)
	require.Empty(t, items(t, h.request(t, casey, "GET", "/v1/alerts", "", "")), "a first green score is no news")
	r := h.do(t, "POST", "/v1/accounts/acme/health", `{"score": 35}`)
	require.Equal(t, 201, r.status, r.raw)

	alerts := items(t, h.request(t, casey, "GET", "/v1/alerts", "", ""))
	require.Len(t, alerts, 1)
	red := alerts[0]
	require.Equal(t, "Health fell from green to red (score 35)", red["headline"])
	require.Equal(t, "green", red["band_from"])
	require.Equal(t, "red", red["band_to"])
	require.Equal(t, true, red["worse"])
	started := red["started"].([]any)
	require.Len(t, started, 1)
	recovery := started[0].(map[string]any)
	require.Equal(t, "red-recovery", recovery["playbook"])
	require.Equal(t, "started", recovery["status"])
	runID := uuid.MustParse(recovery["run_id"].(string))

	// The run asks the manager to approve (the worker would).
	st := store.New(h.pool)
	ctx := context.Background()
	_, err := st.CreateApproval(ctx, store.NewApproval{RunID: runID, StepID: "c-level-outreach", AccountID: "acme",
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	red = items(t, h.request(t, casey, "GET", "/v1/alerts", "", ""))[0]
	work := red["started"].([]any)[0].(map[string]any)["open_work"].([]any)
	require.Len(t, work, 1)
	require.Equal(t, "lead@cs.test", work[0].(map[string]any)["assignee"])
	require.Equal(t, "approval", work[0].(map[string]any)["kind"])

	require.Len(t, items(t, h.request(t, lead, "GET", "/v1/alerts", "", "")), 1, "the manager holds its work")
	require.Empty(t, items(t, h.request(t, other, "GET", "/v1/alerts", "", "")), "a peer is not told")
	require.Len(t, items(t, h.request(t, lead, "GET", "/v1/alerts?assignee=casey@cs.test", "", "")), 1, "a manager reads their report's")
	require.Equal(t, 403, h.as(t, casey, "GET", "/v1/alerts?assignee=lead@cs.test", ""), "not their manager's")
	require.Len(t, items(t, h.do(t, "GET", "/v1/alerts", "")), 1, "admin: every account's")

	id := fmt.Sprint(red["id"])
	require.Equal(t, 403, h.as(t, other, "POST", "/v1/alerts/"+id+"/seen", ""), "not the peer's to mark")
	require.Equal(t, 403, h.do(t, "POST", "/v1/alerts/"+id+"/seen", "").status, "the admin key is nobody's")
	require.Equal(t, 404, h.as(t, casey, "POST", "/v1/alerts/999999/seen", ""))
	seen := h.request(t, casey, "POST", "/v1/alerts/"+id+"/seen", "", "")
	require.Equal(t, 200, seen.status, seen.raw)
	require.NotNil(t, seen.body["seen_at"])
	require.Empty(t, items(t, h.request(t, casey, "GET", "/v1/alerts", "", "")), "seen: out of the inbox")
	require.Len(t, items(t, h.request(t, casey, "GET", "/v1/alerts?seen=true", "", "")), 1)
	require.Len(t, items(t, h.request(t, lead, "GET", "/v1/alerts", "", "")), 1, "still the manager's")
	require.Equal(t, 400, h.as(t, casey, "GET", "/v1/alerts?seen=maybe", ""))
}

// A csm key reads the team emails addressed to its own member only: not a
// peer's or a manager's approval notice. Customer emails stay everyone's
// to read, as accounts and runs are.
func TestCSMKeysReadOnlyTheirOwnTeamEmails(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	require.Equal(t, 201, h.do(t, "POST", "/v1/team", `{"email":"other@cs.test","name":"Other","level":"csm"}`).status)
	casey := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	other := h.key(t, `{"name":"other","role":"csm","team_member_email":"other@cs.test"}`)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"renewal","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID := uuid.MustParse(r.body["id"].(string))
	st := store.New(h.pool)
	for _, e := range []store.NewEmail{
		{StepID: "ebr-invitation/assigned", Recipient: "casey@cs.test", Kind: store.EmailToTeam, Subject: "Approval needed: ebr for Acme"},
		{StepID: "ebr-invitation/escalated-L2", Recipient: "lead@cs.test", Kind: store.EmailToTeam, Subject: "Escalated to you: ebr for Acme"},
		{StepID: "renewal-kickoff", Recipient: "pat@acme.test", Subject: "Your renewal"},
	} {
		e.RunID, e.AccountID, e.Template, e.Status = runID, "acme", "approval-assigned", states.EmailPending
		_, err := st.ClaimEmail(context.Background(), e)
		require.NoError(t, err)
	}
	recipients := func(key, query string) []string {
		var out []string
		for _, e := range items(t, h.request(t, key, "GET", "/v1/emails?"+query, "", "")) {
			out = append(out, e["to"].(string))
		}
		return out
	}
	tests := []struct {
		name, key, query string
		want             []string
	}{
		{"csm, team", casey, "kind=team", []string{"casey@cs.test"}},
		{"csm, all", casey, "kind=all", []string{"casey@cs.test", "pat@acme.test"}},
		{"csm, customer", casey, "", []string{"pat@acme.test"}},
		{"peer, team", other, "kind=team", nil},
		{"peer, all", other, "kind=all&account_id=acme", []string{"pat@acme.test"}},
		{"admin, team", adminKey, "kind=team", []string{"casey@cs.test", "lead@cs.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ElementsMatch(t, tt.want, recipients(tt.key, tt.query))
		})
	}
}
