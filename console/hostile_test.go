package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// hostile is a console with some of everything to act on (a task, an
// approval, a live run, published and draft playbooks) over a database the
// test reads whole: whatever a hostile request does, no row may change.
type hostile struct {
	pool     *pgxpool.Pool
	srv      *httptest.Server
	fake     *fakeTemporal
	admin    *browser // signed in with the admin key
	token    string   // admin's CSRF token
	task     store.Task
	approval store.Approval
	runID    uuid.UUID
}

// newHostile builds storetest.NewLadder's team, account and run on a
// database whose pool the test keeps.
func newHostile(t *testing.T) *hostile {
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	ctx := context.Background()
	for _, m := range []store.UpsertTeamMember{
		{Email: storetest.Manager, Name: "Lee Lead", Level: "senior_csm"},
		{Email: storetest.CSM, Name: "Casey", Level: "csm", ManagerEmail: storetest.Manager},
	} {
		_, _, err := st.UpsertTeamMember(ctx, m)
		require.NoError(t, err)
	}
	_, _, err := st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 150000,
		Segment: "enterprise", CSMEmail: storetest.CSM, Timezone: "UTC", LifecycleStage: "adoption", Status: "active"})
	require.NoError(t, err)
	run, err := st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "playbook/onboarding/account/acme", TemporalRunID: "r1", StartedAt: time.Now()})
	require.NoError(t, err)
	l := storetest.Ladder{Store: st, AccountID: "acme", RunID: run.ID}
	seedPlaybooks(t, l)
	draftOf(t, st, helloDraft)
	h := &hostile{pool: pool, runID: run.ID,
		task:     newTask(t, l, "kickoff", time.Now().Add(time.Hour)),
		approval: newApproval(t, l, "qbr", time.Now().Add(time.Hour))}
	h.srv, h.fake = workConsole(t, st)
	h.admin = signedIn(t, h.srv, adminKey)
	_, html := h.admin.get("/console/")
	h.token = csrfOf(t, html)
	return h
}

// snapshot is every table's rows, as a digest, and what the runs were
// told.
func (h *hostile) snapshot(t *testing.T) map[string]string {
	t.Helper()
	out := storetest.RowsDigest(t, h.pool)
	h.fake.mu.Lock()
	defer h.fake.mu.Unlock()
	out["temporal"] = fmt.Sprint(h.fake.decisions, h.fake.completed, h.fake.starts, h.fake.controls, h.fake.events)
	return out
}

// consoleForm is a console form as its page posts it, every field valid:
// what a test changes is the only thing wrong.
type consoleForm struct {
	name, path string
	fields     url.Values // without csrf
}

