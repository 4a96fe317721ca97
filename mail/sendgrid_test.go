package mail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/playbookd/playbookd/states"
)

func TestSendGridSender(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		wantErr       bool
		wantRejected  bool
		wantMessageID string
	}{
		{"accepted", http.StatusAccepted, false, false, "abc123"},
		{"rate limited retries", http.StatusTooManyRequests, true, false, ""},
		{"server error retries", http.StatusServiceUnavailable, true, false, ""},
		{"bad request is rejected", http.StatusBadRequest, true, true, ""},
		{"forbidden is rejected", http.StatusForbidden, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v3/mail/send" || r.Method != http.MethodPost {
					t.Errorf("request %s %s", r.Method, r.URL.Path)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer SG.test" {
					t.Errorf("Authorization = %q", got)
				}
				raw, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(raw, &body); err != nil {
					t.Errorf("body is not JSON: %v", err)
				}
				w.Header().Set("X-Message-Id", "abc123")
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()

			receipt, err := NewSendGrid("SG.test", srv.URL).Send(context.Background(), Message{
				From: Address{Name: "CS", Email: "cs@example.test"}, To: Address{Name: "Pat", Email: "pat@acme.test"},
				Subject: "Hello", Text: "hi", HTML: "<p>hi</p>", Categories: []string{"playbookd"},
				CustomArgs: map[string]string{"outbox_id": "o1"},
			})
			if (err != nil) != tt.wantErr || errors.Is(err, ErrRejected) != tt.wantRejected {
				t.Fatalf("err = %v; wantErr %v, wantRejected %v", err, tt.wantErr, tt.wantRejected)
			}
			if !tt.wantErr && (receipt.Status != states.EmailSent || receipt.ProviderMessageID != tt.wantMessageID) {
				t.Fatalf("receipt = %+v", receipt)
			}
			content := body["content"].([]any)
			if content[0].(map[string]any)["type"] != "text/plain" || content[1].(map[string]any)["type"] != "text/html" {
				t.Errorf("content order = %v; SendGrid wants text/plain first", content)
			}
			p := body["personalizations"].([]any)[0].(map[string]any)
			if p["custom_args"].(map[string]any)["outbox_id"] != "o1" {
				t.Errorf("personalizations[0].custom_args = %v", p["custom_args"])
			}
		})
	}
}

func TestSendGridNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Close() // nothing listens any more
	_, err := NewSendGrid("SG.test", srv.URL).Send(context.Background(), Message{To: Address{Email: "a@b.test"}})
	if err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
}

func TestSendGridRateLimitCarriesResetTime(t *testing.T) {
	reset := time.Now().Add(30 * time.Second).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	_, err := NewSendGrid("SG.test", srv.URL).Send(context.Background(), Message{To: Address{Email: "a@b.test"}})
	var limited *RateLimitedError
	if !errors.As(err, &limited) {
		t.Fatalf("err = %v, want a RateLimitedError", err)
	}
	if limited.RetryAfter < 25*time.Second || limited.RetryAfter > 32*time.Second {
		t.Fatalf("RetryAfter = %s, want about 30s", limited.RetryAfter)
	}
}
