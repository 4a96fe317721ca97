// Package approvals decides approvals: who may decide, whether the approval
// still waits for a decision, which edits can be sent as approved; the run
// applies the decision.
package approvals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
)

// Sentinel errors.
var (
	ErrNotFound   = errors.New("approval not found")
	ErrNotPending = errors.New("the approval is no longer pending")
)

// FieldError is a part of a decision that cannot be accepted, named as
// the API names it (decision, edits.subject, ...).
type FieldError struct {
	Field   string
	Message string
}

// InvalidError lists every part of a decision that cannot be accepted.
type InvalidError struct{ Errors []FieldError }

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Field + ": " + fe.Message
	}
	return "invalid decision: " + strings.Join(msgs, "; ")
}

func (e *InvalidError) add(field, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (e *InvalidError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// Store is what deciding needs from PostgreSQL.
type Store interface {
	GetApproval(ctx context.Context, id uuid.UUID) (store.Approval, error)
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
	if approval.Status != "pending" {
		return out, fmt.Errorf("%w: it is already %s", ErrNotPending, approval.Status)
	}
	if d.Edits != nil {
		if err := editable(approval, *d.Edits); err != nil {
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
	var inv InvalidError
	if d.Decision != "approve" && d.Decision != "reject" {
		inv.add("decision", "required: approve or reject")
	}
	if d.Edits != nil && d.Decision == "reject" {
		inv.add("edits", "only an approval carries edits")
	}
	if d.Edits != nil {
		if err := templates.CheckEdits(*d.Edits); err != nil {
			field, _ := editsField(err)
			inv.add(field, "%s", err)
		}
	}
	return inv.err()
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

// editable refuses edits that cannot be sent as approved: of a SendGrid
// dynamic template (SendGrid renders it), or that take a recipient's email
// over the bounds (the layout of an edited text can outgrow the html bound).
func editable(approval store.Approval, edits templates.Rendered) error {
	var d struct {
		SendGridTemplateID string `json:"sendgrid_template_id"`
	}
	var inv InvalidError
	if json.Unmarshal(approval.Draft, &d) == nil && d.SendGridTemplateID != "" {
		inv.add("edits", "the email is the SendGrid template %s: SendGrid renders it, so it cannot be edited here", d.SendGridTemplateID)
		return inv.err()
	}
	for _, draft := range approval.Drafts {
		_, err := templates.Rendered{Subject: draft.Subject, HTML: draft.HTML, Text: draft.Text}.Edited(edits)
		if field, ok := editsField(err); ok {
			inv.add(field, "the email to %s: %v", draft.To, err)
			return inv.err()
		}
	}
	return nil
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
