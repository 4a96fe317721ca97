package activities_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
)

// fakeSendGrid answers each request with the next scripted behaviour and
// counts the messages it accepted, by outbox id.
type fakeSendGrid struct {
	mu       sync.Mutex
	script   []string // "429", "503", "400", "202", "slow" (accepts, answers late), "drop"
	requests int
	accepted map[string]int
}

func (f *fakeSendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Personalizations []struct {
			CustomArgs map[string]string `json:"custom_args"`
		} `json:"personalizations"`
	}
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	step := "202"
	if f.requests < len(f.script) {
		step = f.script[f.requests]
	}
	f.requests++
	accept := func() { f.accepted[body.Personalizations[0].CustomArgs["outbox_id"]]++ }
	f.mu.Unlock()
	switch step {
	case "429":
		w.Header().Set("X-RateLimit-Reset", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
	case "400":
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"message":"invalid address"}]}`))
	case "slow":
		f.mu.Lock()
		accept()
		f.mu.Unlock()
		time.Sleep(500 * time.Millisecond) // the client gives up first
		w.WriteHeader(http.StatusAccepted)
	case "drop":
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	default:
		f.mu.Lock()
		accept()
		f.mu.Unlock()
		w.Header().Set("X-Message-Id", "msg-1")
		w.WriteHeader(http.StatusAccepted)
	}
}

func (f *fakeSendGrid) counts(outboxID string) (requests, accepted int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.accepted[outboxID]
}

// Against a real sendgrid-go client: whatever the server does, no email is
// accepted twice, and the outbox says what happened.
func TestDeliveryAgainstAMisbehavingServer(t *testing.T) {
	tests := []struct {
		script       []string
		wantStatus   states.Email
		wantAccepted int
		wantRequests int
	}{
		{[]string{"429", "202"}, states.EmailSent, 1, 2},
		{[]string{"503", "503", "202"}, states.EmailSent, 1, 3},
		{[]string{"400"}, states.EmailFailed, 0, 1},
		{[]string{"slow"}, states.EmailUncertain, 1, 1},
		{[]string{"drop"}, states.EmailUncertain, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.script[0], func(t *testing.T) {
			fake := &fakeSendGrid{script: tt.script, accepted: map[string]int{}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newFixture(t, false)
			f.acts.Sender = mail.NewSendGridWithClient("SG.test", srv.URL, &http.Client{Timeout: 200 * time.Millisecond})

			// What Temporal does: retry while the activity returns an error.
			for attempt := 0; attempt < 5; attempt++ {
				if _, err := f.sendWelcome(); err == nil {
					break
				}
			}
			_, _ = f.sendWelcome() // and a re-run after the run's worker restarts: the outbox row says how it went

			srv.Close() // waits for handlers still running (the slow one)
			emails := f.emails(t)
			require.Len(t, emails, 1, "one outbox row per run, step and recipient")
			require.Equal(t, tt.wantStatus, emails[0].Status)
			requests, accepted := fake.counts(emails[0].ID.String())
			require.Equal(t, tt.wantRequests, requests)
			require.Equal(t, tt.wantAccepted, accepted)
		})
	}
}
