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
		edits    *contract.EmailContent
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
		{"edited html too large", nil, &contract.EmailContent{HTML: strings.Repeat("x", 512<<10+1)},
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
