package triggers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// SurveyWindow is how far back an account's survey answers count towards
// its health inputs: its NPS and mean CSAT are those of the last year.
const SurveyWindow = 365 * 24 * time.Hour

// SurveyAnswered is what recording a survey answer did.
type SurveyAnswered struct {
	Response store.SurveyResponse
	// New is false when the recipient had answered this survey already:
	// Response is their first answer and nothing was changed.
	New bool
	// DeliveredTo is how many live runs got the survey_response event.
	DeliveredTo int
	// Health is the snapshot the answer made, nil for none (the account
	// has no snapshot to update, or its latest is a score computed
	// upstream).
	Health *Recorded
	// Warning says what could not be done after the answer was recorded;
	// the answer, its event and its firings are stored all the same
	// (pending firings are started by the sweep).
	Warning string
}

// SurveyResponse records a verified survey answer once per run, step and
// recipient, with its survey_response event and the firings it causes, in
// one transaction; then, only for a new answer, it hands the event to the
// account's live runs (a wait_for: {event: survey_response} step goes on),
// starts the triggered runs and updates the account's health. What fails
// after the transaction is logged and returned as the warning: the answer
// stays recorded. survey.ErrScore, survey.ErrCommentTooLong and
// store.ErrNoSurvey refuse the answer.
func (s *Service) SurveyResponse(ctx context.Context, a survey.Answer, comment string) (SurveyAnswered, error) {
	category, err := survey.Category(a.Kind, a.Score)
	if err != nil {
		return SurveyAnswered{}, err
	}
	trigs, err := s.triggers(ctx)
	if err != nil {
		return SurveyAnswered{}, err
	}
	resp, created, err := s.Store.RecordSurveyResponse(ctx, store.NewSurveyResponse{EmailID: a.EmailID, Kind: a.Kind,
		Score: a.Score, Category: category, Comment: comment, Firings: OnSurveyResponse(trigs, category)})
	if err != nil || !created {
		return SurveyAnswered{Response: resp}, err
	}
	out := SurveyAnswered{Response: resp, New: true}
	var problems []error
	if s.Live == nil {
		problems = append(problems, errors.New("live runs not told: no engine to tell them"))
	} else if out.DeliveredTo, err = s.Live.SignalEvent(ctx, resp.AccountID, survey.EventName, resp.EventData()); err != nil {
		problems = append(problems, fmt.Errorf("live runs not told: %w", err))
	}
	if err := s.Process(ctx, resp.AccountID); err != nil {
		problems = append(problems, err)
	}
	if out.Health, err = s.surveyHealth(ctx, resp); err != nil {
		problems = append(problems, fmt.Errorf("health not updated: %w", err))
	} else if out.Health != nil && out.Health.Warning != "" {
		problems = append(problems, errors.New(out.Health.Warning))
	}
	out.Warning = s.warn(ctx, resp.AccountID, problems)
	return out, nil
}

// withSurveys fills in the account's NPS and CSAT from its survey answers
// of the SurveyWindow before the measurement, when the measurement does not
// say them (nor is a score computed upstream): a snapshot posted without
// them must not drop what the customers answered. The stored inputs then
// say what the score read.
func (s *Service) withSurveys(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (health.Inputs, error) {
	if in.Score != nil || in.NPS != nil && in.CSAT != nil {
		return in, nil
	}
	since := measuredAt.Add(-SurveyWindow)
	for _, f := range []struct {
		kind    string
		input   **float64
		compute func([]int) (float64, bool)
	}{{survey.NPS, &in.NPS, survey.NetPromoterScore}, {survey.CSAT, &in.CSAT, survey.MeanCSAT}} {
		if *f.input != nil {
			continue
		}
		scores, err := s.Store.SurveyScores(ctx, accountID, f.kind, since)
		if err != nil {
			return in, err
		}
		if figure, ok := f.compute(scores); ok {
			*f.input = &figure
		}
	}
	return in, nil
}

// surveyHealth records the snapshot a new answer makes: the latest
// snapshot's inputs with the input of the answer's kind (nps: the Net
// Promoter Score of the account's NPS answers of the last SurveyWindow;
// csat: their mean CSAT) replaced, through RecordHealth, so bands, alerts,
// risk signals and triggers behave as for any measurement. Nil, and no
// snapshot, when the account has none yet: one answer is not the
// account's health, and inventing the other inputs would be; nor when the
// latest is a score computed upstream, which takes no inputs to replace.
func (s *Service) surveyHealth(ctx context.Context, r store.SurveyResponse) (*Recorded, error) {
	latest, err := s.Store.HealthHistory(ctx, r.AccountID, 0, 1)
	if err != nil || len(latest) == 0 {
		return nil, err
	}
	var in health.Inputs
	if err := json.Unmarshal(latest[0].Inputs, &in); err != nil {
		return nil, fmt.Errorf("decode snapshot %d: %w", latest[0].ID, err)
	}
	if in.Score != nil {
		return nil, nil
	}
	scores, err := s.Store.SurveyScores(ctx, r.AccountID, r.Kind, s.Now().Add(-SurveyWindow))
	if err != nil {
		return nil, err
	}
	var (
		figure float64
		ok     bool
	)
	switch r.Kind {
	case survey.NPS:
		figure, ok = survey.NetPromoterScore(scores)
		in.NPS = &figure
	case survey.CSAT:
		figure, ok = survey.MeanCSAT(scores)
		in.CSAT = &figure
	}
	if !ok { // the answer itself is one of the scores: only a clock far off gets here
		return nil, nil
	}
	rec, err := s.RecordHealth(ctx, r.AccountID, in, time.Time{})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}
