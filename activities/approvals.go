package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/store"
)

// ErrApprovalNotPending is the error type of a decision on an approval that
// is no longer pending.
const ErrApprovalNotPending = "ApprovalNotPending"

// draft is what an approver reviews: the email rendered for the first
// recipient, and who it goes to.
type draft struct {
	Template string   `json:"template"`
	ToRoles  []string `json:"to_roles"`
	To       []string `json:"to"`
	Subject  string   `json:"subject"`
	HTML     string   `json:"html"`
	Text     string   `json:"text"`
}

// CreateApproval drafts the step's email and asks the assignee to decide.
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
	d := draft{Template: in.Email.Template, ToRoles: in.Email.ToRoles, To: []string{}}
	for i, c := range contacts {
		d.To = append(d.To, c.Email)
		if i == 0 {
			content, err := render(set, in.Email, acct, c)
			if err != nil {
				return res, err
			}
			d.Subject, d.HTML, d.Text = content.Subject, content.HTML, content.Text
		}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return res, err
	}
	approval, err := a.Store.CreateApproval(ctx, store.NewApproval{RunID: runID, StepID: in.StepID,
		AccountID: in.AccountID, AssigneeLevel: in.Assignee, Draft: raw, ExpiresAt: in.ExpiresAt})
	if errors.Is(err, store.ErrNotFound) {
		return res, accountNotFound(in.AccountID)
	}
	if err != nil {
		return res, fmt.Errorf("create approval: %w", err)
	}
	var stored draft
	_ = json.Unmarshal(approval.Draft, &stored)
	return contract.CreateApprovalResult{ApprovalID: approval.ID.String(), Assignee: approval.AssigneeEmail,
		Draft: contract.EmailContent{Subject: stored.Subject, HTML: stored.HTML, Text: stored.Text}}, nil
}

// RecordApprovalDecision stores approved, rejected or expired.
func (a *Activities) RecordApprovalDecision(ctx context.Context, in contract.RecordApprovalDecisionInput) error {
	id, err := uuid.Parse(in.ApprovalID)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("approval id is not a UUID", contract.ErrInvalidInput, err)
	}
	var edits json.RawMessage
	if in.Edits != nil {
		if edits, err = json.Marshal(in.Edits); err != nil {
			return err
		}
	}
	_, err = a.Store.DecideApproval(ctx, id, in.Status, in.DecidedBy, in.Comment, edits)
	if errors.Is(err, store.ErrNotPending) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrApprovalNotPending, err)
	}
	return err
}

// EscalateApproval moves the approval to the assignee's manager, who gets an
// urgent task and an email saying so.
func (a *Activities) EscalateApproval(ctx context.Context, in contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
	runID, err := parseRunID(in.RunID)
	if err != nil {
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
	notice := contract.SendEmailInput{RunID: in.RunID, StepID: fmt.Sprintf("%s/escalated-L%d", in.StepID, in.Level),
		AccountID: in.AccountID, Template: "approval-escalated"}
	acct, err := a.Store.GetAccount(ctx, in.AccountID)
	if err != nil {
		return contract.EscalateApprovalResult{}, fmt.Errorf("load account: %w", err)
	}
	manager := store.Contact{Email: esc.ManagerEmail, Name: esc.ManagerName}
	content, err := render(a.Templates, notice, acct, manager)
	if err != nil {
		return contract.EscalateApprovalResult{}, err
	}
	email, err := a.Store.ClaimEmail(ctx, store.NewEmail{RunID: runID, StepID: notice.StepID, AccountID: in.AccountID,
		Recipient: manager.Email, Template: notice.Template, Subject: content.Subject, HTML: content.HTML,
		Text: content.Text, Status: store.EmailPending})
	if err != nil {
		return contract.EscalateApprovalResult{}, fmt.Errorf("claim escalation email: %w", err)
	}
	if email.Status == store.EmailPending || email.Status == store.EmailSending {
		if _, err := a.deliver(ctx, notice, email, manager, acct); err != nil {
			return contract.EscalateApprovalResult{}, err
		}
	}
	return contract.EscalateApprovalResult{Escalated: true, Assignee: esc.ManagerEmail}, nil
}
