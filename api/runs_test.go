package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/workflows"
)

// The run view joins each task step's task and each approval step's
// decision as PostgreSQL has them: the workflow knows only that it created
// them.
func TestRunViewShowsTaskStatusAndApprovalDecision(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID := r.body["id"].(string)
	ctx := context.Background()
	var taskID, approvalID string
	require.NoError(t, h.pool.QueryRow(ctx, `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
		SELECT $1, 'welcome-call', 'acme', csm_id, 'Welcome call' FROM accounts WHERE id = 'acme' RETURNING id`,
		runID).Scan(&taskID))
	require.NoError(t, h.pool.QueryRow(ctx, `
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at, status, decided_by, comment, edits, decided_at)
		SELECT $1, 'qbr-invitation', 'acme', csm_id, '{}', now() + interval '4 hours', 'approved', 'casey@cs.test',
		       'shorter subject', '{"Subject":"QBR?"}', now() FROM accounts WHERE id = 'acme'
		RETURNING id`, runID).Scan(&approvalID))
	r = h.do(t, "POST", "/v1/tasks/"+taskID+"/complete", `{"outcome":"held","note":"went well"}`)
	require.Equal(t, 200, r.status, r.raw)

	started := time.Date(2026, 1, 5, 9, 0, 0, 123456789, time.UTC)
	h.temporal.progress = &workflows.Progress{
		Done: []workflows.StepRecord{
			{ID: "welcome-call", Kind: "task", At: workflows.Stamp(started), Status: workflows.StepDone,
				Task: &workflows.TaskRef{ID: taskID, Assignee: "casey@cs.test"}},
			{ID: "qbr-invitation", Kind: "approval", At: workflows.Stamp(started), Status: workflows.StepDone,
				Approval: &workflows.ApprovalRef{ID: approvalID, Assignee: "casey@cs.test"}},
		},
		Upcoming: []workflows.StepRecord{{ID: "usage-review#2", Kind: "task", Status: workflows.StepWaiting},
			{ID: "not-in-the-definition", Kind: "wait", Status: workflows.StepWaiting}},
	}
	r = h.do(t, "GET", "/v1/runs/"+runID, "")
	require.Equal(t, 200, r.status, r.raw)
	done := r.body["steps"].(map[string]any)["done"].([]any)
	call := done[0].(map[string]any)
	require.Equal(t, "2026-01-05T09:00:00Z", call["at"], "whole seconds")
	// Steps carry their names from the run's version of the definition.
	require.Equal(t, "Welcome call", call["name"])
	require.Equal(t, "QBR invitation", done[1].(map[string]any)["name"])
	upcoming := r.body["steps"].(map[string]any)["upcoming"].([]any)
	require.Equal(t, "Usage review #2", upcoming[0].(map[string]any)["name"])
	require.NotContains(t, upcoming[1].(map[string]any), "name", "no name: the id is all")
	task := call["task"].(map[string]any)
	require.Equal(t, "completed", task["status"])
	require.Equal(t, "held", task["outcome"])
	require.Equal(t, "went well", task["note"])
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, task["closed_at"])

	approval := done[1].(map[string]any)["approval"].(map[string]any)
	require.Equal(t, "approved", approval["status"])
	require.Equal(t, "casey@cs.test", approval["decided_by"])
	require.Equal(t, "shorter subject", approval["comment"])
	require.Equal(t, map[string]any{"Subject": "QBR?"}, approval["edits"])
}
