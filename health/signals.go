package health

import (
	"errors"
	"fmt"
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

// SignalThresholds are when the measured signals fire; configuration
// (SIGNAL_* variables) may change the seed's values.
type SignalThresholds struct {
	// UsageDeclinePercent is the fall from the peak within
	// UsageDeclineWindow that is a usage decline.
	UsageDeclinePercent float64
	UsageDeclineWindow  time.Duration
	// SupportSpikeTickets high-priority tickets within SupportSpikeWindow
	// are a support spike.
	SupportSpikeTickets int
	SupportSpikeWindow  time.Duration
}

// DefaultSignalThresholds are seed 000's: "25% drop in usage over 30 days";
// "multiple high-priority tickets in short timeframe", made concrete by the
// product spec as three in fourteen days.
var DefaultSignalThresholds = SignalThresholds{
	UsageDeclinePercent: 25, UsageDeclineWindow: 30 * 24 * time.Hour,
	SupportSpikeTickets: 3, SupportSpikeWindow: 14 * 24 * time.Hour,
}

// OrDefault is t, or DefaultSignalThresholds when t is the zero value (a
// caller that configures nothing gets the seed's thresholds).
func (t SignalThresholds) OrDefault() SignalThresholds {
	if t == (SignalThresholds{}) {
		return DefaultSignalThresholds
	}
	return t
}

// Check says what is wrong with thresholds, naming the field.
func (t SignalThresholds) Check() error {
	var errs []error
	if !(t.UsageDeclinePercent > 0 && t.UsageDeclinePercent < 100) {
		errs = append(errs, fmt.Errorf("usage decline percent must be above 0 and below 100, got %g", t.UsageDeclinePercent))
	}
	if t.UsageDeclineWindow < 24*time.Hour {
		errs = append(errs, fmt.Errorf("usage decline window must be at least a day, got %s", t.UsageDeclineWindow))
	}
	if t.SupportSpikeTickets < 1 {
		errs = append(errs, fmt.Errorf("support spike tickets must be at least 1, got %d", t.SupportSpikeTickets))
	}
	if t.SupportSpikeWindow < 24*time.Hour {
		errs = append(errs, fmt.Errorf("support spike window must be at least a day, got %s", t.SupportSpikeWindow))
	}
	return errors.Join(errs...)
}

// Measurement is a past snapshot as the signals need it.
type Measurement struct {
	At     time.Time
	Inputs Inputs
}

// SnapshotSignals are the risk signals one measurement shows, given the
// account's earlier measurements (any order) and the thresholds (zero: the
// defaults).
func SnapshotSignals(at time.Time, in Inputs, earlier []Measurement, t SignalThresholds) []string {
	var out []string
	if usageDeclined(at, in, earlier, t.OrDefault()) {
		out = append(out, UsageDecline)
	}
	if in.PaymentStatus != nil && *in.PaymentStatus == "overdue" {
		out = append(out, PaymentOverdue)
	}
	return out
}

// usageDeclined compares active users, else weekly logins, with their peak
// in the window before: a fall of the threshold's percent or more is a
// decline.
func usageDeclined(at time.Time, in Inputs, earlier []Measurement, t SignalThresholds) bool {
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
			if v := get(m.Inputs); v != nil && !m.At.Before(at.Add(-t.UsageDeclineWindow)) && !m.At.After(at) {
				peak = max(peak, *v)
			}
		}
		if peak > 0 && *now <= peak*(1-t.UsageDeclinePercent/100) {
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
