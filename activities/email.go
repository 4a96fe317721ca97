package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// SendEmail renders a template for each contact holding the roles and sends
// it. The outbox row is claimed before the provider is called; a recipient
// whose row is already past pending is not sent to again.
func (a *Activities) SendEmail(ctx context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
	var res contract.SendEmailResult
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return res, err
	}
	if !a.Templates.Has(in.Template) {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("template %q is not defined", in.Template), contract.ErrUnknownTemplate, nil)
	}
	acct, err := a.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return res, accountNotFound(in.AccountID)
	}
	if err != nil {
		return res, fmt.Errorf("load account: %w", err)
	}
	contacts, err := a.Store.ContactsWithRoles(ctx, in.AccountID, in.ToRoles)
	if err != nil {
		return res, err
	}
	for _, c := range contacts {
		email, err := a.claim(ctx, runID, in, acct, c)
		if err != nil {
			return res, err
		}
		res.EmailIDs = append(res.EmailIDs, email.ID.String())
		if email.Status == store.EmailPending {
			if email.Status, err = a.deliver(ctx, in, email, c); err != nil {
				return res, err
			}
		}
		switch email.Status {
		case store.EmailSent, store.EmailCaptured:
			res.Sent++
		case store.EmailSkipped:
			res.Skipped++
		case store.EmailFailed:
			res.Failed++
		}
	}
	return res, nil
}

func (a *Activities) claim(ctx context.Context, runID uuid.UUID, in contract.SendEmailInput, acct store.Account, c store.Contact) (store.Email, error) {
	rendered, err := a.Templates.Render(in.Template, templates.Data{
		Account: templates.Account{ID: acct.ID, Name: acct.Name, Segment: acct.Segment},
		Contact: templates.Person{Name: c.Name, Email: c.Email},
		CSM:     templates.Person{Name: acct.CSMName, Email: acct.CSMEmail},
	})
	if err != nil {
		return store.Email{}, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrUnknownTemplate, err)
	}
	status, detail := store.EmailPending, ""
	if c.Unsubscribed {
		status, detail = store.EmailSkipped, "recipient unsubscribed"
	}
	contactID := c.ID
	email, err := a.Store.ClaimEmail(ctx, store.NewEmail{
		RunID: runID, StepID: in.StepID, AccountID: in.AccountID, ContactID: &contactID,
		Recipient: c.Email, Template: in.Template, Subject: rendered.Subject,
		HTML: rendered.HTML, Text: rendered.Text, Status: status, Detail: detail,
	})
	if err != nil {
		return store.Email{}, fmt.Errorf("claim outbox row: %w", err)
	}
	return email, nil
}

// deliver calls the provider for a claimed row and records its answer. A
// refusal is recorded on the row and does not fail the run; anything else is
// returned so Temporal retries.
func (a *Activities) deliver(ctx context.Context, in contract.SendEmailInput, email store.Email, c store.Contact) (string, error) {
	receipt, err := a.Sender.Send(ctx, mail.Message{
		From:       a.From,
		To:         mail.Address{Name: c.Name, Email: c.Email},
		Subject:    email.Subject,
		HTML:       email.HTML,
		Text:       email.Text,
		Categories: []string{"playbookd", in.Template},
		CustomArgs: map[string]string{"run_id": in.RunID, "step_id": in.StepID, "outbox_id": email.ID.String()},
	})
	status, detail := receipt.Status, ""
	if errors.Is(err, mail.ErrRejected) {
		status, detail = store.EmailFailed, err.Error()
		a.Log.WarnContext(ctx, "email refused by provider", "outbox_id", email.ID, "error", err)
	} else if err != nil {
		return "", fmt.Errorf("send email %s: %w", email.ID, err)
	}
	if _, err := a.Store.MarkEmail(ctx, email.ID, status, detail, receipt.ProviderMessageID); err != nil {
		return "", fmt.Errorf("record email %s: %w", email.ID, err)
	}
	return status, nil
}
