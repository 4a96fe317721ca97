package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/playbookd/playbookd/states"
	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
)

// SendGrid sends through the Mail Send API v3. A request is built per call:
// sendgrid.Client keeps its request in a shared field, which is not safe for
// concurrent activities.
type SendGrid struct {
	apiKey  string
	baseURL string
	client  *rest.Client
}

// NewSendGrid makes a sender for the key and base URL (tests point it at a
// local server).
func NewSendGrid(apiKey, baseURL string) *SendGrid {
	return NewSendGridWithClient(apiKey, baseURL, &http.Client{Timeout: 20 * time.Second})
}

// NewSendGridWithClient is NewSendGrid with its own HTTP client (timeouts).
func NewSendGridWithClient(apiKey, baseURL string, hc *http.Client) *SendGrid {
	return &SendGrid{apiKey: apiKey, baseURL: baseURL, client: &rest.Client{HTTPClient: hc}}
}

// Send posts the message. 2xx: sent. 429, 5xx and network errors: a plain
// error, so the activity retries. Any other status: ErrRejected.
func (s *SendGrid) Send(ctx context.Context, msg Message) (Receipt, error) {
	req := sendgrid.GetRequest(s.apiKey, "/v3/mail/send", s.baseURL)
	req.Method = rest.Post
	req.Body = sgmail.GetRequestBody(buildV3(msg))

	resp, err := s.client.SendWithContext(ctx, req)
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return Receipt{}, fmt.Errorf("sendgrid: %w: %v", ErrNotAccepted, err) // never reached SendGrid
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("sendgrid: %w", err) // may or may not have been accepted
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return Receipt{Status: states.EmailSent, ProviderMessageID: header(resp.Headers, "X-Message-Id")}, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		// SendGrid says when its limit resets (epoch seconds); retrying sooner is wasted.
		if reset, err := strconv.ParseInt(header(resp.Headers, "X-RateLimit-Reset"), 10, 64); err == nil {
			if wait := time.Until(time.Unix(reset, 0)); wait > 0 && wait <= time.Hour {
				return Receipt{}, &RateLimitedError{RetryAfter: wait.Round(time.Second) + time.Second, Detail: truncate(resp.Body, 300)}
			}
		}
		return Receipt{}, fmt.Errorf("sendgrid: %w: status %d: %s", ErrNotAccepted, resp.StatusCode, truncate(resp.Body, 300))
	case resp.StatusCode >= 500:
		return Receipt{}, fmt.Errorf("sendgrid: %w: status %d: %s", ErrNotAccepted, resp.StatusCode, truncate(resp.Body, 300))
	default:
		return Receipt{}, fmt.Errorf("%w: status %d: %s", ErrRejected, resp.StatusCode, truncate(resp.Body, 300))
	}
}

func buildV3(msg Message) *sgmail.SGMailV3 {
	m := sgmail.NewV3Mail()
	m.SetFrom(sgmail.NewEmail(msg.From.Name, msg.From.Email))
	m.Subject = msg.Subject
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(msg.To.Name, msg.To.Email))
	for k, v := range msg.TemplateData {
		p.SetDynamicTemplateData(k, v)
	}
	// On the personalization: the official spec types a top-level custom_args
	// as a string; the event webhook returns them either way.
	for k, v := range msg.CustomArgs {
		p.SetCustomArg(k, v)
	}
	m.AddPersonalizations(p)
	if msg.TemplateID != "" {
		m.SetTemplateID(msg.TemplateID)
	}
	// SendGrid requires text/plain before text/html.
	if msg.Text != "" {
		m.AddContent(sgmail.NewContent("text/plain", msg.Text))
	}
	if msg.HTML != "" {
		m.AddContent(sgmail.NewContent("text/html", msg.HTML))
	}
	m.AddCategories(msg.Categories...)
	for k, v := range msg.Headers {
		m.SetHeader(k, v)
	}
	return m
}

func header(h map[string][]string, name string) string {
	if v := http.Header(h).Get(name); v != "" {
		return v
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
