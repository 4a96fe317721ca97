// Package accounts holds the pure rules of the account model: segments,
// contact roles and team levels. It does no I/O.
package accounts

import "slices"

// Segments, contact roles and team levels, in the order people read them.
var (
	Segments = []string{"enterprise", "mid_market", "smb"}
	Roles    = []string{"champion", "exec_sponsor", "admin", "user"}
	Levels   = []string{"csm", "senior_csm", "vp_cs", "executive"} // the escalation ladder, bottom up
	Statuses = []string{"active", "churned"}
)

// Valid reports whether v is one of allowed.
func Valid(allowed []string, v string) bool { return slices.Contains(allowed, v) }

// SegmentThresholds are the lowest ARR of each segment above smb.
type SegmentThresholds struct {
	Enterprise float64
	MidMarket  float64
}

// DefaultSegmentThresholds: enterprise ≥ $100K, mid_market $25K–$100K, smb
// below (seeds 000, 003).
var DefaultSegmentThresholds = SegmentThresholds{Enterprise: 100_000, MidMarket: 25_000}

// SegmentFor derives the segment of an account from its ARR.
func (t SegmentThresholds) SegmentFor(arr float64) string {
	switch {
	case arr >= t.Enterprise:
		return "enterprise"
	case arr >= t.MidMarket:
		return "mid_market"
	default:
		return "smb"
	}
}
