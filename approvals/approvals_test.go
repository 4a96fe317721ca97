package approvals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
)

// fakeRuns is the run side of a decision: it records what it is sent, and
// refuses as the Update validator does when refuse is set.
type fakeRuns struct {
	sent   []runs.Decision
	refuse bool
}

func (f *fakeRuns) Decide(_ context.Context, _ string, d runs.Decision) (runs.DecisionResult, error) {
	if f.refuse {
		return runs.DecisionResult{}, fmt.Errorf("%w: approval is not pending in this run", runs.ErrDecisionRefused)
	}
	f.sent = append(f.sent, d)
	return runs.DecisionResult{ApprovalID: d.ApprovalID, Status: states.Approval(d.Decision + "d")}, nil
}

var (
	casey   = team.Actor{Role: team.RoleCSM, Email: storetest.CSM}
	lead    = team.Actor{Role: team.RoleCSM, Email: storetest.Manager}
	other   = team.Actor{Role: team.RoleCSM, Email: storetest.Outside}
	opsKey  = team.Actor{Role: team.RoleOps}
	adminer = team.Actor{Role: team.RoleAdmin}
)

func TestDecide(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	// create makes an approval assigned to casey, the account's CSM.
	create := func(t *testing.T, step, draft string, status states.Approval) uuid.UUID {
		text := "Hi Pat,\n\nShall we review the quarter?\n"
		a, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: step, AccountID: l.AccountID,
			AssigneeLevel: "csm", Draft: json.RawMessage(draft), ExpiresAt: time.Now().Add(time.Hour),
			Drafts: []store.ApprovalDraft{{To: "pat@acme.test", Name: "Pat", Content: message.Content{
				Subject: "QBR", HTML: templates.Layout("QBR", text), Text: text}}}})
		require.NoError(t, err)
		if status != states.ApprovalPending {
			_, err := l.Store.DecideApproval(ctx, a.ID, store.ApprovalDecision{Status: status, By: storetest.CSM})
			require.NoError(t, err)
		}
		return a.ID
	}
	const plain, sendgrid = `{"template":"qbr-invite"}`, `{"sendgrid_template_id":"d-123"}`
	tests := []struct {
		name     string
		by       team.Actor
		draft    string
		status   states.Approval // of the approval before the decision
		decision approvals.Decision
		refuse   bool   // the run's validator refuses (a decision raced this one)
		want     error  // nil: sent to the run
		field    string // of an *invalid.Error
		sentBy   string
	}{
		{name: "the assignee decides", by: casey, decision: approvals.Decision{Decision: "approve"}, sentBy: storetest.CSM},
		{name: "their manager decides", by: lead, decision: approvals.Decision{Decision: "reject", Comment: "not now"}, sentBy: storetest.Manager},
		{name: "ops decides anyone's", by: opsKey, decision: approvals.Decision{Decision: "approve"}, sentBy: "ops"},
		{name: "admin decides anyone's", by: adminer, decision: approvals.Decision{Decision: "approve"}, sentBy: "admin"},
		{name: "a csm outside the ladder is refused", by: other, decision: approvals.Decision{Decision: "approve"}, want: team.ErrNotInLadder},
		{name: "a decided approval is refused before the run hears of it", by: casey, status: "approved",
			decision: approvals.Decision{Decision: "reject"}, want: approvals.ErrNotPending},
		{name: "an expired approval is refused", by: lead, status: "expired",
			decision: approvals.Decision{Decision: "approve"}, want: approvals.ErrNotPending},
		{name: "the run refuses a decision that lost a race", by: casey, refuse: true,
			decision: approvals.Decision{Decision: "approve"}, want: approvals.ErrNotPending},
		{name: "neither approve nor reject", by: casey, decision: approvals.Decision{Decision: "maybe"}, field: "decision"},
		{name: "edits of a rejection", by: casey,
			decision: approvals.Decision{Decision: "reject", Edits: &templates.Rendered{Subject: "x"}}, field: "edits"},
		{name: "a subject of two lines", by: casey,
			decision: approvals.Decision{Decision: "approve", Edits: &templates.Rendered{Subject: "Hi\r\nBcc: x@y.test"}}, field: "edits.subject"},
		{name: "edits of a SendGrid template", by: casey, draft: sendgrid,
			decision: approvals.Decision{Decision: "approve", Edits: &templates.Rendered{Subject: "Hi"}}, field: "edits"},
		{name: "edits sent as approved", by: casey,
			decision: approvals.Decision{Decision: "approve", Edits: &templates.Rendered{Subject: "QBR?", Text: "Hi all"}}, sentBy: storetest.CSM},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			draft, status := tt.draft, tt.status
			if draft == "" {
				draft = plain
			}
			if status == "" {
				status = states.ApprovalPending
			}
			id := create(t, "step-"+string(rune('a'+i)), draft, status)
			r := &fakeRuns{refuse: tt.refuse}
			s := &approvals.Service{Store: l.Store, Runs: r}
			d := tt.decision
			d.ApprovalID = id
			got, err := s.Decide(ctx, tt.by, d)
			var bad *invalid.Error
			switch {
			case tt.field != "":
				require.ErrorAs(t, err, &bad)
				require.Equal(t, tt.field, bad.Errors[0].Field, err.Error())
			case tt.want != nil:
				require.ErrorIs(t, err, tt.want)
				require.Equal(t, l.RunID, got.RunID, "a refusal still names the run")
			default:
				require.NoError(t, err)
				require.Equal(t, l.RunID, got.RunID)
				require.Len(t, r.sent, 1)
				require.Equal(t, tt.sentBy, r.sent[0].By)
				require.Equal(t, id.String(), got.Result.ApprovalID)
				if d.Edits != nil {
					require.Equal(t, d.Edits.Subject, r.sent[0].Edits.Subject)
				}
				return
			}
			require.Empty(t, r.sent, "the run heard of no refused decision")
		})
	}
	t.Run("an unknown approval", func(t *testing.T) {
		_, err := (&approvals.Service{Store: l.Store, Runs: &fakeRuns{}}).Decide(ctx, adminer,
			approvals.Decision{ApprovalID: uuid.New(), Decision: "approve"})
		require.ErrorIs(t, err, approvals.ErrNotFound)
	})
}

