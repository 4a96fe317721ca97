package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// startingEngine is the fake Temporal whose starts are recorded as runs,
// as the run service records them: what triggers start has a run to show.
type startingEngine struct {
	*fakeTemporal
	st *store.Store
}

func (e startingEngine) Start(ctx context.Context, in runs.StartInput) (store.Run, error) {
	return e.st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey,
		PlaybookVersion: 1, WorkflowID: "playbook/" + in.PlaybookKey + "/account/" + in.AccountID, TemporalRunID: "r",
		StartedAt: time.Now()})
}

// riskConsole serves the console over a ladder whose built-in playbooks
// are published (red-recovery starts on red), and returns the application
// its pages use: health recorded through it is what POST
// /v1/accounts/{id}/health records.
func riskConsole(t *testing.T, l storetest.Ladder) (*httptest.Server, *app.App) {
	seedPlaybooks(t, l)
	set, err := templates.Builtin()
	require.NoError(t, err)
	a, _ := app.Build(app.Deps{Store: l.Store, Engine: startingEngine{&fakeTemporal{}, l.Store}, Templates: set,
		Health: health.Presets[health.DefaultModel]})
	return serve(t, console.Config{App: a, AdminKey: adminKey}), a
}

func score(v float64) health.Inputs { return health.Inputs{Score: &v} }

var alertID = regexp.MustCompile(`id="alert-(\d+)"`)

// A red account is at the top of its CSM's inbox on their next page load,
// with what it started (red-recovery, its run) and who holds the work that
// run made (the manager's approval, by its step's name), in the CSM's time
// zone. The manager holding the work sees it too, a peer does not; the CSM
// marks it seen for themselves.
func TestARedAccountTopsTheCSMsInbox(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, a := riskConsole(t, l)
	ctx := context.Background()
	_, _, err := l.Store.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: storetest.CSM, Name: "Casey", Level: "csm",
		ManagerEmail: storetest.Manager, Timezone: "Europe/Berlin"})
	require.NoError(t, err)
	newTask(t, l, "kickoff", time.Now().Add(-time.Hour)) // other work in the inbox, below the risk
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	_, html := casey.get("/console/")
	require.Contains(t, html, "No new risk on your accounts.")

	_, err = a.Triggers.RecordHealth(ctx, l.AccountID, score(85), time.Time{})
	require.NoError(t, err)
	turned := time.Now()
	rec, err := a.Triggers.RecordHealth(ctx, l.AccountID, score(35), time.Time{})
	require.NoError(t, err)
	require.Equal(t, "red", rec.Snapshot.Band)
	resp, html := casey.get("/console/")
	seenAfter := time.Since(turned)
	t.Logf("from the health record that turned acme red to its alert in the CSM's inbox: %v (the next page load)", seenAfter)
	require.Equal(t, 200, resp.StatusCode)
	top := strings.Index(html, `id="risk-h"`)
	require.Positive(t, top)
	require.Less(t, top, strings.Index(html, `id="approvals-h"`), "risk comes first")
	require.Less(t, top, strings.Index(html, "Call about kickoff"))
	require.Contains(t, html, `<span class="badge red">red</span> Health fell from green to red (score 35)`)
	require.Regexp(t, `\d\d:\d\d CES?T</time>`, html, "in Casey's time zone, with its abbreviation")
	require.Contains(t, html, "Started <strong>red-recovery</strong>: started")
	require.Contains(t, html, "no open approval or task now")

	// The recovery asks the manager to approve, as its worker would.
	live, err := l.Store.LiveRun(ctx, l.AccountID, "red-recovery")
	require.NoError(t, err)
	approval, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: live.ID, StepID: "c-level-outreach", AccountID: l.AccountID,
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	_, html = casey.get("/console/")
	require.Contains(t, html, `Lee Lead: approval <a href="/console/approvals/`+approval.ID.String()+`">C-level outreach</a>, due `,
		"who holds it, and the step by its name")

	lead := signedIn(t, srv, keyOf(t, l.Store, storetest.Manager))
	_, html = lead.get("/console/")
	require.Contains(t, html, "Health fell from green to red", "the manager holds its work")
	require.Contains(t, html, "Acme: C-level outreach", "their approval, by its step's name")
	other := signedIn(t, srv, keyOf(t, l.Store, storetest.Outside))
	_, html = other.get("/console/")
	require.NotContains(t, html, "Health fell from green to red", "a peer is not told")

	id := alertID.FindStringSubmatch(html + mustGet(t, casey, "/console/"))[1]
	resp, _ = other.post("/console/alerts/"+id+"/seen", url.Values{"csrf": {csrfOf(t, mustGet(t, other, "/console/"))}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = casey.post("/console/alerts/"+id+"/seen", url.Values{"csrf": {csrfOf(t, mustGet(t, casey, "/console/"))}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, html = casey.get("/console/")
	require.Contains(t, html, "Marked seen: Acme")
	require.NotContains(t, html, `id="alert-`+id+`"`)
	_, html = lead.get("/console/")
	require.Contains(t, html, `id="alert-`+id+`"`, "still the manager's to see")
	resp, _ = casey.get("/console/?risk_before=abc")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// How long a CSM waits to see an account turn red: each time, the health
// record that turns it red, then the next load of their inbox. Logged, not
// asserted.
func TestRedToSeenIsTheNextPageLoad(t *testing.T) {
	l := storetest.NewLadder(t)
	srv, a := riskConsole(t, l)
	ctx := context.Background()
	casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	var took []time.Duration
	for range 20 {
		_, err := a.Triggers.RecordHealth(ctx, l.AccountID, score(90), time.Time{})
		require.NoError(t, err)
		start := time.Now()
		_, err = a.Triggers.RecordHealth(ctx, l.AccountID, score(30), time.Time{})
		require.NoError(t, err)
		_, html := casey.get("/console/")
		took = append(took, time.Since(start))
		require.Contains(t, html, "Health fell from green to red (score 30)")
	}
	slices.Sort(took)
	t.Logf("red to seen over %d red turns: median %v, max %v (POST health's work, then one inbox load)",
		len(took), took[len(took)/2], took[len(took)-1])
}

func mustGet(t *testing.T, b *browser, path string) string {
	t.Helper()
	resp, html := b.get(path)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return html
}
