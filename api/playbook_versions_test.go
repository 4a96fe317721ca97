package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The versions of a playbook with their runs, the difference between two,
// and a duplicate under a new key, as CS ops read and start them.
func TestPlaybookVersionsDiffAndDuplicate(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", customPlaybook).status)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/quick-hello/versions/1/publish", "").status)
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"quick-hello","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	v2 := strings.Replace(customPlaybook, "wait: 30s", "wait: 45s", 1)
	require.Equal(t, 201, h.send(t, "POST", "/v1/playbooks", "application/yaml", v2).status)

	r = h.do(t, "GET", "/v1/playbooks/quick-hello/versions", "")
	require.Equal(t, 200, r.status, r.raw)
	items := r.body["items"].([]any)
	require.Len(t, items, 2)
	newest, oldest := items[0].(map[string]any), items[1].(map[string]any)
	require.EqualValues(t, 2, newest["version"])
	require.Equal(t, "draft", newest["status"])
	require.Empty(t, newest["runs"])
	require.Equal(t, []any{map[string]any{"status": "running", "outcome": "", "runs": float64(1)}}, oldest["runs"])
	require.Equal(t, 404, h.do(t, "GET", "/v1/playbooks/nope/versions", "").status)

	r = h.do(t, "GET", "/v1/playbooks/quick-hello/diff?from=1&to=2", "")
	require.Equal(t, 200, r.status, r.raw)
	steps := r.body["steps"].(map[string]any)
	require.Equal(t, []any{}, steps["added"])
	require.Equal(t, []any{}, steps["removed"])
	require.Len(t, steps["changed"], 1)
	var changed []string
	for _, l := range r.body["lines"].([]any) {
		if line := l.(map[string]any); line["op"] != "=" {
			changed = append(changed, line["op"].(string)+strings.TrimSpace(line["text"].(string)))
		}
	}
	require.Equal(t, []string{"-wait: 30s", "+wait: 45s"}, changed)
	require.Equal(t, 400, h.do(t, "GET", "/v1/playbooks/quick-hello/diff?from=1", "").status)
	require.Equal(t, 404, h.do(t, "GET", "/v1/playbooks/quick-hello/diff?from=1&to=9", "").status)

	r = h.do(t, "POST", "/v1/playbooks/quick-hello/duplicate", `{"key":"quick-hello-2","name":"Quick hello, again"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "quick-hello-2", r.body["key"])
	require.EqualValues(t, 1, r.body["version"])
	require.Equal(t, "draft", r.body["status"])
	require.Contains(t, r.body["source"], "wait: 30s", "a copy of the published version")
	require.Contains(t, r.body["source"], `name: "Quick hello, again"`)
	r = h.do(t, "POST", "/v1/playbooks/quick-hello/duplicate", `{"key":"quick-hello-2","name":"Again"}`)
	require.Equal(t, 409, r.status, r.raw)
	r = h.do(t, "POST", "/v1/playbooks/quick-hello/duplicate", `{"key":"Bad Key","name":"Bad"}`)
	require.Equal(t, 422, r.status, r.raw)
	require.Contains(t, fieldsOf(r.body), "key")
}
