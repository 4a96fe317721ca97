package triggers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/triggers"
)

// fakeLive records the events handed to live runs; down fails them.
type fakeLive struct {
	events []string
	down   bool
}

func (f *fakeLive) SignalEvent(_ context.Context, accountID, name string, data map[string]any) (int, error) {
	if f.down {
		return 0, errors.New("connection refused")
	}
	f.events = append(f.events, fmt.Sprintf("%s %s %s %v", accountID, name, data["category"], data["score"]))
	return 1, nil
}

type surveyFixture struct {
	svc  *triggers.Service
	runs *fakeRuns
	live *fakeLive
	st   *store.Store
	pool *pgxpool.Pool
	run  uuid.UUID
}

// newSurveyFixture publishes plays started by survey answers (any, promoters,
// detractors) and saves acme, in a run of which survey emails go out.
func newSurveyFixture(t *testing.T) surveyFixture {
	t.Helper()
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	for key, trigger := range map[string]string{
		"any-answer":         `{"on":"survey_response"}`,
		"promoter-referral":  `{"on":"survey_response","category":"promoter"}`,
		"detractor-recovery": `{"on":"survey_response","category":"detractor"}`,
	} {
		def := fmt.Sprintf(`{"key":%q,"name":%q,"trigger":%s,"steps":[{"id":"s","at":"0d","check_health":{}}]}`, key, key, trigger)
		_, _, err := st.SeedPlaybook(ctx, store.NewPlaybookVersion{Key: key, Name: key, Definition: json.RawMessage(def),
			Source: def, SourceFormat: "json"})
		require.NoError(t, err)
	}
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	_, _, err = st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 50000, Segment: "mid_market",
		CSMEmail: "casey@cs.test", Timezone: "UTC", LifecycleStage: "adoption", Status: "active"})
	require.NoError(t, err)
	run, err := st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "quarterly-survey",
		PlaybookVersion: 1, WorkflowID: "quarterly-survey/acme", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	f := surveyFixture{runs: &fakeRuns{store: st, started: map[string]uuid.UUID{}}, live: &fakeLive{}, st: st, pool: pool, run: run.ID}
	f.svc = &triggers.Service{Store: st, Runs: f.runs, Live: f.live, Model: health.Presets[health.DefaultModel], Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return f
}

// email stores a captured survey email of the fixture's run and returns its
// id, as a link signs it.
func (f surveyFixture) email(t *testing.T, step, recipient, kind string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, f.pool.QueryRow(context.Background(), `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey)
		VALUES ($1, $2, 'acme', $3, 'survey', 'How are we doing?', '', '', 'captured', $4) RETURNING id`,
		f.run, step, recipient, kind).Scan(&id))
	return id
}

func (f surveyFixture) snapshots(t *testing.T) []store.HealthSnapshot {
	t.Helper()
	h, err := f.st.HealthHistory(context.Background(), "acme", 0, 10)
	require.NoError(t, err)
	return h
}

// A promoter's answer starts the plays for any answer and for promoters,
// not the detractors' play, and goes to the live runs; without a health
// snapshot none is made up. A second answer of the same survey changes
// nothing and tells nobody.
func TestSurveyAnswerFiresOnceAndInventsNoHealth(t *testing.T) {
	ctx := context.Background()
	f := newSurveyFixture(t)
	email := f.email(t, "nps", "pat@acme.test", survey.NPS)

	got, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: email, Kind: survey.NPS, Score: 9}, "Love it")
	require.NoError(t, err)
	require.True(t, got.New)
	require.Empty(t, got.Warning)
	require.Equal(t, survey.Promoter, got.Response.Category)
	require.Equal(t, 1, got.DeliveredTo)
	require.Equal(t, []string{"acme survey_response promoter 9"}, f.live.events)
	require.Nil(t, got.Health, "no snapshot to update")
	require.Empty(t, f.snapshots(t), "one answer is not the account's health")
	require.Contains(t, f.runs.started, "any-answer/acme")
	require.Contains(t, f.runs.started, "promoter-referral/acme")
	require.NotContains(t, f.runs.started, "detractor-recovery/acme")
	fired := firingsOf(t, f.st, "promoter-referral")
	require.Len(t, fired, 1)
	require.Regexp(t, `^survey_response:promoter#event-\d+$`, fired[0].Occasion)
	require.Equal(t, store.FiringStarted, fired[0].Status)

	again, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: email, Kind: survey.NPS, Score: 0}, "Changed my mind")
	require.NoError(t, err)
	require.False(t, again.New)
	require.Equal(t, got.Response, again.Response, "the first answer stands")
	require.Len(t, f.live.events, 1, "a repeat tells no run")
	require.Empty(t, firingsOf(t, f.st, "detractor-recovery"), "a repeat fires nothing")
	all, err := f.st.AccountFirings(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, all, 2)

	_, err = f.svc.SurveyResponse(ctx, survey.Answer{EmailID: email, Kind: survey.CSAT, Score: 5}, "")
	require.ErrorIs(t, err, store.ErrNoSurvey, "the email asked for an NPS")
	_, err = f.svc.SurveyResponse(ctx, survey.Answer{EmailID: uuid.New(), Kind: survey.NPS, Score: 5}, "")
	require.ErrorIs(t, err, store.ErrNoSurvey)
}

