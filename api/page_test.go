package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// Every list pages with ?limit= and ?cursor=: walking the pages one item at a
// time gives every item of the unpaged list once, in the same order.
func TestEveryListPagesWithoutGapsOrRepeats(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	ctx := context.Background()
	st := store.New(h.pool)
	for _, key := range []string{"onboarding", "at-risk", "expansion"} {
		r := h.do(t, "POST", "/v1/runs", `{"playbook":"`+key+`","account_id":"acme"}`)
		require.Equal(t, 201, r.status, r.raw)
		run := uuid.MustParse(r.body["id"].(string))
		for i := range 2 {
			step := fmt.Sprintf("%s-%d", key, i)
			_, _, err := st.CreateTask(ctx, store.NewTask{RunID: run, StepID: step, AccountID: "acme", AssigneeLevel: "csm", Title: step, Priority: "normal"})
			require.NoError(t, err)
			_, err = st.ClaimEmail(ctx, store.NewEmail{RunID: run, StepID: step, AccountID: "acme", Recipient: "pat@acme.test",
				Template: "welcome", Subject: step, Status: states.EmailPending})
			require.NoError(t, err)
			_, err = st.CreateApproval(ctx, store.NewApproval{RunID: run, StepID: step + "-ok", AccountID: "acme", AssigneeLevel: "csm",
				Draft: json.RawMessage(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
			require.NoError(t, err)
		}
	}
	for i := range 3 {
		require.Equal(t, 201, h.do(t, "POST", "/v1/accounts/acme/health", fmt.Sprintf(`{"score": %d}`, 60+i)).status)
		require.Equal(t, 201, h.do(t, "POST", "/v1/keys", fmt.Sprintf(`{"name":"k%d","role":"ops"}`, i)).status)
	}

	for _, path := range []string{
		"/v1/runs", "/v1/runs?account_id=acme", "/v1/tasks", "/v1/tasks?assignee=casey@cs.test", "/v1/emails?account_id=acme",
		"/v1/approvals?status=pending", "/v1/accounts", "/v1/accounts/acme/health", "/v1/playbooks", "/v1/keys",
	} {
		t.Run(path, func(t *testing.T) {
			whole := h.do(t, "GET", path, "")
			require.Equal(t, 200, whole.status, whole.raw)
			want := ids(whole.body)
			require.NotEmpty(t, want)
			require.Nil(t, whole.body["next_cursor"])
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			var got []string
			next := path + sep + "limit=1"
			for len(got) <= len(want) {
				r := h.do(t, "GET", next, "")
				require.Equal(t, 200, r.status, r.raw)
				got = append(got, ids(r.body)...)
				cursor, _ := r.body["next_cursor"].(string)
				if cursor == "" {
					break
				}
				next = path + sep + "limit=1&cursor=" + cursor
			}
			require.Equal(t, want, got)
		})
	}
}

func ids(body map[string]any) []string {
	var out []string
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		id := m["id"]
		if id == nil {
			id = m["key"]
		}
		out = append(out, fmt.Sprint(id))
	}
	return out
}

// GET /v1/emails lists what customers were sent; the team's approval
// notices are asked for with kind=team, both with kind=all.
func TestEmailsListCustomerEmailsUnlessAskedForTheTeams(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	st := store.New(h.pool)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	run := uuid.MustParse(r.body["id"].(string))
	for _, e := range []store.NewEmail{
		{RunID: run, StepID: "invite", AccountID: "acme", Recipient: "pat@acme.test", Template: "welcome", Subject: "Hi", Status: states.EmailPending},
		{RunID: run, StepID: "invite/assigned", AccountID: "acme", Recipient: "casey@cs.test", Template: "approval-assigned",
			Subject: "Approval needed", Status: states.EmailPending, Kind: store.EmailToTeam},
	} {
		_, err := st.ClaimEmail(context.Background(), e)
		require.NoError(t, err)
	}
	for query, want := range map[string][]string{
		"": {"pat@acme.test"}, "&kind=customer": {"pat@acme.test"}, "&kind=team": {"casey@cs.test"},
		"&kind=all": {"pat@acme.test", "casey@cs.test"},
	} {
		r := h.do(t, "GET", "/v1/emails?run_id="+run.String()+query, "")
		require.Equal(t, 200, r.status, r.raw)
		var got []string
		for _, it := range r.body["items"].([]any) {
			got = append(got, it.(map[string]any)["to"].(string))
		}
		require.ElementsMatch(t, want, got, query)
	}
}
