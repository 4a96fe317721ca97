package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// seedPlaybooks publishes the built-in playbooks (onboarding version 1,
// which the ladder's live run is on) and gives acme a champion to email.
func seedPlaybooks(t *testing.T, l storetest.Ladder) {
	t.Helper()
	ctx := context.Background()
	set, err := templates.Builtin()
	require.NoError(t, err)
	_, err = catalog.Seed(ctx, l.Store, playbook.Options{BuiltinTemplates: set.Names(), CheckTemplate: templates.Check})
	require.NoError(t, err)
	_, _, err = l.Store.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 150000,
		Segment: "enterprise", CSMEmail: storetest.CSM, Timezone: "UTC", LifecycleStage: "adoption", Status: "active",
		Contacts: []store.UpsertContact{{Email: "pat@acme.test", Name: "Pat Lee", Role: "champion"}}})
	require.NoError(t, err)
}

const helloDraft = `key: hello
name: Hello
steps:
  - id: greet
    email: {template: welcome, to: [champion]}
  - id: pause
    wait: 2d
`

// draftOf stores a definition as the next draft of its key.
func draftOf(t *testing.T, st *store.Store, source string) store.PlaybookVersion {
	t.Helper()
	set, err := templates.Builtin()
	require.NoError(t, err)
	v, err := (&catalog.Service{Store: st, Options: playbook.Options{BuiltinTemplates: set.Names(), CheckTemplate: templates.Check}}).
		Create(context.Background(), []byte(source), "yaml")
	require.NoError(t, err)
	return v
}

var lineError = regexp.MustCompile(`<li data-line="(\d+)">`)

