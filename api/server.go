// Package api is playbookd's HTTP API. Handlers decode, validate, call the
// domain and encode; errors go through one handler that writes problem+json.
package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/metrics"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
	"github.com/playbookd/playbookd/unsubscribe"
	"github.com/playbookd/playbookd/workflows"
)

// Store is what the handlers need from PostgreSQL.
type Store interface {
	UpsertTeamMember(ctx context.Context, in store.UpsertTeamMember) (store.TeamMember, bool, error)
	ListTeamMembers(ctx context.Context, afterEmail string, n int) ([]store.TeamMember, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListAccounts(ctx context.Context, f store.AccountFilter) ([]store.Account, error)
	HealthHistory(ctx context.Context, accountID string, before int64, n int) ([]store.HealthSnapshot, error)
	BandDistribution(ctx context.Context) (store.BandCounts, error)
	RetentionCohort(ctx context.Context, from, to time.Time) (store.Cohort, error)
	PlaybookOutcomes(ctx context.Context, from, to time.Time) ([]store.OutcomeStats, error)
	LiveRunCounts(ctx context.Context) (map[string]int, error)
	ListEmails(ctx context.Context, f store.EmailFilter) ([]store.Email, error)
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	ListApprovals(ctx context.Context, f store.ApprovalFilter) ([]store.Approval, error)
	GetApproval(ctx context.Context, id uuid.UUID) (store.Approval, error)
	CompleteTask(ctx context.Context, id uuid.UUID, outcome, note string) (store.Task, error)
	UnsubscribeByEmailID(ctx context.Context, emailID uuid.UUID) (store.Unsubscribed, error)
	CreateAPIKey(ctx context.Context, name, role, memberEmail string) (store.APIKey, string, error)
	LookupAPIKey(ctx context.Context, secret string) (store.APIKey, error)
	ListAPIKeys(ctx context.Context, after *uuid.UUID, n int) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, id uuid.UUID) (store.APIKey, error)
	InLadderOf(ctx context.Context, member, assignee string) (bool, error)
	GetTask(ctx context.Context, id uuid.UUID) (store.Task, error)
	GetEmail(ctx context.Context, id uuid.UUID) (store.Email, error)
	RecordDeliveries(ctx context.Context, events []store.DeliveryEvent) (store.DeliveryResult, error)
	ListPlaybooks(ctx context.Context, afterKey string, n int) ([]store.PlaybookSummary, error)
	GetPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	CreatePlaybookVersion(ctx context.Context, in store.NewPlaybookVersion) (store.PlaybookVersion, error)
	PublishPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	PublishedDefinitions(ctx context.Context) (map[string]json.RawMessage, error)
	AccountSnapshot(ctx context.Context, id string) (contract.AccountSnapshot, error)
}

// Runs starts and describes runs.
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	Get(ctx context.Context, id uuid.UUID) (runs.View, error)
	Control(ctx context.Context, id uuid.UUID, action string) (store.Run, error)
	Decide(ctx context.Context, workflowID string, d workflows.Decision) (workflows.DecisionResult, error)
	TaskCompleted(ctx context.Context, t store.Task) error
}

// Triggers saves the changes that start playbooks by themselves.
type Triggers interface {
	SaveAccount(ctx context.Context, in store.UpsertAccount) (triggers.SavedAccount, error)
	RecordHealth(ctx context.Context, accountID string, in health.Inputs, measuredAt time.Time) (triggers.Recorded, error)
	Event(ctx context.Context, accountID, name string, data map[string]any) (int, string, error)
}

// Check is a readiness probe of one dependency.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Config is what New needs.
type Config struct {
	Store    Store
	Runs     Runs
	Triggers Triggers
	Imports  Imports
	// Segments derive an account's segment from its ARR when none is given.
	Segments accounts.SegmentThresholds
	Ready    []Check
	AdminKey string // required on every /v1 route
	// Playbook says what definitions may refer to (the built-in templates).
	Playbook playbook.Options
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
	// EmailCap is the worker's frequency cap, so simulations apply it too.
	EmailCap store.FrequencyCap
}

// maxBodyBytes bounds request bodies; bulk import will get its own limit.
const maxBodyBytes = 1 << 20

