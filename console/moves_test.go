package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

// movingEngine is the fake Temporal whose runs answer the move query with
// canned states and take moves as a run does: a run at a safe point
// records the move (store.RecordRunMoved), any other refuses it.
type movingEngine struct {
	*fakeTemporal
	st     *store.Store
	mu     sync.Mutex
	states map[string]workflows.MoveState // by workflow id
	runIDs map[string]uuid.UUID
	moves  []workflows.MoveRequest
}

func (e *movingEngine) MoveState(_ context.Context, workflowID string) (workflows.MoveState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.states[workflowID]
	if !ok {
		return workflows.MoveState{}, errors.New("no such workflow")
	}
	return st, nil
}

func (e *movingEngine) Move(ctx context.Context, workflowID string, req workflows.MoveRequest) (workflows.MoveResult, error) {
	e.mu.Lock()
	e.moves = append(e.moves, req)
	st := e.states[workflowID]
	e.mu.Unlock()
	if !st.Safe {
		return workflows.MoveResult{}, errors.New(st.Reason)
	}
	res := workflows.MoveResult{FromVersion: st.Version, ToVersion: req.ToVersion, ResumesAt: "rest"}
	err := e.st.RecordRunMoved(ctx, store.RunMove{RunID: e.runIDs[workflowID], FromVersion: st.Version, ToVersion: req.ToVersion,
		By: req.By, At: time.Now(), ResumesAt: res.ResumesAt})
	return res, err
}

func (e *movingEngine) moved() []workflows.MoveRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]workflows.MoveRequest(nil), e.moves...)
}

// Version 1 of onboarding, and version 2: an intro before the kickoff, a
// longer rest, the follow-up by phone, a check-in added, the survey gone.
const (
	moveV1 = `key: onboarding
name: Onboarding
steps:
  - id: kickoff
    task: {title: Kickoff, assignee: csm, due: 1d}
  - id: rest
    wait: 1d
  - id: follow-up
    task: {title: Follow up, assignee: csm, due: 1d}
  - id: survey
    task: {title: Ask for feedback, assignee: csm, due: 1d}
  - id: wrap-up
    task: {title: Wrap up, assignee: csm, due: 1d}
`
	moveV2 = `key: onboarding
name: Onboarding
steps:
  - id: intro
    task: {title: Intro, assignee: csm, due: 1d}
  - id: kickoff
    task: {title: Kickoff, assignee: csm, due: 1d}
  - id: rest
    wait: 2d
  - id: follow-up
    task: {title: Follow up by phone, assignee: csm, due: 1d}
  - id: check-in
    task: {title: Check in, assignee: csm, due: 1d}
  - id: wrap-up
    task: {title: Wrap up, assignee: csm, due: 1d}
`
)

// moveConsole serves the console over a ladder whose onboarding has
// version 1 archived and version 2 published, with two live runs of
// version 1: acme's, resting after its kickoff (it can move), and
// globex's, with an approval pending (it stays).
func moveConsole(t *testing.T) (*httptest.Server, *movingEngine, storetest.Ladder) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	_, _, err := l.Store.UpsertAccount(ctx, store.UpsertAccount{ID: "globex", Name: "Globex", ARR: 20000, Segment: "smb",
		CSMEmail: storetest.CSM, Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"})
	require.NoError(t, err)
	globex, err := l.Store.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: "globex", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "playbook/onboarding/account/globex", TemporalRunID: "r2", StartedAt: time.Now()})
	require.NoError(t, err)
	for _, source := range []string{moveV1, moveV2} {
		v := draftOf(t, l.Store, source)
		_, err := l.Store.PublishPlaybookVersion(ctx, "onboarding", v.Version)
		require.NoError(t, err)
	}
	began := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	kicked := time.Now().Add(-26 * time.Hour).UTC().Truncate(time.Second)
	carried := workflows.CarriedState{EnrolledAt: kicked, Next: 1,
		Done: []workflows.StepRecord{{ID: "kickoff", Kind: "task", Status: workflows.StepDone, At: &kicked}}}
	eng := &movingEngine{fakeTemporal: &fakeTemporal{}, st: l.Store,
		states: map[string]workflows.MoveState{
			"playbook/onboarding/account/acme": {Version: 1, Safe: true, Next: 1, Since: began, Carried: carried,
				Current: &workflows.StepRecord{ID: "rest", Kind: "wait", Status: "waiting", Detail: "waiting a day"}},
			"playbook/onboarding/account/globex": {Version: 1, Reason: "step qbr-invite has an approval pending", Next: 1, Carried: carried,
				Current: &workflows.StepRecord{ID: "qbr-invite", Kind: "approval", Status: "awaiting"}},
		},
		runIDs: map[string]uuid.UUID{"playbook/onboarding/account/acme": l.RunID, "playbook/onboarding/account/globex": globex.ID}}
	set, err := templates.Builtin()
	require.NoError(t, err)
	a, _ := app.Build(app.Deps{Store: l.Store, Engine: eng, Templates: set,
		Health: health.Model{Bands: health.Bands{Green: 80, Yellow: 50}}})
	require.NotNil(t, a.Moves, "the fake takes moves")
	return serve(t, console.Config{App: a, AdminKey: adminKey}), eng, l
}

