package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// opsKey makes an ops key.
func opsKey(t *testing.T, st *store.Store) string {
	_, secret, err := st.CreateAPIKey(context.Background(), "ops", "ops", "")
	require.NoError(t, err)
	return secret
}

// The team page: admins add, edit, deactivate (naming who takes over) and
// reactivate members; ops read it; a csm has no menu entry and a 403 page.
// Every form wants the session's token.
func TestTeamPage(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	ctx := context.Background()
	admin := signedIn(t, srv, adminKey)
	resp, html := admin.get("/console/team")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, `id="nav-team" aria-current="page"`)
	require.Contains(t, html, `id="nav-keys"`)
	require.Contains(t, html, `id="member-casey@cs.test"`)
	require.Contains(t, html, `id="add-member"`)
	token := csrfOf(t, html)

	add := url.Values{"csrf": {token}, "email": {"Robin@CS.test"}, "name": {"Robin"}, "level": {"csm"},
		"manager_email": {storetest.Manager}, "role": {"csm"}, "timezone": {"Europe/Berlin"}}
	resp, _ = admin.post("/console/team", url.Values{"email": add["email"], "name": add["name"], "level": add["level"]})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token, no change")
	bad := url.Values{}
	for k, v := range add {
		bad[k] = v
	}
	bad.Set("timezone", "Mars/Base")
	bad.Set("level", "boss")
	resp, html = admin.post("/console/team", bad)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="member-timezone-error" role="alert">Unknown time zone`)
	require.Contains(t, html, `id="member-level-error" role="alert">Must be one of`)
	require.Contains(t, html, `value="Robin"`, "the form keeps what was sent")
	resp, _ = admin.post("/console/team", add)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	robin, err := l.Store.TeamMemberByEmail(ctx, "robin@cs.test")
	require.NoError(t, err)
	require.Equal(t, "Europe/Berlin", robin.Timezone)
	require.Equal(t, storetest.Manager, *robin.ManagerEmail)
	_, html = admin.get("/console/team")
	require.Contains(t, html, "Added Robin (robin@cs.test, csm).")

	resp, html = admin.get("/console/team/casey@cs.test")
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, html, `id="member-work">1 account(s)`)
	require.Contains(t, html, `<option value="robin@cs.test">Robin (robin@cs.test, csm)</option>`)
	require.NotContains(t, html, `<option value="casey@cs.test">Casey`, "not their own successor")
	edit := url.Values{"csrf": {token}, "name": {"Casey Jones"}, "level": {"csm"}, "manager_email": {storetest.Manager},
		"role": {"ops"}, "timezone": {"America/New_York"}}
	resp, _ = admin.post("/console/team/casey@cs.test", edit)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	casey, err := l.Store.TeamMemberByEmail(ctx, storetest.CSM)
	require.NoError(t, err)
	require.Equal(t, "Casey Jones", casey.Name)
	require.Equal(t, "ops", casey.Role)
	require.Equal(t, "America/New_York", casey.Timezone)

	task := newTask(t, l, "kickoff", time.Now().Add(time.Hour))
	resp, html = admin.post("/console/team/casey@cs.test/deactivate", url.Values{"csrf": {token}, "successor": {storetest.CSM}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="successor-error" role="alert">Someone other than`)
	resp, _ = admin.post("/console/team/casey@cs.test/deactivate", url.Values{"csrf": {token}, "successor": {"robin@cs.test"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = admin.get("/console/team")
	require.Contains(t, html, "Deactivated Casey Jones. robin@cs.test now has their 1 account(s), 0 approval(s) and 1 task(s).")
	require.Regexp(t, `id="member-casey@cs.test"[\s\S]*?deactivated</span> <small class="meta">since`, html)
	acct, err := l.Store.GetAccount(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, "robin@cs.test", acct.CSMEmail)
	moved, err := l.Store.GetTask(ctx, task.ID)
	require.NoError(t, err)
	require.Equal(t, "robin@cs.test", moved.AssigneeEmail)
	_, html = admin.get("/console/team/casey@cs.test")
	require.Contains(t, html, `id="reactivate"`)
	require.NotContains(t, html, `id="deactivate"`)
	resp, _ = admin.post("/console/team/casey@cs.test/reactivate", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	casey, err = l.Store.TeamMemberByEmail(ctx, storetest.CSM)
	require.NoError(t, err)
	require.True(t, casey.Active())

	// The last active admin member stays.
	resp, _ = admin.post("/console/team", url.Values{"csrf": {token}, "email": {"ada@cs.test"}, "name": {"Ada"}, "level": {"vp_cs"}, "role": {"admin"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, html = admin.post("/console/team/ada@cs.test/deactivate", url.Values{"csrf": {token}, "successor": {"robin@cs.test"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "This is the last active admin member")
	resp, _ = admin.get("/console/team/ghost@cs.test")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Ops read the team; a csm may not open it.
	ops := signedIn(t, srv, opsKey(t, l.Store))
	resp, html = ops.get("/console/team")
	require.Equal(t, 200, resp.StatusCode)
	require.NotContains(t, html, `id="add-member"`)
	require.NotContains(t, html, `id="nav-keys"`)
	_, html = ops.get("/console/team/robin@cs.test")
	require.NotContains(t, html, `id="deactivate"`)
	resp, _ = ops.post("/console/team", with(add, csrfOf(t, html), "email", "x@cs.test"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	lead := signedIn(t, srv, keyOf(t, l.Store, storetest.Manager))
	resp, html = lead.get("/console/")
	require.Equal(t, 200, resp.StatusCode)
	require.NotContains(t, html, `id="nav-team"`)
	resp, _ = lead.get("/console/team")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

var secretOnPage = regexp.MustCompile(`id="new-key-secret" value="(pbk_[^"]+)"`)

// The keys page: an admin makes a key, whose secret the answer shows once;
// the list never shows it; revoking stops it; a key says when it was last
// used. Only admins open the page.
func TestKeysPage(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	admin := signedIn(t, srv, adminKey)
	resp, html := admin.get("/console/keys")
	require.Equal(t, 200, resp.StatusCode)
	token := csrfOf(t, html)

	resp, html = admin.post("/console/keys", url.Values{"csrf": {token}, "name": {"casey laptop"}, "role": {"csm"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="new-key-member-error" role="alert">Required`)
	resp, html = admin.post("/console/keys", url.Values{"csrf": {token}, "name": {"casey laptop"}, "role": {"csm"}, "team_member_email": {storetest.CSM}})
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	m := secretOnPage.FindStringSubmatch(html)
	require.NotNil(t, m, "the secret is shown")
	secret := m[1]
	require.Contains(t, html, "it is shown this once")

	_, html = admin.get("/console/keys")
	require.NotContains(t, html, secret, "never again")
	require.Contains(t, html, "casey laptop")
	require.Regexp(t, `casey laptop[\s\S]*?<span class="empty">never</span>`, html)
	casey := signedIn(t, srv, secret)
	_, html = admin.get("/console/keys")
	require.Regexp(t, `casey laptop[\s\S]*?less than a minute ago`, html, "its sign-in used it")
	resp, _ = casey.get("/console/keys")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	ops := signedIn(t, srv, opsKey(t, l.Store))
	resp, _ = ops.get("/console/keys")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	keys, err := l.Store.ListAPIKeys(context.Background(), nil, 10)
	require.NoError(t, err)
	var id string
	for _, k := range keys {
		if k.Name == "casey laptop" {
			id = k.ID.String()
		}
	}
	resp, _ = admin.post("/console/keys/"+id+"/revoke", url.Values{})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token, no change")
	resp, _ = admin.post("/console/keys/"+id+"/revoke", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = admin.get("/console/keys")
	require.Contains(t, html, "Revoked the key casey laptop")
	resp, _ = casey.get("/console/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the key's session ended")
}

// A csm closes their loops from the console: a new task and a call on
// their account, a snooze and a reassignment from the inbox, the event
// the run waits for from the run page; someone outside the ladder may not.
func TestCSMLoopsInTheConsole(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, fake := workConsole(t, l.Store)
	ctx := context.Background()
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	_, html := casey.get("/console/accounts/acme")
	token := csrfOf(t, html)
	require.Contains(t, html, `id="new-task"`)
	require.Contains(t, html, `id="log-note"`)

	resp, html := casey.post("/console/accounts/acme/tasks", url.Values{"csrf": {token}, "title": {"two\nlines"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="task-title-error" role="alert">One line`)
	resp, html = casey.post("/console/accounts/acme/tasks", url.Values{"csrf": {token}, "title": {"x"}, "priority": {"asap"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, "Must be one of low, normal, high, urgent.")
	resp, _ = casey.post("/console/accounts/acme/tasks", url.Values{"csrf": {token}, "title": {"Send the deck"},
		"priority": {"high"}, "due_at": {"2030-01-02T09:30"}, "assignee": {storetest.CSM}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/accounts/acme", resp.Header.Get("Location"))
	list, err := l.Store.ListTasks(ctx, store.TaskFilter{AccountID: "acme"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	task := list[0]
	require.Nil(t, task.RunID)
	require.Equal(t, "2030-01-02T09:30:00Z", task.DueAt.UTC().Format(time.RFC3339), "casey's time zone is UTC")

	resp, html = casey.post("/console/accounts/acme/notes", url.Values{"csrf": {token}, "kind": {"call"}, "body": {" "}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, html, `id="note-body-error" role="alert">Required`)
	resp, _ = casey.post("/console/accounts/acme/notes", url.Values{"csrf": {token}, "kind": {"call"}, "body": {"Kickoff: SSO first"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = casey.get("/console/accounts/acme")
	require.Contains(t, html, "Logged the call.")
	require.Contains(t, html, `id="last-contact">less than a minute ago`)
	require.Contains(t, html, "Call logged by casey@cs.test: Kickoff: SSO first")
	require.Contains(t, html, "Send the deck <small class=\"meta\">(ad hoc, by casey@cs.test)</small>")

	other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
	_, otherHTML := other.get("/console/accounts/acme")
	require.NotContains(t, otherHTML, `id="log-note"`, "not their ladder's account")
	require.NotContains(t, otherHTML, "Post an event")
	otherToken := csrfOf(t, otherHTML)
	resp, _ = other.post("/console/accounts/acme/notes", url.Values{"csrf": {otherToken}, "kind": {"call"}, "body": {"x"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = other.post("/console/accounts/acme/tasks", url.Values{"csrf": {otherToken}, "title": {"x"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = other.post("/console/accounts/acme/events", url.Values{"csrf": {otherToken}, "name": {"first_login"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = casey.post("/console/accounts/acme/notes", url.Values{"kind": {"call"}, "body": {"x"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no token, no note")

	// The inbox: snooze, wake, reassign.
	_, html = casey.get("/console/")
	require.Contains(t, html, `id="snooze-`+task.ID.String()+`"`)
	require.Contains(t, html, `id="reassign-`+task.ID.String()+`"`)
	resp, _ = casey.post("/console/tasks/"+task.ID.String()+"/snooze", url.Values{"csrf": {token}, "for": {"3d"}, "back": {"/console/"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = casey.get("/console/")
	require.Contains(t, html, "Snoozed “Send the deck” until")
	require.NotContains(t, html, `id="task-`+task.ID.String()+`"`, "out of the inbox")
	require.Contains(t, html, `id="snoozed-`+task.ID.String()+`"`, "listed as snoozed")
	_, html = casey.get("/console/accounts/acme")
	require.Contains(t, html, "snoozed until")
	resp, _ = other.post("/console/tasks/"+task.ID.String()+"/snooze", url.Values{"csrf": {otherToken}, "for": {"wake"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = casey.post("/console/tasks/"+task.ID.String()+"/snooze", url.Values{"csrf": {token}, "for": {"wake"}, "back": {"/console/"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = casey.get("/console/")
	require.Contains(t, html, `id="task-`+task.ID.String()+`"`, "back in the inbox")
	resp, _ = casey.post("/console/tasks/"+task.ID.String()+"/reassign", url.Values{"csrf": {token}, "assignee": {storetest.Manager}, "back": {"/console/"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a csm gives work only down the ladder")
	lead := signedIn(t, srv, keyOf(t, l.Store, storetest.Manager))
	_, leadHTML := lead.get("/console/?assignee=casey@cs.test")
	resp, _ = lead.post("/console/tasks/"+task.ID.String()+"/reassign", url.Values{"csrf": {csrfOf(t, leadHTML)},
		"assignee": {storetest.Manager}, "back": {"/console/?assignee=casey@cs.test"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/?assignee=casey@cs.test", resp.Header.Get("Location"))
	moved, err := l.Store.GetTask(ctx, task.ID)
	require.NoError(t, err)
	require.Equal(t, storetest.Manager, moved.AssigneeEmail)
	require.Equal(t, states.TaskOpen, moved.Status)

	// The run page offers the event the run waits for.
	fake.view = sampleView(l.RunID)
	_, html = casey.get("/console/runs/" + l.RunID.String())
	require.Contains(t, html, `id="report-first_login"`)
	resp, _ = casey.post("/console/accounts/acme/events", url.Values{"csrf": {token}, "name": {"first_login"},
		"back": {"/console/runs/" + l.RunID.String()}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/console/runs/"+l.RunID.String(), resp.Header.Get("Location"))
	require.Equal(t, []string{"acme first_login null"}, fake.events)
	_, html = other.get("/console/runs/" + l.RunID.String())
	require.NotContains(t, html, `id="report-first_login"`, "not their ladder's account")
	require.True(t, strings.Contains(html, "first_login"), "the step still says what it waits for")
}
