package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
)

// approvalInput asks Casey (the CSM) to approve the step's QBR invitation.
func (f *fixture) approvalInput(step string) contract.CreateApprovalInput {
	return contract.CreateApprovalInput{RunID: f.runID, StepID: step, AccountID: "acme", Assignee: "csm",
		Email:     contract.SendEmailInput{RunID: f.runID, StepID: step, AccountID: "acme", Template: "qbr-invite", ToRoles: []string{"champion"}},
		ExpiresAt: time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)}
}

// withManager gives Casey a manager, Lee, at level 2.
func (f *fixture) withManager(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	_, _, err := f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "lead@cs.test", Name: "Lee Lead", Level: "senior_csm"})
	require.NoError(t, err)
	_, _, err = f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "csm@cs.test", Name: "Casey", Level: "csm", ManagerEmail: "lead@cs.test"})
	require.NoError(t, err)
}

// The assignee of a new approval is emailed once, however often the
// activity runs, with the essentials and a link to the approval's console
// page; the notice is a team email, apart from the customer's, with no
// unsubscribe link, and not held by the customers' frequency cap.
func TestAnAssignedApprovalEmailsItsAssigneeOnce(t *testing.T) {
	f := newFixture(t, false)
	f.acts.Cap = store.FrequencyCap{Count: 1, Window: 24 * time.Hour}
	var created contract.CreateApprovalResult
	for range 2 { // a retried activity
		var err error
		created, err = exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
		require.NoError(t, err)
	}
	require.Equal(t, 1, f.sender.calls)
	require.Empty(t, f.emails(t), "nothing has gone to the customer")
	notices := f.notices(t)
	require.Len(t, notices, 1)
	n := notices[0]
	require.Equal(t, "csm@cs.test", n.Recipient)
	require.Equal(t, store.EmailToTeam, n.Kind)
	require.Equal(t, "invite/assigned", n.StepID)
	require.Equal(t, "approval-assigned", n.Template)
	require.Nil(t, n.ContactID)
	require.Equal(t, "Approval needed: invite for Acme", n.Subject)
	link := "https://cs.example/console/approvals/" + created.ApprovalID
	for _, want := range []string{"Hi Casey,", "Account: Acme (smb)", "Playbook: onboarding, step invite",
		"Ladder level: 1 (csm)", "Decide by: Tue 1 Dec 2026 14:00 UTC", link} {
		require.Contains(t, n.Text, want)
	}
	require.Contains(t, n.HTML, `<a href="`+link+`">Open the approval</a>`)
	require.NotContains(t, n.Text, "Unsubscribe")
	require.Empty(t, f.sender.last.Headers["List-Unsubscribe"])
	require.Equal(t, mail.Address{Name: "Casey", Email: "csm@cs.test"}, f.sender.last.To)

	// A second approval for Casey is told too: a cap of one email a day to
	// an address is for customers, and notices do not count towards it.
	_, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("renewal"))
	require.NoError(t, err)
	require.Len(t, f.notices(t), 2)
	require.Equal(t, 2, f.sender.calls)
}

// A provider that does not take the notice fails the activity for
// Temporal's retry; the retry sends it once and the approval is not drafted
// twice.
func TestAnAssignmentNoticeIsRetriedUntilSent(t *testing.T) {
	f := newFixture(t, false)
	f.sender.errs = []error{fmt.Errorf("%w: status 503", mail.ErrNotAccepted)}
	_, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
	require.Error(t, err)
	require.Equal(t, states.EmailPending, f.notices(t)[0].Status)
	created, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
	require.NoError(t, err)
	require.Equal(t, 2, f.sender.calls)
	notices := f.notices(t)
	require.Len(t, notices, 1)
	require.Equal(t, states.EmailSent, notices[0].Status)
	approvals, err := f.st.ListApprovals(context.Background(), store.ApprovalFilter{})
	require.NoError(t, err)
	require.Len(t, approvals, 1)
	require.Equal(t, created.ApprovalID, approvals[0].ID.String())
}

// slackStandIn answers the queued statuses, then 200, keeping every body.
type slackStandIn struct {
	mu       sync.Mutex
	statuses []int
	bodies   []map[string]any
	accepted int
}

func (s *slackStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, body)
	status := http.StatusOK
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	if r.Header.Get("Content-Type") != "application/json" {
		status = http.StatusBadRequest
	}
	if status == http.StatusOK {
		s.accepted++
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "ok")
}

func (f *fixture) withSlack(t *testing.T, statuses ...int) *slackStandIn {
	t.Helper()
	slack := &slackStandIn{statuses: statuses}
	srv, _ := standIn(t, slack.ServeHTTP)
	f.acts.SlackWebhookURL = srv.URL + "/services/T000/B000/secret"
	f.acts.HTTP = activities.NewWebhookClient(activities.WebhookClientConfig{Guard: standIns})
	return slack
}

