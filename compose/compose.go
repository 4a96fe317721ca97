// Package compose makes a recipient's email from the records: what a
// template sees of an account and a contact, and an approver's edits filled
// in for each recipient. The send, the approval decision and the approval
// page all go through it (the simulation fills the same templates.Compose
// from the account it is given).
package compose

import (
	"math"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// Data is what a template sees when it is filled in for the contact.
func Data(acct store.Account, c store.Contact) templates.Data {
	d := templates.Data{
		Account: templates.Account{ID: acct.ID, Name: acct.Name, Segment: acct.Segment, ARR: acct.ARR,
			LifecycleStage: acct.LifecycleStage, RenewalDate: deref(acct.RenewalDate), ContractStart: deref(acct.ContractStart)},
		Contact: templates.Person{Name: c.Name, Email: c.Email},
		CSM:     templates.Person{Name: acct.CSMName, Email: acct.CSMEmail},
	}
	if h := acct.Health; h != nil {
		d.Health = templates.Health{Score: int(math.Round(h.Score)), Band: h.Band}
	}
	return d
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Approved is each recipient's email as an approval with edits sends it:
// their own draft, with the edits filled in for them (templates.Compose).
// A recipient who is no longer a contact of the account is filled in with
// the name the draft was made for.
func Approved(acct store.Account, drafts []store.ApprovalDraft, edits *templates.Rendered) (map[string]templates.Rendered, error) {
	if edits != nil {
		// Said once, not per recipient: the edits themselves cannot be sent.
		if err := templates.CheckEdits(*edits); err != nil {
			return nil, err
		}
	}
	byEmail := make(map[string]store.Contact, len(acct.Contacts))
	for _, c := range acct.Contacts {
		byEmail[c.Email] = c
	}
	out := make(map[string]templates.Rendered, len(drafts))
	for _, d := range drafts {
		c, ok := byEmail[d.To]
		if !ok {
			c = store.Contact{Email: d.To, Name: d.Name}
		}
		r, err := templates.Compose(templates.Rendered(d.Content), edits, Data(acct, c))
		if err != nil {
			return nil, &RecipientError{To: d.To, Err: err}
		}
		out[d.To] = r
	}
	return out, nil
}

// RecipientError says whose email the edits cannot be made for.
type RecipientError struct {
	To  string
	Err error
}

func (e *RecipientError) Error() string { return "for " + e.To + ": " + e.Err.Error() }
func (e *RecipientError) Unwrap() error { return e.Err }
