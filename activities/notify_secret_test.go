package activities_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/store"
)

// secretsDown is a secret store that cannot answer.
type secretsDown struct{}

func (secretsDown) SecretValue(context.Context, string) (string, error) {
	return "", errors.New("connection refused")
}

// A notify step that names a secret posts to the URL stored under it, read
// when it runs; a secret nobody stored fails the step at once, a store
// that does not answer is retried. Errors never hold the URL.
func TestNotifyPostsToTheNamedSecret(t *testing.T) {
	srv, hits := standIn(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	acts, in := notifier(t, activities.WebhookClientConfig{Guard: standIns}, io.Discard)
	st := acts.Store.(*store.Store)
	acts.Secrets = st
	in.Secret = "slack-cs-alerts"

	tests := []struct {
		name    string
		setup   func()
		errType string // "": posted; "retry": a retryable error
	}{
		{name: "not stored", setup: func() {}, errType: contract.ErrUnknownSecret},
		{name: "stored", setup: func() {
			_, _, err := st.PutSecret(context.Background(), "slack-cs-alerts", srv.URL+"/services/T/B/x", "admin key")
			require.NoError(t, err)
		}},
		{name: "deleted since", setup: func() { require.NoError(t, st.DeleteSecret(context.Background(), "slack-cs-alerts")) },
			errType: contract.ErrUnknownSecret},
		{name: "store down", setup: func() { acts.Secrets = secretsDown{} }, errType: "retry"},
		{name: "no secret store", setup: func() { acts.Secrets = nil }, errType: contract.ErrInvalidInput},
	}
	posted := int32(0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			err := acts.Notify(context.Background(), in)
			switch tt.errType {
			case "":
				require.NoError(t, err)
				posted++
			case "retry":
				var appErr *temporal.ApplicationError
				require.Error(t, err)
				require.False(t, errors.As(err, &appErr), "retried: %v", err)
			default:
				appErr := requireAppError(t, err, tt.errType)
				require.True(t, appErr.NonRetryable())
			}
			if err != nil {
				require.NotContains(t, err.Error(), "/services/")
			}
			require.Equal(t, posted, hits.Load())
		})
	}
}