// With a snapshot, an answer records a new one: the latest inputs with the
// answered kind's figure over the last year replaced, the other kept.
func TestSurveyAnswerUpdatesHealthInputs(t *testing.T) {
	ctx := context.Background()
	f := newSurveyFixture(t)
	users, licensed, csat := 90.0, 100.0, 2.0
	_, err := f.svc.RecordHealth(ctx, "acme", health.Inputs{ActiveUsers: &users, LicensedUsers: &licensed, CSAT: &csat}, time.Now().Add(-time.Hour))
	require.NoError(t, err)

	for i, score := range []int{10, 9, 3} { // two promoters, one detractor: NPS 33
		got, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: f.email(t, "nps", fmt.Sprintf("p%d@acme.test", i), survey.NPS),
			Kind: survey.NPS, Score: score}, "")
		require.NoError(t, err)
		require.NotNil(t, got.Health)
		require.Empty(t, got.Warning)
	}
	history := f.snapshots(t)
	require.Len(t, history, 4, "one snapshot per answer")
	var in health.Inputs
	require.NoError(t, json.Unmarshal(history[0].Inputs, &in))
	require.Equal(t, 33.0, *in.NPS)
	require.Equal(t, 2.0, *in.CSAT, "an NPS answer leaves CSAT as it was")
	require.Equal(t, 90.0, *in.ActiveUsers)

	// An answer older than a year no longer counts.
	_, err = f.pool.Exec(ctx, `UPDATE survey_responses SET created_at = now() - interval '366 days' WHERE score = 3`)
	require.NoError(t, err)
	got, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: f.email(t, "csat", "pat@acme.test", survey.CSAT), Kind: survey.CSAT, Score: 4}, "")
	require.NoError(t, err)
	require.NotNil(t, got.Health)
	require.NoError(t, json.Unmarshal(got.Health.Snapshot.Inputs, &in))
	require.Equal(t, 4.0, *in.CSAT, "the mean of the CSAT answers")
	require.Equal(t, 33.0, *in.NPS, "a CSAT answer leaves NPS as it was")
	got, err = f.svc.SurveyResponse(ctx, survey.Answer{EmailID: f.email(t, "nps-2", "pat@acme.test", survey.NPS), Kind: survey.NPS, Score: 10}, "")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(got.Health.Snapshot.Inputs, &in))
	require.Equal(t, 100.0, *in.NPS, "three promoters within the year; the old detractor is out")

	// A measurement posted later without them keeps what the customers
	// said; one that says them is taken as it is.
	rec, err := f.svc.RecordHealth(ctx, "acme", health.Inputs{ActiveUsers: &users, LicensedUsers: &licensed}, time.Time{})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rec.Snapshot.Inputs, &in))
	require.Equal(t, 100.0, *in.NPS)
	require.Equal(t, 4.0, *in.CSAT)
	upstreamNPS := -20.0
	rec, err = f.svc.RecordHealth(ctx, "acme", health.Inputs{ActiveUsers: &users, LicensedUsers: &licensed, NPS: &upstreamNPS}, time.Time{})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rec.Snapshot.Inputs, &in))
	require.Equal(t, -20.0, *in.NPS, "a measured NPS is the measurement's")
	require.Equal(t, 4.0, *in.CSAT)
}

// A score computed upstream takes no inputs: an answer does not make a
// snapshot of it.
func TestSurveyAnswerLeavesAnUpstreamScore(t *testing.T) {
	ctx := context.Background()
	f := newSurveyFixture(t)
	score := 72.0
	_, err := f.svc.RecordHealth(ctx, "acme", health.Inputs{Score: &score}, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	got, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: f.email(t, "nps", "pat@acme.test", survey.NPS), Kind: survey.NPS, Score: 2}, "")
	require.NoError(t, err)
	require.True(t, got.New)
	require.Nil(t, got.Health)
	require.Len(t, f.snapshots(t), 1)
}

// What fails after the answer's transaction (Temporal down) is a warning:
// the answer, its event and its firings stay recorded, the firings pending
// for the sweep.
func TestSurveyAnswerFailuresAfterCommitAreWarnings(t *testing.T) {
	ctx := context.Background()
	f := newSurveyFixture(t)
	f.runs.down, f.live.down = true, true
	got, err := f.svc.SurveyResponse(ctx, survey.Answer{EmailID: f.email(t, "nps", "pat@acme.test", survey.NPS), Kind: survey.NPS, Score: 1}, "")
	require.NoError(t, err)
	require.True(t, got.New)
	require.Contains(t, got.Warning, "live runs not told")
	require.Contains(t, got.Warning, "connection refused")
	pending, err := f.st.PendingFirings(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, pending, 2, "any-answer and detractor-recovery wait for the sweep")
	events, err := f.st.AccountEvents(ctx, "acme", 10)
	require.NoError(t, err)
	require.Equal(t, "event:survey_response", events[0].Type)
}
