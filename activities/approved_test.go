package activities_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/simulate"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/unsubscribe"
	"github.com/playbookd/playbookd/workflows"
)

const approvalDefinition = `key: onboarding
name: One approval
steps:
  - id: invite
    approval:
      assignee: csm
      email: {template: %s, to: [champion]}
`

// approveRun runs a one-step approval playbook through the interpreter on
// the real activities: the email is drafted at the start; an hour later
// meanwhile changes the world under the draft, and the CSM approves with the
// edits. It returns the approval as stored and the step's detail.
func (f *fixture) approveRun(t *testing.T, template string, edits *message.Content, meanwhile func()) (store.Approval, string) {
	t.Helper()
	ctx := context.Background()
	def, err := playbook.Parse([]byte(fmt.Sprintf(approvalDefinition, template)), playbook.Options{BuiltinTemplates: f.acts.Templates.Names()})
	require.NoError(t, err)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	// The default 3 s of wall-clock idleness ends a test run early on a
	// loaded machine under -race (seen: a cancelled run never recorded).
	env.SetTestTimeout(time.Minute)
	f.acts.Register(env)
	var (
		approvalID string
		failures   []error // the callback runs off the test goroutine: no require there
	)
	env.RegisterDelayedCallback(func() {
		pending, err := f.st.ListApprovals(ctx, store.ApprovalFilter{Status: "pending"})
		if err != nil || len(pending) != 1 {
			failures = append(failures, fmt.Errorf("pending approvals: %v %v", pending, err))
			return
		}
		approvalID = pending[0].ID.String()
		if meanwhile != nil {
			meanwhile()
		}
		env.UpdateWorkflow(workflows.DecideUpdate, "decide", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { failures = append(failures, err) },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { failures = append(failures, err) },
		}, workflows.Decision{ApprovalID: approvalID, Decision: "approve", By: "csm@cs.test", Comment: "ok", Edits: edits})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.PlaybookRun, workflows.RunInput{RunID: f.runID, AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, Definition: *def})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	for _, err := range failures {
		require.NoError(t, err)
	}
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var p workflows.Progress
	require.NoError(t, v.Get(&p))
	approval, err := f.st.GetApproval(ctx, uuid.MustParse(approvalID))
	require.NoError(t, err)
	return approval, p.Done[len(p.Done)-1].Detail
}

// approvedFor is the content the approval stores as approved for one address.
func approvedFor(t *testing.T, a store.Approval, to string) message.Content {
	t.Helper()
	for _, d := range a.Drafts {
		if d.To == to {
			require.NotNil(t, d.Approved, "approved content for %s", to)
			return *d.Approved
		}
	}
	t.Fatalf("no draft for %s in %+v", to, a.Drafts)
	return message.Content{}
}

// A CSM who edits the subject and the text sends them in both parts: the
// html is laid out from the edited text, never left as drafted, whether the
// template has its own html (welcome) or is laid out from its text
// (qbr-invite).
func TestAnApprovedEditOfSubjectAndTextIsSentInBothParts(t *testing.T) {
	for template, drafted := range map[string]string{"welcome": "Welcome aboard", "qbr-invite": "Your first quarter"} {
		t.Run(template, func(t *testing.T) {
			f := newFixture(t, false)
			edits := &message.Content{Subject: "Shall we meet?", Text: "Hi Pat,\n\nShall we meet & talk next week?\n\nCasey\n"}
			approval, detail := f.approveRun(t, template, edits, nil)
			require.Equal(t, "approved by csm@cs.test; 1 sent, 0 skipped, 0 failed", detail)

			emails := f.emails(t)
			require.Len(t, emails, 1)
			sent := emails[0]
			require.Equal(t, edits.Subject, sent.Subject)
			require.Equal(t, edits.Text, sent.Text)
			// Laid out from the edited text; the footer's slot is the draft's
			// (a laid-out draft keeps its brand and footer).
			layout := templates.Layout(edits.Subject, edits.Text)
			require.True(t, strings.HasPrefix(sent.HTML, layout[:strings.Index(layout, "<!--playbookd:footer-->")]), sent.HTML)
			require.Contains(t, sent.HTML, "Shall we meet &amp; talk next week?")
			require.NotContains(t, sent.HTML, drafted, "the customer must not read the unedited email")
			require.Equal(t, message.Content{Subject: sent.Subject, HTML: sent.HTML, Text: sent.Text},
				approvedFor(t, approval, "pat@acme.test"), "what is sent is what the approval stores as approved")
		})
	}
}