func (h *hostile) forms() []consoleForm {
	source := "key: hello\nname: Hello\nsteps:\n  - id: greet\n    email: {template: welcome, to: [champion]}\n"
	forms := []consoleForm{
		{"sign out", "/console/sign-out", url.Values{}},
		{"approve with edits", "/console/approvals/" + h.approval.ID.String() + "/decision",
			url.Values{"decision": {"approve"}, "subject": {"QBR time"}, "text": {"Hi,\r\nShall we meet?\r\n"}, "comment": {"warmer"}}},
		{"reject", "/console/approvals/" + h.approval.ID.String() + "/decision", url.Values{"decision": {"reject"}, "comment": {"not now\r\nsorry"}}},
		{"complete a task", "/console/tasks/" + h.task.ID.String() + "/complete",
			url.Values{"outcome": {"met"}, "note": {"went well\r\n\tnext: QBR"}, "assignee": {storetest.CSM}}},
		{"start a run", "/console/accounts/acme/runs", url.Values{"playbook": {"onboarding"}}},
		{"post an event", "/console/accounts/acme/events", url.Values{"name": {"ticket_opened"}, "data": {"{\"priority\": \"high\"}"}}},
		{"duplicate", "/console/playbooks/onboarding/duplicate", url.Values{"version": {"1"}, "new_key": {"onboarding-copy"}, "new_name": {"Copy"}}},
		{"check as you type", "/console/playbooks/hello/validate", url.Values{"source": {source}}},
		{"save a draft", "/console/playbooks/hello/versions/1", url.Values{"source": {source}}},
		{"publish", "/console/playbooks/hello/versions/1/publish", url.Values{}},
		{"move live runs", "/console/playbooks/onboarding/versions/1/move", url.Values{"from": {"1"}, "segment": {"enterprise"}, "accounts": {"acme, globex"}}},
	}
	for _, action := range []string{"pause", "resume", "cancel"} {
		forms = append(forms, consoleForm{action + " a run", "/console/runs/" + h.runID.String() + "/" + action, url.Values{"back": {"/console/accounts/acme"}}})
	}
	task := "/console/tasks/" + h.task.ID.String()
	forms = append(forms,
		consoleForm{"add a member", "/console/team", url.Values{"email": {"robin@cs.test"}, "name": {"Robin"}, "level": {"csm"},
			"manager_email": {storetest.Manager}, "role": {"csm"}, "timezone": {"Europe/Berlin"}}},
		consoleForm{"edit a member", "/console/team/" + storetest.CSM, url.Values{"name": {"Casey J"}, "level": {"csm"},
			"manager_email": {storetest.Manager}, "role": {"csm"}, "timezone": {"UTC"}}},
		consoleForm{"deactivate a member", "/console/team/" + storetest.CSM + "/deactivate", url.Values{"successor": {storetest.Manager}}},
		consoleForm{"reactivate a member", "/console/team/" + storetest.CSM + "/reactivate", url.Values{}},
		consoleForm{"create a key", "/console/keys", url.Values{"name": {"casey laptop"}, "role": {"csm"}, "team_member_email": {storetest.CSM}}},
		consoleForm{"new task", "/console/accounts/acme/tasks", url.Values{"title": {"Send the deck"}, "priority": {"high"},
			"due_at": {"2030-01-02T09:30"}, "assignee": {storetest.CSM}, "description": {"the new one\r\nwith pricing"}}},
		consoleForm{"log a note", "/console/accounts/acme/notes", url.Values{"kind": {"call"}, "body": {"Kickoff\r\n\tSSO first"}, "happened_at": {""}}},
		consoleForm{"reassign a task", task + "/reassign", url.Values{"assignee": {storetest.Manager}, "back": {"/console/"}}},
		consoleForm{"snooze a task", task + "/snooze", url.Values{"for": {"3d"}, "back": {"/console/"}}},
	)
	return forms
}

// with is the form's fields, the token and name=value.
func with(fields url.Values, token, name, value string) url.Values {
	out := url.Values{"csrf": {token}}
	for k, v := range fields {
		out[k] = append([]string(nil), v...)
	}
	if name != "" {
		out.Set(name, value)
	}
	return out
}