// An ops person duplicates a built-in, edits the copy with errors and sees
// each at its line, saves it fixed as a new draft, simulates it for a real
// account with the email in a sandboxed frame, compares the versions and
// publishes, told how many live runs stay where they are. A CSM may not
// open the design pages.
func TestOpsDesignAndPublishAPlaybook(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	srv, _ := workConsole(t, l.Store)
	ops := signedIn(t, srv, adminKey)

	_, html := ops.get("/console/playbooks")
	require.Contains(t, html, `<a href="/console/playbooks/onboarding">onboarding</a>`)
	require.Regexp(t, `onboarding</a> <span class="badge">built-in</span></td>\s*<td>Onboarding \(Day 1–90\)</td>\s*<td>version 1</td>\s*<td>0</td>\s*<td>1</td>`,
		html, "published version, no drafts, the ladder's live run")

	// Duplicate onboarding as the start of a new playbook.
	_, html = ops.get("/console/playbooks/onboarding")
	require.Contains(t, html, `href="/console/playbooks/onboarding/analytics"`, "the analytics page's slot")
	resp, _ := ops.post("/console/playbooks/onboarding/duplicate", url.Values{"csrf": {csrfOf(t, html)},
		"version": {"1"}, "new_key": {"onboarding-plus"}, "new_name": {"Onboarding plus"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/playbooks/onboarding-plus/versions/1", resp.Header.Get("Location"))
	_, html = ops.get("/console/playbooks/onboarding-plus/versions/1")
	require.Contains(t, html, "Duplicated onboarding as onboarding-plus, draft version 1")
	require.Contains(t, html, "key: &#34;onboarding-plus&#34;")
	require.Contains(t, html, "# Onboarding, Day 1–90.", "the copy keeps its comments")
	require.Contains(t, html, "{{.Contact.FirstName}}", "the template fields are listed")
	resp, html = ops.post("/console/playbooks/onboarding/duplicate", url.Values{"csrf": {csrfOf(t, html)},
		"version": {"1"}, "new_key": {"onboarding-plus"}, "new_name": {"Again"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "exists already")

	// Two errors, each at its line; nothing is saved.
	_, html = ops.get("/console/playbooks/onboarding/versions/1")
	source := textareaOf(t, html)
	broken := strings.Replace(strings.Replace(source, "priority: high}", "priority: highest}", 1),
		"template: welcome,", "template: no-such-template,", 1)
	resp, html = ops.post("/console/playbooks/onboarding/versions/1", url.Values{"csrf": {csrfOf(t, html)}, "source": {broken}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	lines := lineError.FindAllStringSubmatch(html, -1)
	require.Len(t, lines, 2, html)
	// The lines of the built-in's source where the two mistakes were made.
	lineOf := func(needle string) string {
		return fmt.Sprint(1 + strings.Count(broken[:strings.Index(broken, needle)], "\n"))
	}
	want := []string{lineOf("priority: highest}"), lineOf("template: no-such-template,")}
	require.Equal(t, want, []string{lines[0][1], lines[1][1]})
	require.Contains(t, html, `data-error-lines="`+want[0]+" "+want[1]+`"`)
	require.Contains(t, html, "priority: highest}", "the text as sent comes back")
	_, html = ops.get("/console/playbooks/onboarding")
	require.NotContains(t, html, `id="version-2"`)

	// The same errors as you type.
	resp, body := ops.post("/console/playbooks/onboarding/validate", url.Values{"csrf": {csrfOf(t, html)}, "source": {broken}})
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, body, `"line":`+want[0])
	require.Contains(t, body, `"line":`+want[1])
	_, body = ops.post("/console/playbooks/onboarding/validate", url.Values{"csrf": {csrfOf(t, html)},
		"source": {strings.Replace(source, "key: onboarding", "key: other", 1)}})
	require.Contains(t, body, `"line":4`, "the editor saves its own playbook's drafts")

	// Fixed, it is saved as version 2.
	fixed := strings.Replace(source, "priority: high}", "priority: urgent}", 1)
	resp, _ = ops.post("/console/playbooks/onboarding/versions/1", url.Values{"csrf": {csrfOf(t, html)}, "source": {fixed}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/playbooks/onboarding/versions/2", resp.Header.Get("Location"))

	// The diff: one step changed, one line each way.
	_, html = ops.get("/console/playbooks/onboarding/diff?from=1&to=2")
	require.Contains(t, html, "<dt>Changed</dt><dd><code>welcome-call</code></dd>")
	require.Contains(t, html, "1 line(s) removed, 1 added")
	require.Regexp(t, `<div class="line del" role="row"><span class="no" role="cell">`+want[0]+`</span><span class="no" role="cell"></span><span class="op" role="cell">−</span><code role="cell">.*priority: high}</code>`, html)

	// A simulation for acme shows the email in a sandboxed frame served
	// under the preview CSP.
	draftOf(t, l.Store, helloDraft)
	_, html = ops.get("/console/playbooks/hello/versions/1?segment=smb&account=acme")
	require.Contains(t, html, `src="/console/playbooks/hello/versions/1/timeline.svg?segment=smb"`)
	require.Contains(t, html, `src="/console/playbooks/hello/versions/1/timeline.svg?account=acme"`)
	frames := iframe.FindAllStringSubmatch(html, -1)
	require.Len(t, frames, 1, html)
	require.Contains(t, html, "to pat@acme.test")
	require.Contains(t, html, "<code>pause</code>")
	resp, body = ops.get(strings.ReplaceAll(frames[0][1], "&amp;", "&"))
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "sandbox")
	require.Contains(t, body, "Pat")
	resp, body = ops.get("/console/playbooks/hello/versions/1/timeline.svg?segment=smb")
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
	require.Contains(t, body, "<svg")
	resp, body = ops.get("/console/playbooks/hello/versions/1/timeline.svg?account=acme")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, body, "Acme (acme, enterprise) if enrolled now")
	_, html = ops.get("/console/playbooks/renewal/versions/1?account=acme")
	require.Contains(t, html, "acme has no renewal_date, which this playbook counts from")

	// Publishing says who stays where.
	_, html = ops.get("/console/playbooks/onboarding/versions/2/publish")
	require.Contains(t, html, "New runs take version 2")
	require.Contains(t, html, "1 live run(s) stay on the version they started with</strong>\n    (1 on version 1)")
	require.NotContains(t, html, "shared-trigger", "no other published playbook has onboarding's trigger")
	// A duplicate keeps the original's trigger: publishing it would enrol
	// every new account in both, and the page says so.
	_, dup := ops.get("/console/playbooks/onboarding-plus/versions/1/publish")
	require.Contains(t, dup, `Its trigger also starts
    <a href="/console/playbooks/onboarding">onboarding</a>`)
	resp, _ = ops.post("/console/playbooks/onboarding/versions/2/publish", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = ops.get("/console/playbooks/onboarding")
	require.Contains(t, html, "Published onboarding version 2: new runs take it")
	require.Regexp(t, `<tr id="version-1">\s*<td>1</td>\s*<td><span class="badge archived">archived</span>`, html)
	resp, html = ops.post("/console/playbooks/onboarding/versions/1/publish", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "Not published: this version is archived")

	// Not a CSM's.
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	resp, html = casey.get("/console/playbooks")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, html, "The playbook pages are for CS ops and admins")
	_, html = casey.get("/console/")
	require.NotContains(t, html, `href="/console/playbooks"`)
}

var textarea = regexp.MustCompile(`(?s)<textarea id="source"[^>]*>\n(.*?)</textarea>`)

// textareaOf is the editor's text, unescaped.
func textareaOf(t *testing.T, html string) string {
	m := textarea.FindStringSubmatch(html)
	require.NotNil(t, m)
	r := strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&")
	return r.Replace(m[1])
}
