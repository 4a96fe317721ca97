package console_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// The sign-in page works in a real browser, keyboard first: the email
// field has focus, the API key's form opens, Enter signs in.
func TestSignInInABrowser(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	srv := newConsole(t, store.New(pool), adminKey)
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible("#email")))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.activeElement.id"))
	require.NoError(t, err)
	require.Equal(t, "email", focused)
	browsertest.Screenshot(ctx, t, "sign-in", browsertest.Phone)
	browsertest.Screenshot(ctx, t, "sign-in", browsertest.Desktop)
	require.NoError(t, chromedp.Do(ctx, keySignIn(adminKey)))
	heading, err := chromedp.Run(ctx, chromedp.Text("main h1"))
	require.NoError(t, err)
	require.Equal(t, "Inbox", heading)
}

// pageChecks is run in each page: what would make it unusable at a width
// or by keyboard. It returns the problems it finds.
const pageChecks = `(() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + 1) problems.push("the page scrolls sideways: " + doc.scrollWidth + " > " + doc.clientWidth);
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!(el.labels && el.labels.length) && !el.getAttribute("aria-label")) problems.push("no label: " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) problems.push("no words: " + el.outerHTML.slice(0, 80));
    if (el.tabIndex < 0) problems.push("not reachable by keyboard: " + el.outerHTML.slice(0, 80));
  }
  for (const f of document.querySelectorAll("iframe")) {
    if (f.getAttribute("sandbox") !== "") problems.push("an iframe allows something: " + f.outerHTML.slice(0, 120));
    if (!f.title) problems.push("an iframe without a title");
  }
  return problems;
})()`

// Every page works at a phone's and a laptop's width: nothing scrolls
// sideways, every field has a label, every control has words and takes
// the keyboard; screenshots of each are written (fixture-*.png).
func TestEveryPageAtBothWidths(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	draftOf(t, l.Store, helloDraft)
	draftOf(t, l.Store, strings.Replace(helloDraft, "wait: 2d", "wait: 3d", 1))
	srv, fake := workConsole(t, l.Store)
	now := time.Now()
	a := newApproval(t, l, "qbr-invite", now.Add(3*time.Hour))
	newApproval(t, l, "exec-outreach", now.Add(-20*time.Minute))
	newTask(t, l, "kickoff", now.Add(-2*time.Hour))
	newTask(t, l, "follow-up", now.Add(26*time.Hour))
	addHealth(t, l, 88, 74, 63, 41)
	fake.view = sampleView(l.RunID)
	analyticsVersions(t, l.Store)
	addSurveys(t, l) // the portfolio's and analytics' survey tables

	ctx := browsertest.New(t)
	signIn := func(key string) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(key)))
	}
	check := func(name, path string) {
		t.Helper()
		for _, width := range []int64{browsertest.Phone, browsertest.Desktop} {
			require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL+path), chromedp.WaitVisible("main h1")))
			problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageChecks))
			require.NoError(t, err)
			require.Empty(t, problems, "%s at %d px", name, width)
			browsertest.Screenshot(ctx, t, "fixture-"+name, width)
		}
	}
	signIn(keyOf(t, l.Store, storetest.CSM))
	check("inbox", "/console/")
	check("approval", "/console/approvals/"+a.ID.String())
	check("accounts", "/console/accounts")
	check("account", "/console/accounts/acme")
	check("run", "/console/runs/"+l.RunID.String())
	check("portfolio", "/console/portfolio")
	check("reference", "/console/reference")
	check("analytics", "/console/playbooks/onboarding/analytics")
	check("not-found", "/console/approvals/"+uuid.NewString())
	signIn(adminKey)
	check("account-ops", "/console/accounts/acme")
	check("run-ops", "/console/runs/"+l.RunID.String())
	check("playbooks", "/console/playbooks")
	check("playbook", "/console/playbooks/onboarding")
	check("editor", "/console/playbooks/hello/versions/1?segment=smb&account=acme")
	check("editor-builtin", "/console/playbooks/onboarding/versions/1?account=acme")
	check("diff", "/console/playbooks/hello/diff?from=1&to=2")
	check("publish", "/console/playbooks/hello/versions/2/publish")
}

// A CSM edits a two-recipient approval once, in a real browser: the form
// starts from the template's text with its fields, the preview shows each
// recipient their own greeting, and approving sends the edits with the
// fields (filled in for each recipient when the approval is decided).
func TestEditAnApprovalForTwoRecipientsInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	text := func(name string) string { return "Hi " + name + ",\n\nShall we review the quarter?\n" }
	a, err := l.Store.CreateApproval(context.Background(), store.NewApproval{RunID: l.RunID, StepID: "qbr-invitation",
		AccountID: l.AccountID, AssigneeLevel: "csm", ExpiresAt: time.Now().Add(4 * time.Hour),
		Draft: json.RawMessage(`{"template":"qbr-invite","to_roles":["champion","exec_sponsor"],` +
			`"source_subject":"Quarterly review","source_text":"Hi {{.Contact.FirstName}},\n\nShall we review the quarter?"}`),
		Drafts: []store.ApprovalDraft{
			{To: "dana@acme.test", Name: "Dana Diaz", Content: message.Content{Subject: "Quarterly review",
				HTML: templates.Layout("Quarterly review", text("Dana")), Text: text("Dana")}},
			{To: "ceo@acme.test", Name: "Lee Chen", Content: message.Content{Subject: "Quarterly review",
				HTML: templates.Layout("Quarterly review", text("Lee")), Text: text("Lee")}}}})
	require.NoError(t, err)

	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(keyOf(t, l.Store, storetest.CSM))))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/approvals/"+a.ID.String()), chromedp.WaitVisible("#text")))
	box, err := chromedp.Run(ctx, chromedp.Value("#text"))
	require.NoError(t, err)
	require.Contains(t, box, "Hi {{.Contact.FirstName}},", "the form holds the fields, not the first recipient's name")

	edited := "Hi {{.Contact.FirstName}},\n\nCould we meet next Tuesday instead?"
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#text", edited), chromedp.Click("#preview"), chromedp.WaitVisible("#finals")))
	finals, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("section.final pre")].map(p => p.textContent)`))
	require.NoError(t, err)
	require.Equal(t, []string{"Hi Dana,\n\nCould we meet next Tuesday instead?", "Hi Lee,\n\nCould we meet next Tuesday instead?"}, finals)
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageChecks))
	require.NoError(t, err)
	require.Empty(t, problems)
	browsertest.Screenshot(ctx, t, "approval-preview", browsertest.Desktop)

	// Approving redirects to the inbox, which has no approve button.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#approve"), chromedp.WaitNotPresent("#approve"), chromedp.WaitVisible("main h1")))
	fake.mu.Lock()
	decisions := slices.Clone(fake.decisions)
	fake.mu.Unlock()
	require.Len(t, decisions, 1)
	require.Equal(t, "approve", decisions[0].Decision)
	require.NotNil(t, decisions[0].Edits)
	require.Equal(t, edited, decisions[0].Edits.Text, "the run gets the edit with its fields")
	require.Empty(t, decisions[0].Edits.Subject, "the subject was left as it was")
}
