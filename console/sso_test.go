package console_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/signin"
)

// provider starts a local OpenID Connect provider for the test: it signs
// in whoever the test queues (mockoidc), never a real one.
func provider(t *testing.T) (*mockoidc.MockOIDC, *signin.OIDCConfig) {
	t.Helper()
	m, err := mockoidc.Run()
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Shutdown() })
	cfg := m.Config()
	return m, &signin.OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Name: "Mock IdP"}
}

func member(email string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: true}
}

// visit gets an absolute address (the provider's, or the callback the
// provider sends the browser to) with the browser's cookies.
func (b *browser) visit(address string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(address)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

// toProvider starts single sign-on from the sign-in page's button: the
// provider's authorization address the console sends the browser to.
func (b *browser) toProvider(next string) *url.URL {
	b.t.Helper()
	resp, _ := b.get("/console/sign-in/oidc?next=" + url.QueryEscape(next))
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	u, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	return u
}

// atProvider is the provider signing the browser in: the callback
// address it sends the browser back to.
func (b *browser) atProvider(authorize *url.URL) *url.URL {
	b.t.Helper()
	resp, body := b.visit(authorize.String())
	require.Equal(b.t, http.StatusFound, resp.StatusCode, body)
	u, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	return u
}

// A member signs in with the team's identity provider: the sign-in page
// offers it, the provider sends the browser back with a code, and the
// console verifies the ID token and signs the member in where they were
// going. The callback works once.
func TestSingleSignOn(t *testing.T) {
	idp, cfg := provider(t)
	p := newPeople(t, cfg)
	b := newBrowser(t, p.srv.URL)

	_, html := b.get("/console/sign-in?next=/console/accounts")
	require.Contains(t, html, `href="/console/sign-in/oidc?next=%2fconsole%2faccounts">Sign in with Mock IdP</a>`)

	idp.QueueUser(member("casey@cs.test"))
	authorize := b.toProvider("/console/accounts")
	require.True(t, strings.HasPrefix(authorize.String(), idp.AuthorizationEndpoint()))
	q := authorize.Query()
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, "S256", q.Get("code_challenge_method"), "PKCE")
	require.NotEmpty(t, q.Get("state"))
	require.NotEmpty(t, q.Get("nonce"))
	require.Equal(t, p.srv.URL+"/console/sign-in/oidc/callback", q.Get("redirect_uri"))
	var pending *http.Cookie
	for _, ck := range b.c.Jar.Cookies(mustURL(t, p.srv.URL+"/console/sign-in/oidc/callback")) {
		if ck.Name == "playbookd_sso" {
			pending = ck
		}
	}
	require.NotNil(t, pending, "the sign-in under way is kept in a cookie for the callback only")
	require.NotContains(t, pending.Value, q.Get("state")[:10], "the cookie is encoded, not the bare state")

	callback := b.atProvider(authorize)
	resp, html := b.visit(callback.String())
	require.Equal(t, http.StatusOK, resp.StatusCode, html)
	require.Contains(t, html, "You are signed in as casey@cs.test.")
	require.Equal(t, "0; url=/console/accounts", resp.Header.Get("Refresh"),
		"a page that moves on by itself: the session's Strict cookie is not sent on the provider's redirect")
	require.True(t, hasSession(resp))
	resp, html = b.get("/console/accounts")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, html, "casey@cs.test")

	// The same callback again (replayed, or reloaded): refused.
	other := newBrowser(t, p.srv.URL)
	resp, html = other.visit(callback.String())
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, html, "This sign-in did not start in this browser")
	require.False(t, hasSession(resp))
	require.Equal(t, 1, sessions(t, p.pool))
}

