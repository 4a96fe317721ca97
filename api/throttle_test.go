package api_test

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/api"
	"github.com/playbookd/playbookd/internal/throttle"
)

// requestFrom sends a request as a client behind the trusted proxy (the
// test's own address) at addr; auth is the whole Authorization header.
func (h *harness) requestFrom(t *testing.T, addr, auth, method, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("X-Forwarded-For", addr)
	return roundTrip(t, req)
}

// Every route that takes a key throttles the client that keeps failing to
// give one: a missing, malformed or unknown key is a 401 while the client
// has failures left, then a 429 problem with Retry-After, even with the
// admin key (a throttled client learns nothing from its attempts); another
// client is not held back, and nothing is written.
func TestFailedAuthenticationIsThrottledOnEveryKeyedRoute(t *testing.T) {
	h := newHarness(t, func(c *api.Config) {
		c.App.AuthFailures = throttle.New(throttle.Default)
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	h.seed(t)
	r := h.do(t, "POST", "/v1/keys", `{"name":"old laptop","role":"ops"}`)
	require.Equal(t, 201, r.status, r.raw)
	revoked := r.body["key"].(string)
	require.Equal(t, 200, h.do(t, "POST", "/v1/keys/"+r.body["api_key"].(map[string]any)["id"].(string)+"/revoke", "").status)
	hostile := []string{
		"",
		"Bearer",
		"Bearer ",
		"Basic YWRtaW46YWRtaW4=",
		"Bearer wrong-key",
		"Bearer " + adminKey + "x",
		"Bearer " + adminKey[:len(adminKey)-1],
		"bearer pbk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"Bearer " + revoked,
		"Bearer " + strings.Repeat("k", 4000),
	}
	before := h.counts(t)
	doc, ops := specOperations(t)
	tried := 0
	for i, op := range ops {
		if o := doc.Paths.Value(op.path).GetOperation(op.method); o.Security != nil && len(*o.Security) == 0 {
			continue // public
		}
		path := concretePath(op.path)
		client := "203.0.113." + strconv.Itoa(i+1) // one client per route
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			tried++
			start := time.Now()
			unauthorized := 0
			for n := range throttle.Default.Burst + 5 {
				r := h.requestFrom(t, client, hostile[n%len(hostile)], op.method, path)
				require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), r.raw)
				switch r.status {
				case 401:
					unauthorized++
				case 429:
					wait, err := strconv.Atoi(r.header.Get("Retry-After"))
					require.NoError(t, err, "Retry-After is whole seconds")
					require.True(t, 1 <= wait && wait <= 60, "Retry-After %d", wait)
					require.Empty(t, r.header.Get("WWW-Authenticate"))
				default:
					t.Fatalf("attempt %d: want 401 or 429, got %d %s", n+1, r.status, r.raw)
				}
			}
			refilled := int(time.Since(start) / throttle.Default.Every)
			require.GreaterOrEqual(t, unauthorized, throttle.Default.Burst, "a client mistyping a key is not held back")
			require.LessOrEqual(t, unauthorized, throttle.Default.Burst+refilled+1)

			r := h.requestFrom(t, client, "Bearer "+adminKey, op.method, path)
			require.Equal(t, 429, r.status, "a throttled client's right key is refused too: %s", r.raw)
		})
	}
	require.Greater(t, tried, 40, "every keyed route")
	require.Equal(t, before, h.counts(t), "a refused request wrote something")

	// Others are not held back by those failures.
	r = h.requestFrom(t, "198.51.100.1", "Bearer "+adminKey, "GET", "/v1/playbooks")
	require.Equal(t, 200, r.status, r.raw)
}

// Without trusted proxies a client is its connection: X-Forwarded-For,
// which any client may write, does not buy it fresh attempts.
func TestForwardedForIsNotTrustedFromAnyone(t *testing.T) {
	h := newHarness(t, func(c *api.Config) { c.App.AuthFailures = throttle.New(throttle.Default) })
	for n := range throttle.Default.Burst {
		r := h.requestFrom(t, "192.0.2."+strconv.Itoa(n+1), "Bearer wrong", "GET", "/v1/tasks")
		require.Equal(t, 401, r.status, r.raw)
	}
	r := h.requestFrom(t, "192.0.2.200", "Bearer wrong", "GET", "/v1/tasks")
	require.Equal(t, 429, r.status, r.raw)
	require.NotEmpty(t, r.header.Get("Retry-After"))
}
