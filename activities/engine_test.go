package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
	"github.com/playbookd/playbookd/unsubscribe"
)

func exec[T any](t *testing.T, f *fixture, name string, in any) (T, error) {
	t.Helper()
	var out T
	v, err := f.env.ExecuteActivity(name, in)
	if err == nil && v.HasValue() {
		err = v.Get(&out)
	}
	return out, err
}

func TestBeginRunReturnsTheAccountSnapshot(t *testing.T) {
	f := newFixture(t, false)
	snap, err := exec[accounts.Snapshot](t, f, contract.BeginRun, contract.BeginRunInput{
		RunID: f.runID, WorkflowID: "wf", TemporalRunID: "r", AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, StartedAt: time.Now()})
	require.NoError(t, err, "recording the same run again is fine")
	require.Equal(t, "smb", snap.Segment)
	require.EqualValues(t, "active", snap.Status)

	_, err = exec[accounts.Snapshot](t, f, contract.LoadAccount, "ghost")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, contract.ErrAccountNotFound, appErr.Type())
}

func TestApprovalDraftAndDecision(t *testing.T) {
	f := newFixture(t, false)
	in := contract.CreateApprovalInput{RunID: f.runID, StepID: "invite", AccountID: "acme", Assignee: "csm",
		Email:     contract.SendEmailInput{RunID: f.runID, StepID: "invite", AccountID: "acme", Template: "qbr-invite", ToRoles: []string{"champion"}},
		ExpiresAt: time.Now().Add(4 * time.Hour)}
	first, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, in)
	require.NoError(t, err)
	require.Equal(t, "csm@cs.test", first.Assignee)
	approval, err := f.st.GetApproval(context.Background(), uuid.MustParse(first.ApprovalID))
	require.NoError(t, err)
	require.Len(t, approval.Drafts, 1)
	require.Equal(t, "pat@acme.test", approval.Drafts[0].To)
	require.Equal(t, "Quarterly business review for Acme", approval.Drafts[0].Subject)
	require.True(t, strings.HasPrefix(approval.Drafts[0].Text, "Hi Pat,"))
	again, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, in)
	require.NoError(t, err)
	require.Equal(t, first.ApprovalID, again.ApprovalID)

	decide := contract.RecordApprovalDecisionInput{ApprovalID: first.ApprovalID, Status: "approved", DecidedBy: "csm@cs.test",
		Edits: &message.Content{Subject: "Edited"}}
	_, err = exec[struct{}](t, f, contract.RecordApprovalDecision, decide)
	require.NoError(t, err)
	_, err = exec[struct{}](t, f, contract.RecordApprovalDecision, decide)
	require.NoError(t, err, "a retried decision is idempotent")
	decide.Status = "rejected"
	_, err = exec[struct{}](t, f, contract.RecordApprovalDecision, decide)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.True(t, appErr.NonRetryable())
}

func TestSendEmailWithOwnTemplateAndEdits(t *testing.T) {
	f := newFixture(t, false)
	res, err := exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "own", AccountID: "acme", Template: "hello", ToRoles: []string{"champion"},
		OwnTemplate: &contract.TemplateSource{Name: "hello", Subject: "Hello {{.Account.Name}}", HTML: "<p>Hi</p>", Text: "Hi {{.Contact.FirstName}}"},
	})
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	_, err = exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "edited", AccountID: "acme", Template: "qbr-invite", ToRoles: []string{"champion"},
		Override: &message.Content{Subject: "Shall we meet?"},
	})
	require.NoError(t, err)
	emails := f.emails(t)
	require.Equal(t, "Hello Acme", emails[0].Subject)
	require.Equal(t, "Hi Pat\n", emails[0].Text)
	require.Equal(t, "Shall we meet?", emails[1].Subject)
	require.Contains(t, emails[1].Text, "quarterly business review", "unedited parts come from the template")
}

