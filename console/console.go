// Package console is the web console CSMs and CS ops work in: pages
// rendered on the server with html/template (no script framework, no build
// step), served by the same binary as the API under /console. Every action
// goes through the same domain services as the API, so the roles, the
// escalation ladder, one live run per account and exactly-once sends hold
// here too.
//
// Safety: a sign-in (a team member's emailed one-time link or single
// sign-on, or an API key) makes a server-side session (an HttpOnly,
// SameSite=Strict cookie, Secure over https; deactivating the member or
// revoking the key ends it); every form carries the session's CSRF token;
// every page is served with a strict Content-Security-Policy; customer
// email HTML is shown only in a sandboxed iframe (no scripts, no
// same-origin) from its own route.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/team"
)

// Prefix is where the console lives; / redirects to it.
const Prefix = "/console"

// sessionTTL is how long a sign-in lasts: a working day.
const sessionTTL = 12 * time.Hour

// Config is what the console needs.
type Config struct {
	// App is the application the console is an edge of (app.Build), as the
	// API is: what the console changes goes through the same rules, and the
	// failed sign-ins count with the API's failed keys (App.AuthFailures).
	App *app.App
	// AdminKey is PLAYBOOKD_ADMIN_KEY: it signs in as admin.
	AdminKey string
	// Secure marks cookies Secure: the console is served over https
	// (PUBLIC_BASE_URL says so).
	Secure bool
	Log    *slog.Logger
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Handler serves the console.
type Handler struct {
	cfg   Config
	app   *app.App
	pages map[string]*template.Template // times in UTC
	zoned sync.Map                      // zone name → pages with times in it (zones.go)
}

// Register mounts the console on e, under Prefix.
func Register(e *echo.Echo, cfg Config) (*Handler, error) {
	pages, err := parsePages(time.UTC)
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, app: cfg.App, pages: pages}
	if h.app == nil {
		h.app, _ = app.Build(app.Deps{}) // routes and middleware only (tests of the edge itself)
	}
	static, _ := fs.Sub(staticFiles, "static")
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, Prefix+"/") })
	g := e.Group(Prefix, secureHeaders, h.errorPages, readableInput)
	g.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, Prefix+"/") })
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix(Prefix+"/static/", http.FileServer(http.FS(static)))))
	g.GET("/sign-in", h.signInPage)
	g.POST("/sign-in", h.signIn, h.signInCSRF)
	h.memberSignInRoutes(g)
	signed := g.Group("", h.signedIn, h.sessionCSRF)
	signed.POST("/sign-out", h.signOut)
	signed.GET("/", h.inbox)
	signed.GET("/approvals/:id", h.approvalPage)
	signed.GET("/approvals/:id/preview", h.approvalPreview)
	signed.POST("/approvals/:id/decision", h.decideApproval)
	signed.POST("/tasks/:id/complete", h.completeTask)
	h.riskRoutes(signed)
	signed.GET("/accounts", h.accountList)
	signed.GET("/accounts/:id", h.accountPage)
	signed.POST("/accounts/:id/runs", h.startRun, h.allow(team.Operators...))
	signed.POST("/accounts/:id/events", h.postEvent, h.allowWith(loopAdvice, team.Reporters...))
	h.loopRoutes(signed)
	h.teamRoutes(signed)
	signed.GET("/runs/:id", h.runPage)
	for _, action := range runActions {
		signed.POST("/runs/:id/"+action, h.controlRun(action), h.allow(team.Operators...))
	}
	signed.GET("/portfolio", h.portfolioPage)
	signed.GET("/reference", h.referencePage) // the playbook language, for everyone signed in
	design := signed.Group("/playbooks", h.allowWith(designAdvice, team.Designers...))
	design.GET("", h.playbookList)
	signed.GET("/new-playbook", h.newPlaybookPage, h.allowWith(designAdvice, team.Designers...))
	signed.POST("/new-playbook", h.createPlaybook, h.allowWith(designAdvice, team.Designers...))
	design.GET("/:key/retire", h.retirePage)
	design.POST("/:key/retire", h.retirePlaybook)
	design.POST("/:key/unretire", h.unretirePlaybook)
	design.GET("/:key", h.playbookPage)
	design.GET("/:key/diff", h.playbookDiff)
	design.POST("/:key/duplicate", h.duplicatePlaybook)
	design.POST("/:key/validate", h.validateSource)
	design.GET("/:key/versions/:version", h.editorPage)
	design.POST("/:key/versions/:version", h.saveDraft)
	design.POST("/:key/versions/:version/preview", h.previewSource)
	design.GET("/:key/versions/:version/timeline.svg", h.timelineSVG)
	design.GET("/:key/versions/:version/email", h.simulatedEmail)
	design.GET("/:key/versions/:version/publish", h.publishPage)
	design.POST("/:key/versions/:version/publish", h.publishVersion)
	h.moveRoutes(design)
	signed.GET("/playbooks/:key/analytics", h.analyticsPage)
	return h, nil
}