// A csm's inbox is their own, or the inbox of someone below them.
func TestListShowsTheCallersInbox(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	_, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: "qbr", AccountID: l.AccountID,
		AssigneeLevel: "csm", Draft: json.RawMessage(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	s := &approvals.Service{Store: l.Store, Runs: &fakeRuns{}}
	for _, tt := range []struct {
		name  string
		by    team.Actor
		asked string
		n     int
		want  error
	}{
		{"a csm's own", casey, "", 1, nil},
		{"a manager's own", lead, "", 0, nil},
		{"a manager's report's", lead, storetest.CSM, 1, nil},
		{"someone else's", other, storetest.CSM, 0, team.ErrNotInLadder},
		{"a csm outside the ladder, their own", other, "", 0, nil},
		{"ops, everyone's", opsKey, "", 1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			items, err := s.List(ctx, tt.by, store.ApprovalFilter{AssigneeEmail: tt.asked, Limit: 10})
			require.ErrorIs(t, err, tt.want)
			require.Len(t, items, tt.n)
		})
	}
}

// One approval opens for whoever may decide it, and no one else.
func TestGetShowsOnlyWhatTheCallerMayDecide(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	a, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: "qbr", AccountID: l.AccountID,
		AssigneeLevel: "csm", Draft: json.RawMessage(`{}`), ExpiresAt: time.Now().Add(time.Hour),
		Drafts: []store.ApprovalDraft{{To: "pat@acme.test", Content: message.Content{Subject: "QBR"}}}})
	require.NoError(t, err)
	s := &approvals.Service{Store: l.Store, Runs: &fakeRuns{}}
	for _, tt := range []struct {
		name string
		by   team.Actor
		id   uuid.UUID
		want error
	}{
		{"the assignee", casey, a.ID, nil},
		{"their manager", lead, a.ID, nil},
		{"ops", opsKey, a.ID, nil},
		{"a csm outside the ladder", other, a.ID, team.ErrNotInLadder},
		{"an unknown approval", adminer, uuid.New(), approvals.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Get(ctx, tt.by, tt.id)
			require.ErrorIs(t, err, tt.want)
			if tt.want == nil {
				require.Equal(t, a.ID, got.ID)
				require.Len(t, got.Drafts, 1)
			} else {
				require.Zero(t, got.ID, "nothing of a refused approval is returned")
			}
		})
	}
}

// The approval page shows every recipient's email as approving would send
// it: one edit with fields greets each by name; an edit that cannot be made
// for a recipient is refused naming the part and the recipient.
func TestPreviewShowsEveryRecipientsFinalEmail(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	draft := func(name string) message.Content {
		text := "Hi " + name + ",\n\nShall we review the quarter?\n"
		return message.Content{Subject: "QBR", HTML: templates.Layout("QBR", text), Text: text}
	}
	a, err := l.Store.CreateApproval(ctx, store.NewApproval{RunID: l.RunID, StepID: "qbr", AccountID: l.AccountID,
		AssigneeLevel: "csm", Draft: json.RawMessage(`{"template":"qbr-invite"}`), ExpiresAt: time.Now().Add(time.Hour),
		Drafts: []store.ApprovalDraft{
			{To: "pat@acme.test", Name: "Pat", Content: draft("Pat")},
			{To: "ceo@acme.test", Name: "Lee Chen", Content: draft("Lee")}}})
	require.NoError(t, err)
	s := &approvals.Service{Store: l.Store, Runs: &fakeRuns{}}

	drafts, err := s.Preview(ctx, casey, a.ID, nil)
	require.NoError(t, err)
	require.Len(t, drafts, 2)
	require.Equal(t, "Hi Lee,\n\nShall we review the quarter?\n", drafts[1].Email.Text, "no edits: each recipient's draft")

	edited, err := s.Preview(ctx, casey, a.ID, &templates.Rendered{Text: "Hi {{.Contact.FirstName}}, a shorter note."})
	require.NoError(t, err)
	require.Equal(t, "pat@acme.test", edited[0].To)
	require.Equal(t, "Hi Pat, a shorter note.", edited[0].Email.Text)
	require.Equal(t, "Hi Lee, a shorter note.", edited[1].Email.Text)
	require.Contains(t, edited[1].Email.HTML, "Hi Lee, a shorter note.")

	_, err = s.Preview(ctx, casey, a.ID, &templates.Rendered{Text: "Hi {{.Contact.Nickname}}"})
	var inv *invalid.Error
	require.ErrorAs(t, err, &inv)
	require.Equal(t, "edits.text", inv.Errors[0].Field)
	_, err = s.Decide(ctx, casey, approvals.Decision{ApprovalID: a.ID, Decision: "approve", Edits: &templates.Rendered{Text: "Hi {{.Contact.Nickname}}"}})
	require.ErrorAs(t, err, &inv, "a decision with the same edits is refused before the run hears of it")
	_, err = s.Preview(ctx, other, a.ID, nil)
	require.ErrorIs(t, err, team.ErrNotInLadder)
}