func noticeStatus(t *testing.T, f *fixture, approvalID string, level int) string {
	t.Helper()
	status, err := f.st.NoticeStatus(context.Background(),
		store.ApprovalNotice{ApprovalID: uuid.MustParse(approvalID), Level: level, Channel: store.NoticeSlack})
	require.NoError(t, err)
	return status
}

// With SLACK_WEBHOOK_URL, the assignment and each escalation post one Block
// Kit message with a button to the approval's page: a 5xx answer is retried
// by the activity's retry, and what Slack took is never posted again.
func TestSlackIsToldOncePerApprovalAndLevel(t *testing.T) {
	f := newFixture(t, false)
	f.withManager(t)
	slack := f.withSlack(t, http.StatusServiceUnavailable)

	_, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
	require.Error(t, err, "a 503 is for the activity's retry")
	var created contract.CreateApprovalResult
	for range 2 {
		created, err = exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
		require.NoError(t, err)
	}
	require.Len(t, slack.bodies, 2, "the refused post and its retry; nothing after it was taken")
	require.Equal(t, 1, slack.accepted)
	require.Equal(t, 1, f.sender.calls, "the email went once, in the first attempt")
	require.Equal(t, store.NoticeSent, noticeStatus(t, f, created.ApprovalID, 1))

	link := "https://cs.example/console/approvals/" + created.ApprovalID
	body := slack.bodies[1]
	require.Equal(t, "Approval needed: invite for Acme, for Casey by Tue 1 Dec 2026 14:00 UTC", body["text"])
	blocks := body["blocks"].([]any)
	require.Len(t, blocks, 1)
	section := blocks[0].(map[string]any)
	require.Equal(t, "section", section["type"])
	text := section["text"].(map[string]any)
	require.Equal(t, "mrkdwn", text["type"])
	require.Contains(t, text["text"], "<"+link+"|invite>")
	require.Contains(t, text["text"], "Account *Acme*")
	require.Contains(t, text["text"], "ladder level 1 (csm)")
	button := section["accessory"].(map[string]any)
	require.Equal(t, "button", button["type"])
	require.Equal(t, link, button["url"])
	require.Equal(t, "Open the approval", button["text"].(map[string]any)["text"])

	esc := contract.EscalateApprovalInput{RunID: f.runID, StepID: "invite", AccountID: "acme", ApprovalID: created.ApprovalID,
		Level: 2, ExpiresAt: time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)}
	for range 2 {
		_, err := exec[contract.EscalateApprovalResult](t, f, contract.EscalateApproval, esc)
		require.NoError(t, err)
	}
	require.Len(t, slack.bodies, 3)
	require.Equal(t, 2, slack.accepted)
	require.Contains(t, slack.bodies[2]["text"], "Approval escalated: invite for Acme, for Lee Lead by Tue 1 Dec 2026 16:00 UTC")
	require.Equal(t, store.NoticeSent, noticeStatus(t, f, created.ApprovalID, 2))
	require.Equal(t, 2, f.sender.calls, "one email per level")
}

// Slack refusing the post (a revoked webhook answers 404) is recorded and
// does not hold the run up; a post an earlier attempt was making when it
// died is not made again.
func TestSlackRefusalsAndInterruptedPosts(t *testing.T) {
	f := newFixture(t, false)
	f.withManager(t)
	slack := f.withSlack(t, http.StatusNotFound)
	created, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
	require.NoError(t, err)
	require.Equal(t, store.NoticeFailed, noticeStatus(t, f, created.ApprovalID, 1))

	// An attempt claimed level 2 and died while posting.
	before, err := f.st.StartNotice(context.Background(),
		store.ApprovalNotice{ApprovalID: uuid.MustParse(created.ApprovalID), Level: 2, Channel: store.NoticeSlack})
	require.NoError(t, err)
	require.Equal(t, store.NoticePending, before)
	_, err = exec[contract.EscalateApprovalResult](t, f, contract.EscalateApproval, contract.EscalateApprovalInput{
		RunID: f.runID, StepID: "invite", AccountID: "acme", ApprovalID: created.ApprovalID, Level: 2, ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, store.NoticeUncertain, noticeStatus(t, f, created.ApprovalID, 2))
	require.Len(t, slack.bodies, 1, "only the refused post")
	require.Len(t, f.notices(t), 2, "the emails went regardless")
}

// The sweep sends each team member with work waiting one digest a day:
// their pending approvals, with links, and their overdue tasks; a member
// with nothing waiting gets none, and a second sweep that day sends nothing.
func TestTheDailyDigestGoesOnceToWhoeverHasWorkWaiting(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, _, err := f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "idle@cs.test", Name: "Idle", Level: "csm"})
	require.NoError(t, err)
	created, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, f.approvalInput("invite"))
	require.NoError(t, err)
	due := time.Now().Add(-2 * time.Hour)
	_, err = exec[contract.CreateTaskResult](t, f, contract.CreateTask, contract.CreateTaskInput{
		RunID: f.runID, StepID: "call", AccountID: "acme", Title: "Call Pat", Assignee: "csm", Priority: "high", DueAt: &due})
	require.NoError(t, err)
	later := time.Now().Add(48 * time.Hour)
	_, err = exec[contract.CreateTaskResult](t, f, contract.CreateTask, contract.CreateTaskInput{
		RunID: f.runID, StepID: "later", AccountID: "acme", Title: "Plan the QBR", Assignee: "csm", Priority: "normal", DueAt: &later})
	require.NoError(t, err)
	f.acts.Triggers = &triggers.Service{Store: f.st, Runs: &startRecorder{st: f.st}, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.acts.Digests = true
	require.Equal(t, 1, f.sender.calls, "the approval's notice")
	for i := range 2 {
		res, err := exec[contract.SweepResult](t, f, contract.SweepTriggers, nil)
		require.NoError(t, err)
		require.Equal(t, 1-i, res.Digests)
	}
	require.Equal(t, 2, f.sender.calls)
	msg := f.sender.last
	require.Equal(t, "csm@cs.test", msg.To.Email)
	require.Equal(t, "Your day: 1 approval pending, 1 task overdue", msg.Subject)
	require.Contains(t, msg.Text, "- invite at level 1 (csm) for Acme, decide by Tue 1 Dec 2026 14:00 UTC: https://cs.example/console/approvals/"+created.ApprovalID)
	require.Contains(t, msg.Text, "- Call Pat for Acme, due ")
	require.NotContains(t, msg.Text, "Plan the QBR", "a task not yet due is not overdue")
	require.Contains(t, msg.HTML, `<a href="https://cs.example/console/">Open your inbox</a>`)
}

