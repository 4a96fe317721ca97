package activities_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// scriptedSender answers with the queued errors, then succeeds, counting calls.
type scriptedSender struct {
	errs  []error
	calls int
	last  mail.Message
}

func (s *scriptedSender) Send(_ context.Context, msg mail.Message) (mail.Receipt, error) {
	s.calls++
	s.last = msg
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return mail.Receipt{}, err
	}
	return mail.Receipt{Status: states.EmailSent, ProviderMessageID: fmt.Sprintf("msg-%d", s.calls)}, nil
}

type fixture struct {
	pool   *pgxpool.Pool
	st     *store.Store
	acts   *activities.Activities
	sender *scriptedSender
	env    *testsuite.TestActivityEnvironment
	runID  string
}

func newFixture(t *testing.T, unsubscribed bool) *fixture {
	t.Helper()
	ctx := context.Background()
	_, pool := newDB(t)
	st := store.New(pool)
	seedAccount(t, st)
	var err error
	if unsubscribed {
		_, err = pool.Exec(ctx, `UPDATE contacts SET unsubscribed = true`)
		require.NoError(t, err)
	}
	runID := uuid.New()
	_, err = st.RecordRunStarted(ctx, store.NewRun{ID: runID, AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "wf", StartedAt: time.Now()})
	require.NoError(t, err)

	set, err := templates.Builtin()
	require.NoError(t, err)
	f := &fixture{pool: pool, st: st, sender: &scriptedSender{}, runID: runID.String()}
	acts := &activities.Activities{Store: st, Sender: f.sender, Templates: set,
		From: mail.Address{Email: "cs@example.test"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		PublicBaseURL: "https://cs.example/"}
	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	acts.Register(f.env)
	f.acts = acts
	return f
}

func newDB(t *testing.T) (string, *pgxpool.Pool) { return storetest.NewDatabase(t) }

// seedAccount adds the CSM Casey and the smb account acme with its champion Pat.
func seedAccount(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "csm@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	_, _, err = st.UpsertAccount(ctx, store.UpsertAccount{
		ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb", CSMEmail: "csm@cs.test", Timezone: "UTC",
		LifecycleStage: "onboarding", Status: "active",
		Contacts: []store.UpsertContact{{Email: "pat@acme.test", Name: "Pat", Role: "champion"}},
	})
	require.NoError(t, err)
}

func (f *fixture) sendWelcome() (contract.SendEmailResult, error) {
	var res contract.SendEmailResult
	v, err := f.env.ExecuteActivity(contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "welcome-email", AccountID: "acme", Template: "welcome", ToRoles: []string{"champion"}})
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

// emails lists what the account's contacts were sent.
func (f *fixture) emails(t *testing.T) []store.Email {
	emails, err := f.st.ListEmails(context.Background(), store.EmailFilter{AccountID: "acme", Kind: store.EmailToCustomer})
	require.NoError(t, err)
	return emails
}

// notices lists the emails to the team about the account's approvals.
func (f *fixture) notices(t *testing.T) []store.Email {
	emails, err := f.st.ListEmails(context.Background(), store.EmailFilter{AccountID: "acme", Kind: store.EmailToTeam})
	require.NoError(t, err)
	return emails
}

func TestSendEmailTwiceSendsOnce(t *testing.T) {
	f := newFixture(t, false)
	for i := 0; i < 2; i++ {
		res, err := f.sendWelcome()
		require.NoError(t, err)
		require.Equal(t, 1, res.Sent)
	}
	require.Equal(t, 1, f.sender.calls, "a re-run activity must not call the provider again")
	emails := f.emails(t)
	require.Len(t, emails, 1)
	require.Equal(t, states.EmailSent, emails[0].Status)
	require.Equal(t, "pat@acme.test", emails[0].Recipient)
	require.Contains(t, emails[0].Subject, "Acme")
}

func TestSendEmailRetryableErrorLeavesRowPendingThenSendsOnce(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{fmt.Errorf("%w: status 503", mail.ErrNotAccepted)}
	_, err := f.sendWelcome()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		require.False(t, appErr.NonRetryable(), "a 503 must be retried")
	}
	require.Equal(t, states.EmailPending, f.emails(t)[0].Status)

	res, err := f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	require.Len(t, f.emails(t), 1)
	require.Equal(t, states.EmailSent, f.emails(t)[0].Status)
}

