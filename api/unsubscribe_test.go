package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// capturedEmail stores an email of a run of acme to recipient, as the
// worker does, and returns its id (what an unsubscribe link signs).
func capturedEmail(t *testing.T, h *harness, recipient string) uuid.UUID {
	t.Helper()
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	var id uuid.UUID
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status)
		VALUES ($1, 'welcome-email', 'acme', $2, 'welcome', 'Hi', '', '', 'captured') RETURNING id`,
		r.body["id"], recipient).Scan(&id))
	return id
}

// unsubscribeRows is what an unsubscribe changes: the tables of
// harness.counts, the suppression list and the contacts' flags.
func unsubscribeRows(t *testing.T, h *harness) map[string]int {
	out := h.counts(t)
	for name, query := range map[string]string{
		"suppressions":           `SELECT count(*) FROM suppressions`,
		"unsubscribed contacts":  `SELECT count(*) FROM contacts WHERE unsubscribed`,
		"suppressed email event": `SELECT count(*) FROM events WHERE type = 'suppressed'`,
	} {
		var n int
		require.NoError(t, h.pool.QueryRow(context.Background(), query).Scan(&n))
		out[name] = n
	}
	return out
}

// sendRaw sends a request to the harness without a key, as a recipient's
// browser or mail client does, with an RFC 8058 one-click body.
func sendRaw(t *testing.T, h *harness, method, target string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+target, strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// requirePageHeaders checks the headers of an unsubscribe page, and that
// the page's one style is the one its policy allows.
func requirePageHeaders(t *testing.T, resp *http.Response, page, what string) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'", what)
	require.Contains(t, csp, "frame-ancestors 'none'", what)
	require.Contains(t, csp, "form-action 'self'", what)
	require.NotContains(t, csp, "script-src", what)
	require.NotContains(t, csp, "unsafe-inline", what)
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), what)
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), what)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), what)
	require.Equal(t, "text/html; charset=UTF-8", resp.Header.Get("Content-Type"), what)
	style := styleElement.FindStringSubmatch(page)
	require.NotNil(t, style, what)
	sum := sha256.Sum256([]byte(style[1]))
	require.Contains(t, csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", "%s: the policy allows the page's style", what)
	require.NotContains(t, page, "<script", what)
	require.Contains(t, page, `<meta name="viewport" content="width=device-width, initial-scale=1">`, what)
}

// The unsubscribe routes (GET shows, POST unsubscribes) answer every link,
// however damaged, with a 4xx and change nothing; every page they serve
// carries the console's security headers (a policy without script, no
// framing, no sniffing, no referrer: the address holds the link's token).
func TestUnsubscribeRoutesAreSafePages(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	token := testLinks.Token(capturedEmail(t, h, "pat@acme.test"))
	before := unsubscribeRows(t, h)

	for _, method := range []string{"GET", "POST"} {
		for _, tt := range []struct {
			name, query string
			page        bool // answered by the unsubscribe page (else by the API's edge, as problem+json)
		}{
			{"no token", "", true},
			{"an empty token", "?token=", true},
			{"a damaged token", "?token=" + token + "x", true},
			{"a truncated token", "?token=" + token[:len(token)/2], true},
			{"another key's signature", "?token=" + strings.ToUpper(token), true},
			{"a token of no email", "?token=" + testLinks.Token(uuid.New()), true},
			{"a token after a bad one", "?token=x&token=" + token, true},
			{"NUL", "?token=a%00b", false},
			{"escape", "?token=%1b%5b31m", false},
			{"C1 next line", "?token=%c2%85", false},
			{"not UTF-8", "?token=%ff", false},
			{"a huge token", "?token=" + strings.Repeat("a", 5000), false},
			{"a query Go reads in part", "?token=" + token + ";x=1", false},
		} {
			resp, body := sendRaw(t, h, method, "/v1/unsubscribe"+tt.query)
			what := method + " " + tt.name
			require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s: %d", what, resp.StatusCode)
			if tt.page {
				requirePageHeaders(t, resp, body, what)
				require.Contains(t, body, "<h1>This link does not work</h1>", what)
			}
		}
	}
	require.Equal(t, before, unsubscribeRows(t, h), "no hostile link unsubscribed anyone")

	resp, page := sendRaw(t, h, "GET", "/v1/unsubscribe?token="+token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requirePageHeaders(t, resp, page, "the page")
	require.Contains(t, page, `<html lang="en">`)
	require.Contains(t, page, `<button type="submit" aria-describedby="what">Unsubscribe</button>`, "the button says what it does, and to whom")
	require.Contains(t, page, `<p id="what">Stop emails to pat@acme.test about Acme.</p>`)
	require.Equal(t, before, unsubscribeRows(t, h), "showing the page unsubscribes no one")

	resp, page = sendRaw(t, h, "POST", "/v1/unsubscribe?token="+token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	requirePageHeaders(t, resp, page, "unsubscribed")
	require.Contains(t, page, "<h1>You are unsubscribed</h1>")
}

// pageFits is what makes a page unusable on a phone, found in the page.
const pageFits = `(() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) problems.push("the page scrolls sideways: " + doc.scrollWidth + " > " + doc.clientWidth);
  const size = parseFloat(getComputedStyle(document.body).fontSize);
  if (size < 16) problems.push("the text is " + size + " px: too small to read");
  for (const b of document.querySelectorAll("button")) {
    if (!b.textContent.trim()) problems.push("a button without words");
    if (b.getBoundingClientRect().height < 44) problems.push("a button too small to tap: " + b.getBoundingClientRect().height + " px");
    if (b.getBoundingClientRect().right > doc.clientWidth) problems.push("the button runs off the screen");
  }
  return problems;
})()`

// The one page customers see fits a phone (390 px) in a real browser,
// with its style applied under its policy: readable text, a button large
// enough to tap, a long address wrapped rather than scrolled to; the
// button unsubscribes with no script on the page.
func TestUnsubscribePageFitsAPhone(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	long := "patricia.lee-from-the-finance-and-procurement-team@acme-enterprise-holdings.example"
	_, err := h.pool.Exec(context.Background(), `INSERT INTO contacts (account_id, email, name, role) VALUES ('acme', $1, 'Patricia', 'user')`, long)
	require.NoError(t, err)
	target := h.srv.URL + "/v1/unsubscribe?token=" + testLinks.Token(capturedEmail(t, h, long))

	ctx := browsertest.New(t)
	// Each step is bounded: a page without what it waits for fails here,
	// not at the test binary's timeout.
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		bounded, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		require.NoError(t, chromedp.Do(bounded, actions...), what)
	}
	check := func(name string) {
		t.Helper()
		problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageFits))
		require.NoError(t, err)
		require.Empty(t, problems, name)
		browsertest.Screenshot(ctx, t, "unsubscribe-"+name, browsertest.Phone)
	}
	// CSS selectors: a plain string is a text search, which finds the word
	// "button" in the style too.
	heading := chromedp.CSS("main h1")
	do("open the link at a phone's width", chromedp.EmulateViewport(browsertest.Phone, 800), chromedp.Navigate(target), chromedp.WaitVisible(heading))
	check("ask")
	do("press the button", chromedp.Click(chromedp.CSS("main button")), chromedp.WaitNotPresent(chromedp.CSS("main form")), chromedp.WaitVisible(heading))
	said, err := chromedp.Run(ctx, chromedp.Text(heading))
	require.NoError(t, err)
	require.Equal(t, "You are unsubscribed", said)
	check("done")
	var unsubscribed bool
	require.NoError(t, h.pool.QueryRow(context.Background(), `SELECT unsubscribed FROM contacts WHERE email = $1`, long).Scan(&unsubscribed))
	require.True(t, unsubscribed)
}