// Ops preview moving onboarding's live runs from version 1 to 2: each run
// says whether it can move now (where it resumes) or why it stays, and
// what the move changes for its steps in words; opening the page moves
// nothing. The form moves the runs that can, as the signed-in person, and
// says what became of each; the run page then says so in its audit trail.
func TestMoveLiveRunsPage(t *testing.T) {
	srv, eng, l := moveConsole(t)
	admin := signedIn(t, srv, adminKey)

	resp, html := admin.get("/console/playbooks/onboarding")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, html, `<a href="/console/playbooks/onboarding/versions/2/move" id="move-here">Move live runs of older versions here…</a>`)

	resp, html = admin.get("/console/playbooks/onboarding/versions/2/move")
	require.Equal(t, http.StatusOK, resp.StatusCode, html)
	acme := html[strings.Index(html, `id="run-`+l.RunID.String()+`"`):]
	acme = acme[:strings.Index(acme, "</article>")]
	for _, s := range []string{
		"<h1>Move live runs of Onboarding from version 1 to version 2</h1>",
		`<option value="1" selected>version 1 (archived, 2 live)</option>`,
		"<strong>1 run can move</strong> now; <strong>1 stay</strong> on version 1.",
		"Stays: step qbr-invite has an approval pending",
		`<button type="submit" id="move">Move 1 run to version 2</button>`,
		`<input type="hidden" name="from" value="1">`,
	} {
		require.Contains(t, html, s)
	}
	for _, s := range []string{
		">Acme</a> <small>enterprise</small>",
		"rest (waiting a day)",
		"Can move, resumes at rest",
		"kickoff</th>\n      <td>Done on " + time.Now().Add(-26*time.Hour).UTC().Format("2 Jan 2006") + " ",
		"— not sent again",
		"intro</th>\n      <td>Added before where this run is — will not run",
		"check-in</th>\n      <td>Will now run on ",
		"survey</th>\n      <td>Will no longer run (was ",
		"wrap-up</th>\n      <td>Moves from ",
		"follow-up</th>\n      <td>Moves from ",
		"and changes: was task: ",
	} {
		require.Contains(t, acme, s)
	}
	require.Empty(t, eng.moved(), "a preview moves nothing")

	// Of one segment: globex's (smb) is left out.
	_, html = admin.get("/console/playbooks/onboarding/versions/2/move?from=1&segment=enterprise&accounts=acme,+globex")
	require.Contains(t, html, "<strong>1 run can move</strong> now; <strong>0 stay</strong>")
	require.NotContains(t, html, "Globex")
	require.Contains(t, html, `<input type="hidden" name="accounts" value="acme, globex">`)
	require.Empty(t, eng.moved())

	token := csrfOf(t, html)
	path := "/console/playbooks/onboarding/versions/2/move"
	form := url.Values{"csrf": {token}, "from": {"1"}, "segment": {""}, "accounts": {""}}

	t.Run("without its token", func(t *testing.T) {
		resp, html := admin.post(path, url.Values{"from": {"1"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, html, "This form has expired")
		require.Empty(t, eng.moved())
	})
	t.Run("a csm", func(t *testing.T) {
		casey := signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
		resp, _ := casey.get(path)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		_, inbox := casey.get("/console/")
		resp, html := casey.post(path, url.Values{"csrf": {csrfOf(t, inbox)}, "from": {"1"}})
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, html, "Your role (csm) may not do this")
		require.Empty(t, eng.moved())
	})

	resp, html = admin.post(path, form)
	require.Equal(t, http.StatusOK, resp.StatusCode, html)
	moves := eng.moved()
	require.Len(t, moves, 1, "only the run at a safe point is asked to move")
	require.Equal(t, 2, moves[0].ToVersion)
	require.Equal(t, "onboarding", moves[0].Definition.Key)
	require.Equal(t, "admin", moves[0].By, "the admin key signs in as admin")
	require.Contains(t, html, "<strong>1 run moved</strong> to version 2; <strong>1 stayed</strong> on version 1.")
	require.Contains(t, html, "Moved, resumes at rest")
	require.Contains(t, html, "Stays: step qbr-invite has an approval pending")
	require.NotContains(t, html, `id="move"`, "no second move from the outcome")

	run, err := l.Store.GetRun(context.Background(), l.RunID)
	require.NoError(t, err)
	require.Equal(t, 2, run.PlaybookVersion)
	events, err := l.Store.RunEvents(context.Background(), l.RunID)
	require.NoError(t, err)
	eng.view = sampleView(l.RunID)
	eng.view.Events = events // as read back from the database
	_, html = admin.get("/console/runs/" + l.RunID.String())
	require.Regexp(t, `<strong>run moved</strong> — Moved from version 1 to version 2 by admin on \d+ \w+ \d{4} \d\d:\d\d UTC; resumes at rest</li>`, html)
}