func TestSendEmailRejectedIsRecordedNotRetried(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{fmt.Errorf("%w: status 400: bad address", mail.ErrRejected)}
	res, err := f.sendWelcome()
	require.NoError(t, err, "a refused email must not fail the run")
	require.Equal(t, 1, res.Failed)
	emails := f.emails(t)
	require.Equal(t, states.EmailFailed, emails[0].Status)
	require.Contains(t, emails[0].Detail, "bad address")
	_, err = f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, 1, f.sender.calls)
}

func TestSendEmailSkipsUnsubscribed(t *testing.T) {
	f := newFixture(t, true)
	res, err := f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, contract.SendEmailResult{Skipped: 1, EmailIDs: res.EmailIDs}, res)
	require.Zero(t, f.sender.calls)
	require.Equal(t, states.EmailSkipped, f.emails(t)[0].Status)
}

func TestSendEmailUnknownTemplateIsNonRetryable(t *testing.T) {
	f := newFixture(t, false)
	_, err := f.env.ExecuteActivity(contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "x", AccountID: "acme", Template: "nope", ToRoles: []string{"champion"}})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, contract.ErrUnknownTemplate, appErr.Type())
	require.True(t, appErr.NonRetryable())
}

func TestCreateTaskTwiceCreatesOnce(t *testing.T) {
	f := newFixture(t, false)
	due := time.Now().Add(24 * time.Hour)
	in := contract.CreateTaskInput{RunID: f.runID, StepID: "welcome-call", AccountID: "acme",
		Title: "Welcome call", Assignee: "csm", Priority: "high", DueAt: &due}
	var first, second contract.CreateTaskResult
	v, err := f.env.ExecuteActivity(contract.CreateTask, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&first))
	v, err = f.env.ExecuteActivity(contract.CreateTask, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&second))
	require.Equal(t, first, second)
	require.Equal(t, "csm@cs.test", first.Assignee)
	tasks, err := f.st.ListTasks(context.Background(), store.TaskFilter{AccountID: "acme"})
	require.NoError(t, err)
	require.Len(t, tasks, 1)
}

func TestCreateTaskUnknownAccountIsNonRetryable(t *testing.T) {
	f := newFixture(t, false)
	_, err := f.env.ExecuteActivity(contract.CreateTask, contract.CreateTaskInput{RunID: f.runID, StepID: "s",
		AccountID: "ghost", Title: "x", Assignee: "csm", Priority: "normal"})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, contract.ErrAccountNotFound, appErr.Type())
}

func TestSendEmailRateLimitedRetriesAtTheResetTime(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{&mail.RateLimitedError{RetryAfter: 42 * time.Second, Detail: "too many"}}
	require.True(t, errors.Is(f.sender.errs[0], mail.ErrNotAccepted))
	_, err := f.sendWelcome()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, "RateLimited", appErr.Type())
	require.False(t, appErr.NonRetryable())
	require.GreaterOrEqual(t, appErr.NextRetryDelay(), 42*time.Second, "not before the reset")
	require.Less(t, appErr.NextRetryDelay(), 43*time.Second, "up to a second of jitter")
	require.Equal(t, states.EmailPending, f.emails(t)[0].Status)
	res, err := f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	require.Equal(t, 2, f.sender.calls)
}

// A call whose outcome is unknown (timed out, dropped) is never repeated.
func TestSendEmailAmbiguousFailureIsNeverRetried(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{errors.New("sendgrid: context deadline exceeded")}
	res, err := f.sendWelcome()
	require.NoError(t, err, "nothing to retry: a retry could send a second email")
	require.Equal(t, 1, res.Failed)
	again, err := f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, 1, again.Failed)
	require.Equal(t, 1, f.sender.calls)
	e := f.emails(t)[0]
	require.Equal(t, states.EmailUncertain, e.Status)
	require.Contains(t, e.Detail, "deadline exceeded")
}

// A worker that died mid-call leaves the row sending; the retry does not send.
func TestSendEmailAfterAnInterruptedAttemptDoesNotSendAgain(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{fmt.Errorf("%w: status 503", mail.ErrNotAccepted)}
	_, err := f.sendWelcome()
	require.Error(t, err)
	e := f.emails(t)[0]
	require.Equal(t, states.EmailPending, e.Status)
	require.Contains(t, e.Detail, "last attempt")
	// Simulate a crash after the row was marked sending.
	_, err = f.st.StartSending(context.Background(), e.ID)
	require.NoError(t, err)
	res, err := f.sendWelcome()
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, 1, f.sender.calls, "only the first, refused, call")
	require.Equal(t, states.EmailUncertain, f.emails(t)[0].Status)
}
