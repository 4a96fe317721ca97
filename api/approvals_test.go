package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Approvals filter by account and run; a filter the route does not know is
// refused, never ignored (it answered every account's approvals).
func TestApprovalsFilterByAccountAndRun(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/accounts", `{"id":"globex","name":"Globex","arr":20000,"timezone":"UTC","csm_email":"casey@cs.test","lifecycle_stage":"adoption",
		"contacts":[{"email":"gil@globex.test","name":"Gil","role":"champion"}]}`)
	require.Equal(t, 201, r.status, r.raw)
	approval := func(account string) (runID, approvalID string) {
		r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"`+account+`"}`)
		require.Equal(t, 201, r.status, r.raw)
		runID = r.body["id"].(string)
		require.NoError(t, h.pool.QueryRow(context.Background(), `
			INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at)
			SELECT $1, 'qbr-invitation', id, csm_id, '{}', now() + interval '4 hours' FROM accounts WHERE id = $2
			RETURNING id`, runID, account).Scan(&approvalID))
		return runID, approvalID
	}
	acmeRun, acmeApproval := approval("acme")
	_, globexApproval := approval("globex")

	ids := func(query string) []string {
		r := h.do(t, "GET", "/v1/approvals"+query, "")
		require.Equal(t, 200, r.status, r.raw)
		var out []string
		for _, item := range r.body["items"].([]any) {
			out = append(out, item.(map[string]any)["id"].(string))
		}
		return out
	}
	require.ElementsMatch(t, []string{acmeApproval, globexApproval}, ids(""))
	require.Equal(t, []string{acmeApproval}, ids("?account_id=acme"))
	require.Equal(t, []string{globexApproval}, ids("?account_id=globex&status=pending"))
	require.Equal(t, []string{acmeApproval}, ids("?run_id="+acmeRun))
	require.Empty(t, ids("?account_id=globex&run_id="+acmeRun))

	r = h.do(t, "GET", "/v1/approvals?acount_id=acme", "")
	require.Equal(t, 400, r.status, r.raw)
	require.Equal(t, []string{"acount_id"}, fieldsOf(r.body))
	require.Contains(t, r.raw, "account_id", "the answer lists what the route takes")
	r = h.do(t, "GET", "/v1/approvals?run_id=nope", "")
	require.Equal(t, 400, r.status, r.raw)
	require.Equal(t, []string{"run_id"}, fieldsOf(r.body))
}

// Every documented route refuses a query parameter it does not document.
func TestEveryRouteRefusesUnknownQueryParameters(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	before := h.counts(t)
	_, ops := specOperations(t)
	tried := 0
	for _, op := range ops {
		if !strings.HasPrefix(op.path, "/v1/") || op.path == "/v1/webhooks/sendgrid" || op.path == "/v1/unsubscribe" ||
			op.path == "/v1/surveys/respond" {
			continue // the webhook is SendGrid's; the unsubscribe and survey links are tested with their pages
		}
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			tried++
			body := ""
			if op.method == "POST" || op.method == "PUT" || op.method == "PATCH" {
				body = "{}"
			}
			r := h.do(t, op.method, concretePath(op.path)+"?filter_that_does_not_exist=1", body)
			require.Equal(t, 400, r.status, r.raw)
			require.Equal(t, []string{"filter_that_does_not_exist"}, fieldsOf(r.body))
		})
	}
	require.Greater(t, tried, 30)
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}
