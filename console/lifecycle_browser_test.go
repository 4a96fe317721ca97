package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store/storetest"
)

// CS ops in a real browser: New playbook from a blank start, the editor's
// Preview of unsaved text (its timeline drawn into the page), saving,
// retiring with its confirmation and taking it back from the list; each
// page checked at a phone's and a laptop's width (pageChecks). The ids
// (new-playbook, create, preview, save, to-retire, retire, unretire-KEY)
// are for the combined browser test.
func TestNewPreviewRetireInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	srv, _ := workConsole(t, l.Store)
	ctx := browsertest.New(t)
	check := func(name string) { t.Helper(); checkAtBothWidths(t, ctx, name) }
	text := func(sel string) string {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(sel)))
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err)
		return s
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(adminKey)))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks"), chromedp.Click("#new-playbook"),
		chromedp.WaitVisible("#create")))
	check("new-playbook")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#key", "day-1-30"), chromedp.SendKeys("#name", "Day 1–30"),
		chromedp.Click("#create"), chromedp.WaitVisible("#source")))
	require.Contains(t, text(".flash"), "Started day-1-30 from a blank start")

	// An unsaved edit, previewed: the timeline of the text, in the page.
	_, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("source").value =
		document.getElementById("source").value.replace("at: 1d", "at: 5d")`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#account", "acme"), chromedp.Click("#preview"),
		chromedp.WaitVisible("#timeline svg")))
	require.Contains(t, text("#preview-h"), "not saved")
	require.Contains(t, text("ol.sim"), "First step")
	check("editor-unsaved-preview")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#save"), chromedp.WaitVisible(".flash")))
	require.Contains(t, text(".flash"), "Saved draft version 1 of day-1-30")

	// Retire onboarding (its live run goes on), then take it back from the list.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks/onboarding"), chromedp.Click("#to-retire"),
		chromedp.WaitVisible("#retire")))
	require.Contains(t, text("#live"), "1 live run(s) go on")
	check("retire")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#retire"), chromedp.WaitVisible("#retired")))
	check("playbook-retired")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks"), chromedp.WaitVisible("#retired-onboarding")))
	check("playbooks-retired")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#unretire-onboarding"), chromedp.WaitVisible(".flash")))
	require.Contains(t, text(".flash"), "onboarding takes new enrolments again")
}
