package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

var (
	shownExample = regexp.MustCompile(`(?s)<h3 id="([^"]+)">.*?<pre class="example"><code>(.*?)</code></pre>`)
	shownField   = regexp.MustCompile(`<tr id="(field-[^"]+)">.*?<code class="ref-code">(.*?)</code>`)
)

// The language reference is a page for everyone signed in, with an entry
// at a stable anchor for every step kind, trigger, condition and template
// field; the examples it shows, read back from the page (escaped as text),
// are definitions the validator accepts. The editor links to it, and each
// of its errors to the entry the error is about, as you type too.
func TestLanguageReferencePage(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	draftOf(t, l.Store, helloDraft)
	srv, _ := workConsole(t, l.Store)

	anonymous := newBrowser(t, srv.URL)
	resp, _ := anonymous.get("/console/reference")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed-in readers only")

	csm := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	resp, page := csm.get("/console/reference")
	require.Equal(t, http.StatusOK, resp.StatusCode, "a CSM reads it too")
	require.Contains(t, page, `<h1>Playbook language reference</h1>`)
	require.Contains(t, page, `href="/v1/playbooks/schema.json"`)
	for _, id := range []string{"definition", "key-send_window", "step", "step-email", "step-survey", "step-check_health",
		"trigger", "trigger-schedule", "trigger-survey_response", "condition", "condition-health_band", "condition-not",
		"duration-syntax", "fields", "field-Account.Name", "field-Survey.Options"} {
		require.Contains(t, page, `id="`+id+`"`)
	}
	for _, kind := range playbook.StepKinds {
		require.Contains(t, page, `id="step-`+kind+`"`)
	}
	for _, on := range playbook.TriggerEvents {
		require.Contains(t, page, `id="trigger-`+on+`"`)
	}

	// Examples are shown as text: the template's html is escaped.
	require.Contains(t, page, "&lt;p&gt;Hi {{.Contact.FirstName}},&lt;/p&gt;")
	require.NotContains(t, page, "<p>Hi {{.Contact.FirstName}}")

	set, err := templates.Builtin()
	require.NoError(t, err)
	opts := playbook.Options{BuiltinTemplates: set.Names(), CheckTemplate: templates.Check}
	shown := shownExample.FindAllStringSubmatch(page, -1)
	require.Greater(t, len(shown), 40)
	for _, m := range shown {
		src := playbook.ExampleDefinition(html.UnescapeString(m[2]))
		_, err := playbook.Parse([]byte(src), opts)
		require.NoError(t, err, "the example of %s:\n%s", m[1], src)
	}
	fields := shownField.FindAllStringSubmatch(page, -1)
	// The data's fields, then the account fields always declared (the
	// measured ones; this console declares no others).
	require.Len(t, fields, len(templates.FieldsFor(accounts.DeclaredFields(nil))))
	require.Contains(t, page, `id="field-Account.Fields.seats_used_pct"`)
	for _, m := range fields {
		text := html.UnescapeString(m[2]) // text: "{{.Account.Name}}"
		src := playbook.ExampleDefinition("templates:\n  - name: field-example\n    subject: Hello\n    html: <p>Hello</p>\n    " + text +
			"\nsteps:\n  - {id: send, email: {template: field-example, to: [champion]}}\n")
		_, err := playbook.Parse([]byte(src), opts)
		require.NoError(t, err, "the example of %s:\n%s", m[1], src)
	}

	// The editor links to it; an error links to its entry, on the page and
	// as you type.
	ops := signedIn(t, srv, adminKey)
	_, editor := ops.get("/console/playbooks/hello/versions/1")
	require.Contains(t, editor, `<a href="/console/reference" target="_blank" rel="noopener" id="reference-link">Language reference</a>`)
	broken := strings.Replace(helloDraft, "email: {template: welcome, to: [champion]}", "survey: {kind: ces, to: [champion]}", 1)
	resp, editor = ops.post("/console/playbooks/hello/versions/1", url.Values{"csrf": {csrfOf(t, editor)}, "source": {broken}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, editor, `<code>steps[0].survey.kind</code>: unknown value &#34;ces&#34;; one of nps, csat `+
		`(<a class="ref-link" href="/console/reference#step-survey" target="_blank" rel="noopener">about the survey step</a>)</li>`)
	_, body := ops.post("/console/playbooks/hello/validate", url.Values{"csrf": {csrfOf(t, editor)}, "source": {broken}})
	require.Contains(t, body, `"path":"steps[0].survey.kind"`)
	require.Contains(t, body, `"reference":"/console/reference#step-survey","reference_title":"the survey step"`)
}
