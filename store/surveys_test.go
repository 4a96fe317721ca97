package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// surveyEmail stores a captured outbox row of a run of acme to recipient,
// marked as a survey of kind ("": none), and returns its id.
func (f fixture) surveyEmail(t *testing.T, runID uuid.UUID, step, recipient, kind string) uuid.UUID {
	t.Helper()
	var marked *string
	if kind != "" {
		marked = &kind
	}
	var id uuid.UUID
	if err := f.pool.QueryRow(f.ctx, `
		INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body, status, survey)
		VALUES ($1, $2, 'acme', $3, 'survey', 'How are we doing?', '', '', 'captured', $4) RETURNING id`,
		runID, step, recipient, marked).Scan(&id); err != nil {
		t.Fatalf("survey email: %v", err)
	}
	return id
}

// surveyWrites counts what recording an answer writes.
func (f fixture) surveyWrites(t *testing.T) [3]int {
	t.Helper()
	var n [3]int
	if err := f.pool.QueryRow(f.ctx, `SELECT
		(SELECT count(*) FROM survey_responses),
		(SELECT count(*) FROM events WHERE type = 'event:survey_response'),
		(SELECT count(*) FROM trigger_firings)`).Scan(&n[0], &n[1], &n[2]); err != nil {
		t.Fatal(err)
	}
	return n
}

func answer(email uuid.UUID, kind string, score int, comment string) store.NewSurveyResponse {
	category, _ := survey.Category(kind, score)
	return store.NewSurveyResponse{EmailID: email, Kind: kind, Score: score, Category: category, Comment: comment,
		Firings: []store.NewFiring{{PlaybookKey: "thank-promoters", Occasion: "survey_response:" + category}}}
}

