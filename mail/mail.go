// Package mail sends rendered emails: through SendGrid when a key is set,
// otherwise by capturing them (the outbox row is the record; a log line says so).
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/playbookd/playbookd/states"
)

// Address is a display name and an email address.
type Address struct {
	Name  string
	Email string
}

// Message is one email to one recipient.
type Message struct {
	From       Address
	To         Address
	Subject    string
	HTML       string
	Text       string
	Categories []string
	CustomArgs map[string]string // returned by SendGrid's event webhook
	Headers    map[string]string
	// TemplateID names a SendGrid dynamic template to send instead of the
	// content above; TemplateData fills it in.
	TemplateID   string
	TemplateData map[string]any
}

// Receipt is the provider's acceptance of a message: states.EmailSent, or
// states.EmailCaptured by the capturing sender.
type Receipt struct {
	Status            states.Email
	ProviderMessageID string
}

// ErrRejected marks a provider refusal that a retry cannot fix (a 4xx other
// than 429).
var ErrRejected = errors.New("rejected by the email provider")

// ErrNotAccepted marks a failure after which the provider certainly did not
// take the message (connection refused, 429, 5xx): safe to retry. Any other
// error leaves the outcome unknown.
var ErrNotAccepted = errors.New("not accepted by the email provider")

// RateLimitedError says when the provider will take messages again.
type RateLimitedError struct {
	RetryAfter time.Duration
	Detail     string
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited for %s: %s", e.RetryAfter, e.Detail)
}

// Is makes a rate limit an ErrNotAccepted.
func (e *RateLimitedError) Is(target error) bool { return target == ErrNotAccepted }

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, msg Message) (Receipt, error)
}
