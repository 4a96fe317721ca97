package activities

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
)

// SendEmail renders the email for each contact holding the roles and sends
// it; for an approval, it sends each contact the content approved for them.
// The outbox row is claimed before the provider is called; a recipient
// whose row is already past pending is not sent to again.
func (a *Activities) SendEmail(ctx context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
	var res contract.SendEmailResult
	runID, err := parseRunID(in.RunID)
	if err != nil {
		return res, err
	}
	contentFor, err := a.contents(ctx, in)
	if err != nil {
		return res, err
	}
	acct, contacts, err := a.recipients(ctx, in)
	if err != nil {
		return res, err
	}
	for _, c := range contacts {
		// The outbox row's id is chosen before rendering: the body carries
		// links that name it (unsubscribe; a survey's answers). A retry
		// renders with a new id, finds the first row and keeps its body,
		// whose links name that row.
		id := uuid.New()
		content, ok, err := contentFor(acct, c, id)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Unapproved++
			continue
		}
		email, err := a.claim(ctx, runID, in, c, id, content)
		var capped *store.CappedError
		if errors.As(err, &capped) {
			// Delay, never drop: the workflow calls again when the cap frees up.
			if res.DeferUntil == nil || capped.Until.Before(*res.DeferUntil) {
				until := capped.Until.UTC()
				res.DeferUntil, res.DeferReason = &until, capped.Reason
			}
			continue
		}
		if err != nil {
			return res, err
		}
		res.EmailIDs = append(res.EmailIDs, email.ID.String())
		// sending: an earlier attempt died mid-call; deliver settles it.
		if email.Status == states.EmailPending || email.Status == states.EmailSending {
			if email.Status, err = a.deliver(ctx, in, email, c, acct); err != nil {
				return res, err
			}
		}
		switch email.Status {
		case states.EmailSent, states.EmailCaptured:
			res.Sent++
		case states.EmailSkipped:
			res.Skipped++
		case states.EmailFailed, states.EmailUncertain:
			res.Failed++
		case states.EmailPending, states.EmailSending: // not left so: deliver settles them or fails
		}
	}
	return res, nil
}

// contentFunc gives a contact's email, to be stored in the outbox row with
// the id, or false when the contact gets none.
type contentFunc func(store.Account, store.Contact, uuid.UUID) (templates.Rendered, bool, error)

// contents says how each recipient's email is made: rendered from the
// template, or for an approval, the content stored as approved for them.
// Contacts who were not drafted for (they got the role since) get none: only
// what a person approved is sent.
func (a *Activities) contents(ctx context.Context, in contract.SendEmailInput) (contentFunc, error) {
	if err := a.checkSurvey(in); err != nil {
		return nil, err
	}
	if in.ApprovalID == "" {
		set, err := a.templateSet(in)
		if err != nil {
			return nil, err
		}
		return func(acct store.Account, c store.Contact, id uuid.UUID) (templates.Rendered, bool, error) {
			data := compose.Data(acct, c)
			if in.Survey != "" {
				data.Survey = compose.Survey(a.SurveyLinks, id, in.Survey)
			}
			content, err := render(set, in, data)
			return content, true, err
		}, nil
	}
	id, err := uuid.Parse(in.ApprovalID)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("approval id is not a UUID", contract.ErrInvalidInput, err)
	}
	approval, err := a.Store.GetApproval(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, temporal.NewNonRetryableApplicationError("approval "+in.ApprovalID+" not found", contract.ErrInvalidInput, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load approval: %w", err)
	}
	if approval.Status != states.ApprovalApproved {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("approval %s is %s, not approved", in.ApprovalID, approval.Status), contract.ErrInvalidInput, nil)
	}
	approved := map[string]templates.Rendered{}
	for _, d := range approval.Drafts {
		if d.Approved != nil {
			approved[d.To] = templates.Rendered(*d.Approved)
		}
	}
	return func(_ store.Account, c store.Contact, _ uuid.UUID) (templates.Rendered, bool, error) {
		content, ok := approved[c.Email]
		return content, ok, nil
	}, nil
}

// checkSurvey refuses a survey this activity cannot send with its links: an
// unknown kind, content it does not render itself (an approval's, a SendGrid
// template's), or no signing key to sign them with.
func (a *Activities) checkSurvey(in contract.SendEmailInput) error {
	switch {
	case in.Survey == "":
		return nil
	case survey.Scores(in.Survey) == nil:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown survey kind %q", in.Survey), contract.ErrInvalidInput, nil)
	case in.ApprovalID != "" || in.SendGridTemplateID != "":
		return temporal.NewNonRetryableApplicationError("a survey is rendered from a template here, to carry its links", contract.ErrInvalidInput, nil)
	case a.SurveyLinks == nil:
		// A deployment without links would send surveys nobody can answer.
		return temporal.NewNonRetryableApplicationError("survey links are not configured", contract.ErrInvalidInput, nil)
	}
	return nil
}

