package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
)

// webhookBodyLimit is larger than other bodies: SendGrid posts events in batches.
const webhookBodyLimit = 10 << 20

// webhookMaxSkew refuses replays of old signed batches.
const webhookMaxSkew = 10 * time.Minute

// Bounds of a batch and of its events. SendGrid posts at most 768 KB at a
// time (a few thousand events); the cap bounds the work and the answer a
// body of tiny elements could cause. Identifiers longer than these are not
// SendGrid's; a reason is text quoted from the receiving server, so it is
// cut rather than refused.
const (
	maxWebhookEvents = 50_000
	maxEventIDBytes  = 255
	maxAddressBytes  = 254 // RFC 5321's longest path
	maxReasonBytes   = 1000
)

// An event's time must fall in the years the API accepts elsewhere (and
// PostgreSQL's timestamptz can hold).
var (
	minEventUnix = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxEventUnix = time.Date(maxYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// sendgridEvent is one event of a webhook batch; custom_args come flattened.
type sendgridEvent struct {
	Email     string  `json:"email"`
	Event     string  `json:"event"`
	Timestamp *int64  `json:"timestamp"`
	Reason    string  `json:"reason"`
	OutboxID  string  `json:"outbox_id"`
	EventID   *string `json:"sg_event_id"`
}

// sendgridEventNames are the events SendGrid documents. Others are skipped:
// what they would mean on an outbox row's delivery is unknown.
var sendgridEventNames = map[string]bool{
	"processed": true, "deferred": true, "delivered": true, "open": true, "click": true, "bounce": true,
	"dropped": true, "spamreport": true, "unsubscribe": true, "group_unsubscribe": true, "group_resubscribe": true,
}

// suppressingEvents add the address to the suppression list.
var suppressingEvents = map[string]string{
	"bounce": "bounce", "dropped": "dropped", "spamreport": "spamreport", "unsubscribe": "unsubscribe",
	"group_unsubscribe": "unsubscribe",
}

// webhookIssue is an event of the batch that was not applied (skipped) or
// whose address was not suppressed; Index is its 0-based position.
type webhookIssue struct {
	Index   int    `json:"index"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// webhookResult answers a batch. SendGrid only reads the status; the body
// is for people replaying a batch and for the logs.
type webhookResult struct {
	Received      int            `json:"received"`
	Applied       int            `json:"applied"`    // events seen for the first time
	Duplicates    int            `json:"duplicates"` // seen before, or earlier in the batch
	Suppressed    int            `json:"suppressed"` // addresses added to the suppression list
	Skipped       []webhookIssue `json:"skipped"`
	NotSuppressed []webhookIssue `json:"not_suppressed"`
}

type webhookHandler struct {
	store app.Deliveries
	key   *ecdsa.PublicKey
	now   func() time.Time
	log   *slog.Logger
}

// handle verifies the batch's signature with sendgrid-go's eventwebhook
// helper, then applies its events in one transaction: each is recorded on
// its outbox row and the timeline, bounced, dropped, complaining and
// unsubscribing addresses are suppressed. An event is applied once, by its
// sg_event_id. A bad event is skipped and reported with a 200: SendGrid
// re-sends a batch answered otherwise, and the same body cannot get better.
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
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return problem(http.StatusBadRequest, "the event batch is not a JSON array of events",
			FieldError{Field: "body", Message: "malformed"})
	}
	if len(raws) > maxWebhookEvents {
		return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d events per batch", maxWebhookEvents))
	}
	res := webhookResult{Received: len(raws), Skipped: []webhookIssue{}, NotSuppressed: []webhookIssue{}}
	events := make([]store.DeliveryEvent, 0, len(raws))
	seen := make(map[string]bool, len(raws))
	for i, raw := range raws {
		e, note, skip := parseSendGridEvent(raw)
		switch {
		case skip != nil:
			skip.Index = i
			res.Skipped = append(res.Skipped, *skip)
			continue
		case note != nil:
			note.Index = i
			res.NotSuppressed = append(res.NotSuppressed, *note)
		}
		if seen[e.Key] {
			res.Duplicates++
			continue
		}
		seen[e.Key] = true
		events = append(events, e)
	}
	ctx := c.Request().Context()
	if len(events) > 0 {
		// An error here is the database's: the transaction applied nothing,
		// and SendGrid's retry applies the batch once.
		done, err := w.store.RecordDeliveries(ctx, events)
		if err != nil {
			return err
		}
		res.Applied, res.Suppressed = done.Applied, done.Suppressed
		res.Duplicates += len(events) - done.Applied
	}
	level := slog.LevelInfo
	if len(res.Skipped)+len(res.NotSuppressed) > 0 {
		level = slog.LevelWarn
	}
	w.log.Log(ctx, level, "sendgrid events recorded", "received", res.Received, "applied", res.Applied,
		"duplicates", res.Duplicates, "suppressed", res.Suppressed, "skipped", len(res.Skipped),
		"not_suppressed", len(res.NotSuppressed), "first_skipped", firstIssue(res.Skipped))
	return c.JSON(http.StatusOK, res)
}

// parseSendGridEvent checks one event. skip says why the event cannot be
// applied; note, why its address is not suppressed (the event still is).
func parseSendGridEvent(raw json.RawMessage) (e store.DeliveryEvent, note, skip *webhookIssue) {
	var in sendgridEvent
	if err := json.Unmarshal(raw, &in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return e, nil, &webhookIssue{Field: typeErr.Field, Message: "must be " + jsonKind(typeErr.Type)}
		}
		return e, nil, &webhookIssue{Message: "not an event object"}
	}
	switch {
	case in.Event == "":
		return e, nil, &webhookIssue{Field: "event", Message: "required"}
	case !sendgridEventNames[in.Event]:
		return e, nil, &webhookIssue{Field: "event", Message: "not an event SendGrid documents"}
	case in.Timestamp == nil:
		return e, nil, &webhookIssue{Field: "timestamp", Message: "required"}
	case *in.Timestamp < minEventUnix || *in.Timestamp >= maxEventUnix:
		return e, nil, &webhookIssue{Field: "timestamp", Message: fmt.Sprintf("must be between %d and %d", minYear, maxYear)}
	}
	e = store.DeliveryEvent{Event: in.Event, At: time.Unix(*in.Timestamp, 0).UTC(), Reason: cleanReason(in.Reason)}
	switch id := in.EventID; {
	case id == nil:
		// Every real event has one; a hash of the event stands in, so
		// the same event sent again is still recognised.
		e.Key = canonicalHash(raw)
	case *id == "" || len(*id) > maxEventIDBytes || hasControl(*id):
		return e, nil, &webhookIssue{Field: "sg_event_id", Message: fmt.Sprintf("must be 1 to %d characters without control characters", maxEventIDBytes)}
	default:
		e.Key = *id
	}
	if in.OutboxID != "" {
		id, err := uuid.Parse(in.OutboxID)
		if err != nil {
			return e, nil, &webhookIssue{Field: "outbox_id", Message: "must be a UUID"}
		}
		e.EmailID = &id
	}
	if reason, ok := suppressingEvents[in.Event]; ok {
		if address, ok := bareAddress(in.Email); ok {
			e.SuppressAs, e.Address = reason, address
		} else {
			note = &webhookIssue{Field: "email", Message: "not a bare email address: not suppressed"}
		}
	}
	return e, note, nil
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int64:
		return "an integer"
	default:
		return "an object"
	}
}

// hasControl reports C0 control characters and DEL: PostgreSQL refuses NUL
// in text, and none belongs in an identifier.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// cleanReason keeps a bounce reason storable: control characters become
// spaces and it is cut at maxReasonBytes (on a character boundary).
func cleanReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReasonBytes {
		s = strings.ToValidUTF8(s[:maxReasonBytes], "")
	}
	return s
}

// bareAddress returns s lower-cased when it is one address and nothing else
// (no display name, no angle brackets, no list).
func bareAddress(s string) (string, bool) {
	if len(s) > maxAddressBytes || hasControl(s) {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	return strings.ToLower(a.Address), true
}

// canonicalHash keys an event without sg_event_id by its content, whatever
// the order of its fields and the spacing.
func canonicalHash(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&v) // raw already decoded as an event
	canonical, _ := json.Marshal(v)
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func firstIssue(issues []webhookIssue) any {
	if len(issues) == 0 {
		return nil
	}
	return issues[0]
}
