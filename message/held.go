package message

import (
	"fmt"
	"time"
)

// Why an automated email waits, in the words the run view and the
// simulation both use (store.ClaimEmail decides; the simulator replays the
// same rules for one run).

// HeldByGap: the contact got an automated email from play too recently.
func HeldByGap(play, contact string, ago, gap time.Duration) string {
	return fmt.Sprintf("held: %s emailed %s %s ago; automated emails to a contact are at least %s apart",
		play, contact, Roughly(ago), Roughly(gap))
}

// HeldByCap: the address already got count automated emails in the window.
func HeldByCap(address string, count int, window time.Duration) string {
	return fmt.Sprintf("held: %s already got %d automated emails in %s (the frequency cap)", address, count, Roughly(window))
}

// HeldByHigherPlay: a play of higher priority is live on the account.
func HeldByHigherPlay(play string, priority int) string {
	return fmt.Sprintf("held: %s (priority %d) is live on this account and holds the customer emails of lower plays", play, priority)
}

// Roughly says a duration as a person would: minutes, hours or days.
func Roughly(d time.Duration) string {
	n, unit := int(d/(24*time.Hour)), "day"
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < 2*time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 24*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