// templateSet is the built-in set, plus the definition's own template.
func (a *Activities) templateSet(in contract.SendEmailInput) (*templates.Set, error) {
	set := a.Templates
	if t := in.OwnTemplate; t != nil {
		var err error
		if set, err = set.WithSource(t.Name, t.Subject, t.HTML, t.Text); err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrUnknownTemplate, err)
		}
	}
	if in.SendGridTemplateID == "" && !set.Has(in.Template) {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("template %q is not defined", in.Template), contract.ErrUnknownTemplate, nil)
	}
	return set, nil
}

func (a *Activities) recipients(ctx context.Context, in contract.SendEmailInput) (store.Account, []store.Contact, error) {
	acct, err := a.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return acct, nil, accountNotFound(in.AccountID)
	}
	if err != nil {
		return acct, nil, fmt.Errorf("load account: %w", err)
	}
	contacts, err := a.Store.ContactsWithRoles(ctx, in.AccountID, in.ToRoles)
	return acct, contacts, err
}

// render fills the template in for one contact; an approver's edits replace
// the parts they changed. Content over the render bounds is a business
// failure: rendering again gives the same.
func render(set *templates.Set, in contract.SendEmailInput, data templates.Data) (templates.Rendered, error) {
	var out templates.Rendered
	if in.SendGridTemplateID != "" {
		out.Subject = "(SendGrid template " + in.SendGridTemplateID + ")"
	} else {
		var err error
		out, err = set.Render(in.Template, data)
		var tooLarge *templates.TooLargeError
		if errors.As(err, &tooLarge) {
			return out, temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrEmailTooLarge, err)
		}
		if err != nil {
			return out, templateFailure(err, contract.ErrUnknownTemplate)
		}
	}
	if e := in.Override; e != nil {
		edits := templates.Rendered(*e)
		composed, err := templates.Compose(out, &edits, data)
		if err != nil {
			return out, temporal.NewNonRetryableApplicationError("the approver's edits: "+err.Error(), contract.ErrEmailTooLarge, err)
		}
		out = composed
	}
	return out, nil
}

// templateFailure is a business failure with one message: for a template
// that does not render, which template, part and line, and what is wrong;
// otherwise of type other. The error is not its cause: its text would only
// repeat the message.
func templateFailure(err error, other string) error {
	errType := other
	if errors.As(err, new(*templates.RenderError)) {
		errType = contract.ErrTemplate
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), errType, nil)
}

// claim writes the outbox row with the id the body was rendered for, so
// the stored body carries the same unsubscribe link as the headers (and a
// survey's links name the row); a retry finds the first row and keeps its
// body. The footer (templates.WithFooter) puts the link and the brand's
// postal address in the html, laid out or hand-written, and in the text.
func (a *Activities) claim(ctx context.Context, runID uuid.UUID, in contract.SendEmailInput, c store.Contact, id uuid.UUID, content templates.Rendered) (store.Email, error) {
	if a.Links != nil && in.SendGridTemplateID == "" {
		content = templates.WithFooter(content, a.Templates.Brand(), a.Links.URL(id))
	}
	status, detail := states.EmailPending, ""
	if c.Unsubscribed {
		status, detail = states.EmailSkipped, "recipient unsubscribed or suppressed"
	}
	template := in.Template
	if in.SendGridTemplateID != "" {
		template = in.SendGridTemplateID
	}
	contactID := c.ID
	email, err := a.Store.ClaimEmail(ctx, store.NewEmail{
		ID: id, RunID: runID, StepID: in.StepID, AccountID: in.AccountID, ContactID: &contactID,
		Recipient: c.Email, Template: template, Subject: content.Subject,
		HTML: content.HTML, Text: content.Text, Status: status, Detail: detail,
		Automated: in.Automated, Cap: a.Cap, Survey: in.Survey,
	})
	var capped *store.CappedError
	if errors.As(err, &capped) {
		return store.Email{}, err
	}
	if err != nil {
		return store.Email{}, fmt.Errorf("claim outbox row: %w", err)
	}
	return email, nil
}

