package message

import (
	"testing"
	"time"
)

func TestCapHoldsUntilTheGapOrTheWindowHasPassed(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ago := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	day := 24 * time.Hour
	tests := []struct {
		name      string
		cap       Cap
		sent      []time.Time // oldest first, as a run sends them
		wantUntil time.Time   // zero: not held
	}{
		{"no cap", Cap{}, []time.Time{ago(1), ago(2)}, time.Time{}},
		{"gap: last one too recent", Cap{MinGap: day}, []time.Time{ago(30), ago(3)}, ago(3).Add(day)},
		{"gap: last one long enough ago", Cap{MinGap: day}, []time.Time{ago(30)}, time.Time{}},
		{"gap exactly over", Cap{MinGap: day}, []time.Time{ago(24)}, time.Time{}},
		{"count: under it", Cap{Count: 3, Window: 7 * day}, []time.Time{ago(100), ago(50)}, time.Time{}},
		{"count: full, freed when the oldest of the newest three leaves",
			Cap{Count: 3, Window: 7 * day}, []time.Time{ago(200), ago(100), ago(50), ago(10)}, ago(100).Add(7 * day)},
		{"count: older ones outside the window do not count",
			Cap{Count: 2, Window: day}, []time.Time{ago(50), ago(30), ago(5)}, time.Time{}},
		{"count: order does not matter", Cap{Count: 2, Window: day}, []time.Time{ago(2), ago(20)}, ago(20).Add(day)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var until time.Time
			var held bool
			if len(tc.sent) > 0 {
				until, held = tc.cap.GapUntil(latest(tc.sent), now)
			}
			if !held {
				until, held = tc.cap.CountUntil(tc.sent, now)
			}
			if held != !tc.wantUntil.IsZero() || (held && !until.Equal(tc.wantUntil)) {
				t.Fatalf("held %v until %v; want until %v", held, until, tc.wantUntil)
			}
		})
	}
}

func latest(ts []time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}
