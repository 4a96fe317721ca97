package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/mailtest"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// people is a console whose team signs in as themselves: casey (csm),
// lee (admin) and gone (deactivated), the emails it sends recorded, and
// clients named by X-Forwarded-For (browserAt) or else 127.0.0.1.
type people struct {
	srv  *httptest.Server
	mail *mailtest.Recorder
	pool *pgxpool.Pool
	st   *store.Store
}

// newPeople serves it; sso, when set, is the identity provider's settings
// (the redirect URL is filled in).
func newPeople(t *testing.T, sso *signin.OIDCConfig) *people {
	t.Helper()
	return newPeopleAt(t, sso, "127.0.0.1")
}

// newPeopleAt is newPeople whose public address names host (localhost:
// another site than a provider on 127.0.0.1).
func newPeopleAt(t *testing.T, sso *signin.OIDCConfig, host string) *people {
	t.Helper()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	for _, m := range []store.UpsertTeamMember{
		{Email: "casey@cs.test", Name: "Casey", Level: "csm"},
		{Email: "lee@cs.test", Name: "Lee", Level: "vp_cs"},
		{Email: "gone@cs.test", Name: "Gone", Level: "csm"},
	} {
		_, _, err := st.UpsertTeamMember(ctx, m)
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `UPDATE team_members SET role = 'admin' WHERE email = 'lee@cs.test'`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE team_members SET deactivated_at = now() WHERE email = 'gone@cs.test'`)
	require.NoError(t, err)

	e := echo.New()
	e.IPExtractor = echo.ExtractIPFromXFFHeader() // trusts loopback: the test
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	p := &people{srv: srv, mail: &mailtest.Recorder{}, pool: pool, st: st}
	deps := app.Deps{Store: st, Engine: &fakeTemporal{}, Health: health.Model{Bands: health.Bands{Green: 80, Yellow: 50}},
		AuthFailures: throttle.New(throttle.Default), Mailer: p.mail,
		MailFrom: mail.Address{Name: "Customer Success", Email: "cs@playbookd.test"}}
	if sso != nil {
		cfg := *sso
		cfg.RedirectURL = strings.Replace(srv.URL, "127.0.0.1", host, 1) + signin.CallbackPath
		deps.OIDC = &cfg
	}
	a, _ := app.Build(deps)
	_, err = console.Register(e, console.Config{App: a, AdminKey: adminKey, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	require.NoError(t, err)
	return p
}

// askLink asks for a sign-in link for email from the sign-in page.
func (b *browser) askLink(email, next string) (*http.Response, string) {
	b.t.Helper()
	_, html := b.get("/console/sign-in")
	return b.post("/console/sign-in/email", url.Values{"email": {email}, "csrf": {csrfOf(b.t, html)}, "next": {next}})
}

// linkOf is the path of the sign-in link emailed to email.
func (p *people) linkOf(t *testing.T, email string) string {
	t.Helper()
	msg := p.mail.Next(t, email)
	link := signin.LinkIn(msg)
	require.NotEmpty(t, link, "the email has a sign-in link: %s", msg.Text)
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.RequestURI()
}

// useLink opens a link and presses its button.
func (b *browser) useLink(link string) (*http.Response, string) {
	b.t.Helper()
	resp, html := b.get(link)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, html)
	return b.post("/console/sign-in/link", confirmation(b.t, html))
}

// confirmation is the form of a link's confirmation page.
func confirmation(t *testing.T, html string) url.Values {
	t.Helper()
	form := url.Values{"csrf": {csrfOf(t, html)}}
	for _, name := range []string{"token", "next"} {
		m := strings.Split(html, `name="`+name+`" value="`)
		require.Len(t, m, 2, "the page has a %s field", name)
		value, _, _ := strings.Cut(m[1], `"`)
		form.Set(name, strings.ReplaceAll(value, "&amp;", "&"))
	}
	return form
}

