// Package approvals decides approvals: who may decide, whether the approval
// still waits for a decision, which edits can be sent as approved; the run
// applies the decision.
package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
)

// Sentinel errors.
var (
	ErrNotFound   = errors.New("approval not found")
	ErrNotPending = errors.New("the approval is no longer pending")
)

// Store is what deciding needs from PostgreSQL.
type Store interface {
	GetApproval(ctx context.Context, id uuid.UUID) (store.Approval, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]store.Approval, error)
	team.Ladder
}

// Runs delivers a decision to the approval's run.
type Runs interface {
	Decide(ctx context.Context, workflowID string, d runs.Decision) (runs.DecisionResult, error)
}

// Service decides approvals and lists them.
type Service struct {
	Store Store
	Runs  Runs
}

// Decision answers one approval.
type Decision struct {
	ApprovalID uuid.UUID
	Decision   string // approve | reject
	Comment    string
	// Edits replace the drafts' subject or bodies (an empty part keeps the
	// draft's); nil sends the drafts as they are.
	Edits *templates.Rendered
}

// Decided is the run's answer, and the run the approval belongs to.
type Decided struct {
	RunID  uuid.UUID
	Result runs.DecisionResult
}

// Decide checks a decision and delivers it to the approval's run. Once the
// approval is found, RunID is set, also when the decision is refused.
func (s *Service) Decide(ctx context.Context, by team.Actor, d Decision) (Decided, error) {
	if err := d.check(); err != nil {
		return Decided{}, err
	}
	approval, err := s.Store.GetApproval(ctx, d.ApprovalID)
	if errors.Is(err, store.ErrNotFound) {
		return Decided{}, ErrNotFound
	}
	if err != nil {
		return Decided{}, err
	}
	out := Decided{RunID: approval.RunID}
	if err := team.MayAct(ctx, s.Store, by, approval.AssigneeEmail); err != nil {
		return out, err
	}
	// "Still pending?" is asked here, from PostgreSQL, so the answer says
	// what became of the approval (approved, expired, ...) and a decision
	// on a run that has ended never reaches Temporal. Two other guards
	// remain, each for what this one cannot see: the run's Update validator
	// refuses the second of two decisions that both passed here at once
	// (the run handles Updates one at a time), and the row lock in
	// store.DecideApproval keeps the row right against the run's own
	// writes (expiry, escalation) whatever the callers do.
	if approval.Status != states.ApprovalPending {
		return out, fmt.Errorf("%w: it is already %s", ErrNotPending, approval.Status)
	}
	if d.Edits != nil {
		if _, err := s.composed(ctx, approval, d.Edits); err != nil {
			return out, err
		}
	}
	wire := runs.Decision{ApprovalID: d.ApprovalID.String(), Decision: d.Decision, By: by.Name(), Comment: d.Comment}
	if e := d.Edits; e != nil {
		edits := message.Content(*e)
		wire.Edits = &edits
	}
	out.Result, err = s.Runs.Decide(ctx, approval.WorkflowID, wire)
	if errors.Is(err, runs.ErrDecisionRefused) {
		return out, fmt.Errorf("%w: %w", ErrNotPending, err)
	}
	return out, err
}

// check refuses what no approval could take, before anything is read.
func (d Decision) check() error {
	inv := invalid.Error{What: "decision"}
	if d.Decision != "approve" && d.Decision != "reject" {
		inv.Add("decision", "required: approve or reject")
	}
	if d.Edits != nil && d.Decision == "reject" {
		inv.Add("edits", "only an approval carries edits")
	}
	if d.Edits != nil {
		if err := templates.CheckEdits(*d.Edits); err != nil {
			field, _ := editsField(err)
			inv.Add(field, "%s", err)
		}
	}
	return inv.Err()
}

// editsField names the part of the edits an error of templates.CheckEdits or
// Rendered.Edited is about.
func editsField(err error) (string, bool) {
	var tooLarge *templates.TooLargeError
	var bad *templates.EditError
	switch {
	case errors.As(err, &tooLarge):
		return "edits." + tooLarge.Part, true
	case errors.As(err, &bad):
		return "edits." + bad.Part, true
	}
	return "edits", false
}

