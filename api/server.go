// Package api is playbookd's HTTP API. Handlers decode, call a domain
// service (or, for plain reads and writes, the store) and encode; errors go
// through one handler that writes problem+json. Every route and who may
// call it is in routes.go; key auth is in auth.go; logging, metrics and
// body limits are in middleware.go.
package api

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/metrics"
	"github.com/playbookd/playbookd/unsubscribe"
)

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config is what New needs.
type Config struct {
	// App is the application the API is an edge of (app.Build): every
	// route calls its use cases and services.
	App   *app.App
	Ready []Check
	// AdminKey is required on every /v1 route.
	AdminKey string
	// TrustedProxies are the load balancers in front: from them, the client
	// is the one X-Forwarded-For names. None: the connection's peer is.
	TrustedProxies []netip.Prefix
	// Links checks the signed unsubscribe links in emails.
	Links *unsubscribe.Links
	// SendGridWebhookKey verifies the event webhook; nil disables it.
	SendGridWebhookKey *ecdsa.PublicKey
	Log                *slog.Logger
	// CheckResponses, when set, receives every response that does not match
	// the OpenAPI document (tests set it; it buffers responses).
	CheckResponses ResponseCheck
	// Metrics registers the HTTP metrics and serves /metrics; nil: neither.
	Metrics *metrics.Metrics
}

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	doc, err := Spec()
	if err != nil {
		panic(err) // embedded and tested: a broken document is a build defect
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP(cfg.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	e.Use(middleware.RequestID())
	e.Use(requestLogger(cfg.Log))
	if cfg.Metrics != nil {
		e.Use(httpMetrics(cfg.Metrics.Registry))
	}
	e.Use(recoverPanics(cfg.Log))
	e.Use(refuseUnreadableInput)
	if cfg.CheckResponses != nil {
		e.Use(checkResponses(doc, cfg.CheckResponses))
	}

	a := cfg.App
	if a == nil {
		a, _ = app.Build(app.Deps{}) // routes and middleware only (tests of the edge itself)
	}
	h := &handlers{app: a, accountSchema: doc.Components.Schemas["AccountInput"].Value,
		log: cfg.Log, ready: cfg.Ready, spec: doc, metrics: cfg.Metrics,
		unsubscribe: unsubscribeHandlers{store: a.Unsubscribes, links: cfg.Links},
		surveys:     surveyHandlers{app: a, failures: a.AuthFailures},
		webhook:     webhookHandler{store: a.Deliveries, key: cfg.SendGridWebhookKey, now: time.Now, log: cfg.Log},
	}
	routes(router{e: e, auth: authenticator{adminKey: cfg.AdminKey, keys: a.Keys, failures: a.AuthFailures}, doc: doc}, h)
	return e
}

// clientIP is who a request comes from, as throttles and logs see it: the
// connection's peer, or, from a trusted proxy, the client X-Forwarded-For
// names. Nothing else is trusted: a client writes whatever headers it likes.
func clientIP(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

type handlers struct {
	app *app.App

	unsubscribe unsubscribeHandlers
	surveys     surveyHandlers
	webhook     webhookHandler

	log     *slog.Logger
	ready   []Check
	spec    *openapi3.T
	metrics *metrics.Metrics
	// accountSchema holds the limits of an account, which import rows are
	// checked against as POST /v1/accounts bodies are.
	accountSchema *openapi3.Schema
}
