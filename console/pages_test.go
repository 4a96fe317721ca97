package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

// fakeTemporal stands where Temporal is: it records what runs are told
// (decisions, completed tasks, starts, controls, events) and answers as a
// run would.
type fakeTemporal struct {
	mu        sync.Mutex
	decisions []runs.Decision
	completed []uuid.UUID
	starts    []runs.StartInput
	controls  []string
	events    []string
	startErr  error
	view      runs.View
}

func (f *fakeTemporal) Decide(_ context.Context, _ string, d runs.Decision) (runs.DecisionResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decisions = append(f.decisions, d)
	return runs.DecisionResult{ApprovalID: d.ApprovalID, Status: states.Approval(d.Decision + "d")}, nil
}

func (f *fakeTemporal) TaskCompleted(_ context.Context, t store.Task) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.completed = append(f.completed, t.ID)
	return nil
}

func (f *fakeTemporal) Start(_ context.Context, in runs.StartInput) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, in)
	if f.startErr != nil {
		return store.Run{}, f.startErr
	}
	return store.Run{ID: uuid.New(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: 1}, nil
}

func (f *fakeTemporal) Get(_ context.Context, id uuid.UUID) (runs.View, error) {
	if f.view.ID != id {
		return runs.View{}, store.ErrNotFound
	}
	return f.view, nil
}

func (f *fakeTemporal) Control(_ context.Context, id uuid.UUID, action string) (store.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.controls = append(f.controls, action+" "+id.String())
	return store.Run{ID: id, AccountID: "acme", PlaybookKey: "onboarding"}, nil
}

func (f *fakeTemporal) DeliverEvent(_ context.Context, accountID, name string, data map[string]any, _ []store.NewFiring) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := json.Marshal(data)
	f.events = append(f.events, accountID+" "+name+" "+string(raw))
	return 1, nil
}

func (f *fakeTemporal) AccountChanged(context.Context, string) (int, error) { return 0, nil }

// workConsole serves the console over a ladder (storetest.NewLadder) with
// the real approval and task services; Temporal is the fake.
func workConsole(t *testing.T, st *store.Store) (*httptest.Server, *fakeTemporal) {
	return serveConsole(t, st, adminKey)
}

func serveConsole(t *testing.T, st *store.Store, admin string) (*httptest.Server, *fakeTemporal) {
	fake := &fakeTemporal{}
	set, err := templates.Builtin()
	require.NoError(t, err)
	a, _ := app.Build(app.Deps{Store: st, Engine: fake, Templates: set,
		Health: health.Model{Bands: health.Bands{Green: 80, Yellow: 50}}})
	return serve(t, console.Config{App: a, AdminKey: admin}), fake
}