// Each recipient gets the draft the CSM saw for them, as approved: not a
// render made at send time (Pat was renamed in between), not another
// recipient's render; a contact given the role after the draft gets nothing.
func TestEachRecipientGetsTheDraftApprovedForThem(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	champions := func(contacts ...store.UpsertContact) {
		_, _, err := f.st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb",
			CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active", Contacts: contacts})
		if err != nil {
			panic(err)
		}
	}
	champions(store.UpsertContact{Email: "ann@acme.test", Name: "Ann Lee", Role: "champion"})
	approval, detail := f.approveRun(t, "qbr-invite", &message.Content{Subject: "QBR?"}, func() {
		champions(store.UpsertContact{Email: "pat@acme.test", Name: "Patricia Smith", Role: "champion"},
			store.UpsertContact{Email: "zed@acme.test", Name: "Zed", Role: "champion"})
	})
	require.Equal(t, "approved by csm@cs.test; 2 sent, 0 skipped, 0 failed; "+
		"1 not sent: not in the approved draft (given the role after it was made)", detail)

	require.EqualValues(t, "approved", approval.Status)
	require.Equal(t, "csm@cs.test", *approval.DecidedBy)
	require.NotNil(t, approval.DecidedAt)
	require.Equal(t, "ok", approval.Comment)
	require.Len(t, approval.Drafts, 2)
	sent := map[string]store.Email{}
	for _, e := range f.emails(t) {
		sent[e.Recipient] = e
	}
	require.Len(t, sent, 2, "zed was not in the draft")
	for to, greeting := range map[string]string{"pat@acme.test": "Hi Pat,", "ann@acme.test": "Hi Ann,"} {
		got := sent[to]
		require.True(t, strings.HasPrefix(got.Text, greeting), "%s got %q", to, got.Text)
		require.Equal(t, "QBR?", got.Subject)
		require.Contains(t, got.HTML, "<title>QBR?</title>", "the laid-out html follows the edited subject")
		require.Equal(t, approvedFor(t, approval, to), message.Content{Subject: got.Subject, HTML: got.HTML, Text: got.Text},
			"what %s is sent is byte for byte what the approval stores as approved", to)
	}
}

// The approved content has no unsubscribe link (its html's footer says the
// send adds it): each outbox row adds its own, once, matching its header,
// with the brand's postal address.
func TestAnApprovedEmailCarriesItsOwnUnsubscribeLinkOnce(t *testing.T) {
	f := newFixture(t, false)
	f.acts.Links = unsubscribe.New("test-signing-key-of-at-least-32-chars", "https://cs.example")
	approval, _ := f.approveRun(t, "welcome", nil, nil)
	approved := approvedFor(t, approval, "pat@acme.test")
	require.NotContains(t, approved.Text, "nsubscribe")
	require.NotContains(t, approved.HTML, "/unsubscribe")
	require.Contains(t, approved.HTML, "The unsubscribe link is added when the email is sent.")

	sent := f.emails(t)[0]
	link := f.acts.Links.URL(sent.ID)
	require.Equal(t, "<"+link+">", f.sender.last.Headers["List-Unsubscribe"])
	require.Equal(t, approved.Text+"\n--\nCustomer Success · postal address not set (MAIL_POSTAL_ADDRESS)\nUnsubscribe: "+link+"\n", sent.Text)
	require.Equal(t, 1, strings.Count(sent.HTML, "Unsubscribe"))
	require.Contains(t, sent.HTML, `<a href="`+html.EscapeString(link)+`">Unsubscribe</a>`)
	require.Equal(t, approved.Subject, sent.Subject)
}