func TestUpdateAccountReturnsNewSnapshot(t *testing.T) {
	f := newFixture(t, false)
	snap, err := exec[accounts.Snapshot](t, f, contract.UpdateAccount, contract.UpdateAccountInput{
		RunID: f.runID, StepID: "to-adoption", AccountID: "acme", LifecycleStage: "adoption", Fields: map[string]any{"x": 1}})
	require.NoError(t, err)
	require.Equal(t, "adoption", snap.LifecycleStage)
	require.EqualValues(t, 1, snap.Fields["x"])
}

// startRecorder starts runs by recording them, for the trigger service.
type startRecorder struct {
	st      *store.Store
	started []string
}

func (r *startRecorder) Start(ctx context.Context, in runs.StartInput) (store.Run, error) {
	r.started = append(r.started, in.PlaybookKey+"/"+in.AccountID)
	return r.st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey,
		PlaybookVersion: 1, WorkflowID: in.PlaybookKey + "/" + in.AccountID, TemporalRunID: "r", StartedAt: time.Now()})
}

func (r *startRecorder) AccountChanged(context.Context, string) (int, error) { return 0, nil }

func (r *startRecorder) DeliverEvent(context.Context, string, string, map[string]any, []store.NewFiring) (int, error) {
	return 0, nil
}

// The built-in onboarding ends with update_account {lifecycle_stage:
// adoption} and no fields: it changes the stage, and starts what a
// stage_changed trigger asks for once, however often the activity runs.
func TestUpdateAccountFiresStageTriggersOnce(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	def := `{"key":"adoption","name":"Adoption","trigger":{"on":"stage_changed","to":"adoption"},"steps":[{"id":"s","check_health":{}}]}`
	_, _, err := f.st.SeedPlaybook(ctx, store.NewPlaybookVersion{Key: "adoption", Name: "Adoption",
		Definition: json.RawMessage(def), Source: def, SourceFormat: "json"})
	require.NoError(t, err)
	starts := &startRecorder{st: f.st}
	f.acts.Triggers = &triggers.Service{Store: f.st, Runs: starts, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for range 2 { // a retried activity
		snap, err := exec[accounts.Snapshot](t, f, contract.UpdateAccount, contract.UpdateAccountInput{
			RunID: f.runID, StepID: "to-adoption", AccountID: "acme", LifecycleStage: "adoption"})
		require.NoError(t, err)
		require.Equal(t, "adoption", snap.LifecycleStage)
	}
	require.Equal(t, []string{"adoption/acme"}, starts.started)
}

func TestEscalateApprovalNotifiesTheManager(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, _, err := f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "lead@cs.test", Name: "Lee Lead", Level: "senior_csm"})
	require.NoError(t, err)
	_, _, err = f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "csm@cs.test", Name: "Casey", Level: "csm", ManagerEmail: "lead@cs.test"})
	require.NoError(t, err)
	created, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, contract.CreateApprovalInput{
		RunID: f.runID, StepID: "invite", AccountID: "acme", Assignee: "csm",
		Email:     contract.SendEmailInput{RunID: f.runID, StepID: "invite", AccountID: "acme", Template: "qbr-invite", ToRoles: []string{"champion"}},
		ExpiresAt: time.Now().Add(4 * time.Hour)})
	require.NoError(t, err)
	in := contract.EscalateApprovalInput{RunID: f.runID, StepID: "invite", AccountID: "acme", ApprovalID: created.ApprovalID,
		Level: 2, ExpiresAt: time.Now().Add(6 * time.Hour)}
	for i := 0; i < 2; i++ {
		res, err := exec[contract.EscalateApprovalResult](t, f, contract.EscalateApproval, in)
		require.NoError(t, err)
		require.Equal(t, contract.EscalateApprovalResult{Escalated: true, Assignee: "lead@cs.test"}, res)
	}
	require.Equal(t, 2, f.sender.calls, "the CSM is told once of the approval, the manager once of its escalation")
	require.Empty(t, f.emails(t), "no customer email yet")
	notices := f.notices(t)
	require.Len(t, notices, 2)
	esc := notices[1]
	require.Equal(t, "lead@cs.test", esc.Recipient)
	require.Equal(t, "invite/escalated-L2", esc.StepID)
	require.Contains(t, esc.Subject, "Escalated to you")
	require.Contains(t, esc.Text, "https://cs.example/console/approvals/"+created.ApprovalID)
	require.Contains(t, esc.Text, "Ladder level: 2 (senior csm)")
	tasks, err := f.st.ListTasks(ctx, store.TaskFilter{AssigneeEmail: "lead@cs.test"})
	require.NoError(t, err)
	require.Len(t, tasks, 1)

	// The top of the ladder: nobody above the senior CSM.
	in.Level = 3
	res, err := exec[contract.EscalateApprovalResult](t, f, contract.EscalateApproval, in)
	require.NoError(t, err)
	require.False(t, res.Escalated)
}