// An answer is recorded once per run, step and recipient, with its event
// and firings; a repeat (another score, another comment) changes nothing
// and gets the first answer back.
func TestSurveyResponseOncePerRunStepAndRecipient(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	email := f.surveyEmail(t, run, "nps", "pat@acme.test", survey.NPS)

	got, err := f.st.SurveyResponseOf(f.ctx, email, survey.NPS)
	if err != nil || got != nil {
		t.Fatalf("before an answer: %+v, %v", got, err)
	}
	first, created, err := f.st.RecordSurveyResponse(f.ctx, answer(email, survey.NPS, 10, "Great"))
	if err != nil || !created {
		t.Fatalf("first answer: created=%v err=%v", created, err)
	}
	if first.RunID != run || first.StepID != "nps" || first.Recipient != "pat@acme.test" || first.AccountID != "acme" ||
		first.Score != 10 || first.Category != survey.Promoter || first.Comment != "Great" {
		t.Fatalf("first = %+v", first)
	}
	if n := f.surveyWrites(t); n != [3]int{1, 1, 1} {
		t.Fatalf("after the first answer (responses, events, firings) = %v", n)
	}
	events, err := f.st.AccountEvents(f.ctx, "acme", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kind": "nps", "score": float64(10), "category": "promoter", "step_id": "nps", "response_id": float64(first.ID)}
	if ev := events[0]; ev.Type != "event:survey_response" || ev.RunID == nil || *ev.RunID != run || !equalData(ev.Data, want) {
		t.Fatalf("event = %+v", ev)
	}
	firings, err := f.st.AccountFirings(f.ctx, "acme", 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := "survey_response:promoter#event-"; len(firings) != 1 || !strings.HasPrefix(firings[0].Occasion, want) {
		t.Fatalf("firings = %+v, want one occasion %s<event id>", firings, want)
	}

	for _, repeat := range []store.NewSurveyResponse{answer(email, survey.NPS, 10, "Great"), answer(email, survey.NPS, 0, "Changed my mind")} {
		again, created, err := f.st.RecordSurveyResponse(f.ctx, repeat)
		if err != nil || created {
			t.Fatalf("repeat: created=%v err=%v", created, err)
		}
		if again != first {
			t.Fatalf("repeat answered %+v, want the first %+v", again, first)
		}
	}
	if n := f.surveyWrites(t); n != [3]int{1, 1, 1} {
		t.Fatalf("a repeat wrote something: %v", n)
	}
	got, err = f.st.SurveyResponseOf(f.ctx, email, survey.NPS)
	if err != nil || got == nil || *got != first {
		t.Fatalf("after the answer: %+v, %v", got, err)
	}

	// Another recipient of the same step answers for themselves.
	other := f.surveyEmail(t, run, "nps", "sam@acme.test", survey.NPS)
	if _, created, err := f.st.RecordSurveyResponse(f.ctx, answer(other, survey.NPS, 3, "")); err != nil || !created {
		t.Fatalf("another recipient: created=%v err=%v", created, err)
	}
	scores, err := f.st.SurveyScores(f.ctx, "acme", survey.NPS, time.Now().Add(-time.Hour))
	if err != nil || len(scores) != 2 || scores[0] != 10 || scores[1] != 3 {
		t.Fatalf("scores = %v, %v", scores, err)
	}
	if scores, err := f.st.SurveyScores(f.ctx, "acme", survey.CSAT, time.Now().Add(-time.Hour)); err != nil || len(scores) != 0 {
		t.Fatalf("csat scores = %v, %v", scores, err)
	}
	if scores, err := f.st.SurveyScores(f.ctx, "acme", survey.NPS, time.Now().Add(time.Hour)); err != nil || len(scores) != 0 {
		t.Fatalf("scores since an hour from now = %v, %v", scores, err)
	}
}

func equalData(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// Two answers of one email at once (a double click, a scanner and a person)
// record one response, one event and one firing: exactly one is new.
func TestSurveyResponseConcurrentAnswersRecordOne(t *testing.T) {
	f := newFixture(t)
	email := f.surveyEmail(t, f.startRun(t), "nps", "pat@acme.test", survey.NPS)
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		ids     = map[int64]bool{}
	)
	for i := range n {
		wg.Go(func() {
			r, isNew, err := f.st.RecordSurveyResponse(f.ctx, answer(email, survey.NPS, i, ""))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("answer %d: %v", i, err)
				return
			}
			if isNew {
				created++
			}
			ids[r.ID] = true
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d new answers, %d response ids; want 1 and 1", created, len(ids))
	}
	if got := f.surveyWrites(t); got != [3]int{1, 1, 1} {
		t.Fatalf("(responses, events, firings) = %v", got)
	}
}

// What cannot be recorded is refused before anything is written.
func TestSurveyResponseRefusals(t *testing.T) {
	f := newFixture(t)
	run := f.startRun(t)
	nps := f.surveyEmail(t, run, "nps", "pat@acme.test", survey.NPS)
	plain := f.surveyEmail(t, run, "welcome", "pat@acme.test", "")
	tests := []struct {
		name string
		in   store.NewSurveyResponse
		want []error
	}{
		{"unknown email", answer(uuid.New(), survey.NPS, 9, ""), []error{store.ErrNoSurvey, store.ErrNotFound}},
		{"wrong kind", answer(nps, survey.CSAT, 5, ""), []error{store.ErrNoSurvey}},
		{"no survey", answer(plain, survey.NPS, 9, ""), []error{store.ErrNoSurvey}},
		{"score out of scale", store.NewSurveyResponse{EmailID: nps, Kind: survey.NPS, Score: 11, Category: survey.Promoter}, []error{survey.ErrScore}},
		{"category not the score's", store.NewSurveyResponse{EmailID: nps, Kind: survey.NPS, Score: 2, Category: survey.Promoter}, []error{survey.ErrScore}},
		{"comment too long", answer(nps, survey.NPS, 9, strings.Repeat("é", survey.MaxComment+1)), []error{survey.ErrCommentTooLong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, created, err := f.st.RecordSurveyResponse(f.ctx, tt.in)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			if created {
				t.Fatal("created")
			}
		})
	}
	if n := f.surveyWrites(t); n != [3]int{} {
		t.Fatalf("a refused answer wrote (responses, events, firings) %v", n)
	}
	if _, err := f.st.SurveyResponseOf(f.ctx, nps, survey.CSAT); !errors.Is(err, store.ErrNoSurvey) {
		t.Fatalf("reading the wrong kind: %v", err)
	}

	// The bound is characters, not bytes, and the database holds it too.
	long, created, err := f.st.RecordSurveyResponse(f.ctx, answer(nps, survey.NPS, 9, strings.Repeat("é", survey.MaxComment)))
	if err != nil || !created || len(long.Comment) != 2*survey.MaxComment {
		t.Fatalf("a comment of %d characters: created=%v err=%v", survey.MaxComment, created, err)
	}
	if _, err := f.pool.Exec(f.ctx, `UPDATE survey_responses SET comment = comment || 'x'`); err == nil {
		t.Fatal("the database took a comment over the bound")
	}
}
