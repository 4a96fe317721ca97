package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// keySignIn signs in on the sign-in page with an API key, as a person
// would: open "Sign in with an API key", type the key, press Enter.
func keySignIn(key string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Click("#key-sign-in summary"), chromedp.SendKeys("#key", key+"\n"),
		chromedp.WaitNotPresent("#key"), chromedp.WaitVisible("main h1"))
}

// checkAtBothWidths checks the page in the browser at a phone's and a
// laptop's width (pageChecks) and takes a screenshot of each.
func checkAtBothWidths(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, width := range []int64{browsertest.Phone, browsertest.Desktop} {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.WaitVisible("main h1")))
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageChecks))
		require.NoError(t, err)
		require.Empty(t, problems, "%s at %d px", name, width)
		browsertest.Screenshot(ctx, t, name, width)
	}
}

// Single sign-on in a real browser, with the provider on another site
// (127.0.0.1) than the console (localhost): from the sign-in page's button
// through the provider and back, the browser lands signed in where it was
// going.
func TestSingleSignOnInABrowser(t *testing.T) {
	idp, cfg := provider(t)
	p := newPeopleAt(t, cfg, "localhost")
	base := strings.Replace(p.srv.URL, "127.0.0.1", "localhost", 1)
	idp.QueueUser(member("casey@cs.test"))

	ctx := browsertest.New(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/console/accounts"), chromedp.WaitVisible("#email")))
	browsertest.Screenshot(ctx, t, "sign-in-sso", browsertest.Phone)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`a[href^="/console/sign-in/oidc"]`)))
	want := base + "/console/accounts | casey@cs.test"
	var where string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && where != want; time.Sleep(100 * time.Millisecond) {
		where, _ = chromedp.Run(ctx, chromedp.Evaluate[string](
			`location.href + " | " + ((document.querySelector(".who span") || {}).textContent || "").split(" ")[0]`))
	}
	require.Equal(t, want, where)
}

// The emailed link in a real browser, keyboard first, each page checked
// at a phone's and a laptop's width (pageChecks) with screenshots: the
// sign-in page, "check your email", the link's confirmation, the inbox
// after its button, and the page of the link used.
func TestSignInWithALinkInABrowser(t *testing.T) {
	_, cfg := provider(t)
	p := newPeople(t, cfg)
	ctx := browsertest.New(t)
	check := func(name string) { t.Helper(); checkAtBothWidths(t, ctx, name) }
	heading := func() string {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.Text("main h1"))
		require.NoError(t, err)
		return h
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+"/console/portfolio"), chromedp.WaitVisible("#email")))
	check("sign-in-page")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#email", "casey@cs.test\n"), chromedp.WaitNotPresent("#email")))
	require.Equal(t, "Check your email", heading())
	check("sign-in-sent")

	link := p.linkOf(t, "casey@cs.test")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+link), chromedp.WaitVisible("main h1")))
	require.Equal(t, "Sign in as Casey", heading())
	check("sign-in-link")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click("main form button"), chromedp.WaitNotPresent(`input[name="token"]`),
		chromedp.WaitVisible("main h1")))
	where, err := chromedp.Run(ctx, chromedp.Evaluate[string]("location.pathname"))
	require.NoError(t, err)
	require.Equal(t, "/console/portfolio", where, "where the member was going")
	who, err := chromedp.Run(ctx, chromedp.Text(".who span"))
	require.NoError(t, err)
	require.Contains(t, who, "casey@cs.test")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(p.srv.URL+link), chromedp.WaitVisible("main h1")))
	require.Equal(t, "This link has been used", heading())
	check("sign-in-link-used")
}
