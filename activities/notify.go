package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// Notify posts {"text": message} (what Slack's incoming webhooks take) to the
// step's URL. The message is a Go template over the account and its CSM.
// 4xx answers other than 429 are refusals and are not retried.
func (a *Activities) Notify(ctx context.Context, in contract.NotifyInput) error {
	acct, err := a.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return accountNotFound(in.AccountID)
	}
	if err != nil {
		return err
	}
	text, err := templates.RenderMessage(in.Message, templateData(acct, store.Contact{}))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, err)
	}
	body, _ := json.Marshal(map[string]string{"text": text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.URL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), contract.ErrInvalidInput, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", in.RunID+"/"+in.StepID)
	resp, err := a.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("notify %s: %w", in.URL, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch {
	case resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("notify %s: status %d: %s", in.URL, resp.StatusCode, snippet)
	default:
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("webhook refused the message: status %d: %s", resp.StatusCode, snippet), contract.ErrWebhookRefused, nil)
	}
}
