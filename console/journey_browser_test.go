package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/browsertest"
	"github.com/playbookd/playbookd/internal/mailtest"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// Issue 23's whole journey without curl, in real browsers: an admin adds a
// member (Robin), deactivates Casey with Robin taking over Casey's account,
// and creates a key; Robin signs in from the emailed link, reports the
// event the account's run waits for from the run page, logs a call, and
// when the account turns red finds it at the top of the inbox with what
// it started. Times are logged, not asserted: the red account is seen on
// the next page load.
func TestAJourneyWithoutCurlInABrowser(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	set, err := templates.Builtin()
	require.NoError(t, err)
	fake := &fakeTemporal{}
	letters := &mailtest.Recorder{}
	a, _ := app.Build(app.Deps{Store: l.Store, Engine: startingEngine{fake, l.Store}, Templates: set,
		Health: health.Presets[health.DefaultModel], Mailer: letters,
		MailFrom: mail.Address{Name: "Customer Success", Email: "cs@playbookd.test"}})
	srv := serve(t, console.Config{App: a, AdminKey: adminKey})
	ctx := context.Background()
	text := func(b context.Context, sel string) string {
		t.Helper()
		require.NoError(t, chromedp.Do(b, chromedp.WaitVisible(sel)))
		s, err := chromedp.Run(b, chromedp.Text(sel))
		require.NoError(t, err)
		return strings.Join(strings.Fields(s), " ")
	}

	// The admin: a member added, another deactivated, a key made.
	admin := browsertest.New(t)
	require.NoError(t, chromedp.Do(admin, chromedp.Navigate(srv.URL+"/console/sign-in"), keySignIn(adminKey)))
	require.NoError(t, chromedp.Do(admin, chromedp.Click("#nav-team"), chromedp.WaitVisible("#add-member"),
		chromedp.SendKeys("#member-email", "robin@cs.test"), chromedp.SendKeys("#member-name", "Robin"),
		chromedp.SetValue("#member-level", "csm"), chromedp.SetValue("#member-manager", storetest.Manager),
		chromedp.Click("#add-member-submit")))
	require.Contains(t, text(admin, ".flash"), "Added Robin")
	require.NoError(t, chromedp.Do(admin, chromedp.Click(`tr[data-email="casey@cs.test"] a`), chromedp.WaitVisible("#deactivate"),
		chromedp.SetValue("#successor", "robin@cs.test"), chromedp.Click("#deactivate-submit")))
	require.Contains(t, text(admin, ".flash"), "Deactivated Casey")
	require.NoError(t, chromedp.Do(admin, chromedp.Click("#nav-keys"), chromedp.WaitVisible("#create-key"),
		chromedp.SendKeys("#new-key-name", "crm sync"), chromedp.SetValue("#new-key-role", "ops"),
		chromedp.Click("#create-key-submit"), chromedp.WaitVisible("#new-key-secret")))
	secret, err := chromedp.Run(admin, chromedp.Value("#new-key-secret"))
	require.NoError(t, err)
	_, err = l.Store.LookupAPIKey(ctx, secret)
	require.NoError(t, err, "the key shown works")

	// Robin signs in from the emailed link: its page first, then its button.
	robin := browsertest.New(t)
	require.NoError(t, chromedp.Do(robin, chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "robin@cs.test\n")))
	heading := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && heading != "Check your email"; time.Sleep(100 * time.Millisecond) {
		heading, _ = chromedp.Run(robin, chromedp.Evaluate[string](`(document.querySelector("main h1") || {}).textContent || ""`))
	}
	require.Equal(t, "Check your email", heading)
	link := signin.LinkIn(letters.Next(t, "robin@cs.test"))
	require.NotEmpty(t, link)
	require.NoError(t, chromedp.Do(robin, chromedp.Navigate(srv.URL+link), chromedp.WaitVisible("main form button"),
		chromedp.Click("main form button"), chromedp.WaitNotPresent(`input[name="token"]`)))
	require.Contains(t, text(robin, ".who"), "robin@cs.test")

	// The account's run waits for first_login: Robin reports it from the run page.
	fake.view = sampleView(l.RunID)
	require.NoError(t, chromedp.Do(robin, chromedp.Navigate(srv.URL+"/console/runs/"+l.RunID.String()),
		chromedp.Click("#report-first_login-submit"), chromedp.WaitVisible(".flash")))
	require.Equal(t, []string{"acme first_login null"}, fake.events, "the run was told")

	// A call, logged on the account: the timeline shows it, health reads it.
	require.NoError(t, chromedp.Do(robin, chromedp.Navigate(srv.URL+"/console/accounts/acme"), chromedp.WaitVisible("#log-note"),
		chromedp.Click("#note-kind-call"), chromedp.SendKeys("#note-body", "Walked Dana through the new dashboards."),
		chromedp.Click("#log-note-submit"), chromedp.WaitVisible(".flash")))
	require.Contains(t, text(robin, "main"), "Walked Dana through the new dashboards.")

	// The account turns red; Robin's next page load has it on top.
	_, err = a.Triggers.RecordHealth(ctx, l.AccountID, score(85), time.Time{})
	require.NoError(t, err)
	turned := time.Now()
	_, err = a.Triggers.RecordHealth(ctx, l.AccountID, score(35), time.Time{})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(robin, chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(".risk-alert")))
	t.Logf("account turned red → on top of the CSM's inbox in the browser: %s", time.Since(turned).Round(time.Millisecond))
	first, err := chromedp.Run(robin, chromedp.Evaluate[string](`document.querySelector("main section").getAttribute("aria-labelledby")`))
	require.NoError(t, err)
	require.Equal(t, "risk-h", first, "risk is the inbox's first section")
	alert := text(robin, ".risk-alert")
	require.Contains(t, alert, "Health fell from green to red")
	require.Contains(t, alert, "red-recovery")
}
