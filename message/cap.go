package message

import (
	"slices"
	"time"
)

// Cap limits automated emails to one address, across runs: at most Count
// in any Window, at least MinGap apart; and while a play of higher
// priority is live on the account, a lower play's email waits
// (HoldRecheck later it is asked again). A zero field turns its rule off.
// The store decides with it for real sends and the simulator for one run.
type Cap struct {
	Count       int
	Window      time.Duration
	MinGap      time.Duration
	HoldRecheck time.Duration
}

// GapUntil is when the address may get the next automated email after the
// last one, at last: held (true) while that is after now.
func (c Cap) GapUntil(last, now time.Time) (time.Time, bool) {
	if c.MinGap <= 0 || last.IsZero() {
		return time.Time{}, false
	}
	until := last.Add(c.MinGap)
	return until, until.After(now)
}

// CountUntil is when the address may get the next automated email given
// the times of the automated emails it got, in any order: held (true)
// while Count of them are inside the Window before now, until the oldest
// of the newest Count leaves it.
func (c Cap) CountUntil(sent []time.Time, now time.Time) (time.Time, bool) {
	if c.Count <= 0 {
		return time.Time{}, false
	}
	var recent []time.Time
	for _, t := range sent {
		if t.After(now.Add(-c.Window)) {
			recent = append(recent, t)
		}
	}
	if len(recent) < c.Count {
		return time.Time{}, false
	}
	slices.SortFunc(recent, func(a, b time.Time) int { return b.Compare(a) }) // newest first
	return recent[c.Count-1].Add(c.Window), true
}
