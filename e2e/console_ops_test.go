package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// greetV1 is the published version 1: a welcome email, then a long hold
// that keeps its runs live.
const greetV1 = `key: greet
name: Greet
steps:
  - id: hello
    email: {template: welcome, to: [champion]}
  - id: hold
    wait: 30d
`

// CS ops in the console, in a real browser against the built binary and a
// real Temporal dev server: an ops person edits draft version 2 of a
// playbook whose version 1 has a live run, sees each error at its line (as
// they type and when they save), fixes it (saved over draft version 2:
// saves do not pile up), previews the email the text sends, rendered for a
// real account in a sandboxed frame, compares the versions and publishes,
// told the live run stays on version 1. The next enrolment runs version 2
// (its email is the new one), while the older run keeps version 1.
func TestOpsDesignPreviewPublishInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	srv := startPlaybookd(t)
	c := srv.client
	status, body := c.call("POST", "/v1/team", `{"email":"casey@cs.test","name":"Casey CSM","level":"csm"}`)
	require.Equal(t, 201, status, body)
	// Enterprise: the built-in onboarding these accounts start gives the
	// CSM tasks, and sends them no email of its own.
	for _, a := range []struct{ id, name string }{{"oldco", "OldCo"}, {"newco", "NewCo"}} {
		status, body := c.call("POST", "/v1/accounts", fmt.Sprintf(`{"id":%q,"name":%q,"segment":"enterprise","timezone":"UTC","arr":50000,"csm_email":"casey@cs.test",
			"contacts":[{"email":"champion@%s.test","name":"Robin %s","role":"champion"}]}`, a.id, a.name, a.id, a.name))
		require.Equal(t, 201, status, body)
	}
	status, body = c.send("POST", "/v1/playbooks", "application/yaml", greetV1)
	require.Equal(t, 201, status, body)
	status, body = c.call("POST", "/v1/playbooks/greet/versions/1/publish", "")
	require.Equal(t, 200, status, body)
	status, body = c.send("POST", "/v1/playbooks", "application/yaml", greetV1) // a draft to work on
	require.Equal(t, 201, status, body)
	status, old := c.call("POST", "/v1/runs", `{"playbook":"greet","account_id":"oldco"}`)
	require.Equal(t, 201, status, old)
	oldRun := old["id"].(string)
	c.eventually("/v1/emails?run_id="+oldRun, func(items []any) bool { return len(items) == 1 })

	ctx := browsertest.New(t)
	b := tab{t: t, ctx: ctx}
	base := c.base + "/console"
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.Desktop, 900),
		chromedp.Navigate(base+"/sign-in"), chromedp.WaitVisible(chromedp.ID("key"))))
	require.Contains(t, b.submit(chromedp.Click(chromedp.CSS("#key-sign-in summary")), chromedp.SendKeys(chromedp.ID("key"), adminKey+"\n")), "Everyone's")

	// The list, then the playbook: version 1 published with one live run.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav a[href="/console/playbooks"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/playbooks/greet"]`))))
	b.shoot("ops-playbooks")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[href="/console/playbooks/greet"]`)),
		chromedp.WaitVisible(chromedp.ID("version-1"))))
	row, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("version-1")))
	require.NoError(t, err)
	require.Regexp(t, `^1\s+published\s+1\s`, row)
	b.shoot("ops-playbook")

	// Edit draft 2: a step with an unknown template and a wait that is no duration.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#version-2 a[href="/console/playbooks/greet/versions/2"]`)),
		chromedp.WaitVisible(chromedp.ID("source"))))
	broken := strings.NewReplacer("template: welcome", "template: no-such-template", "wait: 30d", "wait: soon").Replace(greetV1)
	// As they type: the script checks the text and marks lines 5 and 7.
	require.NoError(t, chromedp.Do(ctx, typeInto("#source", broken)))
	b.waitVisible(`#errors li[data-line="7"]`)
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#gutter .bad")].map(s => s.textContent)`))
	require.NoError(t, err)
	require.Equal(t, []string{"5", "7"}, marked, "the gutter marks the lines with errors")
	// And when saved: refused, every error at its line, the text kept.
	require.Contains(t, b.submit(chromedp.Click(chromedp.ID("save"))), "2 error(s): nothing is saved")
	errorsText, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#errors li")].map(li => li.dataset.line + " " + li.textContent)`))
	require.NoError(t, err)
	require.Len(t, errorsText, 2)
	require.True(t, strings.HasPrefix(errorsText[0], "5 Line 5"), errorsText[0])
	require.Contains(t, errorsText[0], "no-such-template")
	require.True(t, strings.HasPrefix(errorsText[1], "7 Line 7"), errorsText[1])
	marked, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#gutter .bad")].map(s => s.textContent)`))
	require.NoError(t, err)
	require.Equal(t, []string{"5", "7"}, marked)
	b.shoot("ops-editor-errors")

	// Fixed: draft 2, saved over, sends the getting-started email and holds longer.
	fixed := strings.NewReplacer("template: no-such-template", "template: getting-started", "wait: soon", "wait: 45d").Replace(broken)
	require.NoError(t, chromedp.Do(ctx, typeInto("#source", fixed)))
	b.waitVisible(`#check:not(.bad)`)
	require.Contains(t, b.submit(chromedp.Click(chromedp.ID("save"))), "Saved draft version 2 of greet")

	// Preview the text for NewCo: the email as Robin will get it.
	require.Contains(t, b.submit(setValue("#account", "newco"), chromedp.Click(chromedp.ID("preview"))), "Simulated for newco")
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("iframe.email"))))
	sandbox, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("iframe.email"), "sandbox"))
	require.NoError(t, err)
	require.True(t, sandbox.Exists)
	require.Empty(t, sandbox.Value, "the email's frame allows nothing")
	sim, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("ol.sim")))
	require.NoError(t, err)
	require.Contains(t, sim, "Getting started with your account, NewCo")
	require.Contains(t, sim, "hold: waited 45d")
	// The frame shows the rendered html (the preview of the editor's text: in the frame's srcdoc).
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("iframe.email").srcdoc`))
	require.NoError(t, err)
	require.Contains(t, html, "Robin")
	b.shoot("ops-editor-preview")

	// Compare 1 with 2.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/playbooks/greet/diff?from=1&to=2"), chromedp.WaitVisible(chromedp.ID("step-changes"))))
	changes, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("step-changes")))
	require.NoError(t, err)
	require.Contains(t, changes, "hello, hold")
	b.shoot("ops-diff")

	// Publish, told that the live run stays on version 1.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/playbooks/greet"), chromedp.WaitVisible(chromedp.ID("publish-2"))))
	require.Contains(t, b.submit(chromedp.Click(chromedp.ID("publish-2"))), "Publish greet version 2?")
	staying, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("staying")))
	require.NoError(t, err)
	require.Contains(t, staying, "1 live run(s) stay on the version they started with (1 on version 1)")
	b.shoot("ops-publish")
	require.Contains(t, b.submit(chromedp.Click(chromedp.ID("publish"))), "Published greet version 2: new runs take it")

	// The next enrolment runs version 2; the older run keeps version 1.
	status, next := c.call("POST", "/v1/runs", `{"playbook":"greet","account_id":"newco"}`)
	require.Equal(t, 201, status, next)
	require.EqualValues(t, 2, next["version"])
	sent := c.eventually("/v1/emails?run_id="+next["id"].(string), func(items []any) bool { return len(items) == 1 })
	require.Equal(t, "Getting started with your account, NewCo", sent[0].(map[string]any)["subject"])
	status, oldView := c.call("GET", "/v1/runs/"+oldRun, "")
	require.Equal(t, 200, status)
	require.EqualValues(t, 1, oldView["version"])
	require.Equal(t, "running", oldView["status"])
	current := oldView["steps"].(map[string]any)["current"].(map[string]any)
	require.Equal(t, "hold", current["id"])
	due, _ := current["at"].(string)
	until, err := time.Parse(time.RFC3339, due)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(30*24*time.Hour), until, 10*time.Minute, "the old run waits 30d, as version 1 says (version 2: 45d)")
	sent = c.eventually("/v1/emails?run_id="+oldRun, func(items []any) bool { return len(items) == 1 })
	require.Equal(t, "Welcome to your onboarding, OldCo", sent[0].(map[string]any)["subject"])

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/playbooks/greet"), chromedp.WaitVisible(chromedp.ID("version-2"))))
	row, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("version-1")))
	require.NoError(t, err)
	require.Regexp(t, `^1\s+archived\s+1\s`, row, "version 1 is archived, its run still live")
	row, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("version-2")))
	require.NoError(t, err)
	require.Regexp(t, `^2\s+published\s+1\s`, row)
	b.shoot("ops-published")
}
