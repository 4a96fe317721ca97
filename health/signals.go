package health

import (
	"slices"
	"time"
)

// Risk signals of seed 000 "Early Warning System"; the names are the ones
// playbook triggers use (playbook.RiskSignals).
const (
	UsageDecline        = "usage_decline"
	SupportSpike        = "support_spike"
	ChampionLeft        = "champion_left"
	PaymentOverdue      = "payment_overdue"
	CompetitorMentioned = "competitor_mentioned"
)

// Seed 000: "25% drop in usage over 30 days"; "multiple high-priority
// tickets in short timeframe", made concrete by the product spec as three in
// fourteen days.
const (
	UsageDeclineWindow   = 30 * 24 * time.Hour
	UsageDeclineFraction = 0.25
	SupportSpikeWindow   = 14 * 24 * time.Hour
	SupportSpikeTickets  = 3
)

// Measurement is a past snapshot as the signals need it.
type Measurement struct {
	At     time.Time
	Inputs Inputs
}

// SnapshotSignals are the risk signals one measurement shows, given the
// account's earlier measurements (any order).
func SnapshotSignals(at time.Time, in Inputs, earlier []Measurement) []string {
	var out []string
	if usageDeclined(at, in, earlier) {
		out = append(out, UsageDecline)
	}
	if in.PaymentStatus != nil && *in.PaymentStatus == "overdue" {
		out = append(out, PaymentOverdue)
	}
	return out
}

// usageDeclined compares active users, else weekly logins, with their peak
// in the 30 days before: a fall of a quarter or more is a decline.
func usageDeclined(at time.Time, in Inputs, earlier []Measurement) bool {
	for _, get := range []func(Inputs) *float64{
		func(in Inputs) *float64 { return in.ActiveUsers },
		func(in Inputs) *float64 { return in.LoginsPerWeek },
	} {
		now := get(in)
		if now == nil {
			continue
		}
		peak := 0.0
		for _, m := range earlier {
			if v := get(m.Inputs); v != nil && !m.At.Before(at.Add(-UsageDeclineWindow)) && !m.At.After(at) {
				peak = max(peak, *v)
			}
		}
		if peak > 0 && *now <= peak*(1-UsageDeclineFraction) {
			return true
		}
	}
	return false
}

// HighPriorities are the ticket priorities that count towards a support spike.
var HighPriorities = []string{"high", "urgent", "critical"}

// HighPriority says whether a ticket priority counts towards a support spike.
func HighPriority(priority string) bool { return slices.Contains(HighPriorities, priority) }

// ExpansionReady is seed 003's "Expansion Triggers" as far as metrics tell:
// a health score above 80 and either feature adoption above 70 % or seats
// above 85 % of licences.
func ExpansionReady(r Result, in Inputs) bool {
	if r.Score <= 80 {
		return false
	}
	features, okF := in.Measure("feature_adoption")
	seats, okS := in.Measure("seat_utilisation")
	return (okF && features > 0.70) || (okS && seats > 0.85)
}
