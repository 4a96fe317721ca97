package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// maxBodyBytes bounds request bodies, but for routes that read their body
// under their own limit (bulk import, SendGrid's batches).
const maxBodyBytes = 1 << 20

func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, n)
			return next(c)
		}
	}
}

func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			log.ErrorContext(c.Request().Context(), "panic", "error", err, "stack", string(stack))
			return err
		},
	})
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

func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
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
			attrs := []slog.Attr{slog.String("method", v.Method), slog.String("uri", redactSecrets(v.URI)), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID)}
			if runID := requestRunID(c); runID != "" {
				attrs = append(attrs, slog.String("run_id", runID))
			}
			log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// secretParams are the query parameters whose values are credentials: an
// unsubscribe link's token, a console form's CSRF token (which the console
// takes only from the body; a request may still carry one in its address).
var secretParams = []string{"token", "csrf"}

// redactSecrets is a request URI fit for the log: the values of
// secretParams replaced, all else as sent. Pairs are split at ; too, as
// a request the edge refuses is logged all the same.
func redactSecrets(uri string) string {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri
	}
	var b strings.Builder
	b.WriteString(path)
	b.WriteByte('?')
	for query != "" {
		i := strings.IndexAny(query, "&;")
		pair, sep := query, ""
		if i >= 0 {
			pair, sep, query = query[:i], query[i:i+1], query[i+1:]
		} else {
			query = ""
		}
		name, _, hasValue := strings.Cut(pair, "=")
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		if hasValue && slices.Contains(secretParams, strings.ToLower(name)) {
			pair = pair[:strings.IndexByte(pair, '=')] + "=REDACTED"
		}
		b.WriteString(pair)
		b.WriteString(sep)
	}
	return b.String()
}

const runIDKey = "run_id"

// setRunID names the run a request turned out to be about, for its log line.
func setRunID(c echo.Context, id uuid.UUID) {
	if id != uuid.Nil {
		c.Set(runIDKey, id.String())
	}
}

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
