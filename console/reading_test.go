package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

// Times are written in the signed-in member's zone, with its abbreviation;
// a session that is nobody's (the admin key) reads UTC.
func TestTimesAreInTheMembersZone(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	ctx := context.Background()
	_, _, err := l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey", Level: "csm",
		ManagerEmail: storetest.Manager, Timezone: "America/New_York"})
	require.NoError(t, err)
	due := time.Date(2027, 1, 15, 17, 30, 0, 0, time.UTC)
	newTask(t, l, "kickoff", due)

	tests := []struct {
		name, key, want string
	}{
		{"a member in New York", keyOf(t, l.Store, storetest.CSM), "15 Jan 2027 12:30 EST"},
		{"a member in UTC", keyOf(t, l.Store, storetest.Manager), "15 Jan 2027 17:30 UTC"},
		{"the admin key", adminKey, "15 Jan 2027 17:30 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := signedIn(t, srv, tt.key)
			page := mustGet(t, b, "/console/?assignee="+storetest.CSM)
			require.Contains(t, page, tt.want)
			require.Contains(t, page, `datetime="2027-01-15T17:30:00Z"`, "machine-readable times stay UTC")
		})
	}
}

// The accounts list opens on a csm's book (theirs and those of the people
// below them) with a switch to all; admin and ops open on all.
func TestAccountsOpenOnMyBook(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	_, _, err := l.Store.UpsertAccount(context.Background(), store.UpsertAccount{ID: "globex", Name: "Globex", ARR: 20000,
		Segment: "smb", CSMEmail: storetest.Outside, Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"})
	require.NoError(t, err)
	tests := []struct {
		name, key, query string
		has, not         []string
	}{
		{"csm", keyOf(t, l.Store, storetest.CSM), "", []string{"<h1>My accounts</h1>", ">Acme<", "All accounts"}, []string{"Globex"}},
		{"manager: their report's", keyOf(t, l.Store, storetest.Manager), "", []string{"<h1>My accounts</h1>", ">Acme<"}, []string{"Globex"}},
		{"outside the ladder", keyOf(t, l.Store, storetest.Outside), "", []string{"Globex"}, []string{">Acme<"}},
		{"csm, all", keyOf(t, l.Store, storetest.CSM), "?scope=all", []string{"<h1>All accounts</h1>", ">Acme<", "Globex"}, nil},
		{"admin", adminKey, "", []string{"<h1>All accounts</h1>", ">Acme<", "Globex"}, []string{"My accounts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := mustGet(t, signedIn(t, srv, tt.key), "/console/accounts"+tt.query)
			for _, s := range tt.has {
				require.Contains(t, page, s)
			}
			for _, s := range tt.not {
				require.NotContains(t, page, s)
			}
		})
	}
}

var nextLink = regexp.MustCompile(`<a class="button secondary" href="([^"]+)">Next ` + `(approvals|tasks)</a>`)

// The inbox shows its most urgent work a page at a time, with "Next"
// links that go on where the page stopped, and counts the whole inbox.
func TestInboxPages(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	now := time.Now()
	const n = 30 // more than a page
	for i := range n {
		newApproval(t, l, fmt.Sprintf("invite-%02d", i), now.Add(time.Duration(i)*time.Hour))
		newTask(t, l, fmt.Sprintf("call-%02d", i), now.Add(time.Duration(i)*time.Hour))
	}
	_, _, err := l.Store.CreateTask(context.Background(), store.NewTask{RunID: l.RunID, StepID: "whenever", AccountID: l.AccountID,
		AssigneeLevel: "csm", Title: "Call about whenever", Priority: "low"})
	require.NoError(t, err)
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))

	first := mustGet(t, casey, "/console/")
	require.Contains(t, first, fmt.Sprintf("%d approval(s) waiting, %d open task(s)", n, n+1), "the whole inbox is counted")
	seen := map[string]int{}
	for _, list := range []string{"approvals", "tasks"} {
		page := first
		for pages := 0; ; pages++ {
			require.Less(t, pages, 3)
			for _, m := range regexp.MustCompile(`(invite|Call about call|Call about whenever)-?\d*`).FindAllString(page, -1) {
				seen[m]++
			}
			var next string
			for _, m := range nextLink.FindAllStringSubmatch(page, -1) {
				if m[2] == list {
					next = html.UnescapeString(m[1])
				}
			}
			if next == "" {
				break
			}
			page = mustGet(t, casey, next)
		}
	}
	for i := range n {
		require.Positive(t, seen[fmt.Sprintf("invite-%02d", i)], "approval %d is on a page", i)
		require.Positive(t, seen[fmt.Sprintf("Call about call-%02d", i)], "task %d is on a page", i)
	}
	require.Positive(t, seen["Call about whenever"], "the task without a due date, last")
	require.Less(t, strings.Index(first, "invite-00"), strings.Index(first, "invite-01"), "soonest deadline first")
	require.NotContains(t, first, "invite-29", "beyond the first page")

	resp, _ := casey.get("/console/?tasks_after=yesterday")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// An account's runs and emails page back in time.
func TestAccountPagesItsRunsAndEmails(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, _ := workConsole(t, l.Store)
	ctx := context.Background()
	started := time.Now().Add(-time.Hour)
	for i := range 25 {
		id := uuid.New()
		_, err := l.Store.RecordRunStarted(ctx, store.NewRun{ID: id, AccountID: l.AccountID, PlaybookKey: fmt.Sprintf("play-%02d", i),
			PlaybookVersion: 1, WorkflowID: id.String(), TemporalRunID: "r", StartedAt: started.Add(time.Duration(i) * time.Minute)})
		require.NoError(t, err)
		_, err = l.Store.ClaimEmail(ctx, store.NewEmail{RunID: id, StepID: "hello", AccountID: l.AccountID,
			Recipient: "pat@acme.test", Template: "welcome", Subject: fmt.Sprintf("Mail %02d", i), Status: states.EmailPending})
		require.NoError(t, err)
	}
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	first := mustGet(t, casey, "/console/accounts/acme")
	require.Contains(t, first, "Mail 24", "newest first")
	require.NotContains(t, first, "Mail 03")
	for _, older := range []struct{ link, want string }{{"Older runs", "play-00"}, {"Older emails", "Mail 00"}} {
		m := regexp.MustCompile(`href="([^"]+)">` + older.link + `</a>`).FindStringSubmatch(first)
		require.NotNil(t, m, older.link)
		require.Contains(t, mustGet(t, casey, html.UnescapeString(m[1])), older.want)
	}
}

// The inbox, the approval page and analytics name a step by its name in
// the definition, falling back to its id.
func TestInboxNamesStepsByTheirNames(t *testing.T) {
	l := storetest.NewLadder(t)
	seedPlaybooks(t, l) // onboarding version 1: the built-in, whose steps have names
	srv, _ := workConsole(t, l.Store)
	a := newApproval(t, l, "qbr-invitation", time.Now().Add(time.Hour))
	newApproval(t, l, "no-such-step", time.Now().Add(2*time.Hour))
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	page := mustGet(t, casey, "/console/")
	require.Contains(t, page, "Acme: QBR invitation</a>")
	require.Contains(t, page, "step QBR invitation <small>(qbr-invitation)</small>")
	require.Contains(t, page, "Acme: no-such-step</a>", "no name: the id")
	require.Contains(t, mustGet(t, casey, "/console/approvals/"+a.ID.String()), "<h1>QBR invitation <small>")
	require.Contains(t, mustGet(t, casey, "/console/playbooks/onboarding/analytics"), "<h3>Welcome call <small>(welcome-call)</small>",
		"analytics' step rows too")
}
