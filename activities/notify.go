package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/compose"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// Secrets reads the named secrets notify steps post to (the store).
type Secrets interface {
	SecretValue(ctx context.Context, name string) (string, error)
}

// Notify posts {"text": message} (what Slack's incoming webhooks take) to the
// step's URL, or to the URL stored as the step's secret, read now: a secret
// changed since the run started is the one used. The message is a Go
// template over the account and its CSM. 4xx answers other than 429 are
// refusals and are not retried; neither is a secret nobody stored. Errors
// give the answer's status and timing, never its body, nor the URL.
func (a *Activities) Notify(ctx context.Context, in contract.NotifyInput) error {
	acct, err := a.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return accountNotFound(in.AccountID)
	}
	if err != nil {
		return err
	}
	text, err := templates.RenderMessage(in.Message, compose.Data(acct, store.Contact{}))
	if err != nil {
		return templateFailure(err, contract.ErrInvalidInput)
	}
	target, err := a.notifyURL(ctx, in)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil { // the error would quote the URL, whose path may be a secret
		return temporal.NewNonRetryableApplicationError("notify: the webhook URL does not parse", contract.ErrInvalidInput, nil)
	}
	host := req.URL.Hostname()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", in.RunID+"/"+in.StepID)
	client := a.HTTP
	if client == nil {
		client = defaultWebhookClient()
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return webhookFailure(host, err)
	}
	took := time.Since(start)
	// The body is not read into anything: what the target says (an internal
	// service's reply, should a request get past the guard) must reach no
	// step detail, error or log. Draining a little lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	answer := fmt.Sprintf("webhook %s answered %d after %d ms", host, resp.StatusCode, took.Milliseconds())
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return errors.New(answer)
	default:
		return temporal.NewNonRetryableApplicationError(answer, contract.ErrWebhookRefused, nil)
	}
}

// notifyURL is where a notify step posts: its URL, or its secret's value.
// A store that fails is retried; a secret that does not exist is not.
func (a *Activities) notifyURL(ctx context.Context, in contract.NotifyInput) (string, error) {
	if in.Secret == "" {
		return in.URL, nil
	}
	if a.Secrets == nil {
		return "", temporal.NewNonRetryableApplicationError("notify: this worker has no secret store", contract.ErrInvalidInput, nil)
	}
	u, err := a.Secrets.SecretValue(ctx, in.Secret)
	if errors.Is(err, store.ErrUnknownSecret) {
		return "", temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"notify: no secret is named %q (an admin stores it with PUT /v1/secrets/%s)", in.Secret, in.Secret), contract.ErrUnknownSecret, nil)
	}
	if err != nil {
		return "", fmt.Errorf("notify: read secret %q: %w", in.Secret, err)
	}
	return u, nil
}

// webhookFailure names the host, never the full URL (a Slack webhook's path
// is its secret). A destination the guard refuses is a business failure.
func webhookFailure(host string, err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if u, perr := url.Parse(uerr.URL); perr == nil {
			host = u.Hostname() // the request that failed may be a redirect's
		}
		err = uerr.Err
	}
	var blocked *netguard.BlockedError
	if errors.As(err, &blocked) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("notify to %s blocked: %v", host, blocked), contract.ErrWebhookBlocked, nil)
	}
	return fmt.Errorf("notify %s: %w", host, err)
}
