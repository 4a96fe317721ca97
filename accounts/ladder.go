package accounts

import "time"

// DefaultEscalationSLA is how long each level of the escalation ladder
// (Levels, bottom up: CSM, senior CSM, VP CS, executive) has to decide an
// approval, by segment (seed 000 "Escalation Levels"); smb uses mid-market
// values above level 1. The ESCALATION_SLA_* settings replace it, and runs
// started without a ladder of their own use it.
func DefaultEscalationSLA() map[string][4]time.Duration {
	return map[string][4]time.Duration{
		"enterprise": {4 * time.Hour, 2 * time.Hour, 1 * time.Hour, 30 * time.Minute},
		"mid_market": {24 * time.Hour, 8 * time.Hour, 4 * time.Hour, 2 * time.Hour},
		"smb":        {48 * time.Hour, 8 * time.Hour, 4 * time.Hour, 2 * time.Hour},
	}
}