func (p *people) linksUsed(t *testing.T) int {
	var n int
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT count(*) FROM sign_in_links WHERE used_at IS NOT NULL`).Scan(&n))
	return n
}

func hasSession(resp *http.Response) bool {
	for _, ck := range resp.Cookies() {
		if ck.Name == "playbookd_session" && ck.Value != "" {
			return true
		}
	}
	return false
}

// A member asks for a link with their email; the answer is the same for
// an address that is no member's. Opening the link (a mail scanner does)
// changes nothing; its button signs in, once, where the member was going.
func TestSignInWithAnEmailedLink(t *testing.T) {
	p := newPeople(t, nil)
	b := newBrowser(t, p.srv.URL)

	resp, html := b.get("/console/sign-in?next=/console/accounts")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, html, `action="/console/sign-in/email"`)
	require.Contains(t, html, `<label for="email">Work email</label>`)
	require.Contains(t, html, "<summary>Sign in with an API key</summary>")
	require.NotContains(t, html, "/console/sign-in/oidc", "no single sign-on configured")

	resp, sent := b.askLink("  Casey@CS.test ", "/console/accounts?band=red")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, sent, "If Casey@CS.test belongs to a team member, a link is on its way.")
	for _, other := range []string{"nobody@cs.test", "gone@cs.test"} {
		resp, page := b.askLink(other, "/console/accounts?band=red")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, strings.Replace(sent, "Casey@CS.test", other, 1), page, "the answer does not say who is a member")
	}
	msg := p.mail.Next(t, "casey@cs.test")
	require.Equal(t, "Your sign-in link for playbookd", msg.Subject)
	require.Equal(t, "cs@playbookd.test", msg.From.Email)
	require.Len(t, p.mail.Sent(), 1, "nobody else was sent a link")
	link := signin.LinkIn(msg)
	u, err := url.Parse(link)
	require.NoError(t, err)
	require.Equal(t, "/console/sign-in/link", u.Path)
	require.Equal(t, "/console/accounts?band=red", u.Query().Get("next"))

	// Opening the link, by anyone and as often, signs nobody in.
	scanner := newBrowser(t, p.srv.URL)
	for _, who := range []*browser{scanner, scanner, b} {
		resp, html := who.get(u.RequestURI())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, html, "<h1>Sign in as Casey</h1>")
		require.False(t, hasSession(resp))
	}
	require.Zero(t, p.linksUsed(t))
	resp, _ = scanner.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the scanner is not signed in")

	_, html = b.get(u.RequestURI())
	form := confirmation(t, html)
	resp, _ = b.post("/console/sign-in/link", url.Values{"token": form["token"]})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the button's form carries the CSRF token")
	require.Zero(t, p.linksUsed(t))

	resp, _ = b.post("/console/sign-in/link", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/accounts?band=red", resp.Header.Get("Location"))
	require.True(t, hasSession(resp))
	resp, html = b.get("/console/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, html, "casey@cs.test")
	require.Contains(t, html, "(csm)")

	// The scanner presses the button too: the link is spent.
	_, html = scanner.get("/console/sign-in")
	resp, html = scanner.post("/console/sign-in/link", url.Values{"token": form["token"], "csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, html, "This link has been used")
	require.Contains(t, html, `action="/console/sign-in/email"`, "a new link is offered")
	require.False(t, hasSession(resp))
	resp, html = scanner.get(u.RequestURI())
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, html, "This link has been used")
	require.Contains(t, html, `value="casey@cs.test"`, "the new link's form knows the address")
	require.Equal(t, 1, sessions(t, p.pool))

	// A member's session acts with the member's role.
	admin := newBrowser(t, p.srv.URL)
	admin.askLink("lee@cs.test", "")
	resp, _ = admin.useLink(p.linkOf(t, "lee@cs.test"))
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	_, html = admin.get("/console/")
	require.Contains(t, html, `href="/console/playbooks"`)
	require.Contains(t, html, "lee@cs.test")

	// Signing out ends the session, as a key's.
	resp, _ = b.post("/console/sign-out", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "another session's token")
	_, html = b.get("/console/")
	resp, _ = b.post("/console/sign-out", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = b.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

// Two presses of one link's button at once: one signs in.
func TestALinkSignsInOnceUnderConcurrency(t *testing.T) {
	p := newPeople(t, nil)
	newBrowser(t, p.srv.URL).askLink("casey@cs.test", "")
	link := p.linkOf(t, "casey@cs.test")
	const tabs = 4
	forms := make([]url.Values, tabs)
	browsers := make([]*browser, tabs)
	for i := range tabs {
		browsers[i] = newBrowser(t, p.srv.URL)
		_, html := browsers[i].get(link)
		forms[i] = confirmation(t, html)
	}
	codes := make([]int, tabs)
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Go(func() {
			resp, err := browsers[i].c.PostForm(p.srv.URL+"/console/sign-in/link", forms[i])
			if err == nil {
				codes[i] = resp.StatusCode
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	signedIn := 0
	for _, code := range codes {
		if code == http.StatusSeeOther {
			signedIn++
		} else {
			require.Equal(t, http.StatusGone, code)
		}
	}
	require.Equal(t, 1, signedIn)
	require.Equal(t, 1, sessions(t, p.pool))
}

// A link that cannot sign in says why, on opening it and on pressing its
// button, and offers a new one.
func TestLinksThatCannotSignIn(t *testing.T) {
	p := newPeople(t, nil)
	ctx := context.Background()
	b := newBrowser(t, p.srv.URL)
	b.askLink("casey@cs.test", "")
	expired := p.linkOf(t, "casey@cs.test")
	_, err := p.pool.Exec(ctx, `UPDATE sign_in_links SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	token, _, err := p.st.CreateSignInLink(ctx, "lee@cs.test", signin.LinkTTL, signin.DefaultLinkLimit)
	require.NoError(t, err)
	_, err = p.pool.Exec(ctx, `UPDATE team_members SET deactivated_at = now() WHERE email = 'lee@cs.test'`)
	require.NoError(t, err)
	deactivated := signin.LinkURL("", token, "")

	for _, tc := range []struct {
		name, link string
		status     int
		says       string
	}{
		{"expired", expired, http.StatusGone, "This link has expired"},
		{"member deactivated", deactivated, http.StatusForbidden, "Its team member has been deactivated"},
		{"unknown", "/console/sign-in/link?token=pbk_guess", http.StatusNotFound, "This link does not work"},
		{"cut short", "/console/sign-in/link?token=", http.StatusNotFound, "This link does not work"},
		{"too long", "/console/sign-in/link?token=" + strings.Repeat("x", 500), http.StatusNotFound, "This link does not work"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, p.srv.URL)
			resp, html := b.get(tc.link)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Contains(t, html, tc.says)
			require.Contains(t, html, `action="/console/sign-in/email"`, "a new link is offered")
			u, _ := url.Parse(tc.link)
			resp, html = b.post("/console/sign-in/link", url.Values{"token": {u.Query().Get("token")}, "csrf": {csrfOf(t, html)}})
			require.Equal(t, tc.status, resp.StatusCode)
			require.Contains(t, html, tc.says)
			require.False(t, hasSession(resp))
		})
	}
	require.Zero(t, p.linksUsed(t))
	require.Zero(t, sessions(t, p.pool))
}

