package activities_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/store"
)

// A template whose output passes the bounds fails the send once, as a
// business failure, and nothing of it is stored or sent.
func TestOversizedEmailIsANonRetryableFailureAndNothingIsStored(t *testing.T) {
	own := func(subject, html, text string) *contract.TemplateSource {
		return &contract.TemplateSource{Name: "big", Subject: subject, HTML: html, Text: text}
	}
	tests := []struct {
		name     string
		template *contract.TemplateSource
		edits    *message.Content
		message  string
	}{
		{"html loops", own("Hi", "{{range 5000000}}<p>{{$.Account.Name}} spam</p>{{end}}", "Hi"), nil,
			"render big html: the html is longer than the limit of 524288 bytes"},
		{"text loops", own("Hi", "<p>Hi</p>", "{{range 5000000}}spam spam spam{{end}}"), nil,
			"render big text: the text is longer than the limit of 262144 bytes"},
		{"subject loops", own("{{range 5000000}}Hi {{end}}", "<p>Hi</p>", "Hi"), nil,
			"render big subject: the subject is longer than the limit of 250 characters"},
		{"subject too long", own(strings.Repeat("Hi ", 100), "<p>Hi</p>", "Hi"), nil,
			"render big: the subject is longer than the limit of 250 characters"},
		{"edited html too large", nil, &message.Content{HTML: strings.Repeat("x", 512<<10+1)},
			"the approver's edits: the html is longer than the limit of 524288 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, false)
			in := contract.SendEmailInput{RunID: f.runID, StepID: "big", AccountID: "acme", Template: "welcome",
				ToRoles: []string{"champion"}, OwnTemplate: tt.template, Override: tt.edits}
			if tt.template != nil {
				in.Template = tt.template.Name
			}
			_, err := f.env.ExecuteActivity(contract.SendEmail, in)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "got %v", err)
			require.Equal(t, contract.ErrEmailTooLarge, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.message, appErr.Message())
			require.Empty(t, f.emails(t))
			require.Zero(t, f.sender.calls)

			_, err = f.env.ExecuteActivity(contract.CreateApproval, contract.CreateApprovalInput{RunID: f.runID, StepID: "big",
				AccountID: "acme", Assignee: "csm", Email: in, ExpiresAt: time.Now().Add(time.Hour)})
			if tt.edits == nil { // edits come after the approval
				require.True(t, errors.As(err, &appErr), "got %v", err)
				require.Equal(t, contract.ErrEmailTooLarge, appErr.Type())
				approvals, err := f.st.ListApprovals(context.Background(), store.ApprovalFilter{})
				require.NoError(t, err)
				require.Empty(t, approvals)
			}
		})
	}
}

func TestOversizedNotifyMessageIsNotPosted(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer srv.Close()
	f := newFixture(t, false)
	f.acts.HTTP = srv.Client()
	err := f.acts.Notify(context.Background(), contract.NotifyInput{RunID: "r", StepID: "ping", AccountID: "acme", URL: srv.URL,
		Message: "{{range 5000000}}{{$.Account.Name}} is at risk! {{end}}"})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "got %v", err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, "the message is longer than the limit of 40960 bytes", appErr.Message())
	require.Zero(t, calls)
}

// A template that does not render over the account's data (stored before
// validation type-checked templates) fails its send, its approval draft and
// a notify once, as a business failure with one clear message: no retry, no
// raw Go error, no cause repeating it, nothing stored or sent.
func TestTemplateThatDoesNotRenderIsOneClearBusinessFailure(t *testing.T) {
	f := newFixture(t, false)
	own := &contract.TemplateSource{Name: "note", Subject: "Hi {{.Account.Name}}", HTML: "<p>Hi</p>\n<p>{{.Nonsense.Thing}}</p>", Text: "Hi"}
	in := contract.SendEmailInput{RunID: f.runID, StepID: "note", AccountID: "acme", Template: "note",
		ToRoles: []string{"champion"}, OwnTemplate: own}
	want := `template "note", line 2 of the html: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health, Metrics, Survey`
	requireOneFailure := func(err error) {
		t.Helper()
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), "got %v", err)
		require.Equal(t, contract.ErrTemplate, appErr.Type())
		require.True(t, appErr.NonRetryable())
		require.Equal(t, want, appErr.Message())
		require.Nil(t, errors.Unwrap(appErr), "the cause would repeat the message")
	}
	_, err := f.env.ExecuteActivity(contract.SendEmail, in)
	requireOneFailure(err)
	_, err = f.env.ExecuteActivity(contract.CreateApproval, contract.CreateApprovalInput{RunID: f.runID, StepID: "note",
		AccountID: "acme", Assignee: "csm", Email: in, ExpiresAt: time.Now().Add(time.Hour)})
	requireOneFailure(err)
	require.Empty(t, f.emails(t))
	require.Zero(t, f.sender.calls)

	want = "line 1 of the message: .Account.name is not a field of .Account; fields: ID, Name, Segment, ARR, LifecycleStage, RenewalDate, ContractStart, Fields (names are case-sensitive: .Account.Name)"
	requireOneFailure(f.acts.Notify(context.Background(), contract.NotifyInput{RunID: "r", StepID: "ping", AccountID: "acme",
		URL: "https://hooks.example.com/x", Message: "{{.Account.name}} is at risk"}))
}

// Templates see the account's latest health and its dates, and greet a
// contact without a name as "there".
func TestTemplatesSeeHealthAndDates(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, err := f.st.AddHealthSnapshot(ctx, "acme", time.Now(), time.Hour, func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
		return store.NewHealthSnapshot{Score: 41.6, Band: "red", Model: "default", Components: []byte("[]"), Inputs: []byte("{}")}, nil
	})
	require.NoError(t, err)
	own := &contract.TemplateSource{Name: "facts", Subject: "{{.Account.Name}} is {{.Health.Band}}",
		HTML: "<p>{{.Health.Score}}</p>", Text: "{{if lt .Health.Score 50}}low {{.Health.Score}}{{end}} {{printf \"%.0f\" .Account.ARR}} {{.Account.LifecycleStage}}"}
	_, err = f.env.ExecuteActivity(contract.SendEmail, contract.SendEmailInput{RunID: f.runID, StepID: "facts", AccountID: "acme",
		Template: "facts", ToRoles: []string{"champion"}, OwnTemplate: own})
	require.NoError(t, err)
	emails := f.emails(t)
	require.Len(t, emails, 1)
	require.Equal(t, "Acme is red", emails[0].Subject)
	require.True(t, strings.HasPrefix(emails[0].Text, "low 42 12000 onboarding"), emails[0].Text)
}