// Edits that cannot be sent as approved are refused, and the approval stays
// pending.
func TestApproverEditsThatCannotBeSentAreRefused(t *testing.T) {
	tests := map[string]struct {
		edits   message.Content
		message string
	}{
		"CR LF in the subject": {message.Content{Subject: "Hi\r\nBcc: all@example.test"},
			"the approver's edits: the subject must be a single line without control characters"},
		"html without text": {message.Content{HTML: "<p>New</p>"},
			"the approver's edits: the text is required with an edited html, so that plain-text readers get the same email"},
		"laid-out text over the html bound": {message.Content{Text: strings.Repeat("&", templates.MaxTextBytes)},
			"the approver's edits: for pat@acme.test: the html is longer than the limit of 524288 bytes"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, false)
			created, err := exec[contract.CreateApprovalResult](t, f, contract.CreateApproval, contract.CreateApprovalInput{
				RunID: f.runID, StepID: "invite", AccountID: "acme", Assignee: "csm", ExpiresAt: time.Now().Add(time.Hour),
				Email: contract.SendEmailInput{RunID: f.runID, StepID: "invite", AccountID: "acme", Template: "qbr-invite", ToRoles: []string{"champion"}}})
			require.NoError(t, err)
			_, err = exec[struct{}](t, f, contract.RecordApprovalDecision, contract.RecordApprovalDecisionInput{
				ApprovalID: created.ApprovalID, Status: "approved", DecidedBy: "csm@cs.test", Edits: &tt.edits})
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "got %v", err)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, tt.message, appErr.Message())
			approval, err := f.st.GetApproval(context.Background(), uuid.MustParse(created.ApprovalID))
			require.NoError(t, err)
			require.EqualValues(t, "pending", approval.Status)
		})
	}
}

// One edit of the text for two recipients keeps each one's greeting: the
// edit's fields are filled in for each (before, the CEO got "Hi Dana,").
func TestAnEditedTextGreetsEachRecipientByName(t *testing.T) {
	f := newFixture(t, false)
	_, _, err := f.st.UpsertAccount(context.Background(), store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb",
		CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active", Contacts: []store.UpsertContact{
			{Email: "dana@acme.test", Name: "Dana Diaz", Role: "champion"},
			{Email: "ceo@acme.test", Name: "Lee Chen", Role: "champion"}}})
	require.NoError(t, err)
	edits := &message.Content{Text: "Hi {{.Contact.FirstName}},\n\nCould we meet next week about {{.Account.Name}}'s results?"}
	approval, _ := f.approveRun(t, "qbr-invite", edits, nil)
	sent := map[string]store.Email{}
	for _, e := range f.emails(t) {
		sent[e.Recipient] = e
	}
	for to, name := range map[string]string{"dana@acme.test": "Dana", "ceo@acme.test": "Lee"} {
		want := "Hi " + name + ",\n\nCould we meet next week about Acme's results?"
		require.Equal(t, want, sent[to].Text)
		require.Contains(t, sent[to].HTML, "Hi "+name+",")
		require.Equal(t, want, approvedFor(t, approval, to).Text, "stored as approved for %s", to)
	}
}

