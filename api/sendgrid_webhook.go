package api

import (
	"crypto/ecdsa"
	"encoding/json"

	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// webhookBodyLimit is larger than other bodies: SendGrid posts events in batches.
const webhookBodyLimit = 10 << 20

// webhookMaxSkew refuses replays of old signed batches.
const webhookMaxSkew = 10 * time.Minute

// sendgridEvent is one event of a webhook batch; custom_args come flattened.
type sendgridEvent struct {
	Email     string `json:"email"`
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	Reason    string `json:"reason"`
	OutboxID  string `json:"outbox_id"`
}

// suppressingEvents add the address to the suppression list.
var suppressingEvents = map[string]string{
	"bounce": "bounce", "dropped": "dropped", "spamreport": "spamreport", "unsubscribe": "unsubscribe",
	"group_unsubscribe": "unsubscribe",
}

type webhookHandler struct {
	store Store
	key   *ecdsa.PublicKey
	now   func() time.Time
	log   *slog.Logger
}

// handle verifies the batch's signature with sendgrid-go's eventwebhook
// helper, then records each event on its outbox row and suppresses bounced,
// dropped, complaining and unsubscribing addresses.
func (w webhookHandler) handle(c echo.Context) error {
	if w.key == nil {
		return problem(http.StatusNotFound, "the SendGrid event webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, webhookBodyLimit))
	if err != nil {
		return problem(http.StatusRequestEntityTooLarge, "the event batch is too large")
	}
	sig := c.Request().Header.Get(eventwebhook.VerificationHTTPHeader)
	ts := c.Request().Header.Get(eventwebhook.TimestampHTTPHeader)
	ok, err := eventwebhook.VerifySignature(w.key, body, sig, ts)
	if err != nil || !ok {
		return problem(http.StatusForbidden, "the event batch's signature does not verify",
			FieldError{Field: eventwebhook.VerificationHTTPHeader, Message: "invalid signature"})
	}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || w.now().Sub(time.Unix(sent, 0)).Abs() > webhookMaxSkew {
		return problem(http.StatusForbidden, "the event batch's timestamp is too old or malformed",
			FieldError{Field: eventwebhook.TimestampHTTPHeader, Message: "stale timestamp"})
	}
	var events []sendgridEvent
	if err := json.Unmarshal(body, &events); err != nil {
		return problem(http.StatusBadRequest, "the event batch is not a JSON array of events",
			FieldError{Field: "body", Message: "malformed"})
	}
	ctx := c.Request().Context()
	for i, e := range events {
		at := time.Unix(e.Timestamp, 0).UTC()
		if id, err := uuid.Parse(e.OutboxID); err == nil {
			if _, err := w.store.RecordDelivery(ctx, id, e.Event, e.Reason, at); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
		if reason, ok := suppressingEvents[e.Event]; ok && e.Email != "" {
			if err := w.store.Suppress(ctx, e.Email, reason, "sendgrid"); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
	}
	w.log.InfoContext(ctx, "sendgrid events recorded", "count", len(events))
	return c.NoContent(http.StatusNoContent)
}
