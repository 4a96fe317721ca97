package health

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Inputs are the raw metrics of one measurement, by the names of PRODUCT.md
// §7; nil means "not measured". Score alone is a total computed upstream.
type Inputs struct {
	ActiveUsers            *float64 `json:"active_users,omitempty"`
	LicensedUsers          *float64 `json:"licensed_users,omitempty"`
	FeaturesUsed           *float64 `json:"features_used,omitempty"`
	TotalFeatures          *float64 `json:"total_features,omitempty"`
	LoginsPerWeek          *float64 `json:"logins_per_week,omitempty"`
	ExpectedLoginsPerWeek  *float64 `json:"expected_logins_per_week,omitempty"`
	EmailResponseRate      *float64 `json:"email_response_rate,omitempty"`
	MeetingAttendanceRate  *float64 `json:"meeting_attendance_rate,omitempty"`
	QBRParticipation       *bool    `json:"qbr_participation,omitempty"`
	DaysSinceLastContact   *float64 `json:"days_since_last_contact,omitempty"`
	TicketVolume           *float64 `json:"ticket_volume,omitempty"`
	TicketBaseline         *float64 `json:"ticket_baseline,omitempty"`
	CriticalTickets        *float64 `json:"critical_tickets,omitempty"`
	TotalTickets           *float64 `json:"total_tickets,omitempty"`
	SupportCSAT            *float64 `json:"support_csat,omitempty"`
	NPS                    *float64 `json:"nps,omitempty"`
	CSAT                   *float64 `json:"csat,omitempty"`
	Sentiment              *float64 `json:"sentiment,omitempty"`
	PaymentStatus          *string  `json:"payment_status,omitempty"`
	ExpansionRevenueRatio  *float64 `json:"expansion_revenue_ratio,omitempty"`
	RenewalBudgetConfirmed *bool    `json:"renewal_budget_confirmed,omitempty"`
	Score                  *float64 `json:"score,omitempty"`
}

// FieldError names a bad input.
type FieldError struct {
	Field   string
	Message string
}

// Payment statuses.
var PaymentStatuses = []string{"current", "late", "overdue"}

// Validate reports every bad or incomplete input: ranges, and pairs of
// which one half is missing (a ratio needs both).
func (in Inputs) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	type bounded struct {
		name     string
		v        *float64
		min, max float64
	}
	// Upper bounds well past any real account, so a typing mistake (or 1e300)
	// is refused rather than scored; the API documents the same figures.
	const users, features, logins, tickets, days = 1e7, 1e5, 1e8, 1e7, 36500
	for _, b := range []bounded{
		{"active_users", in.ActiveUsers, 0, users}, {"licensed_users", in.LicensedUsers, 1, users},
		{"features_used", in.FeaturesUsed, 0, features}, {"total_features", in.TotalFeatures, 1, features},
		{"logins_per_week", in.LoginsPerWeek, 0, logins}, {"expected_logins_per_week", in.ExpectedLoginsPerWeek, 0.001, logins},
		{"email_response_rate", in.EmailResponseRate, 0, 1}, {"meeting_attendance_rate", in.MeetingAttendanceRate, 0, 1},
		{"days_since_last_contact", in.DaysSinceLastContact, 0, days},
		{"ticket_volume", in.TicketVolume, 0, tickets}, {"ticket_baseline", in.TicketBaseline, 0.001, tickets},
		{"critical_tickets", in.CriticalTickets, 0, tickets}, {"total_tickets", in.TotalTickets, 0, tickets},
		{"support_csat", in.SupportCSAT, 0, 5}, {"nps", in.NPS, -100, 100}, {"csat", in.CSAT, 0, 5},
		{"sentiment", in.Sentiment, 0, 1}, {"expansion_revenue_ratio", in.ExpansionRevenueRatio, 0, 100},
		{"score", in.Score, 0, 100},
	} {
		if b.v == nil {
			continue
		}
		switch {
		case math.IsNaN(*b.v) || *b.v < b.min || *b.v > b.max:
			add(b.name, "must be from %g to %g", b.min, b.max)
		}
	}
	pairs := []struct {
		a, b   string
		va, vb bool
	}{
		{"active_users", "licensed_users", in.ActiveUsers != nil, in.LicensedUsers != nil},
		{"features_used", "total_features", in.FeaturesUsed != nil, in.TotalFeatures != nil},
		{"logins_per_week", "expected_logins_per_week", in.LoginsPerWeek != nil, in.ExpectedLoginsPerWeek != nil},
		{"ticket_volume", "ticket_baseline", in.TicketVolume != nil, in.TicketBaseline != nil},
		{"critical_tickets", "total_tickets", in.CriticalTickets != nil, in.TotalTickets != nil},
	}
	for _, p := range pairs {
		if p.va && !p.vb {
			add(p.b, "required with %s (the score uses their ratio)", p.a)
		} else if p.vb && !p.va {
			add(p.a, "required with %s (the score uses their ratio)", p.b)
		}
	}
	if in.CriticalTickets != nil && in.TotalTickets != nil && *in.CriticalTickets > *in.TotalTickets {
		add("critical_tickets", "must not exceed total_tickets")
	}
	if in.PaymentStatus != nil && !slices.Contains(PaymentStatuses, *in.PaymentStatus) {
		add("payment_status", "must be one of current, late, overdue")
	}
	if in.Score != nil && in.measured() {
		add("score", "send either score alone (computed upstream) or the metrics, not both")
	}
	if in.Score == nil && !in.measured() {
		add("", "no metrics: send at least one of the metrics of PRODUCT.md §7, or score")
	}
	return errs
}