// What the page refuses is a 4xx page saying why, and nothing moves.
func TestMovePageRefusals(t *testing.T) {
	srv, eng, l := moveConsole(t)
	admin := signedIn(t, srv, adminKey)
	draftOf(t, l.Store, moveV2) // version 3, a draft
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/console/playbooks/onboarding/versions/9/move", http.StatusNotFound, "There is no such playbook or version"},
		{"/console/playbooks/ghost/versions/1/move", http.StatusNotFound, "There is no such playbook or version"},
		{"/console/playbooks/onboarding/versions/3/move", http.StatusConflict, "Version 3 of onboarding is a draft"},
		{"/console/playbooks/onboarding/versions/2/move?from=2", http.StatusBadRequest, "The runs are on that version already"},
		{"/console/playbooks/onboarding/versions/2/move?from=7", http.StatusNotFound, "onboarding has no version 7"},
		{"/console/playbooks/onboarding/versions/2/move?from=x", http.StatusBadRequest, "The query parameter from must be a version number"},
		{"/console/playbooks/onboarding/versions/2/move?segment=huge", http.StatusBadRequest, "The query parameter segment must be one of"},
		{"/console/playbooks/onboarding/versions/2/move?accounts=" + manyAccounts(1001), http.StatusBadRequest, "a move takes at most 1000"},
		{"/console/playbooks/onboarding/versions/0/move", http.StatusBadRequest, "The path parameter version must be a version number"},
	} {
		resp, html := admin.get(tt.path)
		require.Equal(t, tt.status, resp.StatusCode, tt.path)
		require.Contains(t, html, tt.want, tt.path)
	}
	_, html := admin.get("/console/")
	resp, html := admin.post("/console/playbooks/onboarding/versions/2/move", url.Values{"csrf": {csrfOf(t, html)}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, html, "The form field from must be a version number")
	require.Empty(t, eng.moved())

	// Without a live run elsewhere, the page says so plainly.
	_, err := l.Pool.Exec(context.Background(), `UPDATE runs SET status = 'completed', ended_at = now()`)
	require.NoError(t, err)
	resp, html = admin.get("/console/playbooks/onboarding/versions/2/move")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, html, "No run of onboarding is live on another version: there is nothing to move to version 2.")
	require.NotContains(t, html, `id="move"`)
	_, html = admin.get("/console/playbooks/onboarding")
	require.NotContains(t, html, "move-here")
}

// Without an engine that moves runs (a test's stand-in), the page says
// so: a 409, not a 500.
func TestMovePageWithoutMoves(t *testing.T) {
	l := storetest.NewLadder(t)
	for _, source := range []string{moveV1, moveV2} {
		v := draftOf(t, l.Store, source)
		_, err := l.Store.PublishPlaybookVersion(context.Background(), "onboarding", v.Version)
		require.NoError(t, err)
	}
	srv, _ := workConsole(t, l.Store)
	resp, html := signedIn(t, srv, adminKey).get("/console/playbooks/onboarding/versions/2/move")
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, html, "Moving runs is not available here")
}

// manyAccounts is n distinct account ids, separated by commas.
func manyAccounts(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("a%d", i)
	}
	return strings.Join(ids, ",")
}
