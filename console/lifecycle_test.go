package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store/storetest"
)

var srcdocFrame = regexp.MustCompile(`<iframe class="email" sandbox srcdoc="([^"]+)"`)

// storedVersions counts a playbook's stored versions.
func storedVersions(t *testing.T, l storetest.Ladder, key string) int {
	t.Helper()
	vs, err := l.Store.ListPlaybookVersions(context.Background(), key)
	require.NoError(t, err)
	return len(vs)
}

// Preview simulates the text as posted and stores nothing: its errors at
// their lines, or its timeline drawn into the page and its emails in
// sandboxed frames; saving then replaces the draft instead of piling up.
func TestPreviewUnsavedTextAndSaveReplacesTheDraft(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	srv, _ := workConsole(t, l.Store)
	ops := signedIn(t, srv, adminKey)
	draftOf(t, l.Store, helloDraft)

	_, html := ops.get("/console/playbooks/hello/versions/1")
	csrf := csrfOf(t, html)
	require.Contains(t, html, `formaction="/console/playbooks/hello/versions/1/preview"`)
	edited := strings.Replace(helloDraft, "wait: 2d", "wait: 9d", 1)

	for _, tt := range []struct {
		name, source, account string
		status                int
		want, not             []string
	}{
		{name: "a text with an error: the error at its line, no simulation", source: strings.Replace(edited, "wait: 9d", "wait: soon", 1),
			account: "acme", status: http.StatusUnprocessableEntity,
			want: []string{`<li data-line="7">`, "Fix the errors in the text to preview it", "wait: soon"}, not: []string{"<svg", "srcdoc="}},
		{name: "the edited text for a segment: its timeline in the page", source: edited, status: http.StatusOK,
			want: []string{"Preview of your text (not saved)", "<svg", "Hello (unsaved) — smb, day 0 = enrolment", "wait: 9d"},
			not:  []string{"timeline.svg", "srcdoc="}},
		{name: "for an account: the run with its email in a sandboxed frame", source: edited, account: "acme", status: http.StatusOK,
			want: []string{"Simulated for acme", "to pat@acme.test", "waited 9d", "Hello (unsaved) — Acme (acme, enterprise) if enrolled now"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, html := ops.post("/console/playbooks/hello/versions/1/preview", url.Values{"csrf": {csrf},
				"source": {tt.source}, "segment": {"smb"}, "account": {tt.account}})
			require.Equal(t, tt.status, resp.StatusCode, html)
			for _, w := range tt.want {
				require.Contains(t, html, w)
			}
			for _, n := range tt.not {
				require.NotContains(t, html, n)
			}
			require.Equal(t, tt.source, textareaOf(t, html), "the text as sent stays in the editor")
			if tt.account != "" && tt.status == http.StatusOK {
				frames := srcdocFrame.FindAllStringSubmatch(html, -1)
				require.Len(t, frames, 1)
				require.Contains(t, frames[0][1], "Pat", "the email as rendered, in the frame's srcdoc")
				require.NotContains(t, html, "allow-", "the sandbox allows nothing")
				require.NotContains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self' 'unsafe-inline'")
			}
		})
	}
	require.Equal(t, 1, storedVersions(t, l, "hello"), "a preview stores nothing")
	v, err := l.Store.GetPlaybookVersion(context.Background(), "hello", 1)
	require.NoError(t, err)
	require.Equal(t, helloDraft, v.Source)

	// Saving twice: one draft, holding the last text; the preview's choices kept.
	for range 2 {
		resp, _ := ops.post("/console/playbooks/hello/versions/1", url.Values{"csrf": {csrf}, "source": {edited},
			"segment": {"smb"}, "account": {"acme"}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		require.Equal(t, "/console/playbooks/hello/versions/1?account=acme&segment=smb", resp.Header.Get("Location"))
	}
	require.Equal(t, 1, storedVersions(t, l, "hello"), "saves replace the draft")
	_, html = ops.get("/console/playbooks/hello/versions/1?account=acme&segment=smb")
	require.Contains(t, html, "Saved draft version 1 of hello (your saves replace the latest draft")
	require.Contains(t, html, "wait: 9d")
	require.Contains(t, html, `src="/console/playbooks/hello/versions/1/timeline.svg?segment=smb"`, "the stored version: its picture's route")
}

// New playbook: a blank start or a copy of a built-in, opened in the
// editor; a taken key or a bad one is refused on the form; a CSM may not.
func TestNewPlaybook(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	srv, _ := workConsole(t, l.Store)
	ops := signedIn(t, srv, adminKey)

	_, html := ops.get("/console/playbooks")
	require.Contains(t, html, `href="/console/new-playbook"`)
	resp, html := ops.get("/console/new-playbook")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, `value="onboarding"`, "every built-in to start from")
	csrf := csrfOf(t, html)

	for _, tt := range []struct {
		name     string
		form     url.Values
		status   int
		location string
		want     string
	}{
		{name: "blank", form: url.Values{"key": {"day-1-30"}, "name": {"Day 1–30"}, "from": {""}},
			status: http.StatusSeeOther, location: "/console/playbooks/day-1-30/versions/1"},
		{name: "a built-in's copy", form: url.Values{"key": {"my-renewal"}, "name": {"My renewal"}, "from": {"renewal"}},
			status: http.StatusSeeOther, location: "/console/playbooks/my-renewal/versions/1"},
		{name: "a key in use", form: url.Values{"key": {"onboarding"}, "name": {"Mine"}},
			status: http.StatusConflict, want: "A playbook with the key onboarding exists already"},
		{name: "not a key", form: url.Values{"key": {"Day One"}, "name": {"Mine"}},
			status: http.StatusUnprocessableEntity, want: "Not started: key (line 3): must be lower-case letters"},
		{name: "no name", form: url.Values{"key": {"x"}}, status: http.StatusUnprocessableEntity, want: "Give the new playbook a key and a name."},
		{name: "nothing to copy", form: url.Values{"key": {"x"}, "name": {"X"}, "from": {"ghost"}},
			status: http.StatusUnprocessableEntity, want: "There is no playbook ghost to start from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf", csrf)
			resp, html := ops.post("/console/new-playbook", tt.form)
			require.Equal(t, tt.status, resp.StatusCode, html)
			require.Equal(t, tt.location, resp.Header.Get("Location"))
			require.Contains(t, html, tt.want)
		})
	}
	_, html = ops.get("/console/playbooks/day-1-30/versions/1")
	require.Contains(t, html, "key: &#34;day-1-30&#34;")
	require.Contains(t, html, "The definition is valid.", "the blank start holds as it is")
	_, html = ops.get("/console/playbooks/my-renewal/versions/1")
	require.Contains(t, html, "key: &#34;my-renewal&#34;")
	require.Contains(t, html, "renewal_date", "the built-in's steps")
	require.Equal(t, 1, storedVersions(t, l, "my-renewal"))
	resp, _ = ops.post("/console/new-playbook", url.Values{"csrf": {csrf}, "key": {"day-31-60"}, "name": {"Day 31–60"}, "from": {"onboarding"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = ops.get("/console/playbooks/day-31-60/versions/1")
	require.Contains(t, html, "Started day-31-60 from a copy of onboarding, draft version 1")

	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	resp, _ = casey.get("/console/new-playbook")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// Retiring asks first, then stops new enrolments (the account page offers
// it no more, a start is refused saying why) while the live run goes on;
// the list shows it retired and takes it back.
func TestRetireAndUnretire(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l)
	srv, _ := workConsole(t, l.Store)
	ops := signedIn(t, srv, adminKey)

	_, html := ops.get("/console/playbooks/onboarding")
	require.Contains(t, html, `href="/console/playbooks/onboarding/retire"`)
	_, html = ops.get("/console/playbooks/onboarding/retire")
	require.Contains(t, html, "1 live run(s) go on")
	resp, _ := ops.post("/console/playbooks/onboarding/retire", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = ops.get("/console/playbooks/onboarding")
	require.Contains(t, html, "Retired onboarding: it enrols no account from now on")
	require.Contains(t, html, `id="unretire"`)
	require.NotContains(t, html, `id="to-retire"`)

	_, html = ops.get("/console/playbooks")
	require.Contains(t, html, `id="retired-onboarding"`)
	run, err := l.Store.GetRun(context.Background(), l.RunID)
	require.NoError(t, err)
	require.Equal(t, "running", string(run.Status), "live runs go on")

	_, html = ops.get("/console/accounts/" + l.AccountID)
	require.NotContains(t, html, `<option value="onboarding"`, "not offered to start")
	require.Contains(t, html, `<option value="renewal"`, "others are")
	// (A start refused is the runs service's: the API's tests start for real.)

	resp, _ = ops.post("/console/playbooks/onboarding/unretire", url.Values{"csrf": {csrfOf(t, html)}, "back": {"list"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/playbooks", resp.Header.Get("Location"))
	_, html = ops.get("/console/playbooks")
	require.Contains(t, html, "onboarding takes new enrolments again")
	require.NotContains(t, html, `id="retired-onboarding"`)
	resp, _ = ops.post("/console/playbooks/ghost/retire", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