// The API's text rules hold in every console form, in every query and in
// the path: NUL, other control characters (C0, DEL, C1) and bytes that
// are not UTF-8 are a 400 page naming the field, and nothing is written or
// sent to a run. Tab and line breaks stay allowed where the API allows
// them (the valid forms carry them).
func TestConsoleInputFollowsTheAPITextRules(t *testing.T) {
	h := newHostile(t)
	anon := newBrowser(t, h.srv.URL)
	_, signIn := anon.get("/console/sign-in")
	signInToken := csrfOf(t, signIn)
	before := h.snapshot(t)
	hostileText := map[string]string{"NUL": "\x00", "bell": "\x07", "escape": "\x1b[31m", "DEL": "\x7f", "C1 next line": "\u0085",
		"not UTF-8": "\xff\xfe"}

	t.Run("form fields", func(t *testing.T) {
		forms := append(h.forms(), consoleForm{"sign in", "/console/sign-in", url.Values{"key": {adminKey}, "next": {"/console/"}}})
		for _, f := range forms {
			b, token := h.admin, h.token
			if f.path == "/console/sign-in" {
				b, token = anon, signInToken
			}
			names := []string{"csrf"}
			for name := range f.fields {
				names = append(names, name)
			}
			for _, field := range names {
				for what, bad := range hostileText {
					resp, html := b.post(f.path, with(f.fields, token, field, "ok"+bad+"ok"))
					require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s in %s", f.name, what, field)
					require.Contains(t, html, "The form field "+field+" ", "%s: %s in %s: the page names the field", f.name, what, field)
				}
			}
		}
	})

	t.Run("form field names", func(t *testing.T) {
		resp, html := h.admin.post("/console/accounts/acme/events", with(url.Values{"name": {"ticket_opened"}}, h.token, "a\x1bb", "1"))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, html, "The name of a form field has the control character U&#43;001B")
	})

	t.Run("query parameters", func(t *testing.T) {
		hello := "/console/playbooks/hello/versions/1"
		for path, params := range map[string][]string{
			"/console/":         {"assignee"},
			"/console/sign-in":  {"next"},
			"/console/accounts": {"q", "segment", "band", "csm", "status", "after"},
			"/console/approvals/" + h.approval.ID.String() + "/preview": {"to"},
			"/console/playbooks/onboarding/versions/1/move":             {"from", "segment", "accounts"},
			"/console/portfolio":                      {"from", "to"},
			"/console/playbooks/onboarding/diff":      {"from", "to"},
			"/console/playbooks/onboarding/analytics": {"version", "from", "to"},
			hello:                   {"segment", "account"},
			hello + "/timeline.svg": {"segment", "account"},
			hello + "/email":        {"account", "start", "entry", "to"},
		} {
			for _, param := range params {
				for what, bad := range hostileText {
					resp, html := h.admin.get(path + "?" + url.Values{param: {"ok" + bad}}.Encode())
					require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s in %s", path, what, param)
					require.Contains(t, html, "The query parameter "+param+" ", "%s: %s in %s", path, what, param)
				}
			}
		}
		resp, html := h.admin.get("/console/accounts?q=a;b")
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a query Go would read in part")
		require.Contains(t, html, "query cannot be read")
	})

	t.Run("paths", func(t *testing.T) {
		for _, path := range []string{"/console/accounts/a%00b", "/console/accounts/%1b", "/console/accounts/%c2%85", "/console/accounts/%ff",
			"/console/runs/%07", "/console/playbooks/on%7fboarding"} {
			resp, html := h.admin.get(path)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, path)
			require.Contains(t, html, "The address (its path) ", path)
		}
	})

	// Escaped in the event's JSON data, a control character passes the
	// form's check; the data's own check refuses it, as the API's edge
	// does in any JSON body.
	t.Run("escaped in event data", func(t *testing.T) {
		for _, data := range []string{`{"a":"\u0007"}`, `{"a":["\u001b[31m"]}`, `{"\u0085":1}`, `{"a":{"b":"x\u007fy"}}`} {
			resp, html := h.admin.post("/console/accounts/acme/events", with(url.Values{"name": {"ticket_opened"}, "data": {data}}, h.token, "", ""))
			require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, data)
			require.Contains(t, html, `id="event-data-error" role="alert">Data must not contain control characters`, data)
		}
	})

	// A line break is text, but not in a one-line field: each says so next
	// to the field, as the API's schema does for its one-line fields.
	t.Run("line breaks in one-line fields", func(t *testing.T) {
		forms := map[string]consoleForm{}
		for _, f := range h.forms() {
			forms[f.name] = f
		}
		for _, tt := range []struct{ form, field, want string }{
			{"complete a task", "outcome", `id="error-` + h.task.ID.String() + `" role="alert">The outcome is one line`},
			{"approve with edits", "subject", `id="subject-error" role="alert">The subject must be a single line`},
			{"post an event", "name", `id="event-name-error" role="alert">`},
			{"duplicate", "new_key", `id="dup-error" role="alert">The copy is not a valid playbook`},
			{"duplicate", "new_name", `id="dup-error" role="alert">The copy is not a valid playbook`},
			{"start a run", "playbook", `id="start-error" role="alert">The playbook is one line`},
			{"add a member", "name", `id="member-name-error" role="alert">The email, name and time zone are one line each`},
			{"edit a member", "timezone", `id="member-name-error" role="alert">The name and time zone are one line each`},
			{"create a key", "name", `id="new-key-name-error" role="alert">The name is one line`},
			{"new task", "title", `id="task-title-error" role="alert">One line`},
		} {
			for _, br := range []string{"\n", "\r\n", "\r"} {
				f := forms[tt.form]
				resp, html := h.admin.post(f.path, with(f.fields, h.token, tt.field, "a"+br+"b"))
				require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s: %q in %s: %d", tt.form, br, tt.field, resp.StatusCode)
				require.Contains(t, html, tt.want, "%s: %q in %s", tt.form, br, tt.field)
			}
		}
	})

	require.Equal(t, before, h.snapshot(t), "nothing was written, nothing sent to a run")

	// Where to go next is one line too: with a line break it is the
	// default page.
	resp, _ := h.admin.post("/console/runs/"+h.runID.String()+"/pause", with(url.Values{"back": {"/console/accounts/acme\r\nX: y"}}, h.token, "", ""))
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/runs/"+h.runID.String(), resp.Header.Get("Location"))
	_, signIn = anon.get("/console/sign-in")
	resp, _ = anon.post("/console/sign-in", url.Values{"csrf": {csrfOf(t, signIn)}, "key": {adminKey}, "next": {"/console/accounts\nX: y"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
}

// Every number the console reads from a path, query or form stays in the
// range of its column (PostgreSQL's int4) or of the API's parameter:
// past it, malformed or missing, it is a 4xx page naming the parameter,
// never a 500, and nothing changes. Left empty, an optional parameter is
// its default, as in the API.
func TestConsoleNumbersStayInRange(t *testing.T) {
	h := newHostile(t)
	before := h.snapshot(t)
	start := url.QueryEscape(time.Now().UTC().Truncate(time.Minute).Format(time.RFC3339))
	type probe struct {
		name, method string
		target       func(v string) string // the address, with v in place
		form         func(v string) url.Values
		names        string // what the 4xx page says; "" when it names nothing
		optional     bool   // "" is the parameter's default
		index        bool   // counts from 0: 0 is the first
	}
	query := func(format string) func(string) string {
		return func(v string) string { return fmt.Sprintf(format, url.QueryEscape(v)) }
	}
	path := func(format string) func(string) string {
		return func(v string) string { return fmt.Sprintf(format, url.PathEscape(v)) }
	}
	// Left empty, a path's version is another address (…/versions/): a 404
	// page, as any unknown address.
	emptyPath := func(target string) bool {
		return strings.Contains(target, "/versions//") || strings.HasSuffix(target, "/versions/")
	}
	fixed := func(target string) func(string) string { return func(string) string { return target } }
	inPath := "The path parameter version must be a version number from 1 to 2147483647."
	probes := []probe{
		{"diff from", "GET", query("/console/playbooks/onboarding/diff?to=1&from=%s"), nil, "The query parameter from must be a version number from 1 to 2147483647", false, false},
		{"diff to", "GET", query("/console/playbooks/onboarding/diff?from=1&to=%s"), nil, "The query parameter to must be a version number from 1 to 2147483647", false, false},
		{"duplicate version", "POST", fixed("/console/playbooks/onboarding/duplicate"),
			func(v string) url.Values {
				return url.Values{"version": {v}, "new_key": {"onboarding-copy"}, "new_name": {"Copy"}}
			},
			"The form field version must be a version number from 1 to 2147483647.", false, false},
		{"analytics version", "GET", query("/console/playbooks/onboarding/analytics?version=%s"), nil,
			"The query parameter version must be a version number from 1 to 2147483647, or all for every version.", true, false},
		{"editor", "GET", path("/console/playbooks/hello/versions/%s"), nil, inPath, false, false},
		{"save a draft", "POST", path("/console/playbooks/hello/versions/%s"),
			func(string) url.Values { return url.Values{"source": {helloDraft}} }, inPath, false, false},
		{"timeline", "GET", path("/console/playbooks/hello/versions/%s/timeline.svg"), nil, inPath, false, false},
		{"simulated email's version", "GET", func(v string) string {
			return "/console/playbooks/hello/versions/" + url.PathEscape(v) + "/email?account=acme&entry=0&to=pat%40acme.test&start=" + start
		}, nil, inPath, false, false},
		// The preview handler is bounded elsewhere: a 4xx, said in its own words.
		{"simulated email's entry", "GET", func(v string) string {
			return "/console/playbooks/hello/versions/1/email?account=acme&to=pat%40acme.test&start=" + start + "&entry=" + url.QueryEscape(v)
		}, nil, "", false, true},
		{"publish page", "GET", path("/console/playbooks/hello/versions/%s/publish"), nil, inPath, false, false},
		{"publish", "POST", path("/console/playbooks/hello/versions/%s/publish"), func(string) url.Values { return url.Values{} }, inPath, false, false},
		{"move page", "GET", path("/console/playbooks/onboarding/versions/%s/move"), nil, inPath, false, false},
		{"move page's from", "GET", query("/console/playbooks/onboarding/versions/1/move?from=%s"), nil,
			"The query parameter from must be a version number from 1 to 2147483647.", true, false},
		{"move", "POST", path("/console/playbooks/onboarding/versions/%s/move"), func(string) url.Values { return url.Values{"from": {"1"}} }, inPath, false, false},
		{"move's from", "POST", fixed("/console/playbooks/onboarding/versions/1/move"), func(v string) url.Values { return url.Values{"from": {v}} },
			"The form field from must be a version number from 1 to 2147483647.", false, false},
		{"portfolio from", "GET", query("/console/portfolio?from=%s"), nil, "The start is a date from 1900 to 2200", true, false},
		{"portfolio to", "GET", query("/console/portfolio?to=%s"), nil, "The end is a date from 1900 to 2200", true, false},
		{"analytics from", "GET", query("/console/playbooks/onboarding/analytics?from=%s"), nil, "The start is a date from 1900 to 2200", true, false},
		{"analytics to", "GET", query("/console/playbooks/onboarding/analytics?to=%s"), nil, "The end is a date from 1900 to 2200", true, false},
	}
	for _, p := range probes {
		for _, v := range []string{"2147483648", "-1", "0", "1e3", "99999999999999999999", "", "abc", "1.5", " 1", "0x10"} {
			var (
				resp *http.Response
				html string
			)
			if p.method == "POST" {
				resp, html = h.admin.post(p.target(v), with(p.form(v), h.token, "", ""))
			} else {
				resp, html = h.admin.get(p.target(v))
			}
			if p.index && v == "0" {
				continue
			}
			if p.optional && v == "" {
				require.Equal(t, http.StatusOK, resp.StatusCode, "%s: left empty, the default", p.name)
				continue
			}
			require.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s %q: %d, not a 4xx", p.name, v, resp.StatusCode)
			if p.names != "" && !emptyPath(p.target(v)) {
				require.Contains(t, html, p.names, "%s %q: the page names the parameter", p.name, v)
			}
		}
	}
	require.Equal(t, before, h.snapshot(t), "nothing was written, nothing sent to a run")

	// In range, the same routes work: the bound is the column's, no lower.
	resp, html := h.admin.get("/console/playbooks/onboarding/diff?from=1&to=2147483647")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a version that could exist, does not")
	require.Contains(t, html, "There is no such playbook or version")
}

// The console takes its CSRF token from the form's body only: on every
// form, a token in the address alone is refused (403) and nothing
// changes. (The request log's side is api's TestRequestLogKeepsNoSecrets.)
func TestConsoleCSRFTokenOnlyFromTheBody(t *testing.T) {
	h := newHostile(t)
	anon := newBrowser(t, h.srv.URL)
	_, signIn := anon.get("/console/sign-in")
	signInToken := csrfOf(t, signIn)
	before := h.snapshot(t)

	forms := append(h.forms(), consoleForm{"sign in", "/console/sign-in", url.Values{"key": {adminKey}, "next": {"/console/"}}})
	for _, f := range forms {
		b, token := h.admin, h.token
		if f.path == "/console/sign-in" {
			b, token = anon, signInToken
		}
		resp, html := b.post(f.path+"?"+url.Values{"csrf": {token}}.Encode(), f.fields)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, f.name)
		require.Contains(t, html, "This form has expired", f.name)
	}
	require.Equal(t, before, h.snapshot(t), "nothing was written, nothing sent to a run, no session made or ended")

	// The same forms, the token in the body: taken.
	resp, _ := h.admin.post("/console/playbooks/hello/validate", with(url.Values{"source": {helloDraft}}, h.token, "", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, http.StatusSeeOther, anon.signIn(adminKey).StatusCode)
}
