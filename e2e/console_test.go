package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// A csm's day in the console, in a real browser against the built binary
// and a real Temporal dev server: the approval a run drafted is edited and
// approved, and the edited email is captured once; another is rejected; a
// task is completed; another CSM's approval is a 403 page; a form without
// its token is refused. Then ops start, pause, resume and cancel a run and
// post an event. Every page is screenshot at both widths.
func TestConsoleThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	// A stand-in Slack keeps what it is posted.
	var (
		slackMu    sync.Mutex
		slackPosts []map[string]any
	)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var post map[string]any
		_ = json.NewDecoder(r.Body).Decode(&post)
		slackMu.Lock()
		slackPosts = append(slackPosts, post)
		slackMu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(slack.Close)
	// No SendGrid key: emails are captured in the outbox.
	srv := startPlaybookd(t, "SLACK_WEBHOOK_URL="+slack.URL+"/services/T/B/secret", "NOTIFY_DEV_ALLOW_HTTP_LOOPBACK=true")
	c := srv.client

	// The team, their keys, three enterprise accounts (their onboarding
	// gives each CSM a welcome-call task) and a playbook whose first step
	// is a CSM-approved email.
	for _, m := range []string{
		`{"email":"lee@cs.test","name":"Lee Lead","level":"senior_csm"}`,
		`{"email":"casey@cs.test","name":"Casey CSM","level":"csm","manager_email":"lee@cs.test"}`,
		`{"email":"dana@cs.test","name":"Dana CSM","level":"csm"}`,
	} {
		status, body := c.call("POST", "/v1/team", m)
		require.Equal(t, 201, status, body)
	}
	caseyKey := c.key("casey@cs.test")
	for _, a := range []struct{ id, name, csm, sponsor string }{
		{"bigco", "BigCo", "casey@cs.test", "eve@bigco.test"},
		{"initech", "Initech", "casey@cs.test", "bill@initech.test"},
		{"globex", "Globex", "dana@cs.test", "hank@globex.test"},
	} {
		status, body := c.call("POST", "/v1/accounts", fmt.Sprintf(`{"id":%q,"name":%q,"arr":250000,"csm_email":%q,
			"timezone":"America/New_York","contacts":[{"email":%q,"name":"Sponsor of %s","role":"exec_sponsor"}]}`,
			a.id, a.name, a.csm, a.sponsor, a.name))
		require.Equal(t, 201, status, body)
	}
	status, body := c.send("POST", "/v1/playbooks", "application/yaml", `key: exec-touch
name: Executive touchpoint
steps:
  - id: exec-invite
    approval:
      assignee: csm
      email: {template: qbr-invite, to: [exec_sponsor]}
`)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/playbooks/exec-touch/versions/1/publish", "")
	require.Equal(t, 200, status, body)
	runOf := map[string]string{}
	for _, account := range []string{"bigco", "initech", "globex"} {
		status, run := c.call("POST", "/v1/runs", `{"playbook":"exec-touch","account_id":"`+account+`"}`)
		require.Equal(t, 201, status, run)
		runOf[account] = run["id"].(string)
	}
	approvalOf := map[string]string{}
	for _, a := range c.eventually("/v1/approvals?status=pending", func(items []any) bool { return len(items) == 3 }) {
		approvalOf[a.(map[string]any)["account_id"].(string)] = a.(map[string]any)["id"].(string)
	}
	// Casey was emailed of each of their approvals, and Slack was told of
	// all three, with links that open the approval's page.
	linkOf := map[string]string{}
	for _, n := range c.eventually("/v1/emails?kind=team&account_id=initech", func(items []any) bool { return len(items) == 1 }) {
		notice := n.(map[string]any)
		require.Equal(t, "casey@cs.test", notice["to"])
		require.Equal(t, "team", notice["kind"])
		require.Equal(t, "Approval needed: exec-invite for Initech", notice["subject"])
		linkOf["initech"] = c.base + "/console/approvals/" + approvalOf["initech"]
		require.Contains(t, notice["text"], linkOf["initech"])
	}
	require.Eventually(t, func() bool { slackMu.Lock(); defer slackMu.Unlock(); return len(slackPosts) == 3 }, 30*time.Second, 50*time.Millisecond)
	slackMu.Lock()
	buttons := map[string]bool{}
	for _, post := range slackPosts {
		block := post["blocks"].([]any)[0].(map[string]any)
		buttons[block["accessory"].(map[string]any)["url"].(string)] = true
	}
	slackMu.Unlock()
	for _, id := range approvalOf {
		require.True(t, buttons[c.base+"/console/approvals/"+id], "a Slack button opens approval %s", id)
	}

	taskOf := map[string]string{}
	for _, task := range c.eventually("/v1/tasks?assignee=casey@cs.test", func(items []any) bool { return len(items) == 2 }) {
		taskOf[task.(map[string]any)["account_id"].(string)] = task.(map[string]any)["id"].(string)
	}

	ctx := browsertest.New(t)
	base := c.base + "/console"
	b := tab{t: t, ctx: ctx}
	shoot, mainText, submit := b.shoot, b.mainText, b.submit

	// Sign in as casey, open the BigCo approval from the inbox, edit the
	// body, approve: timed until the email is in the outbox.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.Desktop, 900),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("key"))))
	shoot("sign-in")
	started := time.Now()
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#key-sign-in summary")), chromedp.SendKeys(chromedp.ID("key"), caseyKey+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/approvals/`+approvalOf["bigco"]+`"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/console/approvals/`+approvalOf["bigco"]+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("iframe.email"))))
	sandbox, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("iframe.email"), "sandbox"))
	require.NoError(t, err)
	require.True(t, sandbox.Exists)
	require.Empty(t, sandbox.Value, "the email's frame allows nothing")
	const edited = "Hi Eve,\n\nCould we look back at the quarter together next week?\n\nCasey"
	require.Contains(t, submit(setValue("#text", ""), chromedp.SendKeys(chromedp.ID("text"), edited),
		chromedp.Click(chromedp.ID("approve"))), "Approved with your edits")
	sent := c.eventually("/v1/emails?run_id="+runOf["bigco"], func(items []any) bool {
		return len(items) == 1 && items[0].(map[string]any)["status"] == "captured"
	})
	elapsed := time.Since(started)
	t.Logf("console: sign-in to the approved email captured took %s", elapsed.Round(time.Millisecond))
	email := sent[0].(map[string]any)
	require.Equal(t, "eve@bigco.test", email["to"])
	// Then the footer: the sender and postal address, and the unsubscribe link.
	require.Regexp(t, `^`+regexp.QuoteMeta(edited)+`\n+--\n[^\n]+\nUnsubscribe: \S+\n$`, email["text"], "the edited text is what was sent")
	require.Contains(t, email["html"], "Could we look back at the quarter together next week?", "the html is laid out from the edited text")
	// Exactly once: the run ends after its only step, and the outbox
	// still holds one email for it.
	c.eventually("/v1/runs?account_id=bigco&playbook=exec-touch&status=completed", func(items []any) bool { return len(items) == 1 })
	c.eventually("/v1/emails?run_id="+runOf["bigco"], func(items []any) bool { return len(items) == 1 })

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/approvals/"+approvalOf["bigco"]), chromedp.WaitVisible(chromedp.CSS("iframe.email"))))
	shoot("approval-approved")

	// The inbox, then reject Initech's approval with a comment.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("tasks-h"))))
	shoot("inbox")
	// Initech's approval is opened from the link in Casey's notice email.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(linkOf["initech"]), chromedp.WaitVisible(chromedp.CSS("iframe.email"))))
	shoot("approval")
	require.Contains(t, submit(chromedp.SendKeys(chromedp.ID("reject-comment"), "Not before the renewal talk"),
		chromedp.Click(chromedp.ID("reject"))), "Rejected: nothing is sent.")
	rejected := c.eventually("/v1/approvals?assignee=casey@cs.test&status=rejected", func(items []any) bool { return len(items) == 1 })
	require.Equal(t, approvalOf["initech"], rejected[0].(map[string]any)["id"])
	require.Equal(t, "Not before the renewal talk", rejected[0].(map[string]any)["comment"])

	// Complete BigCo's welcome call with an outcome.
	form := chromedp.CSS("#task-" + taskOf["bigco"])
	require.Contains(t, submit(chromedp.WaitVisible(form),
		chromedp.SendKeys(chromedp.CSS("#outcome-"+taskOf["bigco"]), "met the team"),
		chromedp.Click(chromedp.CSS("#task-"+taskOf["bigco"]+" button[type=submit]"))),
		"Completed “Welcome call with the customer's stakeholders” (met the team).")
	done := c.eventually("/v1/tasks?assignee=casey@cs.test&status=completed", func(items []any) bool { return len(items) == 1 })
	require.Equal(t, taskOf["bigco"], done[0].(map[string]any)["id"])
	require.Equal(t, "met the team", done[0].(map[string]any)["outcome"])

	// A form posted without its token is refused, and changes nothing.
	require.Contains(t, submit(setValue("#task-"+taskOf["initech"]+` input[name="csrf"]`, ""),
		chromedp.Click(chromedp.CSS("#task-"+taskOf["initech"]+" button[type=submit]"))), "This form has expired")
	shoot("refused-form")
	status, open := c.call("GET", "/v1/tasks?assignee=casey@cs.test&status=open", "")
	require.Equal(t, 200, status)
	require.Len(t, open["items"], 1, "Initech's task is still open")

	// Another CSM's approval is not casey's to open.
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/approvals/"+approvalOf["globex"]))
	require.NoError(t, err)
	require.EqualValues(t, 403, resp.Status)
	require.Contains(t, mainText(), "Not yours to open")
	shoot("forbidden")

	// The reading pages.
	for _, p := range []struct{ name, path, wait string }{
		{"accounts", "/accounts", "table"},
		{"account", "/accounts/bigco", "svg.chart"},
		{"run", "/runs/" + runOf["bigco"], "#audit-h"},
		{"portfolio", "/portfolio", "svg.bars"},
	} {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.Desktop, 900),
			chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.wait))))
		shoot(p.name)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	require.Contains(t, text, "exec-touch")

	// Ops: sign in with the admin key; start the playbook again for BigCo
	// (its first run has ended), then once more ("already live"), pause,
	// resume and cancel it, and post an event.
	require.Contains(t, submit(chromedp.Click(chromedp.CSS(`form.who button`))), "Sign in")
	require.Contains(t, submit(chromedp.Click(chromedp.CSS("#key-sign-in summary")), chromedp.SendKeys(chromedp.ID("key"), adminKey+"\n")), "Everyone's")
	startAgain := func() string {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/accounts/bigco"), chromedp.WaitVisible(chromedp.ID("playbook"))))
		return submit(setValue("#playbook", "exec-touch"), chromedp.Click(chromedp.CSS(`#start-h ~ button`)))
	}
	require.Contains(t, startAgain(), "Started exec-touch (version 1).")
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	second := location[strings.LastIndex(location, "/")+1:]
	require.Contains(t, startAgain(), "Already live")
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#start-error a"), "href"))
	require.NoError(t, err)
	require.Equal(t, "/console/runs/"+second, link.Value)
	shoot("account-ops")

	runPage := base + "/runs/" + second
	control := func(action, want string) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(runPage)))
		require.Contains(t, submit(chromedp.Click(chromedp.CSS(`form[action$="/`+action+`"] button`))), want)
	}
	c.eventually("/v1/approvals?status=pending&assignee=casey@cs.test", func(items []any) bool { return len(items) == 1 })
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(runPage), chromedp.WaitVisible(chromedp.ID("audit-h"))))
	shoot("run-ops")
	control("pause", "Pause requested")
	c.eventually("/v1/runs?account_id=bigco&playbook=exec-touch&status=paused", func(items []any) bool { return len(items) == 1 })
	control("resume", "Resume requested")
	c.eventually("/v1/runs?account_id=bigco&playbook=exec-touch&status=running", func(items []any) bool { return len(items) == 1 })
	// Cancelling asks first; the browser says yes.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	control("cancel", "Cancel requested")
	c.eventually("/v1/runs?account_id=bigco&playbook=exec-touch&status=cancelled", func(items []any) bool { return len(items) == 1 })

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/accounts/bigco"), chromedp.WaitVisible(chromedp.ID("event-name"))))
	require.Contains(t, submit(chromedp.SendKeys(chromedp.ID("event-name"), "first_login"),
		chromedp.Click(chromedp.CSS(`#event-data ~ button`))), "Recorded first_login; delivered to 1 live run(s).")
}

// key makes a csm API key for a team member and returns its secret.
func (c client) key(email string) string {
	c.t.Helper()
	status, body := c.call("POST", "/v1/keys", `{"name":"console","role":"csm","team_member_email":"`+email+`"}`)
	require.Equal(c.t, 201, status, body)
	return body["key"].(string)
}
