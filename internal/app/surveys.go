package app

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
)

// Surveys reads what a survey link's page shows (the store).
type Surveys interface {
	SurveyResponseOf(ctx context.Context, emailID uuid.UUID, kind string) (*store.SurveyResponse, error)
}

// SurveyView is what a survey page shows whoever holds a link: only what
// the email itself said (the question, the score picked, who asks), never
// the account, the recipient or the run.
type SurveyView struct {
	// Question is the email's question, asked by Sender (the sender's
	// name, "" when none is configured).
	Question string
	Sender   string
	Kind     string
	// Scale is the kind's scores, lowest first; Score is the one the link
	// picked, or, when Answered, the first answer's (which stands).
	Scale []int
	Score int
	// Answered: the recipient had answered this survey before this
	// request (a repeat records nothing and changes nothing).
	Answered bool
	// Recorded: this request recorded the answer.
	Recorded bool
	// Warning says what did not follow the recorded answer (for the log;
	// the answer stands).
	Warning string
}

// ErrNoSurveyLinks: the application was built without survey links
// (Deps.SurveyLinks), so no link can be checked.
var ErrNoSurveyLinks = errors.New("survey links are not configured")

// verifySurvey reads a survey link's token.
func (a *App) verifySurvey(token string) (survey.Answer, error) {
	if a.surveyLinks == nil {
		return survey.Answer{}, ErrNoSurveyLinks
	}
	return a.surveyLinks.Verify(token)
}

func (a *App) surveyView(ans survey.Answer) SurveyView {
	return SurveyView{Question: surveyQuestions[ans.Kind], Sender: a.surveySender, Kind: ans.Kind,
		Scale: survey.Scores(ans.Kind), Score: ans.Score}
}

// surveyQuestions are the questions as the survey emails ask them.
var surveyQuestions = map[string]string{survey.NPS: templates.NPSQuestion, survey.CSAT: templates.CSATQuestion}

// SurveyQuestion is the page a survey link opens (GET): it reads and never
// writes, since mail scanners open links; whether the recipient answered
// already is part of it. survey.ErrBadToken for a link that is not ours or
// is damaged; store.ErrNoSurvey for one whose email is gone or asked
// another question.
func (a *App) SurveyQuestion(ctx context.Context, token string) (SurveyView, error) {
	ans, err := a.verifySurvey(token)
	if err != nil {
		return SurveyView{}, err
	}
	first, err := a.Surveys.SurveyResponseOf(ctx, ans.EmailID, ans.Kind)
	if err != nil {
		return SurveyView{}, err
	}
	v := a.surveyView(ans)
	if first != nil {
		v.Answered, v.Score = true, first.Score
	}
	return v, nil
}

// AnswerSurvey records the answer a survey link carries, with an optional
// comment (at most survey.MaxComment characters: survey.ErrCommentTooLong),
// once per run, step and recipient: a repeat records nothing and shows the
// first answer. Errors as SurveyQuestion; what fails after the answer is
// recorded is the view's warning, not an error.
func (a *App) AnswerSurvey(ctx context.Context, token, comment string) (SurveyView, error) {
	ans, err := a.verifySurvey(token)
	if err != nil {
		return SurveyView{}, err
	}
	if utf8.RuneCountInString(comment) > survey.MaxComment {
		return SurveyView{}, survey.ErrCommentTooLong
	}
	got, err := a.Triggers.SurveyResponse(ctx, ans, comment)
	if err != nil {
		return SurveyView{}, err
	}
	v := a.surveyView(ans)
	v.Score, v.Answered, v.Recorded, v.Warning = got.Response.Score, !got.New, got.New, got.Warning
	return v, nil
}
