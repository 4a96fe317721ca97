package activities_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// standIns is the tests' explicit permission to post to stand-in servers
// on 127.0.0.1 over http; nothing else is opened.
var standIns = netguard.Policy{AllowHTTP: true, AllowLoopback: true}

// notifier returns activities posting through the client cfg describes,
// logging into log, and a notify input for the seeded account.
func notifier(t *testing.T, cfg activities.WebhookClientConfig, log io.Writer) (*activities.Activities, contract.NotifyInput) {
	t.Helper()
	_, pool := newDB(t)
	st := store.New(pool)
	seedAccount(t, st)
	set, err := templates.Builtin()
	require.NoError(t, err)
	acts := &activities.Activities{Store: st, Sender: &scriptedSender{}, Templates: set, HTTP: activities.NewWebhookClient(cfg),
		From: mail.Address{Email: "cs@example.test"}, Log: slog.New(slog.NewTextHandler(log, nil))}
	return acts, contract.NotifyInput{RunID: "r", StepID: "ping", AccountID: "acme", Message: "{{.Account.Name}} needs {{.CSM.Name}}"}
}

// standIn counts the requests it answers with handler.
func standIn(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func requireAppError(t *testing.T, err error, errType string) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want a non-retryable application error, got %v", err)
	require.Equal(t, errType, appErr.Type())
	return appErr
}

func TestNotifyPostsAndClassifiesAnswers(t *testing.T) {
	var got map[string]string
	status := http.StatusOK
	srv, _ := standIn(t, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &got)
		w.WriteHeader(status)
	})
	acts, in := notifier(t, activities.WebhookClientConfig{Guard: standIns}, io.Discard)
	in.URL = srv.URL

	require.NoError(t, acts.Notify(context.Background(), in))
	require.Equal(t, "Acme needs Casey", got["text"])

	status = http.StatusServiceUnavailable
	err := acts.Notify(context.Background(), in)
	var appErr *temporal.ApplicationError
	require.Error(t, err)
	require.False(t, errors.As(err, &appErr), "503 is retried")

	status = http.StatusNotFound
	err = acts.Notify(context.Background(), in)
	_ = requireAppError(t, err, contract.ErrWebhookRefused)
}

