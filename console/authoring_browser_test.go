package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store/storetest"
)

// seed002Day1To30 is what the ops lead writes: seed 002's first month, with
// a text-first email of the playbook's own. It has one mistake (a survey
// kind the language lacks), which the editor's error links lead to the
// reference to fix.
const seed002Day1To30 = `key: day-1-30
name: Day 1-30 (seed 002)
trigger: {on: account_created}
templates:
  - name: day-1
    subject: "Welcome, {{.Account.Name}}"
    text: |
      Hi {{.Contact.FirstName}},

      ## Your first week
      - **Connect your data**: [the guide](https://docs.example.com/connect)
      - Invite your team
steps:
  - id: welcome
    name: Welcome email
    at: 0d
    email: {template: day-1, to: [champion]}
  - id: kickoff
    name: Kickoff call
    at: 1d
    task: {title: Kickoff call with the champion, assignee: csm, due: 2d}
  - id: pulse
    name: First pulse
    at: 29d
    survey: {kind: ces, to: [champion]}
`

// CS ops author alone, in a real browser, as issue 26 asks: an ops lead
// opens the language reference beside the editor, starts a playbook from a
// blank start, writes seed 002's Day 1-30 with a mistake, follows the
// error's link to its reference entry, fixes it, previews the unsaved text
// (its timeline and emails), saves, publishes and retires it. The log says
// how long the flow took.
func TestAnOpsLeadAuthorsAlone(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	_, opsKey, err := l.Store.CreateAPIKey(context.Background(), "cs ops lead", "ops", "")
	require.NoError(t, err)
	srv, _ := workConsole(t, l.Store)
	ctx := browsertest.New(t)
	text := func(ctx context.Context, sel string) string {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(sel)))
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		require.NoError(t, err)
		return s
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(opsKey)))
	started := time.Now()

	// The reference, open in a tab of its own beside the editor.
	reference, cancel := chromedp.NewContext(ctx)
	defer cancel()
	require.NoError(t, chromedp.Do(reference, chromedp.Navigate(srv.URL+"/console/reference"), chromedp.WaitVisible("#step-email")))
	require.Contains(t, text(reference, `article[aria-labelledby="step-email"]`), "template")

	// New playbook, from a blank start.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks"), chromedp.Click("#new-playbook"),
		chromedp.WaitVisible("#create"), chromedp.SendKeys("#key", "day-1-30"), chromedp.SendKeys("#name", "Day 1-30 (seed 002)"),
		chromedp.Click("#create"), chromedp.WaitVisible("#source")))
	require.Contains(t, text(ctx, ".flash"), "Started day-1-30 from a blank start")

	// The text, with its mistake, previewed unsaved: the error links to
	// the reference's survey entry.
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#source", seed002Day1To30), chromedp.Click("#preview"),
		chromedp.WaitVisible("#errors a.ref-link")))
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#errors a.ref-link").getAttribute("href")`))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(href, "/console/reference#step-survey"), href)
	require.NoError(t, chromedp.Do(reference, chromedp.Navigate(srv.URL+href), chromedp.WaitVisible("#step-survey")))
	require.Contains(t, text(reference, `article[aria-labelledby="step-survey"]`), "csat", "the entry lists the kinds there are")

	// Fixed and previewed again, still unsaved, for a real account: the
	// timeline and the simulated run of the text in the text area.
	fixed := strings.Replace(seed002Day1To30, "kind: ces", "kind: nps", 1)
	// (An inline SVG has no offsetWidth, which chromedp's visibility test
	// reads: the picture is waited for, then measured.)
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#source", fixed), chromedp.SetValue("#account", "acme"), chromedp.Click("#preview"),
		chromedp.WaitVisible("#preview-h"), chromedp.WaitReady("#timeline svg")))
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#timeline svg").getBoundingClientRect().width`))
	require.NoError(t, err)
	require.Positive(t, width, "the unsaved text's timeline is drawn")
	require.Contains(t, text(ctx, "#preview-h"), "not saved")
	require.Contains(t, text(ctx, "ol.sim"), "Welcome email")
	checkAtBothWidths(t, ctx, "authoring-preview")
	require.Equal(t, 1, countVersions(t, l, "day-1-30"), "previews store nothing")

	// Saved (the blank draft is replaced, not added to), published, retired.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#save"), chromedp.WaitVisible(".flash")))
	require.Contains(t, text(ctx, ".flash"), "Saved draft version 1 of day-1-30")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks/day-1-30/versions/1/publish"),
		chromedp.Click("#publish"), chromedp.WaitVisible(".flash")))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks/day-1-30"), chromedp.Click("#to-retire"),
		chromedp.Click("#retire"), chromedp.WaitVisible("#retired")))
	took := time.Since(started)

	require.Equal(t, 1, countVersions(t, l, "day-1-30"), "one version: the blank start, replaced by the saved text")
	var status, kind string
	require.NoError(t, l.Pool.QueryRow(context.Background(), `SELECT status, definition #>> '{steps,2,survey,kind}'
		FROM playbook_versions WHERE key = 'day-1-30'`).Scan(&status, &kind))
	require.Equal(t, "published", status)
	require.Equal(t, "nps", kind)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/playbooks"), chromedp.WaitVisible("#retired-day-1-30")))
	t.Logf("reference open, blank start, a mistake found through its reference entry, two unsaved previews, save, publish and retire: %s in the browser", took.Round(time.Millisecond))
}

func countVersions(t *testing.T, l storetest.Ladder, key string) int {
	t.Helper()
	var n int
	require.NoError(t, l.Pool.QueryRow(context.Background(), `SELECT count(*) FROM playbook_versions WHERE key = $1`, key).Scan(&n))
	return n
}
