package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// from is a client at an address, behind the test as its trusted proxy.
type from string

func (f from) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

// signInConsole serves the sign-in of a console whose clients are named by
// X-Forwarded-For (the test is the proxy), with failures counted in f.
func signInConsole(t *testing.T, st *store.Store, f *throttle.Failures) *httptest.Server {
	e := echo.New()
	e.IPExtractor = echo.ExtractIPFromXFFHeader() // trusts loopback: the test
	a, _ := app.Build(app.Deps{Store: st, AuthFailures: f})
	_, err := console.Register(e, console.Config{App: a, AdminKey: adminKey,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

func browserAt(t *testing.T, srv *httptest.Server, addr string) *browser {
	b := newBrowser(t, srv.URL)
	b.c.Transport = from(addr)
	return b
}

func sessions(t *testing.T, pool *pgxpool.Pool) int {
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM console_sessions`).Scan(&n))
	return n
}

// Sign-in throttles the client that keeps giving wrong keys: each is a 401
// while it has failures left, then a 429 page with Retry-After, even for
// the right key; no session is made, and other clients sign in as usual.
func TestWrongSignInsAreThrottled(t *testing.T) {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	old, revoked, err := st.CreateAPIKey(ctx, "old laptop", "csm", "casey@cs.test")
	require.NoError(t, err)
	_, err = st.RevokeAPIKey(ctx, old.ID)
	require.NoError(t, err)
	failures := throttle.New(throttle.Default)
	srv := signInConsole(t, st, failures)

	hostile := []string{
		"pbk_not-a-key",
		adminKey + "x",
		adminKey[:len(adminKey)-1],
		" " + strings.ToUpper(adminKey) + " ",
		revoked,
		strings.Repeat("k", 5000),
		"pbk_' OR '1'='1",
		"<script>alert(1)</script>",
	}
	attacker := browserAt(t, srv, "203.0.113.5")
	for n := range throttle.Default.Burst {
		resp := attacker.signIn(hostile[n%len(hostile)])
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "attempt %d", n+1)
	}
	for _, key := range append(hostile, adminKey) {
		_, html := attacker.get("/console/sign-in")
		resp, page := attacker.post("/console/sign-in", map[string][]string{"key": {key}, "csrf": {csrfOf(t, html)}})
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "a throttled client's right key is refused too")
		wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.True(t, 1 <= wait && wait <= 60, "Retry-After %d", wait)
		require.Contains(t, page, "Too many failed sign-ins")
		for _, ck := range resp.Cookies() {
			require.NotEqual(t, "playbookd_session", ck.Name)
		}
	}
	require.Zero(t, sessions(t, pool), "no session was made")

	// An empty form is a slip, not a guess.
	other := browserAt(t, srv, "198.51.100.7")
	for range throttle.Default.Burst + 5 {
		require.Equal(t, http.StatusUnprocessableEntity, other.signIn("").StatusCode)
	}
	require.Equal(t, http.StatusSeeOther, other.signIn(adminKey).StatusCode, "others are not held back")
	require.Equal(t, 1, sessions(t, pool))

	// The API's key checks count in the same throttle (the command gives
	// both the same one).
	for range throttle.Default.Burst {
		failures.Fail("192.0.2.9")
	}
	require.Equal(t, http.StatusTooManyRequests, browserAt(t, srv, "192.0.2.9").signIn(adminKey).StatusCode)
}
