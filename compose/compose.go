// Package compose makes a recipient's email from the records: what a
// template sees of an account and a contact, and an approver's edits filled
// in for each recipient. The send, the approval decision and the approval
// page all go through it (the simulation fills the same templates.Compose
// from the account it is given).
package compose

import (
	"encoding/json"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
)

// Data is what a template sees when it is filled in for the contact.
func Data(acct store.Account, c store.Contact) templates.Data {
	d := templates.Data{
		Account: templates.Account{ID: acct.ID, Name: acct.Name, Segment: acct.Segment, ARR: acct.ARR,
			LifecycleStage: acct.LifecycleStage, RenewalDate: deref(acct.RenewalDate), ContractStart: deref(acct.ContractStart),
			Fields: CustomFields(acct.CustomFields)},
		Contact: templates.Person{Name: c.Name, Email: c.Email},
		CSM:     templates.Person{Name: acct.CSMName, Email: acct.CSMEmail},
	}
	if h := acct.Health; h != nil {
		d.Health = templates.Health{Score: int(math.Round(h.Score)), Band: h.Band}
	}
	d.Metrics = Metrics(acct.Health)
	return d
}

// CustomFields are the account's custom fields as templates read them
// (.Account.Fields), decoded as the run's account snapshot decodes them,
// which the simulation renders with; fields that cannot be read are none,
// so a template's default stands in.
func CustomFields(raw json.RawMessage) templates.CustomFields {
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return templates.CustomFields{} // none stored, or not an object
	}
	return templates.NewCustomFields(fields)
}

// Survey is what a survey email's template sees (.Survey): the kind's
// question and, per score, the link signed for the outbox row the email is
// stored in. The row's id is chosen before rendering for this.
func Survey(links *survey.Links, emailID uuid.UUID, kind string) templates.Survey {
	return templates.NewSurvey(kind, survey.Scores(kind), func(score int) string {
		return links.URL(survey.Answer{EmailID: emailID, Kind: kind, Score: score})
	})
}

// Metrics are the measures of the latest snapshot as templates see them;
// the simulation of a stored account is given the same. A measure the
// snapshot lacks (or cannot be read) stays nil.
func Metrics(h *store.HealthSummary) templates.Metrics {
	if h == nil {
		return templates.Metrics{}
	}
	m := templates.Metrics{MeasuredAt: h.MeasuredAt.UTC().Format(time.DateOnly)}
	var in health.Inputs
	if json.Unmarshal(h.Inputs, &in) == nil {
		m.ActiveUsers, m.LicensedUsers = whole(in.ActiveUsers), whole(in.LicensedUsers)
		m.LoginsPerWeek, m.CSAT = tenths(in.LoginsPerWeek), tenths(in.CSAT)
		m.TicketVolume, m.TotalTickets, m.CriticalTickets = whole(in.TicketVolume), whole(in.TotalTickets), whole(in.CriticalTickets)
		m.NPS, m.DaysSinceLastContact = whole(in.NPS), whole(in.DaysSinceLastContact)
		// As the health model reads it (and seats_used_pct is set): capped at 100.
		if v, ok := in.Measure("seat_utilisation"); ok {
			pct := 100 * v
			m.SeatUtilisation = whole(&pct)
		}
	}
	var r health.Result
	if json.Unmarshal(h.Components, &r) == nil && len(r.Components) > 0 {
		m.Components = make(map[string]int, len(r.Components))
		for _, c := range r.Components {
			if c.Weight > 0 {
				m.Components[c.Name] = int(math.Round(100 * c.Points / c.Weight))
			}
		}
	}
	return m
}

func whole(v *float64) *int {
	if v == nil {
		return nil
	}
	n := int(math.Round(*v))
	return &n
}

func tenths(v *float64) *float64 {
	if v == nil {
		return nil
	}
	r := math.Round(*v*10) / 10
	return &r
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
