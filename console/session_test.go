package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

const adminKey = "console-admin-key-0123456789"

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newConsole(t *testing.T, st *store.Store, admin string) *httptest.Server {
	srv, _ := serveConsole(t, st, admin)
	return srv
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	m := csrfInput.FindStringSubmatch(html)
	require.NotNil(t, m, "the page has a CSRF field")
	return m[1]
}

// signIn goes through the sign-in page with a key.
func (b *browser) signIn(key string) *http.Response {
	_, html := b.get("/console/sign-in?next=/console/")
	resp, _ := b.post("/console/sign-in", url.Values{"key": {key}, "csrf": {csrfOf(b.t, html)}, "next": {"/console/"}})
	return resp
}

func TestSignInWithAKeyMakesASafeSession(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	key, secret, err := st.CreateAPIKey(ctx, "casey", "csm", "casey@cs.test")
	require.NoError(t, err)
	srv := newConsole(t, st, adminKey)
	b := newBrowser(t, srv.URL)

	resp, _ := b.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed out: to the sign-in page")
	require.Equal(t, "/console/sign-in?next=%2Fconsole%2F", resp.Header.Get("Location"))

	resp, html := b.get("/console/sign-in")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Contains(t, html, `<label for="key">API key</label>`)

	// A sign-in without the form's token is refused, whatever the key.
	resp, _ = b.post("/console/sign-in", url.Values{"key": {secret}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	require.Equal(t, http.StatusUnauthorized, b.signIn("pbk_not-a-key").StatusCode)

	resp = b.signIn(secret)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "playbookd_session" {
			session = ck
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, session.SameSite)
	require.NotContains(t, session.Value, secret, "the cookie is a session, not the key")

	resp, html = b.get("/console/")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, "casey@cs.test")

	// A form posted without the session's token is refused.
	resp, _ = b.post("/console/sign-out", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = b.get("/console/")
	require.Equal(t, 200, resp.StatusCode, "still signed in")

	// Revoking the key ends its sessions at once.
	_, err = st.RevokeAPIKey(ctx, key.ID)
	require.NoError(t, err)
	resp, _ = b.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
}

func TestSignOutAndAdminKeyChange(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	srv := newConsole(t, st, adminKey)
	b := newBrowser(t, srv.URL)
	require.Equal(t, http.StatusSeeOther, b.signIn(adminKey).StatusCode)
	_, html := b.get("/console/")
	require.Contains(t, html, "admin")

	// The same cookie against a server whose admin key changed: signed out.
	other := newConsole(t, st, adminKey+"-rotated")
	b2 := newBrowser(t, other.URL)
	u, _ := url.Parse(srv.URL)
	u2, _ := url.Parse(other.URL)
	b2.c.Jar.SetCookies(u2, b.c.Jar.Cookies(u))
	resp, _ := b2.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "a changed admin key ends its sessions")

	resp, _ = b.post("/console/sign-out", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = b.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed out")
}

// After signing in the browser goes where it was going, never elsewhere.
func TestSignInRedirectStaysInTheConsole(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	srv := newConsole(t, st, adminKey)
	for next, want := range map[string]string{
		"/console/accounts?band=red": "/console/accounts?band=red",
		"//evil.example/":            "/console/",
		"https://evil.example/":      "/console/",
		"/console/\\evil":            "/console/",
	} {
		b := newBrowser(t, srv.URL)
		_, html := b.get("/console/sign-in")
		resp, _ := b.post("/console/sign-in", url.Values{"key": {adminKey}, "csrf": {csrfOf(t, html)}, "next": {next}})
		require.Equal(t, want, resp.Header.Get("Location"), next)
		require.False(t, strings.HasPrefix(resp.Header.Get("Location"), "//"))
	}
}
