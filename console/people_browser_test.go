package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/store/storetest"
)

// An admin keeps the team and the keys in a real browser: adds a member,
// deactivates another naming who takes over their account, and creates a
// key whose secret the answer shows once. Each page is checked at a
// phone's and a laptop's width (pageChecks), with screenshots. The forms
// and buttons have stable ids (add-member, deactivate, create-key, ...)
// for the combined browser test.
func TestAdminKeepsTheTeamAndKeysInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	ctx := browsertest.New(t)
	check := func(name string) { t.Helper(); checkAtBothWidths(t, ctx, name) }
	flash := func() string {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(".flash")))
		text, err := chromedp.Run(ctx, chromedp.Text(".flash"))
		require.NoError(t, err)
		return text
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(adminKey)))

	// Add Robin, reporting to Lee, in Berlin.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#nav-team"), chromedp.WaitVisible("#add-member")))
	check("team")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#member-email", "robin@cs.test"), chromedp.SendKeys("#member-name", "Robin"),
		chromedp.SetValue("#member-level", "csm"), chromedp.SetValue("#member-manager", storetest.Manager),
		chromedp.SetValue("#member-timezone", "Europe/Berlin"), chromedp.Click("#add-member-submit")))
	require.Equal(t, "Added Robin (robin@cs.test, csm).", flash())
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(`tr[data-email="robin@cs.test"]`)))
	robin, err := l.Store.TeamMemberByEmail(context.Background(), "robin@cs.test")
	require.NoError(t, err)
	require.Equal(t, "Europe/Berlin", robin.Timezone)

	// Deactivate Casey: Robin takes over their account.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`tr[data-email="casey@cs.test"] a`), chromedp.WaitVisible("#deactivate")))
	check("member")
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue("#successor", "robin@cs.test"), chromedp.Click("#deactivate-submit")))
	require.Contains(t, flash(), "Deactivated Casey. robin@cs.test now has their 1 account(s)")
	status, err := chromedp.Run(ctx, chromedp.Text(`tr[data-email="casey@cs.test"] td:last-child`))
	require.NoError(t, err)
	require.Contains(t, status, "deactivated")
	acct, err := l.Store.GetAccount(context.Background(), "acme")
	require.NoError(t, err)
	require.Equal(t, "robin@cs.test", acct.CSMEmail)

	// A csm key for Robin: the secret once, then never again.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#nav-keys"), chromedp.WaitVisible("#create-key")))
	check("keys")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#new-key-name", "robin laptop"), chromedp.SetValue("#new-key-role", "csm"),
		chromedp.SetValue("#new-key-member", "robin@cs.test"), chromedp.Click("#create-key-submit"), chromedp.WaitVisible("#new-key-secret")))
	check("key-created")
	secret, err := chromedp.Run(ctx, chromedp.Value("#new-key-secret"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(secret, "pbk_"), secret)
	key, err := l.Store.LookupAPIKey(context.Background(), secret)
	require.NoError(t, err)
	require.Equal(t, "robin@cs.test", *key.MemberEmail)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("#keys-back"), chromedp.WaitVisible("#create-key")))
	page, err := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	require.NoError(t, err)
	require.Contains(t, page, "robin laptop")
	require.NotContains(t, page, secret, "shown once")
}