// deliver calls the provider for a claimed row and records its answer. A
// refusal is recorded on the row and does not fail the run; anything else is
// returned so Temporal retries.
func (a *Activities) deliver(ctx context.Context, in contract.SendEmailInput, email store.Email, c store.Contact, acct store.Account) (states.Email, error) {
	msg := mail.Message{
		From:       a.From,
		To:         mail.Address{Name: c.Name, Email: c.Email},
		Subject:    email.Subject,
		HTML:       email.HTML,
		Text:       email.Text,
		Categories: []string{"playbookd", email.Template},
		CustomArgs: map[string]string{"run_id": in.RunID, "step_id": in.StepID, "outbox_id": email.ID.String()},
	}
	link := ""
	// A notice to the team is no marketing email: nothing to unsubscribe from.
	if a.Links != nil && email.Kind != store.EmailToTeam {
		// RFC 8058 one-click unsubscribe; the body's link was added at claim.
		link = a.Links.URL(email.ID)
		msg.Headers = map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
	}
	if in.SendGridTemplateID != "" {
		msg.Subject, msg.HTML, msg.Text = "", "", ""
		msg.TemplateID = in.SendGridTemplateID
		msg.TemplateData = map[string]any{
			"account_name": acct.Name, "contact_name": c.Name, "contact_first_name": templates.Person{Name: c.Name}.FirstName(),
			"csm_name": acct.CSMName, "csm_email": acct.CSMEmail,
		}
		if link != "" {
			msg.TemplateData["unsubscribe_url"] = link
		}
	}
	before, err := a.Store.StartSending(ctx, email.ID)
	if err != nil {
		return "", fmt.Errorf("start sending %s: %w", email.ID, err)
	}
	switch before {
	case states.EmailPending:
	case states.EmailSending:
		// An earlier attempt died while calling the provider: it may have
		// gone out. Never risk a second email.
		return a.settle(ctx, email.ID, states.EmailUncertain, "an earlier attempt was interrupted while sending; not retried, to avoid a duplicate", "")
	default:
		return before, nil // settled by an earlier attempt
	}

	receipt, err := a.Sender.Send(ctx, msg)
	var limited *mail.RateLimitedError
	switch {
	case err == nil:
		return a.settle(ctx, email.ID, receipt.Status, "", receipt.ProviderMessageID)
	case errors.Is(err, mail.ErrRejected):
		a.Log.WarnContext(ctx, "email refused by provider", "run_id", email.RunID, "step_id", email.StepID, "outbox_id", email.ID, "error", err)
		return a.settle(ctx, email.ID, states.EmailFailed, err.Error(), "")
	case errors.Is(err, mail.ErrNotAccepted):
		// Certainly not sent: back to pending, and Temporal retries.
		if _, merr := a.settle(ctx, email.ID, states.EmailPending, "last attempt: "+err.Error(), ""); merr != nil {
			return "", merr
		}
		// Jittered, so that emails refused together do not all come back
		// together (the server's retry policy has no jitter).
		delay := retryDelay(activity.GetInfo(ctx).Attempt, rand.Float64())
		kind := "NotAccepted"
		if errors.As(err, &limited) {
			delay, kind = limited.RetryAfter+time.Duration(rand.Float64()*float64(time.Second)), "RateLimited"
		}
		return "", temporal.NewApplicationErrorWithOptions(fmt.Sprintf("send email %s: %v", email.ID, err), kind,
			temporal.ApplicationErrorOptions{NextRetryDelay: delay})
	default:
		// Timed out or dropped after the request went out: the provider may
		// have accepted it.
		a.Log.WarnContext(ctx, "email outcome unknown; not retried", "run_id", email.RunID, "step_id", email.StepID, "outbox_id", email.ID, "error", err)
		return a.settle(ctx, email.ID, states.EmailUncertain, err.Error(), "")
	}
}

// retryDelay is the wait before sending again after a provider error:
// doubling from 1 s up to a minute, then spread over 50-150 % by jitter (0..1).
func retryDelay(attempt int32, jitter float64) time.Duration {
	base := time.Minute
	if attempt < 7 {
		base = time.Second << max(attempt-1, 0)
	}
	return time.Duration(float64(base) * (0.5 + jitter))
}

// settle records an email's status and returns it.
func (a *Activities) settle(ctx context.Context, id uuid.UUID, status states.Email, detail, providerID string) (states.Email, error) {
	if _, err := a.Store.MarkEmail(ctx, id, status, detail, providerID); err != nil {
		return "", fmt.Errorf("record email %s: %w", id, err)
	}
	return status, nil
}
