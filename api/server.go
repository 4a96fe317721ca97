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
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/metrics"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/portfolio"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/triggers"
	"github.com/playbookd/playbookd/unsubscribe"
)

// Runs starts, shows and controls runs.
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	Get(ctx context.Context, id uuid.UUID) (runs.View, error)
	Control(ctx context.Context, id uuid.UUID, action string) (store.Run, error)
}

// Triggers saves the changes that start playbooks by themselves.
type Triggers interface {
	SaveAccount(ctx context.Context, in store.UpsertAccount) (triggers.SavedAccount, error)
	RecordHealth(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (triggers.Recorded, error)
	Event(ctx context.Context, accountID, name string, data map[string]any) (int, string, error)
}

// Approvals decides approvals and lists the inboxes.
type Approvals interface {
	Decide(ctx context.Context, by team.Actor, d approvals.Decision) (approvals.Decided, error)
	List(ctx context.Context, by team.Actor, f store.ApprovalFilter) ([]store.Approval, error)
}

// Tasks completes tasks and lists the inboxes.
type Tasks interface {
	Complete(ctx context.Context, by team.Actor, id uuid.UUID, outcome, note string) (store.Task, error)
	List(ctx context.Context, by team.Actor, f store.TaskFilter) ([]store.Task, error)
}

// Playbooks validates, stores, publishes and reads playbook versions.
type Playbooks interface {
	Validate(ctx context.Context, source []byte) (*playbook.Definition, error)
	Create(ctx context.Context, source []byte, format string) (store.PlaybookVersion, error)
	Publish(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	PublishWarnings(ctx context.Context, key string, version int) ([]catalog.Warning, error)
	Version(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	Definition(ctx context.Context, key string, version int) (*playbook.Definition, int, error)
	List(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
	Versions(ctx context.Context, key string) ([]store.PlaybookVersion, error)
	RunCounts(ctx context.Context, keys ...string) ([]store.RunCount, error)
	Diff(ctx context.Context, key string, from, to int) (catalog.Diff, error)
	Duplicate(ctx context.Context, fromKey string, version int, newKey, newName string) (store.PlaybookVersion, error)
}

// Team keeps the team members (the store refuses unknown managers and
// cycles).
type Team interface {
	UpsertTeamMember(ctx context.Context, in store.UpsertTeamMember) (store.TeamMember, bool, error)
	ListTeamMembers(ctx context.Context, afterEmail string, n int) ([]store.TeamMember, error)
}

// Keys keeps API keys and finds the key a request carries.
type Keys interface {
	KeyLookup
	CreateAPIKey(ctx context.Context, name, role, memberEmail string) (store.APIKey, string, error)
	ListAPIKeys(ctx context.Context, after *uuid.UUID, n int) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, id uuid.UUID) (store.APIKey, error)
}

// Accounts reads accounts (saving them fires triggers: see Triggers).
type Accounts interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]store.HealthSnapshot, error)
	AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error)
}

// Lists reads the outbox and the runs.
type Lists interface {
	ListEmails(ctx context.Context, f store.EmailFilter) ([]store.Email, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
}

// Portfolio reads what GET /v1/metrics/portfolio reports.
type Portfolio = portfolio.Store

// Deliveries records SendGrid's delivery events.
type Deliveries interface {
	RecordDeliveries(ctx context.Context, events []store.DeliveryEvent) (store.DeliveryResult, error)
}

// Unsubscribes finds the email an unsubscribe link came from and
// unsubscribes its recipient.
type Unsubscribes interface {
	GetEmail(ctx context.Context, id uuid.UUID) (store.Email, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	UnsubscribeByEmailID(ctx context.Context, emailID uuid.UUID) (store.Unsubscribed, error)
}

// Secrets keeps the named secrets notify steps post to: admins write them,
// nobody reads a value back.
type Secrets interface {
	PutSecret(ctx context.Context, name, value, by string) (store.Secret, bool, error)
	DeleteSecret(ctx context.Context, name string) error
	ListSecrets(ctx context.Context, after string, n int) ([]store.Secret, error)
}

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config is what New needs.
type Config struct {
	// The domain services: what the API changes goes through their rules.
	Runs      Runs
	Triggers  Triggers
	Approvals Approvals
	Tasks     Tasks
	Playbooks Playbooks
	// Plain reads and writes of PostgreSQL (the store itself, in practice):
	// the request's own checks and the store's constraints are all there is.
	Team         Team
	Keys         Keys
	Accounts     Accounts
	Lists        Lists
	Portfolio    Portfolio
	Analytics    Analytics
	Imports      Imports
	Deliveries   Deliveries
	Unsubscribes Unsubscribes
	Secrets      Secrets
	// Webhooks is where a secret's URL may point: where notify steps may post.
	Webhooks netguard.Policy

	// Segments derive an account's segment from its ARR when none is given.
	Segments accounts.SegmentThresholds
	Ready    []Check
	AdminKey string // required on every /v1 route
	// AuthFailures throttles clients that keep failing to authenticate;
	// nil: a throttle of this API's own, throttle.Default.
	AuthFailures Throttle
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
	// EmailCap is the worker's frequency cap, so simulations apply it too;
	// SendWindow the organisation's send window (nil: none), likewise.
	EmailCap   store.FrequencyCap
	SendWindow *playbook.SendWindow
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

	segments := cfg.Segments
	if segments == (accounts.SegmentThresholds{}) {
		segments = accounts.DefaultSegmentThresholds
	}
	h := &handlers{accountSchema: doc.Components.Schemas["AccountInput"].Value,
		runs: cfg.Runs, triggers: cfg.Triggers, approvals: cfg.Approvals, tasks: cfg.Tasks, playbooks: cfg.Playbooks,
		team: cfg.Team, keys: cfg.Keys, accounts: cfg.Accounts, lists: cfg.Lists, portfolio: cfg.Portfolio, analytics: cfg.Analytics,
		imports: cfg.Imports, secrets: cfg.Secrets, webhooks: cfg.Webhooks, segments: segments, emailCap: cfg.EmailCap, sendWindow: cfg.SendWindow, log: cfg.Log,
		ready: cfg.Ready, spec: doc, metrics: cfg.Metrics,
		unsubscribe: unsubscribeHandlers{store: cfg.Unsubscribes, links: cfg.Links},
		webhook:     webhookHandler{store: cfg.Deliveries, key: cfg.SendGridWebhookKey, now: time.Now, log: cfg.Log},
	}
	failures := cfg.AuthFailures
	if failures == nil {
		failures = throttle.New(throttle.Default)
	}
	routes(router{e: e, auth: authenticator{adminKey: cfg.AdminKey, keys: cfg.Keys, failures: failures}, doc: doc}, h)
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
	runs      Runs
	triggers  Triggers
	approvals Approvals
	tasks     Tasks
	playbooks Playbooks

	team      Team
	keys      Keys
	accounts  Accounts
	lists     Lists
	portfolio Portfolio
	analytics Analytics
	imports   Imports
	secrets   Secrets

	unsubscribe unsubscribeHandlers
	webhook     webhookHandler

	segments   accounts.SegmentThresholds
	webhooks   netguard.Policy
	emailCap   store.FrequencyCap
	sendWindow *playbook.SendWindow
	log        *slog.Logger
	ready      []Check
	spec       *openapi3.T
	metrics    *metrics.Metrics
	// accountSchema holds the limits of an account, which import rows are
	// checked against as POST /v1/accounts bodies are.
	accountSchema *openapi3.Schema
}