// serve serves the console of cfg, logging to the test's output.
func serve(t *testing.T, cfg console.Config) *httptest.Server {
	e := echo.New()
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	_, err := console.Register(e, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// keyOf makes a csm key for a team member of the ladder.
func keyOf(t *testing.T, st *store.Store, email string) string {
	_, secret, err := st.CreateAPIKey(context.Background(), email, "csm", email)
	require.NoError(t, err)
	return secret
}

func signedIn(t *testing.T, srv *httptest.Server, key string) *browser {
	b := newBrowser(t, srv.URL)
	require.Equal(t, http.StatusSeeOther, b.signIn(key).StatusCode)
	return b
}

// draftText is the draft every test approval carries, to two recipients.
const draftText = "Hi Eve,\n\nShall we review the quarter?\n"

func newApproval(t *testing.T, l storetest.Ladder, step string, expires time.Time) store.Approval {
	a, err := l.Store.CreateApproval(context.Background(), store.NewApproval{RunID: l.RunID, StepID: step,
		AccountID: l.AccountID, AssigneeLevel: "csm", Draft: json.RawMessage(`{"template":"qbr-invite","to_roles":["exec_sponsor"]}`),
		ExpiresAt: expires, Drafts: []store.ApprovalDraft{
			{To: "eve@acme.test", Name: "Eve", Content: message.Content{Subject: "QBR",
				HTML: templates.Layout("QBR", draftText) + `<script>alert(1)</script>`, Text: draftText}},
			{To: "bob@acme.test", Name: "Bob", Content: message.Content{Subject: "QBR",
				HTML: templates.Layout("QBR", "Hi Bob"), Text: "Hi Bob"}},
		}})
	require.NoError(t, err)
	return a
}

func newTask(t *testing.T, l storetest.Ladder, step string, due time.Time) store.Task {
	task, _, err := l.Store.CreateTask(context.Background(), store.NewTask{RunID: l.RunID, StepID: step, AccountID: l.AccountID,
		AssigneeLevel: "csm", Title: "Call about " + step, Priority: "normal", DueAt: &due})
	require.NoError(t, err)
	return task
}

// The inbox lists a csm's approvals, soonest deadline first, and their
// tasks, soonest due first; overdue ones say so in words; a manager may
// open their report's inbox, someone outside the ladder may not.
func TestInboxIsTheLaddersWork(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	now := time.Now()
	newApproval(t, l, "later-invite", now.Add(3*time.Hour))
	newApproval(t, l, "late-invite", now.Add(-10*time.Minute))
	newTask(t, l, "follow-up", now.Add(48*time.Hour))
	newTask(t, l, "kickoff", now.Add(-2*time.Hour))

	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	resp, html := casey.get("/console/")
	require.Equal(t, 200, resp.StatusCode)
	require.Less(t, strings.Index(html, "late-invite"), strings.Index(html, "later-invite"), "most urgent first")
	require.Less(t, strings.Index(html, "Call about kickoff"), strings.Index(html, "Call about follow-up"), "soonest due first")
	require.Contains(t, html, "2 overdue")
	require.Equal(t, 2, strings.Count(html, `<span class="badge overdue">⚠ Overdue</span>`), "an overdue marker in words, not only colour")
	require.Regexp(t, `<time data-countdown datetime="[^"]+" class="overdue">overdue by 10 minutes</time>`, html)
	require.Contains(t, html, "level 1 (CSM)")
	require.Contains(t, html, "Playbook onboarding, step late-invite")
	require.Contains(t, html, `<label for="outcome-`, "every task form field has a label")
	require.NotContains(t, html, `id="assignee"`, "nobody is below casey")

	lead := signedIn(t, srv, keyOf(t, l.Store, storetest.Manager))
	_, html = lead.get("/console/")
	require.Contains(t, html, "0 approval(s) waiting", "a manager's own inbox is theirs")
	require.Contains(t, html, `<option value="casey@cs.test"`)
	_, html = lead.get("/console/?assignee=casey@cs.test")
	require.Contains(t, html, "2 approval(s) waiting", "and they may open their report's")

	other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
	resp, _ = other.get("/console/?assignee=casey@cs.test")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

var iframe = regexp.MustCompile(`<iframe class="email" sandbox src="([^"]+)"`)

// An approval's page shows each recipient's email in a sandboxed frame
// served under its own CSP; only the ladder may open it, and opening it
// decides nothing.
func TestApprovalPageShowsTheEmailSafely(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	a := newApproval(t, l, "qbr", time.Now().Add(time.Hour))
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))

	resp, html := casey.get("/console/approvals/" + a.ID.String())
	require.Equal(t, 200, resp.StatusCode)
	frames := iframe.FindAllStringSubmatch(html, -1)
	require.Len(t, frames, 2, "one email per recipient")
	require.NotContains(t, html, "allow-", "the sandbox allows nothing: no scripts, no same origin")
	require.NotContains(t, html, "<script>alert", "the email's html is never in the page itself")
	require.Contains(t, html, "laid out again from your text")
	require.Contains(t, html, "Your edits go to all 2 recipients")
	require.Contains(t, html, `<label for="text">Text</label>`)
	require.Contains(t, html, "Hi Bob", "each recipient's own draft")

	src := strings.ReplaceAll(frames[0][1], "&amp;", "&")
	resp, body := casey.get(src)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox; frame-ancestors 'self'",
		resp.Header.Get("Content-Security-Policy"))
	require.Contains(t, body, "Shall we review the quarter?")
	resp, _ = casey.get("/console/approvals/" + a.ID.String() + "/preview?to=nobody@acme.test")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
	for _, path := range []string{"/console/approvals/" + a.ID.String(), src} {
		resp, html = other.get(path)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, path)
		require.Contains(t, html, "Not yours to open")
		require.NotContains(t, html, "Shall we review")
	}
	for _, path := range []string{"/console/approvals/" + uuid.NewString(), "/console/approvals/not-an-id"} {
		resp, _ = casey.get(path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	require.Empty(t, fake.decisions, "opening a page decides nothing")
}

// Approving sends only what the csm changed, with browser line ends made
// plain; rejecting carries the comment; what the service refuses is shown
// next to its field and decides nothing; a form without its token is
// refused.
func TestDecidingAnApproval(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	page := func(a store.Approval) (string, string) {
		_, html := casey.get("/console/approvals/" + a.ID.String())
		return "/console/approvals/" + a.ID.String() + "/decision", csrfOf(t, html)
	}

	a := newApproval(t, l, "edited", time.Now().Add(time.Hour))
	path, token := page(a)
	resp, _ := casey.post(path, url.Values{"csrf": {token}, "decision": {"approve"}, "subject": {"QBR"},
		"text": {"Hi all,\r\n\r\nShall we meet on Tuesday?\r\n"}, "comment": {"warmer"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	require.Len(t, fake.decisions, 1)
	got := fake.decisions[0]
	require.Equal(t, "approve", got.Decision)
	require.Equal(t, storetest.CSM, got.By)
	require.Equal(t, "warmer", got.Comment)
	require.NotNil(t, got.Edits)
	require.Equal(t, "", got.Edits.Subject, "the subject was not changed: each recipient keeps theirs")
	require.Equal(t, "Hi all,\n\nShall we meet on Tuesday?\n", got.Edits.Text)
	_, html := casey.get("/console/")
	require.Contains(t, html, "Approved with your edits")

	untouched := newApproval(t, l, "untouched", time.Now().Add(time.Hour))
	path, token = page(untouched)
	resp, _ = casey.post(path, url.Values{"csrf": {token}, "decision": {"approve"}, "subject": {"QBR"},
		"text": {strings.ReplaceAll(draftText, "\n", "\r\n")}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Nil(t, fake.decisions[1].Edits, "an untouched form sends each recipient their own draft")

	rejected := newApproval(t, l, "rejected", time.Now().Add(time.Hour))
	path, token = page(rejected)
	resp, _ = casey.post(path, url.Values{"csrf": {token}, "decision": {"reject"}, "comment": {"not this quarter"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "reject", fake.decisions[2].Decision)
	require.Equal(t, "not this quarter", fake.decisions[2].Comment)
	require.Nil(t, fake.decisions[2].Edits)

	bad := newApproval(t, l, "bad", time.Now().Add(time.Hour))
	path, token = page(bad)
	for _, tt := range []struct {
		name, subject, text, want string
		status                    int
	}{
		{"an emptied subject", "", "Hello", `<p class="field-error" id="subject-error" role="alert">A subject is required.`, 422},
		{"a subject over the bound", strings.Repeat("s", 251), "Hello", `<p class="field-error" id="subject-error" role="alert">The subject is longer than the limit of 250 characters.`, 422},
		{"an emptied text", "QBR", " ", `<p class="field-error" id="text-error" role="alert">The text is required.`, 422},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, html := casey.post(path, url.Values{"csrf": {token}, "decision": {"approve"}, "subject": {tt.subject}, "text": {tt.text}})
			require.Equal(t, tt.status, resp.StatusCode)
			require.Contains(t, html, tt.want)
			require.Contains(t, html, `aria-invalid="true"`)
			require.Len(t, fake.decisions, 3, "nothing reached the run")
		})
	}
	t.Run("a form without its token", func(t *testing.T) {
		resp, html := casey.post(path, url.Values{"decision": {"approve"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, html, "This form has expired")
		require.Len(t, fake.decisions, 3)
	})
	t.Run("a NUL in a field", func(t *testing.T) {
		resp, _ := casey.post(path, url.Values{"csrf": {token}, "decision": {"approve"}, "subject": {"QBR"}, "text": {"a\x00b"}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Len(t, fake.decisions, 3)
	})
	t.Run("an approval decided meanwhile", func(t *testing.T) {
		_, err := l.Store.DecideApproval(context.Background(), bad.ID, store.ApprovalDecision{Status: "expired"})
		require.NoError(t, err)
		resp, html := casey.post(path, url.Values{"csrf": {token}, "decision": {"reject"}})
		require.Equal(t, http.StatusConflict, resp.StatusCode)
		require.Contains(t, html, "Not decided: the approval is no longer pending: it is already expired.")
		require.NotContains(t, html, `id="approve"`, "no decision form for a decided approval")
	})
	t.Run("someone outside the ladder", func(t *testing.T) {
		mine := newApproval(t, l, "not-theirs", time.Now().Add(time.Hour))
		other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
		_, html := other.get("/console/")
		resp, _ := other.post("/console/approvals/"+mine.ID.String()+"/decision", url.Values{"csrf": {csrfOf(t, html)}, "decision": {"approve"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Len(t, fake.decisions, 3)
	})
}

// Completing a task closes it with its outcome and tells its run; a
// refusal is shown next to the task.
func TestCompletingATask(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	task := newTask(t, l, "kickoff", time.Now().Add(time.Hour))
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	_, html := casey.get("/console/")
	token := csrfOf(t, html)
	path := "/console/tasks/" + task.ID.String() + "/complete"

	resp, html := casey.post(path, url.Values{"csrf": {token}, "outcome": {"two lines\nof outcome"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="error-`+task.ID.String()+`" role="alert">The outcome is one line`)

	other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
	_, otherHTML := other.get("/console/")
	resp, _ = other.post(path, url.Values{"csrf": {csrfOf(t, otherHTML)}, "outcome": {"done"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, _ = casey.post(path, url.Values{"csrf": {token}, "outcome": {"met"}, "note": {"went well"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	closed, err := l.Store.GetTask(context.Background(), task.ID)
	require.NoError(t, err)
	require.EqualValues(t, "completed", closed.Status)
	require.Equal(t, "met", closed.Outcome)
	require.Equal(t, []uuid.UUID{task.ID}, fake.completed, "its run is told")
	_, html = casey.get("/console/")
	require.Contains(t, html, "Completed “Call about kickoff” (met).")
	require.NotContains(t, html, "Call about kickoff</h3>", "gone from the inbox")

	resp, html = casey.post(path, url.Values{"csrf": {token}, "outcome": {"other"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "This task is no longer open")
}

// Accounts: a csm reads and reports the events of their ladder's accounts;
// only ops and admins see and may use the run actions, which go through
// the services as the API's do.
func TestAccountActionsFollowTheRoles(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	addHealth(t, l, 85, 62, 41)
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	resp, html := casey.get("/console/accounts/acme")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, `<title id="health-title">Health score of Acme</title>`)
	require.Contains(t, html, "3 snapshots from")
	require.Contains(t, html, "the latest is 41 (red)")
	require.Contains(t, html, "green from 80")
	require.Equal(t, 3, strings.Count(html, `<circle class="point`))
	require.Contains(t, html, "Usage fell by a quarter or more")
	require.NotContains(t, html, "Start a playbook", "a csm is not offered what they may not do")
	require.Contains(t, html, "Post an event", "a csm reports the events of their own ladder's accounts")
	resp, html = casey.post("/console/accounts/acme/runs", url.Values{"csrf": {csrfOf(t, html)}, "playbook": {"onboarding"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, html, "Your role (csm) may not do this")
	require.Empty(t, fake.starts)

	admin := signedIn(t, srv, adminKey)
	_, html = admin.get("/console/accounts/acme")
	require.Contains(t, html, "No playbook is published yet")
	_, _, err := l.Store.SeedPlaybook(context.Background(), store.NewPlaybookVersion{Key: "onboarding", Name: "Onboarding",
		Definition: json.RawMessage(`{"key":"onboarding","steps":[]}`), Source: "key: onboarding", SourceFormat: "yaml"})
	require.NoError(t, err)
	_, html = admin.get("/console/accounts/acme")
	require.Contains(t, html, "Start a playbook")
	require.Contains(t, html, `<option value="onboarding">Onboarding (onboarding, version 1)</option>`)
	token := csrfOf(t, html)
	live := uuid.New()
	fake.startErr = &runs.LiveRunError{RunID: &live}
	resp, html = admin.post("/console/accounts/acme/runs", url.Values{"csrf": {token}, "playbook": {"onboarding"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "Already live")
	require.Contains(t, html, `<a href="/console/runs/`+live.String()+`">Open the live run</a>`)
	fake.startErr = runs.ErrNotEligible
	resp, html = admin.post("/console/accounts/acme/runs", url.Values{"csrf": {token}, "playbook": {"onboarding"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `role="alert">The account&#39;s segment is not among the playbook&#39;s segments.`)
	fake.startErr = nil
	resp, _ = admin.post("/console/accounts/acme/runs", url.Values{"csrf": {token}, "playbook": {"onboarding"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Regexp(t, `^/console/runs/[0-9a-f-]{36}$`, resp.Header.Get("Location"))
	require.Equal(t, runs.StartInput{PlaybookKey: "onboarding", AccountID: "acme"}, fake.starts[2])

	for _, tt := range []struct{ name, data, want string }{
		{"Bad-Name", "", "Required: a lower-case event name"},
		{"first_login", "[1]", "Data is a JSON object"},
		{"first_login", `{"a":"\u0000"}`, "NUL"},
		{"first_login", strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20), "at most 15 deep"},
	} {
		resp, html = admin.post("/console/accounts/acme/events", url.Values{"csrf": {token}, "name": {tt.name}, "data": {tt.data}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, tt.want)
		require.Contains(t, html, tt.want)
	}
	require.Empty(t, fake.events)
	resp, _ = admin.post("/console/accounts/acme/events", url.Values{"csrf": {token}, "name": {"ticket_opened"}, "data": {`{"priority": "high"}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, []string{`acme ticket_opened {"priority":"high"}`}, fake.events)

	resp, _ = admin.post("/console/runs/"+l.RunID.String()+"/pause", url.Values{"csrf": {token}, "back": {"/console/accounts/acme"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/accounts/acme", resp.Header.Get("Location"))
	require.Equal(t, []string{"pause " + l.RunID.String()}, fake.controls)
	resp, _ = casey.post("/console/runs/"+l.RunID.String()+"/cancel", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Len(t, fake.controls, 1)
}

// The list filters and searches; the run page says what happened and what
// comes next in words; the portfolio draws the report.
func TestListRunAndPortfolioPages(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	ctx := context.Background()
	_, _, err := l.Store.UpsertAccount(ctx, store.UpsertAccount{ID: "globex", Name: "Globex", ARR: 20000, Segment: "smb",
		CSMEmail: storetest.Outside, Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"})
	require.NoError(t, err)
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))

	for _, tt := range []struct {
		query    string
		has, not []string
	}{
		{"", []string{"My accounts", "Acme", `href="/console/accounts?scope=all">All accounts`}, []string{"Globex"}}, // a csm's book first
		{"?scope=all", []string{"Acme", "Globex"}, nil},
		{"?scope=all&q=GLOB", []string{"Globex"}, []string{">Acme<"}},
		{"?scope=all&segment=enterprise", []string{"Acme"}, []string{"Globex"}},
		{"?scope=all&csm=other@cs.test", []string{"Globex"}, []string{">Acme<"}},
		{"?scope=all&band=none&status=active", []string{"Acme", "Globex"}, nil},
		{"?scope=all&segment=bogus", []string{"Acme", "Globex"}, nil},
		{"?csm=other@cs.test", nil, []string{">Acme<", "Globex"}}, // not in casey's book
	} {
		resp, html := casey.get("/console/accounts" + tt.query)
		require.Equal(t, 200, resp.StatusCode, tt.query)
		for _, s := range tt.has {
			require.Contains(t, html, s, tt.query)
		}
		for _, s := range tt.not {
			require.NotContains(t, html, s, tt.query)
		}
	}

	fake.view = sampleView(l.RunID)
	resp, html := casey.get("/console/runs/" + l.RunID.String())
	require.Equal(t, 200, resp.StatusCode)
	for _, s := range []string{"What happened", "skipped: the account&#39;s segment is enterprise, not smb", "outcome met",
		"awaiting the first_login event", "What comes next", "qbr-invite", "Open the workflow in the Temporal UI", "Audit trail",
		"run started</strong> — playbook: onboarding · version: 1"} {
		require.Contains(t, html, s)
	}
	require.NotContains(t, html, "/pause\"", "a csm has no run controls")
	resp, _ = casey.get("/console/runs/" + uuid.NewString())
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, html = casey.get("/console/portfolio")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, "Health bands <small>(2 active accounts)</small>")
	require.Contains(t, html, "Not scored: 2 (100 %)")
	require.Contains(t, html, "onboarding <small>1 live, 0 ended in the period</small>")
	require.Contains(t, html, `<h2 id="surveys-h">Surveys</h2>
<p class="empty">No surveys sent in this period.</p>`)
	resp, html = casey.get("/console/portfolio?from=2026-13-01")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, html, "The start is a date")
	resp, _ = casey.get("/console/nothing-here")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	for _, path := range []string{"/", "/console"} {
		resp, _ = casey.get(path)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, path)
		require.Equal(t, "/console/", resp.Header.Get("Location"), path)
	}
}

// addHealth records health snapshots of the ladder's account, a day apart,
// the last one a day ago, each with a usage decline.
func addHealth(t *testing.T, l storetest.Ladder, scores ...float64) {
	for i, score := range scores {
		_, err := l.Store.AddHealthSnapshot(context.Background(), l.AccountID, time.Now().Add(time.Duration(i-len(scores))*24*time.Hour), time.Hour,
			func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
				band := "red"
				switch {
				case score >= 80:
					band = "green"
				case score >= 50:
					band = "yellow"
				}
				return store.NewHealthSnapshot{Score: score, Band: band, Model: "seed-003", Components: json.RawMessage(`{}`),
					Inputs: json.RawMessage(`{}`), Signals: []string{"usage_decline"}}, nil
			})
		require.NoError(t, err)
	}
}

// sampleView is a run as the progress query shows one: a step skipped and
// one done, one awaiting an event, one to come.
func sampleView(runID uuid.UUID) runs.View {
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	next := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	return runs.View{Run: store.Run{ID: runID, AccountID: "acme", PlaybookKey: "onboarding", PlaybookVersion: 1,
		WorkflowID: "playbook/onboarding/account/acme", Status: "running", StartedAt: at},
		TemporalUI: "http://127.0.0.1:8233/namespaces/default/workflows/playbook%2Fonboarding%2Faccount%2Facme/r1/history",
		Events:     []store.Event{{Type: "run_started", Data: map[string]any{"playbook": "onboarding", "version": 1}, CreatedAt: at}},
		Progress: &workflows.Progress{
			Done: []workflows.StepRecord{
				{ID: "welcome-email", Kind: "email", At: &at, Status: "skipped", Detail: "skipped: the account's segment is enterprise, not smb"},
				{ID: "welcome-call", Kind: "task", At: &at, Status: "done", Task: &workflows.TaskRef{ID: uuid.NewString(), Status: "completed", Outcome: "met"}},
			},
			Current: &workflows.StepRecord{ID: "first-login", Kind: "wait_for", Status: "awaiting", Detail: "awaiting the first_login event until tomorrow",
				Until: &next, Event: "first_login"},
			Upcoming: []workflows.StepRecord{{ID: "qbr-invite", Kind: "approval", At: &next, Status: "waiting"}},
		}}
}

// analyticsVersions stores two versions of onboarding (the ladder's run is
// of version 1) with the steps the fixtures leave records of; version 2
// adds a check-in email.
func analyticsVersions(t *testing.T, st *store.Store) {
	steps := `{"id":"welcome","email":{"template":"welcome","to":["champion"]}},
		{"id":"kickoff","task":{"title":"Kickoff","assignee":"csm","due":"1d"}},
		{"id":"qbr-invite","approval":{"assignee":"csm","email":{"template":"qbr-invite","to":["exec_sponsor"]}}},
		{"id":"follow-up","task":{"title":"Follow up","assignee":"csm","due":"1d"}},
		{"id":"rest","wait":"1d"}`
	for _, extra := range []string{"", `,{"id":"check-in","email":{"template":"welcome","to":["champion"]}}`} {
		def := `{"key":"onboarding","name":"Onboarding","trigger":{"on":"health_band","to":"red"},"steps":[` + steps + extra + `]}`
		_, err := st.CreatePlaybookVersion(context.Background(), store.NewPlaybookVersion{Key: "onboarding", Name: "Onboarding",
			Definition: json.RawMessage(def), Source: def, SourceFormat: "json"})
		require.NoError(t, err)
	}
}

// The analytics page shows the versions side by side, step by step.
func TestAnalyticsPage(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	analyticsVersions(t, l.Store)
	newTask(t, l, "kickoff", time.Now().Add(-time.Hour))
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))

	// No version is published: every version that ran (version 2, a
	// draft nobody ran, is left out but named).
	resp, html := casey.get("/console/playbooks/onboarding/analytics")
	require.Equal(t, 200, resp.StatusCode)
	for _, s := range []string{"Version 1 <small>draft</small>", "Started</dt><dd>1</dd>",
		"Live</dt><dd>1</dd>", "No run ended.",
		// The run's kickoff task: it got past welcome without an email.
		"reached by 0 of the 1 runs that got this far; skipped by 1", "reached by 1 of the 1 runs that got this far; skipped by 0",
		"Overdue: 1", "0 runs got this far", "Health and retention", `<option value="all" selected>`,
		"drafts no run started are left out (version "} {
		require.Contains(t, html, s)
	}
	require.NotContains(t, html, "Version 2 <small>")
	// Published, version 2 is what the page opens on; every version shows both.
	_, err := l.Store.PublishPlaybookVersion(context.Background(), "onboarding", 2)
	require.NoError(t, err)
	html = mustGet(t, casey, "/console/playbooks/onboarding/analytics")
	require.Contains(t, html, "Version 2 <small>published</small>")
	require.NotContains(t, html, "Version 1 <small>")
	html = mustGet(t, casey, "/console/playbooks/onboarding/analytics?version=all")
	require.Contains(t, html, "Version 1 <small>draft</small>")
	require.Contains(t, html, "Version 2 <small>published</small>")
	require.Contains(t, html, "Not in this version.")
	resp, html = casey.get("/console/playbooks/onboarding/analytics?version=2&from=2026-01-01&to=2026-12-31")
	require.Equal(t, 200, resp.StatusCode)
	require.NotContains(t, html, "Version 1 <small>")
	require.Contains(t, html, `<option value="2" selected>`)
	resp, html = casey.get("/console/playbooks/onboarding/analytics?version=9")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, html, "There is no such version of this playbook.")
	resp, _ = casey.get("/console/playbooks/ghost/analytics")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, html = casey.get("/console/portfolio")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, `href="/console/playbooks/onboarding/analytics"`)
	require.Contains(t, html, "No surveys sent in this period.")

	// Surveys: both pages show them by segment, all segments first.
	_, html = casey.get("/console/playbooks/onboarding/analytics")
	require.Contains(t, html, "No surveys sent in this period.")
	addSurveys(t, l)
	// Two went out to acme (enterprise), one was answered 9: NPS +100.
	rows := []string{`<tr class="total"><th scope="row">All segments</th><td>2</td><td>1</td><td>50 %</td><td>&#43;100 (1)</td><td class="hide-narrow">1 · 0 · 0</td><td>—</td></tr>`,
		`<tr><th scope="row">enterprise</th><td>2</td><td>1</td><td>50 %</td><td>&#43;100 (1)</td>`,
		`<tr><th scope="row">mid market</th><td>0</td><td>0</td><td>—</td><td>—</td><td class="hide-narrow">—</td><td>—</td></tr>`}
	for _, path := range []string{"/console/portfolio", "/console/playbooks/onboarding/analytics?version=all"} {
		resp, html = casey.get(path)
		require.Equal(t, 200, resp.StatusCode, path)
		require.NotContains(t, html, "No surveys sent in this period.", path)
		for _, row := range rows {
			require.Contains(t, html, row, path)
		}
	}
	require.Contains(t, html, "<h3>welcome</h3>\n  <h4>Version 1</h4>", "the survey step, in the version that has it")
	require.NotContains(t, html, "<h4>Version 2</h4><div class=\"table-wrap\"><table class=\"surveys\">", "no survey figures without the step's emails")
}

// addSurveys sends two NPS surveys in the ladder's run (onboarding's
// welcome step, acme: enterprise), one answered 9, with SQL.
func addSurveys(t *testing.T, l storetest.Ladder) {
	t.Helper()
	for i, score := range []int{9, -1} {
		id := uuid.New()
		_, err := l.Pool.Exec(context.Background(), `INSERT INTO emails (id, run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey)
			VALUES ($1, $2, 'welcome', 'acme', $3, 'welcome', 's', 'h', 't', 'sent', 'nps')`, id, l.RunID, fmt.Sprintf("c%d@acme.test", i))
		require.NoError(t, err)
		if score >= 0 {
			_, err = l.Pool.Exec(context.Background(), `INSERT INTO survey_responses (email_id, run_id, step_id, recipient, account_id, kind, score, category)
				SELECT id, run_id, step_id, recipient, account_id, 'nps', $2, 'promoter' FROM emails WHERE id = $1`, id, score)
			require.NoError(t, err)
		}
	}
}
