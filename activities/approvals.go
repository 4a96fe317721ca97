package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// ErrApprovalNotPending is the error type of a decision on an approval that
// is no longer pending.
const ErrApprovalNotPending = contract.ErrApprovalNotPending

// draft says what an approval's email is; each recipient's content is in
// the approval's drafts.
type draft struct {
	Template           string   `json:"template"`
	SendGridTemplateID string   `json:"sendgrid_template_id,omitempty"`
	ToRoles            []string `json:"to_roles"`
	To                 []string `json:"to"`
	// The template's subject and text with their fields, what a person
	// edits once for every recipient (approvals.EditSource).
	SourceSubject string `json:"source_subject,omitempty"`
	SourceText    string `json:"source_text,omitempty"`
}

// CreateApproval drafts the step's email for each recipient and asks the
// assignee to decide, telling them (tellAssignee). The drafts are stored
// with the approval, without the unsubscribe link (each outbox row adds its
// own when sent).
func (a *Activities) CreateApproval(ctx context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
	var res contract.CreateApprovalResult
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return res, err
	}
	set, err := a.templateSet(in.Email)
	if err != nil {
		return res, err
	}
	acct, contacts, err := a.recipients(ctx, in.Email)
	if err != nil {
		return res, err
	}
	d := draft{Template: in.Email.Template, SendGridTemplateID: in.Email.SendGridTemplateID, ToRoles: in.Email.ToRoles, To: []string{}}
	if in.Email.SendGridTemplateID == "" {
		d.SourceSubject, d.SourceText, _ = set.Source(in.Email.Template)
	}
	drafts := make([]store.ApprovalDraft, 0, len(contacts))
	for _, c := range contacts {
		content, err := render(set, in.Email, compose.Data(acct, c))
		if err != nil {
			return res, err
		}
		d.To = append(d.To, c.Email)
		drafts = append(drafts, store.ApprovalDraft{To: c.Email, Name: c.Name,
			Content: message.Content(content)})
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return res, err
	}
	var approvalID uuid.UUID
	if in.ApprovalID != "" {
		if approvalID, err = uuid.Parse(in.ApprovalID); err != nil {
			return res, temporal.NewNonRetryableApplicationError("approval id is not a UUID", contract.ErrInvalidInput, err)
		}
	}
	approval, err := a.Store.CreateApproval(ctx, store.NewApproval{ID: approvalID, RunID: runID, StepID: in.StepID,
		AccountID: in.AccountID, AssigneeLevel: in.Assignee, Draft: raw, Drafts: drafts, ExpiresAt: in.ExpiresAt})
	if errors.Is(err, store.ErrNotFound) {
		return res, accountNotFound(in.AccountID)
	}
	if err != nil {
		return res, fmt.Errorf("create approval: %w", err)
	}
	if err := a.tellAssignee(ctx, approval, noticeAssigned); err != nil {
		return res, err
	}
	return contract.CreateApprovalResult{ApprovalID: approval.ID.String(), Assignee: approval.AssigneeEmail}, nil
}

// RecordApprovalDecision stores approved, rejected or expired; an approval
// stores with it each recipient's approved content, which is what is sent.
func (a *Activities) RecordApprovalDecision(ctx context.Context, in contract.RecordApprovalDecisionInput) error {
	id, err := uuid.Parse(in.ApprovalID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("approval id is not a UUID", contract.ErrInvalidInput, err)
	}
	d := store.ApprovalDecision{Status: in.Status, By: in.DecidedBy, Comment: in.Comment}
	if in.Edits != nil {
		if d.Edits, err = json.Marshal(in.Edits); err != nil {
			return err
		}
	}
	if in.Status == states.ApprovalApproved {
		approval, err := a.Store.GetApproval(ctx, id)
		if err != nil {
			return fmt.Errorf("load approval: %w", err)
		}
		acct, err := a.Store.GetAccount(ctx, approval.AccountID)
		if err != nil {
			return fmt.Errorf("load account: %w", err)
		}
		if d.Approved, err = approvedContent(acct, approval.Drafts, in.Edits); err != nil {
			return temporal.NewNonRetryableApplicationError("the approver's edits: "+err.Error(), contract.ErrInvalidInput, err)
		}
	}
	_, err = a.Store.DecideApproval(ctx, id, d)
	if errors.Is(err, store.ErrNotPending) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrApprovalNotPending, err)
	}
	return err
}

// approvedContent is each recipient's email as approved: their own draft
// with the edits filled in for them (compose.Approved), so one edit keeps
// every recipient's greeting.
func approvedContent(acct store.Account, drafts []store.ApprovalDraft, edits *message.Content) (map[string]message.Content, error) {
	var e *templates.Rendered
	if edits != nil {
		r := templates.Rendered(*edits)
		e = &r
	}
	approved, err := compose.Approved(acct, drafts, e)
	if err != nil {
		return nil, err
	}
	out := make(map[string]message.Content, len(approved))
	for to, r := range approved {
		out[to] = message.Content(r)
	}
	return out, nil
}

// EscalateApproval moves the approval to the assignee's manager, who gets an
// urgent task and is told (tellAssignee).
func (a *Activities) EscalateApproval(ctx context.Context, in contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
	if _, err := parseRunID(in.RunID); err != nil {
		return contract.EscalateApprovalResult{}, err
	}
	id, err := uuid.Parse(in.ApprovalID)
	if err != nil {
		return contract.EscalateApprovalResult{}, temporal.NewNonRetryableApplicationError("approval id is not a UUID", contract.ErrInvalidInput, err)
	}
	esc, err := a.Store.EscalateApproval(ctx, id, in.Level, in.ExpiresAt)
	switch {
	case errors.Is(err, store.ErrTopOfLadder):
		return contract.EscalateApprovalResult{}, nil
	case errors.Is(err, store.ErrNotPending):
		return contract.EscalateApprovalResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrApprovalNotPending, err)
	case err != nil:
		return contract.EscalateApprovalResult{}, fmt.Errorf("escalate approval: %w", err)
	}
	if err := a.tellAssignee(ctx, esc.Approval, noticeEscalated); err != nil {
		return contract.EscalateApprovalResult{}, err
	}
	return contract.EscalateApprovalResult{Escalated: true, Assignee: esc.ManagerEmail}, nil
}