func TestEmailsCarryAWorkingUnsubscribeLink(t *testing.T) {
	f := newFixture(t, false)
	links := unsubscribe.New("test-signing-key-of-at-least-32-chars", "https://cs.example")
	f.acts.Links = links
	_, err := f.sendWelcome()
	require.NoError(t, err)

	msg := f.sender.last
	link := strings.Trim(msg.Headers["List-Unsubscribe"], "<>")
	require.True(t, strings.HasPrefix(link, "https://cs.example/v1/unsubscribe?token="), link)
	require.Equal(t, "List-Unsubscribe=One-Click", msg.Headers["List-Unsubscribe-Post"])
	require.Contains(t, msg.Text, "Unsubscribe: "+link)
	require.Contains(t, msg.HTML, `<a href="`+html.EscapeString(link)+`">Unsubscribe</a>`)
	stored := f.emails(t)[0]
	require.Equal(t, msg.Text, stored.Text, "the outbox keeps what was sent")

	u, _ := url.Parse(link)
	id, err := links.Verify(u.Query().Get("token"))
	require.NoError(t, err)
	require.Equal(t, stored.ID, id, "the link names the email it came with")

	// After unsubscribing, the next email to Pat is skipped, in any run.
	_, err = f.st.UnsubscribeByEmailID(context.Background(), id)
	require.NoError(t, err)
	res, err := exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "later", AccountID: "acme", Template: "monthly-update", ToRoles: []string{"champion"}})
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped)
	require.Equal(t, 1, f.sender.calls)
	task, err := exec[contract.CreateTaskResult](t, f, contract.CreateTask, contract.CreateTaskInput{
		RunID: f.runID, StepID: "call-pat", AccountID: "acme", Title: "Call Pat", Assignee: "csm", Priority: "normal"})
	require.NoError(t, err)
	require.NotEmpty(t, task.TaskID, "tasks still appear for an unsubscribed contact's account")

	// A bounce suppresses too, even for a contact who never unsubscribed.
	require.NoError(t, f.st.Suppress(context.Background(), "PAT@acme.test", "bounce", "sendgrid"))
	contacts, err := f.st.ContactsWithRoles(context.Background(), "acme", []string{"champion"})
	require.NoError(t, err)
	require.True(t, contacts[0].Unsubscribed)
}

func TestSendEmailDefersCappedRecipients(t *testing.T) {
	f := newFixture(t, false)
	f.acts.Cap = store.FrequencyCap{Count: 1, Window: 24 * time.Hour}
	send := func(step string) contract.SendEmailResult {
		res, err := exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
			RunID: f.runID, StepID: step, AccountID: "acme", Template: "welcome", ToRoles: []string{"champion"}, Automated: true})
		require.NoError(t, err)
		return res
	}
	require.Nil(t, send("first").DeferUntil)
	second := send("second")
	require.NotNil(t, second.DeferUntil, "the cap delays the second email")
	require.WithinDuration(t, time.Now().Add(24*time.Hour), *second.DeferUntil, time.Minute)
	require.Zero(t, second.Sent)
	require.Len(t, f.emails(t), 1, "nothing is written for a deferred recipient")
	require.Equal(t, 1, f.sender.calls)
}