// Deactivating a member ends their sessions at once: the lookup checks,
// as revoking a key ends its sessions.
func TestDeactivatingAMemberEndsTheirSessions(t *testing.T) {
	p := newPeople(t, nil)
	b := newBrowser(t, p.srv.URL)
	b.askLink("casey@cs.test", "")
	resp, _ := b.useLink(p.linkOf(t, "casey@cs.test"))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = b.get("/console/accounts")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	_, err := p.pool.Exec(context.Background(), `UPDATE team_members SET deactivated_at = now() WHERE email = 'casey@cs.test'`)
	require.NoError(t, err)
	resp, _ = b.get("/console/accounts")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/sign-in?next=%2Fconsole%2Faccounts", resp.Header.Get("Location"))

	// And they are sent no new link.
	resp, _ = b.askLink("casey@cs.test", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var links int
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT count(*) FROM sign_in_links`).Scan(&links))
	require.Equal(t, 1, links)
}

// Asking for links counts against the client as failed sign-ins do (the
// same throttle as the API's keys and the console's key sign-in), and so
// do unknown links; one member is sent at most signin.DefaultLinkLimit
// links, whoever asks; an address that is not one is a slip.
func TestLinkRequestsAreThrottled(t *testing.T) {
	p := newPeople(t, nil)
	asker := browserAt(t, p.srv, "203.0.113.5")
	for n := range throttle.Default.Burst {
		resp, _ := asker.askLink([]string{"nobody@cs.test", "casey@cs.test"}[n%2], "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "request %d", n+1)
	}
	resp, html := asker.askLink("casey@cs.test", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Contains(t, html, "Too many sign-in attempts")
	// Nor may it use a link now, or sign in with the admin key.
	token, _, err := p.st.CreateSignInLink(context.Background(), "lee@cs.test", signin.LinkTTL, signin.DefaultLinkLimit)
	require.NoError(t, err)
	_, html = asker.get(signin.LinkURL("", token, ""))
	resp, _ = asker.post("/console/sign-in/link", confirmation(t, html))
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Equal(t, http.StatusTooManyRequests, asker.signIn(adminKey).StatusCode)

	var links int
	require.NoError(t, p.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM sign_in_links l JOIN team_members t ON t.id = l.member_id WHERE t.email = 'casey@cs.test'`).Scan(&links))
	require.Equal(t, signin.DefaultLinkLimit.Count, links, "casey was sent at most the member's limit")

	other := browserAt(t, p.srv, "198.51.100.7")
	for range throttle.Default.Burst + 2 {
		resp, html := other.askLink("not an address", "")
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
		require.Contains(t, html, "Enter your work email address")
		require.Contains(t, html, `value="not an address"`)
	}
	resp, _ = other.useLink(signin.LinkURL("", token, ""))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "others are not held back")

	guesser := browserAt(t, p.srv, "192.0.2.9")
	_, html = guesser.get("/console/sign-in")
	for n := range throttle.Default.Burst {
		var resp *http.Response
		resp, html = guesser.post("/console/sign-in/link", url.Values{"token": {"guess-" + string(rune('a'+n))}, "csrf": {csrfOf(t, html)}})
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	}
	resp, _ = guesser.post("/console/sign-in/link", url.Values{"token": {"guess"}, "csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}