// What single sign-on refuses, each with a page saying so and no session:
// an address that is no active member's, a callback that is not this
// browser's sign-in (tampered state), an ID token made for another sign-in
// (nonce) or expired, a code without its PKCE verifier, the provider's own
// refusal.
func TestSingleSignOnRefusals(t *testing.T) {
	idp, cfg := provider(t)
	p := newPeople(t, cfg)
	tamper := func(u *url.URL, name, value string) *url.URL {
		q := u.Query()
		q.Set(name, value)
		out := *u
		out.RawQuery = q.Encode()
		return &out
	}
	for _, tc := range []struct {
		name   string
		user   string
		flow   func(b *browser) (*http.Response, string)
		status int
		says   string
	}{
		{name: "unknown email", user: "stranger@elsewhere.test", status: http.StatusForbidden,
			says: "Mock IdP signed you in as stranger@elsewhere.test, who is not a member of this team"},
		{name: "deactivated member", user: "gone@cs.test", status: http.StatusForbidden, says: "gone@cs.test has been deactivated"},
		{name: "tampered state", user: "casey@cs.test", status: http.StatusForbidden, says: "This sign-in did not start in this browser",
			flow: func(b *browser) (*http.Response, string) {
				callback := b.atProvider(b.toProvider("/console/"))
				return b.visit(tamper(callback, "state", callback.Query().Get("state")+"x").String())
			}},
		{name: "callback in another browser", user: "casey@cs.test", status: http.StatusForbidden, says: "This sign-in did not start in this browser",
			flow: func(b *browser) (*http.Response, string) {
				callback := b.atProvider(b.toProvider("/console/"))
				return newBrowser(t, p.srv.URL).visit(callback.String())
			}},
		{name: "tampered nonce", user: "casey@cs.test", status: http.StatusUnauthorized, says: "answer could not be verified",
			flow: func(b *browser) (*http.Response, string) {
				authorize := b.toProvider("/console/")
				return b.visit(b.atProvider(tamper(authorize, "nonce", "someone-elses")).String())
			}},
		{name: "tampered PKCE challenge", user: "casey@cs.test", status: http.StatusUnauthorized, says: "answer could not be verified",
			flow: func(b *browser) (*http.Response, string) {
				authorize := b.toProvider("/console/")
				return b.visit(b.atProvider(tamper(authorize, "code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).String())
			}},
		{name: "expired ID token", user: "casey@cs.test", status: http.StatusUnauthorized, says: "answer could not be verified",
			flow: func(b *browser) (*http.Response, string) {
				callback := b.atProvider(b.toProvider("/console/"))
				idp.FastForward(-time.Hour) // the provider's tokens were issued an hour ago, for 10 minutes
				defer idp.FastForward(time.Hour)
				return b.visit(callback.String())
			}},
		{name: "the provider refuses", status: http.StatusUnauthorized, says: "Mock IdP did not sign you in (access_denied)",
			flow: func(b *browser) (*http.Response, string) {
				callback := b.atProvider(b.toProvider("/console/"))
				q := url.Values{"error": {"access_denied"}, "state": {callback.Query().Get("state")}}
				return b.get("/console/sign-in/oidc/callback?" + q.Encode())
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.user != "" {
				idp.QueueUser(member(tc.user))
			}
			flow := tc.flow
			if flow == nil {
				flow = func(b *browser) (*http.Response, string) {
					return b.visit(b.atProvider(b.toProvider("/console/")).String())
				}
			}
			b := newBrowser(t, p.srv.URL)
			resp, html := flow(b)
			require.Equal(t, tc.status, resp.StatusCode, html)
			require.Contains(t, html, tc.says)
			require.Contains(t, html, `action="/console/sign-in/email"`, "other ways to sign in are offered")
			require.False(t, hasSession(resp))
			resp, _ = b.get("/console/")
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, "not signed in")
		})
	}
	require.Zero(t, sessions(t, p.pool))
}

// Without single sign-on there is nothing to start; a provider that
// cannot be reached is said so on the sign-in page.
func TestSingleSignOnUnavailable(t *testing.T) {
	p := newPeople(t, nil)
	resp, _ := newBrowser(t, p.srv.URL).get("/console/sign-in/oidc")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = newBrowser(t, p.srv.URL).get("/console/sign-in/oidc/callback?state=x&code=y")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + ln.Addr().String() + "/oidc"
	require.NoError(t, ln.Close())
	p = newPeople(t, &signin.OIDCConfig{Issuer: down, ClientID: "c", ClientSecret: "s", Name: "Mock IdP"})
	resp, html := newBrowser(t, p.srv.URL).get("/console/sign-in/oidc")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, html, "Mock IdP could not be reached")
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
