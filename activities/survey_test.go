package activities_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/unsubscribe"
)

var surveyLink = regexp.MustCompile(`https://cs\.example/v1/surveys/respond\?token=[^\s"<]+`)

func (f *fixture) sendSurvey(t *testing.T, kind string) (contract.SendEmailResult, error) {
	return exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "nps", AccountID: "acme", Template: kind + "-survey", ToRoles: []string{"champion"},
		Automated: true, Survey: kind})
}

// A survey email's stored body carries one link per score, each signed for
// the outbox row it is stored in, its kind and its score; the row is marked
// with the kind. A retry after the provider refused the first attempt finds
// the first row and sends its body, not a new render with other ids.
func TestSurveyEmailCarriesOneSignedLinkPerScore(t *testing.T) {
	for _, kind := range survey.Kinds {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t, false)
			links := survey.NewLinks("test-signing-key-of-at-least-32-chars", "https://cs.example")
			f.acts.SurveyLinks = links
			f.acts.Links = unsubscribe.New("test-signing-key-of-at-least-32-chars", "https://cs.example")
			f.sender.errs = []error{fmt.Errorf("%w: status 503", mail.ErrNotAccepted)}

			_, err := f.sendSurvey(t, kind)
			require.Error(t, err, "the first attempt is refused and retried")
			first := f.emails(t)
			require.Len(t, first, 1)
			res, err := f.sendSurvey(t, kind)
			require.NoError(t, err)
			require.Equal(t, 1, res.Sent)

			emails := f.emails(t)
			require.Len(t, emails, 1, "one row per run, step and recipient")
			stored := emails[0]
			require.Equal(t, states.EmailSent, stored.Status)
			require.Equal(t, first[0].ID, stored.ID)
			require.Equal(t, first[0].Text, stored.Text, "a retry keeps the first body")
			require.Equal(t, first[0].HTML, stored.HTML)
			require.Equal(t, stored.Text, f.sender.last.Text, "what is sent is what is stored")
			require.Equal(t, stored.HTML, f.sender.last.HTML)

			found := slices.Compact(slices.Sorted(slices.Values(surveyLink.FindAllString(stored.Text, -1))))
			require.Len(t, found, len(survey.Scores(kind)), "one distinct link per score in %q", stored.Text)
			var scores []int
			for _, link := range found {
				require.Contains(t, stored.HTML, `href="`+html.EscapeString(link)+`"`, "the html part links it too")
				token := link[len("https://cs.example"+survey.Path+"?token="):]
				a, err := links.Verify(unescape(t, token))
				require.NoError(t, err, link)
				require.Equal(t, stored.ID, a.EmailID, "the link names the row it was sent in")
				require.Equal(t, kind, a.Kind)
				scores = append(scores, a.Score)
			}
			slices.Sort(scores)
			require.Equal(t, survey.Scores(kind), scores)

			var marked *string
			require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT survey FROM emails WHERE id = $1`, stored.ID).Scan(&marked))
			require.NotNil(t, marked)
			require.Equal(t, kind, *marked)
		})
	}
}

func unescape(t *testing.T, token string) string {
	t.Helper()
	u, err := url.QueryUnescape(token)
	require.NoError(t, err)
	return u
}

// An email that is no survey stores no kind and shows no survey links.
func TestAnEmailIsNoSurvey(t *testing.T) {
	f := newFixture(t, false)
	f.acts.SurveyLinks = survey.NewLinks("test-signing-key-of-at-least-32-chars", "https://cs.example")
	_, err := f.sendWelcome()
	require.NoError(t, err)
	stored := f.emails(t)[0]
	var marked *string
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT survey FROM emails WHERE id = $1`, stored.ID).Scan(&marked))
	require.Nil(t, marked)
	require.NotRegexp(t, surveyLink, stored.Text)
}

// A survey that cannot carry working links is a business failure, before
// anything is stored or sent.
func TestSurveysThatCannotBeSentAreRefused(t *testing.T) {
	links := survey.NewLinks("test-signing-key-of-at-least-32-chars", "https://cs.example")
	tests := []struct {
		name  string
		links *survey.Links
		in    func(*contract.SendEmailInput)
		want  string
	}{
		{"no links configured", nil, func(*contract.SendEmailInput) {}, "survey links are not configured"},
		{"unknown kind", links, func(in *contract.SendEmailInput) { in.Survey = "ces" }, `unknown survey kind "ces"`},
		{"sendgrid template", links, func(in *contract.SendEmailInput) {
			in.Template, in.SendGridTemplateID = "", "d-0123456789abcdef0123456789abcdef"
		}, "rendered from a template here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, false)
			f.acts.SurveyLinks = tt.links
			in := contract.SendEmailInput{RunID: f.runID, StepID: "nps", AccountID: "acme", Template: "nps-survey",
				ToRoles: []string{"champion"}, Automated: true, Survey: "nps"}
			tt.in(&in)
			_, err := exec[contract.SendEmailResult](t, f, contract.SendEmail, in)
			var app *temporal.ApplicationError
			require.True(t, errors.As(err, &app), "%v", err)
			require.True(t, app.NonRetryable())
			require.Contains(t, app.Error(), tt.want)
			require.Empty(t, f.emails(t))
			require.Zero(t, f.sender.calls)
		})
	}
}
