package mail

import (
	"context"
	"log/slog"

	"github.com/playbookd/playbookd/states"
)

// Capture is the default sender when no SendGrid key is configured: the email
// is already stored in the outbox, so capturing means logging that it would
// have gone out.
type Capture struct {
	Log *slog.Logger
}

// Send logs the message and reports it captured.
func (c Capture) Send(ctx context.Context, msg Message) (Receipt, error) {
	c.Log.InfoContext(ctx, "email captured (no SENDGRID_API_KEY)",
		"to", msg.To.Email, "subject", msg.Subject, "outbox_id", msg.CustomArgs["outbox_id"])
	return Receipt{Status: states.EmailCaptured}, nil
}