// recordingSender keeps every message it is given.
type recordingSender struct{ sent []mail.Message }

func (s *recordingSender) Send(_ context.Context, msg mail.Message) (mail.Receipt, error) {
	s.sent = append(s.sent, msg)
	return mail.Receipt{Status: states.EmailSent}, nil
}

// An account that turned red is in the next digest of its CSM (who has
// nothing else waiting) and of the manager who holds the recovery's
// approval, with what it started and who holds it, in each one's time zone.
func TestTheDailyDigestTellsOfRiskOnTheMembersAccounts(t *testing.T) {
	f := newFixture(t, false)
	f.withManager(t)
	ctx := context.Background()
	_, _, err := f.st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "csm@cs.test", Name: "Casey", Level: "csm",
		ManagerEmail: "lead@cs.test", Timezone: "Europe/Berlin"})
	require.NoError(t, err)
	measure := func(score float64, band string, firings ...store.NewFiring) {
		_, err := f.st.AddHealthSnapshot(ctx, "acme", time.Now(), time.Hour, func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
			return store.NewHealthSnapshot{Score: score, Band: band, Inputs: json.RawMessage(`{}`), Firings: firings}, nil
		})
		require.NoError(t, err)
	}
	measure(85, "green")
	measure(35, "red", store.NewFiring{PlaybookKey: "red-recovery", Occasion: "band:red"})
	starts := &startRecorder{st: f.st}
	trig := &triggers.Service{Store: f.st, Runs: starts, Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	require.NoError(t, trig.Process(ctx, "acme"))
	recovery, err := f.st.LiveRun(ctx, "acme", "red-recovery")
	require.NoError(t, err)
	_, err = f.st.CreateApproval(ctx, store.NewApproval{RunID: recovery.ID, StepID: "c-level-outreach", AccountID: "acme",
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	sender := &recordingSender{}
	f.acts.Sender, f.acts.Triggers, f.acts.Digests = sender, trig, true
	res, err := exec[contract.SweepResult](t, f, contract.SweepTriggers, nil)
	require.NoError(t, err)
	require.Equal(t, 2, res.Digests)
	byTo := map[string]mail.Message{}
	for _, m := range sender.sent {
		byTo[m.To.Email] = m
	}
	casey := byTo["csm@cs.test"]
	require.Equal(t, "Your day: 0 approvals pending, 0 tasks overdue, 1 risk change on your accounts", casey.Subject)
	require.Contains(t, casey.Text, "Risk on your accounts since the last digest:\n- Acme: Health fell from green to red (score 35), ")
	require.Regexp(t, `\d\d:\d\d CES?T; red-recovery started \(approval held by Lee Lead\): https://cs\.example/console/accounts/acme\n`, casey.Text,
		"in Casey's zone, with what started and who holds it")
	require.Contains(t, casey.HTML, `<a href="https://cs.example/console/accounts/acme">Acme</a>: Health fell from green to red (score 35)`)
	lee := byTo["lead@cs.test"]
	require.Equal(t, "Your day: 1 approval pending, 0 tasks overdue, 1 risk change on your accounts", lee.Subject)
	require.Regexp(t, `Health fell from green to red \(score 35\), .* UTC; red-recovery started`, lee.Text)
}
