package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A survey's whole path through the binary: a survey step emails a link per
// score; opening the detractor's link records nothing; sending the page's
// form records the answer once, updates the account's NPS and health, and
// starts the built-in detractor-recovery, whose call-back task reaches the
// CSM. The log lines (go test -v) are the path, step by step.
func TestASurveyAnswerThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	srv := startPlaybookd(t)
	c := srv.client

	status, body := c.call("POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey CSM","level":"csm"}`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/accounts", `{"id":"survey-e2e","name":"Surveyed","arr":50000,
		"csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption",
		"contacts":[{"email":"pat@surveyed.test","name":"Pat Lee","role":"champion"}]}`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/accounts/survey-e2e/health", `{"active_users": 40, "licensed_users": 50}`)
	require.Equal(t, 201, status, body)
	t.Logf("1. account survey-e2e (mid_market) measured: health %v, %v", body["score"], body["band"])

	status, body = c.send("POST", "/v1/playbooks", "application/yaml", `key: ask-nps
name: Ask NPS
steps:
  - id: nps
    survey: {kind: nps, to: [champion]}
`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/playbooks/ask-nps/versions/1/publish", "")
	require.Equal(t, 200, status, body)
	status, body = c.call("POST", "/v1/runs", `{"playbook":"ask-nps","account_id":"survey-e2e"}`)
	require.Equal(t, 201, status, body)

	emails := c.eventually("/v1/emails?account_id=survey-e2e", func(items []any) bool {
		for _, e := range items {
			if e.(map[string]any)["step_id"] == "nps" {
				return true
			}
		}
		return false
	})
	var text string
	for _, e := range emails {
		if e := e.(map[string]any); e["step_id"] == "nps" {
			require.Equal(t, "pat@surveyed.test", e["to"])
			text = e["text"].(string)
		}
	}
	links := regexp.MustCompile(`(?m)^(\d+)(?: \([^)]*\))?: (\S+/v1/surveys/respond\?token=\S+)$`).FindAllStringSubmatch(text, -1)
	require.Len(t, links, 11, "one link per score, 0 to 10:\n%s", text)
	detractor := links[3]
	require.Equal(t, "3", detractor[1])
	t.Logf("2. the run ask-nps emailed pat@surveyed.test an NPS survey with 11 links; score 3's: %.80s…", detractor[2])

	// A mail scanner opens every link: nothing is recorded.
	for _, l := range links {
		page := get(t, l[2])
		require.Contains(t, page, `<form method="post"`)
		require.NotContains(t, page, "<script")
	}
	status, body = c.call("GET", "/v1/runs?account_id=survey-e2e&playbook=detractor-recovery", "")
	require.Equal(t, 200, status)
	require.Empty(t, body["items"], "opening links started nothing")
	t.Log("3. GET of all 11 links: 11 confirmation pages, nothing recorded, no play started")

	token := mustQuery(t, detractor[2], "token")
	answer := postForm(t, c.base+"/v1/surveys/respond", url.Values{"token": {token}, "comment": {"Reports are slow"}})
	require.Equal(t, http.StatusOK, answer.status, answer.body)
	require.Contains(t, answer.body, "Thank you")
	t.Log("4. POST of score 3 with a comment: \"Thank you\"")

	runs := c.eventually("/v1/runs?account_id=survey-e2e&playbook=detractor-recovery", func(items []any) bool { return len(items) == 1 })
	recovery := runs[0].(map[string]any)
	tasks := c.eventually("/v1/tasks?assignee=casey@cs.test", func(items []any) bool {
		for _, task := range items {
			if task.(map[string]any)["run_id"] == recovery["id"] {
				return true
			}
		}
		return false
	})
	for _, task := range tasks {
		if task := task.(map[string]any); task["run_id"] == recovery["id"] {
			require.Contains(t, task["title"], "call them back within a day", "mid-market's response time is 24 hours")
			t.Logf("5. the detractor's answer started detractor-recovery (run %v): task %q for casey@cs.test, due %v",
				recovery["id"], task["title"], task["due_at"])
		}
	}
	status, body = c.call("GET", "/v1/accounts/survey-e2e/health", "")
	require.Equal(t, 200, status, body)
	latest := body["items"].([]any)[0].(map[string]any)
	inputs := latest["inputs"].(map[string]any)
	require.Equal(t, -100.0, inputs["nps"], "one detractor: NPS -100")
	t.Logf("6. a new health snapshot with nps %v: score %v, %v", inputs["nps"], latest["score"], latest["band"])

	for _, link := range []string{links[10][2], detractor[2]} { // another score of the same email, then the same
		same := postForm(t, c.base+"/v1/surveys/respond", url.Values{"token": {mustQuery(t, link, "token")}, "comment": {"twice"}})
		require.Equal(t, http.StatusOK, same.status, same.body)
		require.Contains(t, same.body, "We already have your answer")
	}
	_, body = c.call("GET", "/v1/runs?account_id=survey-e2e&playbook=detractor-recovery", "")
	require.Len(t, body["items"], 1, "a repeat starts nothing")
	t.Log("7. POST again: \"We already have your answer\"; still one detractor-recovery run")
}

type formAnswer struct {
	status int
	body   string
}

func postForm(t *testing.T, target string, form url.Values) formAnswer {
	t.Helper()
	resp, err := http.PostForm(target, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return formAnswer{resp.StatusCode, string(raw)}
}

func mustQuery(t *testing.T, link, name string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	v := u.Query().Get(name)
	require.NotEmpty(t, v, fmt.Sprintf("%s has no %s", link, name))
	return strings.TrimSpace(v)
}
