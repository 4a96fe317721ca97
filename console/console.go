// Package console is the web console CSMs and CS ops work in: pages
// rendered on the server with html/template (no script framework, no build
// step), served by the same binary as the API under /console. Every action
// goes through the same domain services as the API, so the roles, the
// escalation ladder, one live run per account and exactly-once sends hold
// here too.
//
// Safety: a sign-in with an API key makes a server-side session (an
// HttpOnly, SameSite=Strict cookie, Secure over https; revoking the key ends
// it); every form carries the session's CSRF token; every page is served
// with a strict Content-Security-Policy; customer email HTML is shown only
// in a sandboxed iframe (no scripts, no same-origin) from its own route.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/portfolio"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
)

// Prefix is where the console lives; / redirects to it.
const Prefix = "/console"

// sessionTTL is how long a sign-in lasts: a working day.
const sessionTTL = 12 * time.Hour

// Sessions signs people in and out.
type Sessions interface {
	LookupAPIKey(ctx context.Context, secret string) (store.APIKey, error)
	CreateSession(ctx context.Context, keyID *uuid.UUID, adminKeyHash []byte, role string, ttl time.Duration) (string, store.Session, error)
	LookupSession(ctx context.Context, token string) (store.Session, error)
	EndSession(ctx context.Context, token string) error
}

// Approvals decides approvals and shows them, as the API does.
type Approvals interface {
	Decide(ctx context.Context, by team.Actor, d approvals.Decision) (approvals.Decided, error)
	List(ctx context.Context, by team.Actor, f store.ApprovalFilter) ([]store.Approval, error)
	Get(ctx context.Context, by team.Actor, id uuid.UUID) (store.Approval, error)
	Preview(ctx context.Context, by team.Actor, id uuid.UUID, edits *templates.Rendered) ([]approvals.Recipient, error)
}

// Tasks completes tasks and lists the inboxes, as the API does.
type Tasks interface {
	Complete(ctx context.Context, by team.Actor, id uuid.UUID, outcome, note string) (store.Task, error)
	List(ctx context.Context, by team.Actor, f store.TaskFilter) ([]store.Task, error)
}

// Runs starts, shows and controls runs, as the API does.
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	Get(ctx context.Context, id uuid.UUID) (runs.View, error)
	Control(ctx context.Context, id uuid.UUID, action string) (store.Run, error)
}

// Events records the events people report (triggers.Service).
type Events interface {
	Event(ctx context.Context, accountID, name string, data map[string]any) (int, string, error)
}

// Accounts reads accounts and what happened to them.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]store.HealthSnapshot, error)
	AccountEvents(ctx context.Context, accountID string, n int) ([]store.Event, error)
	AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error)
}

