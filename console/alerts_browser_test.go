package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// A CSM signs in and, in a real browser, finds the account that turned red
// at the top of their inbox: what started and who holds it, usable at a
// phone's width and a laptop's; "Seen" takes it away.
func TestARedAccountAtTheTopOfTheInboxInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, a := riskConsole(t, l)
	ctx := context.Background()
	newTask(t, l, "kickoff", time.Now().Add(-time.Hour))
	_, err := a.Triggers.RecordHealth(ctx, l.AccountID, score(85), time.Time{})
	require.NoError(t, err)
	_, err = a.Triggers.RecordHealth(ctx, l.AccountID, score(35), time.Time{})
	require.NoError(t, err)
	live, err := l.Store.LiveRun(ctx, l.AccountID, "red-recovery")
	require.NoError(t, err)
	_, err = l.Store.CreateApproval(ctx, store.NewApproval{RunID: live.ID, StepID: "c-level-outreach", AccountID: l.AccountID,
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	b := browsertest.New(t)
	require.NoError(t, chromedp.Do(b, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(keyOf(t, l.Store, storetest.CSM))))
	for _, width := range []int64{browsertest.Phone, browsertest.Desktop} {
		require.NoError(t, chromedp.Do(b, chromedp.EmulateViewport(width, 900), chromedp.Navigate(srv.URL+"/console/"),
			chromedp.WaitVisible(".risk-alert")))
		first, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("main section").getAttribute("aria-labelledby")`))
		require.NoError(t, err)
		require.Equal(t, "risk-h", first, "risk is the inbox's first section")
		alert, err := chromedp.Run(b, chromedp.Text(".risk-alert"))
		require.NoError(t, err)
		for _, want := range []string{"Acme", "Health fell from green to red (score 35)", "Started red-recovery: started",
			"Lee Lead: approval C-level outreach"} {
			require.Contains(t, strings.Join(strings.Fields(alert), " "), want)
		}
		problems, err := chromedp.Run(b, chromedp.Evaluate[[]string](pageChecks))
		require.NoError(t, err)
		require.Empty(t, problems, "at %d px", width)
		browsertest.Screenshot(b, t, "inbox-red-account", width)
	}
	require.NoError(t, chromedp.Do(b, chromedp.Click(".risk-alert button"), chromedp.WaitNotPresent(".risk-alert")))
	flash, err := chromedp.Run(b, chromedp.Text(".flash"))
	require.NoError(t, err)
	require.Contains(t, flash, "Marked seen: Acme")
}
