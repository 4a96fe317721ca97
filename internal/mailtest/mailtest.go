// Package mailtest records the emails a test's code sends, for tests to
// read: a sign-in link, a notice. Send it where a mail.Sender (or
// app.Mailer) goes; emails sent in the background are waited for.
package mailtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
)

// Wait is how long Next waits for an email.
const Wait = 10 * time.Second

// Recorder is a mail sender that keeps every message; its zero value is
// ready.
type Recorder struct {
	mu      sync.Mutex
	sent    []mail.Message
	taken   map[int]bool
	arrival chan struct{} // closed when a message arrives
}

// Send records msg, as captured.
func (r *Recorder) Send(_ context.Context, msg mail.Message) (mail.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, msg)
	if r.arrival != nil {
		close(r.arrival)
		r.arrival = nil
	}
	return mail.Receipt{Status: states.EmailCaptured}, nil
}

// Sent is every message so far, oldest first.
func (r *Recorder) Sent() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail.Message(nil), r.sent...)
}

// Next is the oldest message to the address that Next has not returned
// yet, waiting up to Wait for it to be sent; the test fails without one.
func (r *Recorder) Next(t testing.TB, to string) mail.Message {
	t.Helper()
	deadline := time.NewTimer(Wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i, m := range r.sent {
			if !r.taken[i] && strings.EqualFold(m.To.Email, to) {
				if r.taken == nil {
					r.taken = map[int]bool{}
				}
				r.taken[i] = true
				r.mu.Unlock()
				return m
			}
		}
		if r.arrival == nil {
			r.arrival = make(chan struct{})
		}
		arrival := r.arrival
		r.mu.Unlock()
		select {
		case <-arrival:
		case <-deadline.C:
			t.Fatalf("no email to %s within %s", to, Wait)
		}
	}
}