// Playbooks validates, stores, compares and publishes playbook versions,
// as the API does (catalog.Service).
type Playbooks interface {
	Validate(ctx context.Context, source []byte) (*playbook.Definition, error)
	Create(ctx context.Context, source []byte, format string) (store.PlaybookVersion, error)
	Publish(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	Version(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	Definition(ctx context.Context, key string, version int) (*playbook.Definition, int, error)
	List(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
	Versions(ctx context.Context, key string) ([]store.PlaybookVersion, error)
	RunCounts(ctx context.Context, keys ...string) ([]store.RunCount, error)
	Diff(ctx context.Context, key string, from, to int) (catalog.Diff, error)
	Duplicate(ctx context.Context, fromKey string, version int, newKey, newName string) (store.PlaybookVersion, error)
	PublishWarnings(ctx context.Context, key string, version int) ([]catalog.Warning, error)
}

// Lists reads runs, the outbox, the team and the playbooks.
type Lists interface {
	GetRun(ctx context.Context, id uuid.UUID) (store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	ListEmails(ctx context.Context, f store.EmailFilter) ([]store.Email, error)
	ListTeamMembers(ctx context.Context, afterEmail string, n int) ([]store.TeamMember, error)
	MembersBelow(ctx context.Context, email string) ([]store.TeamMember, error)
	ListPlaybooks(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
}

// Config is what the console needs.
type Config struct {
	Sessions Sessions
	// AdminKey is PLAYBOOKD_ADMIN_KEY: it signs in as admin.
	AdminKey string
	// SignInFailures throttles clients that keep failing to sign in; nil:
	// a throttle of the console's own, throttle.Default.
	SignInFailures Throttle
	// Secure marks cookies Secure: the console is served over https
	// (PUBLIC_BASE_URL says so).
	Secure bool
	Log    *slog.Logger

	// The domain services the API uses: what the console changes goes
	// through their rules.
	Approvals Approvals
	Tasks     Tasks
	Runs      Runs
	Events    Events
	Playbooks Playbooks
	// Plain reads of PostgreSQL (the store, in practice).
	Accounts  Accounts
	Lists     Lists
	Portfolio portfolio.Store
	Analytics analytics.Store
	// Bands are the health model's band edges, drawn on health charts.
	Bands health.Bands
	// EmailCap is the frequency cap simulations apply, as the API's do, and
	// SendWindow the organisation's send window (nil: none).
	EmailCap   store.FrequencyCap
	SendWindow *playbook.SendWindow
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Handler serves the console.
type Handler struct {
	cfg      Config
	pages    map[string]*template.Template
	failures Throttle
}

// Register mounts the console on e, under Prefix.
func Register(e *echo.Echo, cfg Config) (*Handler, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, pages: pages, failures: cfg.SignInFailures}
	if h.failures == nil {
		h.failures = throttle.New(throttle.Default)
	}
	static, _ := fs.Sub(staticFiles, "static")
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, Prefix+"/") })
	g := e.Group(Prefix, secureHeaders, h.errorPages, readableInput)
	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, Prefix+"/") })
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix(Prefix+"/static/", http.FileServer(http.FS(static)))))
	g.GET("/sign-in", h.signInPage)
	g.POST("/sign-in", h.signIn, h.signInCSRF)
	signed := g.Group("", h.signedIn, h.sessionCSRF)
	signed.POST("/sign-out", h.signOut)
	signed.GET("/", h.inbox)
	signed.GET("/approvals/:id", h.approvalPage)
	signed.GET("/approvals/:id/preview", h.approvalPreview)
	signed.POST("/approvals/:id/decision", h.decideApproval)
	signed.POST("/tasks/:id/complete", h.completeTask)
	signed.GET("/accounts", h.accountList)
	signed.GET("/accounts/:id", h.accountPage)
	signed.POST("/accounts/:id/runs", h.startRun, h.allow(team.RoleAdmin, team.RoleOps))
	signed.POST("/accounts/:id/events", h.postEvent, h.allow(team.RoleAdmin, team.RoleOps))
	signed.GET("/runs/:id", h.runPage)
	for _, action := range runActions {
		signed.POST("/runs/:id/"+action, h.controlRun(action), h.allow(team.RoleAdmin, team.RoleOps))
	}
	signed.GET("/portfolio", h.portfolioPage)
	design := signed.Group("/playbooks", h.allowWith(designAdvice, designers...))
	design.GET("", h.playbookList)
	design.GET("/:key", h.playbookPage)
	design.GET("/:key/diff", h.playbookDiff)
	design.POST("/:key/duplicate", h.duplicatePlaybook)
	design.POST("/:key/validate", h.validateSource)
	design.GET("/:key/versions/:version", h.editorPage)
	design.POST("/:key/versions/:version", h.saveDraft)
	design.GET("/:key/versions/:version/timeline.svg", h.timelineSVG)
	design.GET("/:key/versions/:version/email", h.simulatedEmail)
	design.GET("/:key/versions/:version/publish", h.publishPage)
	design.POST("/:key/versions/:version/publish", h.publishVersion)
	signed.GET("/playbooks/:key/analytics", h.analyticsPage)
	return h, nil
}
