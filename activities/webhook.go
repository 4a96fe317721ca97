package activities

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/playbookd/playbookd/internal/netguard"
)

// WebhookClientConfig configures NewWebhookClient. Production sets Guard only.
type WebhookClientConfig struct {
	Guard    netguard.Policy
	Timeout  time.Duration  // of a whole post; 0: 15s
	Resolver *net.Resolver  // nil: the system's (tests give a fake DNS)
	RootCAs  *x509.CertPool // nil: the system's (tests trust their TLS stand-in)
}

// NewWebhookClient returns the client notify steps post through. Validation
// checked the URL when the playbook was published, but DNS answers change and
// webhooks redirect, so the guard is applied again here: to the URL of every
// request (the first and each redirect) and to the address of every
// connection the dialer opens, after name resolution.
func NewWebhookClient(cfg WebhookClientConfig) *http.Client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Resolver: cfg.Resolver,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &netguard.BlockedError{Host: address, Reason: "not an IP address"}
			}
			return cfg.Guard.CheckAddr(ap.Addr())
		}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would resolve and connect where the dialer cannot check
	t.DialContext = dialer.DialContext
	t.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs}
	return &http.Client{
		Timeout:   cfg.Timeout,
		Transport: guardedTransport{guard: cfg.Guard, next: t},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return &netguard.BlockedError{Reason: "a redirect from https to plain http is not followed"}
			}
			return nil
		},
	}
}

// guardedTransport refuses a request whose URL the guard does not allow
// before any connection is made.
type guardedTransport struct {
	guard netguard.Policy
	next  http.RoundTripper
}

func (g guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.guard.CheckURL(req.URL.String()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // RoundTrip must close it, even on error
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// defaultWebhookClient serves Activities without an HTTP client: production's
// guard, never an unguarded client.
var defaultWebhookClient = sync.OnceValue(func() *http.Client {
	return NewWebhookClient(WebhookClientConfig{})
})
