package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// The move page, its preview and its outcome, work at a phone's and a
// laptop's width and by keyboard; the move is one button.
func TestMovePageInABrowser(t *testing.T) {
	srv, eng, _ := moveConsole(t)
	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(adminKey),
		chromedp.Navigate(srv.URL+"/console/playbooks/onboarding/versions/2/move")))
	checkAtBothWidths(t, ctx, "move-preview")
	require.Empty(t, eng.moved())
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#move"), chromedp.WaitVisible("#outcome")))
	counts, err := chromedp.Run(ctx, chromedp.Text("#outcome"))
	require.NoError(t, err)
	require.Equal(t, "1 run moved to version 2; 1 stayed on version 1.", counts)
	checkAtBothWidths(t, ctx, "move-done")
	require.Len(t, eng.moved(), 1)
}