const (
	sendgridWebhookPath = "/v1/webhooks/sendgrid"
	importPath          = "/v1/accounts/import"
)

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	doc, err := Spec()
	if err != nil {
		panic(err) // embedded and tested: a broken document is a build defect
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	e.Use(middleware.RequestID())
	e.Use(requestLogger(cfg.Log))
	if cfg.Metrics != nil {
		e.Use(httpMetrics(cfg.Metrics.Registry))
		e.GET("/metrics", echo.WrapHandler(cfg.Metrics.Handler()))
	}
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			cfg.Log.ErrorContext(c.Request().Context(), "panic", "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(refuseUnreadableInput)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p := c.Request().URL.Path; p != sendgridWebhookPath && p != importPath { // larger bodies; they set their own limits
				c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes)
			}
			return next(c)
		}
	})
	if cfg.CheckResponses != nil {
		e.Use(checkResponses(doc, cfg.CheckResponses))
	}

	segments := cfg.Segments
	if segments == (accounts.SegmentThresholds{}) {
		segments = accounts.DefaultSegmentThresholds
	}
	h := &handlers{accountSchema: doc.Components.Schemas["AccountInput"].Value,
		store: cfg.Store, runs: cfg.Runs, triggers: cfg.Triggers, imports: cfg.Imports, playbookOptions: cfg.Playbook,
		segments: segments, emailCap: cfg.EmailCap, log: cfg.Log}
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", readyz(cfg.Ready))
	e.GET("/openapi.json", serveSpec(doc))
	// Recipients follow these from their inbox: no API key.
	unsub := unsubscribeHandlers{store: cfg.Store, links: cfg.Links}
	e.GET("/v1/unsubscribe", unsub.page)
	e.POST("/v1/unsubscribe", unsub.unsubscribe)
	// SendGrid signs its batches; no API key.
	e.POST(sendgridWebhookPath, webhookHandler{store: cfg.Store, key: cfg.SendGridWebhookKey, now: time.Now, log: cfg.Log}.handle)

	// Middleware per route, not on the group: a group's middleware makes echo
	// answer 404 for a method a path does not have, instead of 405 with Allow.
	guarded := []echo.MiddlewareFunc{keyAuth(cfg.AdminKey, cfg.Store), validateRequests(doc)}
	v1 := e.Group("/v1")
	v1.POST("/keys", h.createKey, guarded...)
	v1.GET("/keys", h.listKeys, guarded...)
	v1.POST("/keys/:id/revoke", h.revokeKey, guarded...)
	v1.POST("/team", h.upsertTeamMember, guarded...)
	v1.GET("/team", h.listTeam, guarded...)
	v1.POST("/accounts", h.upsertAccount, guarded...)
	v1.GET("/accounts", h.listAccounts, guarded...)
	v1.POST("/accounts/import", h.importAccounts, guarded...)
	v1.GET("/accounts/imports/:id", h.getImport, guarded...)
	v1.GET("/accounts/:id", h.getAccount, guarded...)
	v1.POST("/accounts/:id/events", h.reportEvent, guarded...)
	v1.POST("/accounts/:id/health", h.recordHealth, guarded...)
	v1.GET("/accounts/:id/health", h.healthHistory, guarded...)
	v1.GET("/metrics/portfolio", h.portfolio, guarded...)
	v1.GET("/playbooks", h.listPlaybooks, guarded...)
	v1.GET("/playbooks/schema.json", func(c echo.Context) error { return c.JSON(http.StatusOK, playbook.Schema()) }, guarded...)
	v1.GET("/playbooks/template-fields", h.templateFields, guarded...)
	v1.POST("/playbooks", h.createPlaybook, guarded...)
	v1.POST("/playbooks/validate", h.validatePlaybook, guarded...)
	v1.GET("/playbooks/:key", h.getPlaybook, guarded...)
	v1.POST("/playbooks/:key/versions/:version/publish", h.publishPlaybook, guarded...)
	v1.POST("/playbooks/:key/simulate", h.simulatePlaybook, guarded...)
	v1.GET("/playbooks/:key/timeline.svg", h.playbookTimelineSVG, guarded...)
	v1.POST("/runs", h.startRun, guarded...)
	v1.GET("/runs", h.listRuns, guarded...)
	v1.GET("/runs/:id", h.getRun, guarded...)
	v1.POST("/runs/:id/cancel", h.controlRun("cancel"), guarded...)
	v1.POST("/runs/:id/pause", h.controlRun("pause"), guarded...)
	v1.POST("/runs/:id/resume", h.controlRun("resume"), guarded...)
	v1.GET("/approvals", h.listApprovals, guarded...)
	v1.POST("/approvals/:id/decision", h.decideApproval, guarded...)
	v1.GET("/emails", h.listEmails, guarded...)
	v1.GET("/tasks", h.listTasks, guarded...)
	v1.POST("/tasks/:id/complete", h.completeTask, guarded...)
	return e
}

type handlers struct {
	store           Store
	runs            Runs
	triggers        Triggers
	imports         Imports
	playbookOptions playbook.Options
	segments        accounts.SegmentThresholds
	emailCap        store.FrequencyCap
	log             *slog.Logger
	// accountSchema holds the limits of an account, which import rows are
	// checked against as POST /v1/accounts bodies are.
	accountSchema *openapi3.Schema
}