// TestNotifyNeverShowsTheAnswerBody: the reply of whatever the URL reached
// went into the step detail; only its status and timing may.
func TestNotifyNeverShowsTheAnswerBody(t *testing.T) {
	const secret = "pbk_live_SECRET-of-the-internal-service"
	status := http.StatusForbidden
	srv, _ := standIn(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"keys":["`+secret+`"]}`)
	})
	var log bytes.Buffer
	acts, in := notifier(t, activities.WebhookClientConfig{Guard: standIns}, &log)
	in.URL = srv.URL + "/v1/keys"

	for _, status = range []int{http.StatusForbidden, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		err := acts.Notify(context.Background(), in)
		require.Error(t, err)
		require.Regexp(t, `webhook 127\.0\.0\.1 answered \d{3} after \d+ ms`, err.Error())
		require.NotContains(t, err.Error(), "SECRET")
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			require.False(t, appErr.HasDetails())
			require.NotContains(t, appErr.Message(), "SECRET")
		}
	}
	require.NotContains(t, log.String(), "SECRET")
}

// TestNotifyChecksWhereNamesResolve: a name published as public may resolve
// to this host or its network when the post is made (DNS rebinding).
func TestNotifyChecksWhereNamesResolve(t *testing.T) {
	srv, hits := standIn(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	port := netip.MustParseAddrPort(srv.Listener.Addr().String()).Port()
	tests := []struct {
		resolvesTo string
		why        string
	}{
		{"127.0.0.1", "127.0.0.1 is a loopback address"},
		{"10.0.0.7", "10.0.0.7 is a private address (RFC 1918)"},
		{"169.254.169.254", "169.254.169.254 is a cloud metadata address"},
	}
	// Plain http is allowed so that only the address decides; loopback is not.
	dns := &fakeDNS{}
	acts, in := notifier(t, activities.WebhookClientConfig{Guard: netguard.Policy{AllowHTTP: true}, Resolver: dns.resolver()}, io.Discard)
	for _, tt := range tests {
		t.Run(tt.resolvesTo, func(t *testing.T) {
			dns.answer.Store(netip.MustParseAddr(tt.resolvesTo))
			in.URL = fmt.Sprintf("http://hooks.example.com:%d/x", port)
			err := acts.Notify(context.Background(), in)
			appErr := requireAppError(t, err, contract.ErrWebhookBlocked)
			require.True(t, appErr.NonRetryable())
			require.Contains(t, appErr.Message(), "notify to hooks.example.com blocked: "+tt.why)
		})
	}
	require.Zero(t, hits.Load(), "no post reached the stand-in")
}

// TestNotifyRedirects: redirects are followed only where the first URL may go.
func TestNotifyRedirects(t *testing.T) {
	target, targetHits := standIn(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	port := netip.MustParseAddrPort(target.Listener.Addr().String()).Port()
	redirectTo := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusTemporaryRedirect) }
	}
	tlsStandIn := httptest.NewTLSServer(redirectTo(target.URL + "/plain"))
	t.Cleanup(tlsStandIn.Close)
	dns := &fakeDNS{}
	dns.answer.Store(netip.MustParseAddr("192.168.1.20"))
	pool := tlsStandIn.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	acts, in := notifier(t, activities.WebhookClientConfig{Guard: standIns, Resolver: dns.resolver(), RootCAs: pool}, io.Discard)

	tests := []struct {
		name, from, host, why string
	}{
		{"to the metadata service", "http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254", "cloud metadata address"},
		{"to a name resolving to a private address", fmt.Sprintf("http://printer.example.com:%d/", port), "printer.example.com", "192.168.1.20 is a private address"},
		{"to a user name", "http://admin:pw@hooks.example.com/", "hooks.example.com", "user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := standIn(t, redirectTo(tt.from))
			in.URL = srv.URL
			err := acts.Notify(context.Background(), in)
			appErr := requireAppError(t, err, contract.ErrWebhookBlocked)
			require.Contains(t, appErr.Message(), "notify to "+tt.host+" blocked: ")
			require.Contains(t, appErr.Message(), tt.why)
		})
	}
	t.Run("from https to http", func(t *testing.T) {
		in.URL = tlsStandIn.URL
		err := acts.Notify(context.Background(), in)
		appErr := requireAppError(t, err, contract.ErrWebhookBlocked)
		require.Contains(t, appErr.Message(), "redirect from https to plain http")
	})
	require.Zero(t, targetHits.Load())

	t.Run("to an allowed stand-in", func(t *testing.T) {
		srv, _ := standIn(t, redirectTo(target.URL+"/moved"))
		in.URL = srv.URL
		require.NoError(t, acts.Notify(context.Background(), in))
		require.EqualValues(t, 1, targetHits.Load())
	})
}

// TestNotifyWithoutAClientKeepsTheGuard: Activities without an HTTP client
// post through production's guard, not an unguarded default client.
func TestNotifyWithoutAClientKeepsTheGuard(t *testing.T) {
	srv, hits := standIn(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	acts, in := notifier(t, activities.WebhookClientConfig{}, io.Discard)
	acts.HTTP = nil
	in.URL = srv.URL
	err := acts.Notify(context.Background(), in)
	_ = requireAppError(t, err, contract.ErrWebhookBlocked)
	require.Zero(t, hits.Load())
}

// fakeDNS answers every A question with one address, through Go's own
// resolver speaking DNS over an in-memory stream.
type fakeDNS struct{ answer atomic.Value } // netip.Addr

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go d.serve(server)
		return client, nil
	}}
}

func (d *fakeDNS) serve(c net.Conn) {
	defer c.Close()
	var size [2]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return
	}
	q := make([]byte, binary.BigEndian.Uint16(size[:]))
	if _, err := io.ReadFull(c, q); err != nil {
		return
	}
	end := 12 // the question: its name's labels, then type and class
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5
	qtype := binary.BigEndian.Uint16(q[end-4:])
	msg := append([]byte{}, q[:end]...)
	binary.BigEndian.PutUint16(msg[2:], 0x8180) // an answer, recursion available, no error
	binary.BigEndian.PutUint16(msg[6:], 0)      // answers
	binary.BigEndian.PutUint16(msg[8:], 0)      // authorities
	binary.BigEndian.PutUint16(msg[10:], 0)     // additional records
	if ip := d.answer.Load().(netip.Addr); qtype == 1 && ip.Is4() {
		binary.BigEndian.PutUint16(msg[6:], 1)
		a := ip.As4()
		// name (pointer to the question's), type A, class IN, TTL 0, 4 bytes
		msg = append(msg, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, a[0], a[1], a[2], a[3])
	}
	binary.BigEndian.PutUint16(size[:], uint16(len(msg)))
	_, _ = c.Write(append(size[:], msg...))
}