// measured says whether any metric (not the upstream score) is present.
func (in Inputs) measured() bool {
	in.Score = nil
	return in != Inputs{}
}

// measures turn inputs into 0..1 values. The seed's "(weighted)" terms are
// decided here: contact recency is full up to 7 days and nothing from 60;
// expansion revenue is full at 20 % of ARR (seed 000's NRR target of 115 %
// needs about that much).
var measures = map[string]func(Inputs) (float64, bool){
	"seat_utilisation":   ratio(func(in Inputs) (*float64, *float64) { return in.ActiveUsers, in.LicensedUsers }),
	"feature_adoption":   ratio(func(in Inputs) (*float64, *float64) { return in.FeaturesUsed, in.TotalFeatures }),
	"login_frequency":    ratio(func(in Inputs) (*float64, *float64) { return in.LoginsPerWeek, in.ExpectedLoginsPerWeek }),
	"email_response":     value(func(in Inputs) *float64 { return in.EmailResponseRate }, 1),
	"meeting_attendance": value(func(in Inputs) *float64 { return in.MeetingAttendanceRate }, 1),
	"qbr_participation":  flag(func(in Inputs) *bool { return in.QBRParticipation }),
	"contact_recency": func(in Inputs) (float64, bool) {
		if in.DaysSinceLastContact == nil {
			return 0, false
		}
		return clamp((60 - *in.DaysSinceLastContact) / (60 - 7)), true
	},
	"ticket_volume": func(in Inputs) (float64, bool) {
		v, ok := ratio(func(in Inputs) (*float64, *float64) { return in.TicketVolume, in.TicketBaseline })(in)
		return clamp(1 - v), ok
	},
	"critical_tickets": func(in Inputs) (float64, bool) {
		if in.CriticalTickets == nil || in.TotalTickets == nil {
			return 0, false
		}
		if *in.TotalTickets == 0 {
			return 1, true // no tickets, none critical
		}
		return clamp(1 - *in.CriticalTickets / *in.TotalTickets), true
	},
	"support_csat": value(func(in Inputs) *float64 { return in.SupportCSAT }, 5),
	"nps": func(in Inputs) (float64, bool) {
		if in.NPS == nil {
			return 0, false
		}
		return clamp((*in.NPS + 100) / 200), true
	},
	"csat":      value(func(in Inputs) *float64 { return in.CSAT }, 5),
	"sentiment": value(func(in Inputs) *float64 { return in.Sentiment }, 1),
	"payment": func(in Inputs) (float64, bool) {
		if in.PaymentStatus == nil {
			return 0, false
		}
		return map[string]float64{"current": 1, "late": 0.5}[*in.PaymentStatus], true
	},
	"expansion_revenue": value(func(in Inputs) *float64 { return in.ExpansionRevenueRatio }, 0.2),
	"renewal_budget":    flag(func(in Inputs) *bool { return in.RenewalBudgetConfirmed }),
}

