// Package api is playbookd's HTTP API. Handlers decode, validate, call the
// domain and encode; errors go through one handler that writes problem+json.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
)

// Store is what the handlers need from PostgreSQL.
type Store interface {
	UpsertTeamMember(ctx context.Context, in store.UpsertTeamMember) (store.TeamMember, bool, error)
	UpsertAccount(ctx context.Context, in store.UpsertAccount) (store.Account, bool, error)
	GetAccount(ctx context.Context, id string) (store.Account, error)
	ListEmails(ctx context.Context, f store.EmailFilter) ([]store.Email, error)
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
}

// Runs starts and describes runs.
type Runs interface {
	Start(ctx context.Context, in runs.StartInput) (store.Run, error)
	Get(ctx context.Context, id uuid.UUID) (runs.View, error)
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
	Ready    []Check
	AdminKey string // required on every /v1 route
	Log      *slog.Logger
}

// maxBodyBytes bounds request bodies; bulk import will get its own limit.
const maxBodyBytes = 1 << 20

// New builds the HTTP handler.
func New(cfg Config) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	e.Use(middleware.RequestID())
	e.Use(requestLogger(cfg.Log))
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			cfg.Log.ErrorContext(c.Request().Context(), "panic", "error", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes)
			return next(c)
		}
	})

	h := &handlers{store: cfg.Store, runs: cfg.Runs}
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", readyz(cfg.Ready))

	v1 := e.Group("/v1", adminKeyAuth(cfg.AdminKey))
	v1.POST("/team", h.upsertTeamMember)
	v1.POST("/accounts", h.upsertAccount)
	v1.GET("/accounts/:id", h.getAccount)
	v1.POST("/runs", h.startRun)
	v1.GET("/runs/:id", h.getRun)
	v1.GET("/emails", h.listEmails)
	v1.GET("/tasks", h.listTasks)
	return e
}

type handlers struct {
	store Store
	runs  Runs
}

// adminKeyAuth requires "Authorization: Bearer <admin key>". Hashed keys per
// role replace it when API keys land.
func adminKeyAuth(key string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="playbookd"`)
				return problem(http.StatusUnauthorized, "send Authorization: Bearer <API key>")
			}
			return next(c)
		}
	}
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
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("uri", v.URI), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID))
			return nil
		},
	})
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

// list is the envelope of every list answer.
type list[T any] struct {
	Items []T `json:"items"`
}
