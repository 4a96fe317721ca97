// Package metrics is the process's Prometheus registry: the API's HTTP
// metrics, the Temporal SDK's client and worker metrics (through the SDK's
// tally adapter) and the Go runtime's, served at /metrics.
package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics holds the registry and the Temporal handler feeding it.
type Metrics struct {
	Registry *prometheus.Registry
	// Temporal goes in client.Options.MetricsHandler.
	Temporal client.MetricsHandler
	scope    io.Closer
}

// New makes a registry with the Go runtime and process collectors and a
// Temporal metrics handler reporting into it every second.
func New(onError func(error)) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer: reg, Gatherer: reg, DefaultTimerType: tallyprom.HistogramTimerType,
		// The SDK may report one metric name with different tags; such a
		// clash is reported rather than crashing the process.
		OnRegisterError: onError,
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &tallyprom.DefaultSanitizerOpts,
	}, time.Second)
	return &Metrics{Registry: reg, Temporal: sdktally.NewMetricsHandler(scope), scope: closer}
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Close stops the Temporal scope's reporting loop.
func (m *Metrics) Close() error { return m.scope.Close() }