// principal is who is calling: a role, and for a csm key the team member.
type principal struct {
	Role  string // admin | ops | csm
	Email string // the team member of a csm key
}

const principalKey = "principal"

func caller(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}

// keyAuth requires "Authorization: Bearer <key>": PLAYBOOKD_ADMIN_KEY, or a
// key made with POST /v1/keys. A csm key may read, decide approvals and
// complete tasks (whose own checks apply); only admins manage keys.
func keyAuth(adminKey string, keys Store) echo.MiddlewareFunc {
	csmWritable := map[string]bool{"/v1/approvals/:id/decision": true, "/v1/tasks/:id/complete": true}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// The scheme is case-insensitive (RFC 9110 §11.1).
			scheme, secret, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
			ok = ok && strings.EqualFold(scheme, "Bearer")
			var p principal
			switch {
			case !ok || secret == "":
				return unauthorized(c)
			case subtle.ConstantTimeCompare([]byte(secret), []byte(adminKey)) == 1:
				p = principal{Role: "admin"}
			default:
				k, err := keys.LookupAPIKey(c.Request().Context(), secret)
				if errors.Is(err, store.ErrUnknownKey) {
					return unauthorized(c)
				}
				if err != nil {
					return err
				}
				p = principal{Role: k.Role}
				if k.MemberEmail != nil {
					p.Email = *k.MemberEmail
				}
			}
			switch {
			case strings.HasPrefix(c.Path(), "/v1/keys") && p.Role != "admin":
				return problem(http.StatusForbidden, "only an admin key manages keys")
			case p.Role == "csm" && c.Request().Method != http.MethodGet && !csmWritable[c.Path()]:
				return problem(http.StatusForbidden, "a csm key may read, decide its approvals and complete its tasks")
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

func unauthorized(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="playbookd"`)
	return problem(http.StatusUnauthorized, "send Authorization: Bearer <API key>")
}

// mayAct says whether the caller may act on work assigned to assignee: an
// admin or ops key, or a csm who is the assignee or above them in the ladder.
func (h *handlers) mayAct(c echo.Context, assignee string) error {
	p := caller(c)
	if p.Role != "csm" {
		return nil
	}
	ok, err := h.store.InLadderOf(c.Request().Context(), p.Email, assignee)
	if err != nil {
		return err
	}
	if !ok {
		return problem(http.StatusForbidden, "this is assigned to "+assignee+", and you are not above them in the escalation ladder")
	}
	return nil
}

// inbox is the assignee a list of approvals or tasks shows: for a csm key
// their own inbox unless they ask for someone below them in the ladder.
func (h *handlers) inbox(c echo.Context) (string, error) {
	assignee := strings.ToLower(strings.TrimSpace(c.QueryParam("assignee")))
	p := caller(c)
	if p.Role != "csm" {
		return assignee, nil
	}
	if assignee == "" {
		return p.Email, nil
	}
	return assignee, h.mayAct(c, assignee)
}

// by names the caller in decisions and audit events.
func by(c echo.Context) string {
	if p := caller(c); p.Email != "" {
		return p.Email
	}
	return caller(c).Role
}

func readyz(checks []Check) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		status, code := map[string]string{}, http.StatusOK
		for _, chk := range checks {
			if err := chk.Ping(ctx); err != nil {
				status[chk.Name], code = err.Error(), http.StatusServiceUnavailable
			} else {
				status[chk.Name] = "ok"
			}
		}
		return c.JSON(code, status)
	}
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{slog.String("method", v.Method), slog.String("uri", v.URI), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID)}
			if runID := requestRunID(c); runID != "" {
				attrs = append(attrs, slog.String("run_id", runID))
			}
			log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

const runIDKey = "run_id"

// requestRunID is the run a request was about: set by handlers that find
// it (starts, decisions, tasks), or the path of /v1/runs/{id}.
func requestRunID(c echo.Context) string {
	if id, ok := c.Get(runIDKey).(string); ok {
		return id
	}
	if strings.HasPrefix(c.Path(), "/v1/runs/:id") {
		return c.Param("id")
	}
	return ""
}

// httpMetrics counts requests and their latency by route (the pattern, so
// ids do not explode the label set) and status.
func httpMetrics(reg prometheus.Registerer) echo.MiddlewareFunc {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "playbookd_http_request_duration_seconds", Help: "HTTP requests by route and status, and their latency.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route", "status"})
	reg.MustRegister(duration)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err) // written now, so the status is known
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			duration.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// pathUUID parses a UUID path parameter or answers 400 naming it.
func pathUUID(c echo.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, problem(http.StatusBadRequest, "the path has an invalid id",
			FieldError{Field: name, Message: "must be a UUID"})
	}
	return id, nil
}

func notFoundAs(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem(http.StatusNotFound, what+" not found")
	}
	return err
}