// EditSource is what a person edits once for every recipient: the
// template's subject and text with their fields ({{.Contact.FirstName}}), so
// an edit keeps each recipient's own greeting. ok is false for an approval
// drafted before the source was stored, or of a SendGrid template.
func EditSource(approval store.Approval) (subject, text string, ok bool) {
	var d struct {
		SourceSubject string `json:"source_subject"`
		SourceText    string `json:"source_text"`
	}
	if json.Unmarshal(approval.Draft, &d) != nil || d.SourceText == "" {
		return "", "", false
	}
	return d.SourceSubject, d.SourceText, true
}

// Recipient is one recipient's email as it would be sent.
type Recipient struct {
	To    string
	Name  string
	Email templates.Rendered
}

// Preview is every recipient's email as approving with the edits would send
// it (nil edits: the drafts), made the way the decision makes it
// (compose.Approved); edits that cannot be sent are an *invalid.Error.
func (s *Service) Preview(ctx context.Context, by team.Actor, id uuid.UUID, edits *templates.Rendered) ([]Recipient, error) {
	approval, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if edits != nil {
		if err := (Decision{Decision: "approve", Edits: edits}).check(); err != nil {
			return nil, err
		}
	}
	emails, err := s.composed(ctx, approval, edits)
	if err != nil {
		return nil, err
	}
	out := make([]Recipient, len(approval.Drafts))
	for i, d := range approval.Drafts {
		out[i] = Recipient{To: d.To, Name: d.Name, Email: emails[d.To]}
	}
	return out, nil
}

// composed is each recipient's email with the edits filled in for them. It
// refuses edits of a SendGrid dynamic template (SendGrid renders it) and
// edits that cannot be made for every recipient (a field that does not
// exist, a part over its bound once filled in).
func (s *Service) composed(ctx context.Context, approval store.Approval, edits *templates.Rendered) (map[string]templates.Rendered, error) {
	var d struct {
		SendGridTemplateID string `json:"sendgrid_template_id"`
	}
	inv := invalid.Error{What: "decision"}
	if edits != nil && json.Unmarshal(approval.Draft, &d) == nil && d.SendGridTemplateID != "" {
		inv.Add("edits", "the email is the SendGrid template %s: SendGrid renders it, so it cannot be edited here", d.SendGridTemplateID)
		return nil, inv.Err()
	}
	acct, err := s.Store.GetAccount(ctx, approval.AccountID)
	if err != nil {
		return nil, fmt.Errorf("load the approval's account: %w", err)
	}
	emails, err := compose.Approved(acct, approval.Drafts, edits)
	if err == nil {
		return emails, nil
	}
	field, ok := editsField(err)
	if !ok {
		return nil, err
	}
	var who *compose.RecipientError
	if errors.As(err, &who) {
		inv.Add(field, "the email to %s: %v", who.To, who.Err)
	} else {
		inv.Add(field, "%v", err)
	}
	return nil, inv.Err()
}

// Get returns one approval, with its drafts, to someone who may see it: as
// for a decision, its assignee, someone above them in the ladder, or an
// admin or ops key.
func (s *Service) Get(ctx context.Context, by team.Actor, id uuid.UUID) (store.Approval, error) {
	approval, err := s.Store.GetApproval(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Approval{}, ErrNotFound
	}
	if err != nil {
		return store.Approval{}, err
	}
	if err := team.MayAct(ctx, s.Store, by, approval.AssigneeEmail); err != nil {
		return store.Approval{}, err
	}
	return approval, nil
}

// List returns approvals as the filter asks, the assignee as the caller may
// see (team.Inbox): a csm key sees its own, or those below it.
func (s *Service) List(ctx context.Context, by team.Actor, f store.ApprovalFilter) ([]store.Approval, error) {
	assignee, err := team.Inbox(ctx, s.Store, by, f.AssigneeEmail)
	if err != nil {
		return nil, err
	}
	f.AssigneeEmail = assignee
	return s.Store.ListApprovals(ctx, f)
}