// MeasureNames lists the measures a model may use.
func MeasureNames() []string { return slices.Sorted(maps.Keys(measures)) }

func ratio(get func(Inputs) (*float64, *float64)) func(Inputs) (float64, bool) {
	return func(in Inputs) (float64, bool) {
		a, b := get(in)
		if a == nil || b == nil || *b <= 0 {
			return 0, false
		}
		return clamp(*a / *b), true
	}
}

func value(get func(Inputs) *float64, full float64) func(Inputs) (float64, bool) {
	return func(in Inputs) (float64, bool) {
		v := get(in)
		if v == nil {
			return 0, false
		}
		return clamp(*v / full), true
	}
}

func flag(get func(Inputs) *bool) func(Inputs) (float64, bool) {
	return func(in Inputs) (float64, bool) {
		v := get(in)
		if v == nil {
			return 0, false
		}
		if *v {
			return 1, true
		}
		return 0, true
	}
}

func clamp(v float64) float64 { return math.Max(0, math.Min(1, v)) }

// Result is a scored measurement.
type Result struct {
	Model string `json:"model"`
	// Score is the whole-number total, 0-100, that bands are read from.
	Score      int               `json:"score"`
	Band       string            `json:"band"`
	Components []ComponentResult `json:"components"`
	// LeftOut names components (and "component.measure" terms) without input;
	// the weights of the rest were renormalised.
	LeftOut      []string `json:"left_out"`
	Renormalised bool     `json:"renormalised"`
	Upstream     bool     `json:"upstream,omitempty"` // score given, not computed
}

// ComponentResult is one component's points out of its weight.
type ComponentResult struct {
	Name   string             `json:"name"`
	Points float64            `json:"points"` // 0..Weight, two decimals
	Weight float64            `json:"weight"`
	Terms  map[string]float64 `json:"measures"` // 0..1 per measure used
}

// Score computes the total; the inputs must have passed Validate.
func (m Model) Score(in Inputs) Result {
	r := Result{Model: m.Name, LeftOut: []string{}, Components: []ComponentResult{}}
	if in.Score != nil {
		r.Score, r.Upstream = roundHalfUp(*in.Score), true
		r.Band = m.Bands.Band(r.Score)
		return r
	}
	var points, weights float64
	for _, c := range m.Components {
		cr := ComponentResult{Name: c.Name, Weight: c.Weight, Terms: map[string]float64{}}
		var sum, termWeights float64
		for _, t := range c.Terms {
			v, ok := measures[t.Measure](in)
			if !ok {
				r.LeftOut = append(r.LeftOut, c.Name+"."+t.Measure)
				continue
			}
			cr.Terms[t.Measure] = round2(v)
			sum += v * t.Weight
			termWeights += t.Weight
		}
		if termWeights == 0 {
			// The component's terms are all listed above; name the component too.
			r.LeftOut = append(r.LeftOut, c.Name)
			continue
		}
		p := c.Weight * sum / termWeights
		cr.Points = round2(p)
		r.Components = append(r.Components, cr)
		points += p
		weights += c.Weight
	}
	total := 100 * points / weights
	r.Renormalised = len(r.LeftOut) > 0 || math.Abs(weights-100) > 1e-9
	r.Score = roundHalfUp(total)
	r.Band = m.Bands.Band(r.Score)
	return r
}

func roundHalfUp(v float64) int { return int(math.Floor(v + 0.5)) }

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Measure returns one measure of the inputs, for the signals below and for
// account fields that playbooks read.
func (in Inputs) Measure(name string) (float64, bool) {
	f, ok := measures[name]
	if !ok {
		return 0, false
	}
	return f(in)
}