// The preview is the send: one approved, edited email to two recipients,
// made three ways (the send path, and the simulation and the approval page
// as every edge gets them from the application core), is the same email for
// each recipient, fields filled in for each (ARR included).
func TestOneEditedApprovalComposedThreeWays(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	contacts := []store.UpsertContact{{Email: "dana@acme.test", Name: "Dana Diaz", Role: "champion"},
		{Email: "ceo@acme.test", Name: "Lee Chen", Role: "champion"}}
	_, _, err := f.st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb",
		CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active", Contacts: contacts})
	require.NoError(t, err)
	edits := &message.Content{Subject: "Your {{.Account.Name}} review", Text: "Hi {{.Contact.FirstName}},\n\n" +
		"{{.Account.Name}} ({{.Account.ARR}} a year) is doing well. {{.CSM.Name}}"}

	// 1. The send path: the run drafts, the CSM approves with the edits, the activity sends.
	approval, _ := f.approveRun(t, "qbr-invite", edits, nil)
	sent := map[string]message.Content{}
	for _, e := range f.emails(t) {
		sent[e.Recipient] = message.Content{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	}
	require.Len(t, sent, 3, "pat, the seeded champion, dana and lee")

	// 2. The approval page: every recipient's final email before approving.
	core, _ := app.Build(app.Deps{Store: f.st, Templates: f.acts.Templates})
	e := templates.Rendered(*edits)
	page, err := core.Approvals.Preview(ctx, team.Actor{Role: team.RoleAdmin}, approval.ID, &e)
	require.NoError(t, err)

	// 3. The simulation, for the same stored account.
	def, err := playbook.Parse([]byte(fmt.Sprintf(approvalDefinition, "qbr-invite")), app.PlaybookOptions(f.acts.Templates, netguard.Policy{}, nil))
	require.NoError(t, err)
	in, err := core.SimulationFor(ctx, def, "acme", time.Now())
	require.NoError(t, err)
	in.Decisions = []simulate.Decision{{StepID: "invite", Decision: "approve", At: playbook.Duration(time.Hour), Edits: edits}}
	simulated := simulatedInvites(t, in)

	require.Len(t, page, 3)
	for _, p := range page {
		want := sent[p.To]
		require.Equal(t, want, message.Content(p.Email), "the approval page shows %s what is sent", p.To)
		require.Equal(t, want, simulated[p.To], "the simulation shows %s what is sent", p.To)
		require.Equal(t, want, approvedFor(t, approval, p.To), "the approval stores for %s what is sent", p.To)
		require.Contains(t, want.Text, "Acme (12000 a year)")
	}
	require.Contains(t, sent["ceo@acme.test"].Text, "Hi Lee,")
	require.Contains(t, sent["dana@acme.test"].Text, "Hi Dana,")
}

// The latest snapshot's metrics read the same in an email sent, on the
// approval page and in a simulation of the stored account.
func TestMetricsComposedThreeWays(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, _, err := f.st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 12000, Segment: "smb",
		CSMEmail: "csm@cs.test", Timezone: "UTC", LifecycleStage: "onboarding", Status: "active",
		Contacts: []store.UpsertContact{{Email: "dana@acme.test", Name: "Dana Diaz", Role: "champion"}}})
	require.NoError(t, err)
	_, err = f.st.AddHealthSnapshot(ctx, "acme", time.Date(2026, 5, 31, 12, 0, 0, 0, time.UTC), time.Hour,
		func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
			return store.NewHealthSnapshot{Score: 64, Band: "yellow", Model: "default",
				Inputs:     []byte(`{"active_users": 42, "licensed_users": 50, "critical_tickets": 0, "total_tickets": 10}`),
				Components: []byte(`{"components": [{"name": "usage", "points": 24, "weight": 30}]}`)}, nil
		})
	require.NoError(t, err)

	approval, _ := f.approveRun(t, "monthly-usage-update", nil, nil)
	sent := map[string]message.Content{}
	for _, e := range f.emails(t) {
		sent[e.Recipient] = message.Content{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	}
	core, _ := app.Build(app.Deps{Store: f.st, Templates: f.acts.Templates})
	page, err := core.Approvals.Preview(ctx, team.Actor{Role: team.RoleAdmin}, approval.ID, nil)
	require.NoError(t, err)
	def, err := playbook.Parse([]byte(fmt.Sprintf(approvalDefinition, "monthly-usage-update")), app.PlaybookOptions(f.acts.Templates, netguard.Policy{}, nil))
	require.NoError(t, err)
	in, err := core.SimulationFor(ctx, def, "acme", time.Now())
	require.NoError(t, err)
	in.Decisions = []simulate.Decision{{StepID: "invite", Decision: "approve", At: playbook.Duration(time.Hour)}}
	simulated := simulatedInvites(t, in)

	require.NotEmpty(t, page)
	for _, p := range page {
		want := sent[p.To]
		require.Equal(t, want, message.Content(p.Email), "the approval page shows %s what is sent", p.To)
		require.Equal(t, want, simulated[p.To], "the simulation shows %s what is sent", p.To)
	}
	require.Contains(t, sent["dana@acme.test"].Text, "on 2026-05-31:\n- Active users: 42\n- Licensed users: 50\n- Seats in use: 84%\n- Critical tickets: 0\n- Health score: 64 out of 100\n")
}

// simulatedInvites runs the simulation and returns each recipient's email
// of its invite step.
func simulatedInvites(t *testing.T, in simulate.Input) map[string]message.Content {
	t.Helper()
	res, err := simulate.Run(in)
	require.NoError(t, err)
	out := map[string]message.Content{}
	for _, entry := range res.Timeline {
		if entry.Action == "email" && entry.StepID == "invite" {
			for _, m := range entry.Emails {
				out[m.To] = message.Content{Subject: m.Subject, HTML: m.HTML, Text: m.Text}
			}
		}
	}
	return out
}
