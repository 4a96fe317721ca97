package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// versionsOf is every stored version of alerts, with its status and text.
func versionsOf(t *testing.T, st *store.Store) []store.PlaybookVersion {
	vs, err := st.ListPlaybookVersions(context.Background(), "alerts")
	require.NoError(t, err)
	return vs
}

// No console page shows a URL's credential: every page that shows a
// definition (its text, its diff, its timeline, its simulated emails, its
// errors), to ops and admins; a csm gets none of those pages. Saving or
// checking a text with such a URL, or the redacted text back, is refused
// naming the way out, and changes nothing.
func TestNoConsolePageShowsASecretURL(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	storetest.StoreLegacyAlerts(t, l.Store)
	srv, _ := workConsole(t, l.Store)
	_, opsKey, err := l.Store.CreateAPIKey(context.Background(), "cs ops", "ops", "")
	require.NoError(t, err)
	admin, ops := signedIn(t, srv, adminKey), signedIn(t, srv, opsKey)
	csm := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	before := versionsOf(t, l.Store)

	pages := []string{
		"/console/playbooks",
		"/console/playbooks/alerts",
		"/console/playbooks/alerts/diff?from=1&to=2",
		"/console/playbooks/alerts/analytics",
		"/console/runs/" + l.RunID.String(),
	}
	for _, v := range []string{"1", "2"} {
		base := "/console/playbooks/alerts/versions/" + v
		pages = append(pages, base, base+"?account=acme", base+"/publish", base+"/timeline.svg?segment=enterprise",
			base+"/timeline.svg?account=acme", base+"/move")
	}
	noLeak := func(t *testing.T, what, html string) {
		for _, leak := range storetest.LegacyLeaks {
			require.NotContains(t, html, leak, "%s shows a credential", what)
		}
	}
	for _, p := range pages {
		for who, b := range map[string]*browser{"admin": admin, "ops": ops, "csm": csm} {
			t.Run(p+" as "+who, func(t *testing.T) {
				resp, html := b.get(p)
				require.Less(t, resp.StatusCode, 500, html)
				noLeak(t, p, html)
				if who == "csm" && strings.HasPrefix(p, "/console/playbooks/alerts/") && !strings.HasSuffix(p, "/analytics") {
					require.Equal(t, http.StatusForbidden, resp.StatusCode)
				}
			})
		}
	}
	// The simulated emails of the editor's preview, from its frames.
	_, html := ops.get("/console/playbooks/alerts/versions/1?account=acme")
	frames := iframe.FindAllStringSubmatch(html, -1)
	require.NotEmpty(t, frames, "the preview renders the email")
	for _, f := range frames {
		resp, body := ops.get(strings.ReplaceAll(f[1], "&amp;", "&"))
		require.Equal(t, 200, resp.StatusCode, body)
		noLeak(t, f[1], body)
	}
	source := textareaOf(t, html)
	require.Contains(t, source, "url: https://hooks.slack.com/"+playbook.Redacted, "shown cut to its host")

	// Writes: the redacted text saved back, the original, a duplicate,
	// the stored versions published.
	token := csrfOf(t, html)
	writes := []struct {
		path   string
		form   url.Values
		echoes bool // the editor gives the text as sent back, to fix
		advice bool // the answer says where such a URL goes
	}{
		{"/console/playbooks/alerts/versions/2", url.Values{"source": {source}}, false, true},
		{"/console/playbooks/alerts/versions/2", url.Values{"source": {storetest.LegacyAlerts}}, true, true},
		{"/console/playbooks/alerts/validate", url.Values{"source": {storetest.LegacyAlerts}}, false, true},
		{"/console/playbooks/alerts/validate", url.Values{"source": {source}}, false, true},
		{"/console/playbooks/alerts/duplicate", url.Values{"version": {"1"}, "new_key": {"alerts-copy"}, "new_name": {"Copy"}}, false, true},
		{"/console/playbooks/alerts/versions/2/publish", url.Values{}, false, false},
	}
	for i, w := range writes {
		t.Run(fmt.Sprintf("POST %s #%d", w.path, i), func(t *testing.T) {
			w.form.Set("csrf", token)
			resp, body := ops.post(w.path, w.form)
			require.Less(t, resp.StatusCode, 500, body)
			require.NotEqual(t, http.StatusSeeOther, resp.StatusCode, "nothing is saved or published")
			if w.echoes {
				body = body[:strings.Index(body, "<textarea")]
			}
			noLeak(t, w.path, body)
			if w.advice {
				require.Contains(t, body, "named secret")
			}
		})
	}
	require.Equal(t, before, versionsOf(t, l.Store), "a version with a credential was stored or published")
}
