// Command playbookd runs customer-success playbooks as Temporal workflows.
//
//	playbookd migrate   apply database migrations
//	playbookd api       serve the HTTP API
//	playbookd worker    run the Temporal worker
//	playbookd dev       migrate, then API and worker in one process
//	playbookd validate FILE...   check playbook definitions offline
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // account time zones must resolve in a scratch image too

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/api"
	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/config"
	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/metrics"
	"github.com/playbookd/playbookd/migrations"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/unsubscribe"
	"github.com/playbookd/playbookd/worker"
	"github.com/playbookd/playbookd/workflows"
)

const usage = `usage: playbookd <command>

commands:
  migrate   apply database migrations and exit
  api       serve the HTTP API
  worker    run the Temporal worker
  dev       migrate, then run the API and the worker in one process
  rebuild-analytics
            recompute playbook analytics' summaries from history and exit
  validate FILE...
            check playbook definitions (YAML or JSON) offline; exit 1 on errors
  year [SEGMENT...]
            simulate a healthy account's first year under the built-ins, offline

Configuration comes from environment variables; see README.md.
`

func main() {
	if len(os.Args) >= 2 && os.Args[1] == "validate" {
		os.Exit(validateFiles(os.Args[2:], os.Stdout))
	}
	if len(os.Args) >= 2 && os.Args[1] == "year" {
		if err := yearCommand(context.Background(), os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "playbookd year: %v\n", err)
			os.Exit(2)
		}
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd := os.Args[1]
	switch cmd {
	case "migrate", "api", "worker", "dev", "rebuild-analytics":
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "playbookd: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "playbookd: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	if cmd == "api" && cfg.AdminKey == "" {
		fmt.Fprintln(os.Stderr, "playbookd: invalid configuration:\nPLAYBOOKD_ADMIN_KEY: required by `playbookd api` (dev generates one)")
		os.Exit(2)
	}
	if (cmd == "api" || cmd == "worker") && cfg.SigningKey == "" {
		// Every replica must sign and check unsubscribe links with the same key.
		fmt.Fprintf(os.Stderr, "playbookd: invalid configuration:\nPLAYBOOKD_SIGNING_KEY: required by `playbookd %s` (dev generates one)\n", cmd)
		os.Exit(2)
	}
	log := newLogger(cfg.LogLevel)
	if cfg.NotifyDevAllowHTTPLoopback {
		log.Warn("NOTIFY_DEV_ALLOW_HTTP_LOOPBACK is set: notify steps may post over plain http and to this host's loopback; development only")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, cfg, log); err != nil {
		log.Error("playbookd stopped", "command", cmd, "error", err)
		os.Exit(1)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // config has validated it
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func run(ctx context.Context, cmd string, cfg config.Config, log *slog.Logger) error {
	pool, err := retry(ctx, log, "PostgreSQL (DATABASE_URL)", func() (*pgxpool.Pool, error) {
		return store.Open(ctx, cfg.DatabaseURL)
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	if cmd == "migrate" || cmd == "dev" {
		results, err := migrations.Up(ctx, pool)
		if err != nil {
			return err
		}
		log.Info("migrations applied", "count", len(results))
		if cmd == "migrate" {
			return nil
		}
	}
	if cmd == "rebuild-analytics" {
		return rebuildAnalytics(ctx, store.New(pool), log)
	}

	set, err := templates.Builtin()
	if err != nil {
		return err
	}
	// Customer emails are laid out and footed in the brand, wherever they
	// are rendered (worker, simulations, previews).
	set = set.WithBrand(templates.Brand{Name: cfg.BrandDisplayName(), LogoURL: cfg.BrandLogoURL,
		Color: cfg.BrandColor, PostalAddress: cfg.MailPostalAddress})
	st := store.New(pool)
	if cfg.SigningKey == "" {
		cfg.SigningKey = generateKey()
		log.Warn("PLAYBOOKD_SIGNING_KEY not set: unsubscribe links of this dev process stop working when it restarts")
	}
	links := unsubscribe.New(cfg.SigningKey, cfg.PublicBaseURL)
	surveyLinks := survey.NewLinks(cfg.SigningKey, cfg.PublicBaseURL)
	if cmd == "api" || cmd == "dev" {
		if err := seedPlaybooks(ctx, st, set, cfg.AccountFields(), log); err != nil {
			return err
		}
	}

	promMetrics := metrics.New(func(err error) { log.Warn("metric not registered", "error", err) })
	defer promMetrics.Close()
	opts, err := cfg.TemporalClientOptions()
	if err != nil {
		return err
	}
	opts.Logger = tlog.NewStructuredLogger(log.With("component", "temporal"))
	opts.MetricsHandler = promMetrics.Temporal
	tc, err := retry(ctx, log, "Temporal (TEMPORAL_ADDRESS)", func() (client.Client, error) {
		return client.DialContext(ctx, opts)
	})
	if err != nil {
		return err
	}
	defer tc.Close()
	proxies, _ := cfg.TrustedProxyRanges() // config has checked them
	sender := newSender(cfg, log)
	fromName, fromAddr := cfg.EmailFromAddress()
	application, wired := app.Build(app.Deps{Store: st, Temporal: tc, TaskQueue: cfg.TemporalTaskQueue,
		Namespace: cfg.TemporalNamespace, TemporalUIURL: cfg.TemporalUIURL, EscalationSLA: cfg.EscalationSLA(),
		EmailCap: cfg.FrequencyCap(), SendWindow: cfg.DefaultSendWindow(), Health: cfg.Health(), Segments: cfg.Segments(),
		Signals: cfg.Signals(), Templates: set, Webhooks: cfg.Webhooks(), AccountFields: cfg.AccountFields(), Log: log,
		Mailer: sender, MailFrom: mail.Address{Name: fromName, Email: fromAddr}, PublicBaseURL: cfg.PublicBaseURL,
		SurveyLinks: surveyLinks, OIDC: oidcConfig(cfg)})

	// The first part to stop takes the process down: the others are told to
	// stop through this context and waited for.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 3)
	started := 0
	if cmd == "worker" || cmd == "dev" {
		acts, err := newActivities(cfg, st, set, sender, wired.Runs, log)
		if err != nil {
			return err
		}
		acts.Links = links
		acts.SurveyLinks = surveyLinks // survey emails' answer links, signed like unsubscribe links
		acts.Cap = cfg.FrequencyCap()
		acts.Triggers = wired.Triggers
		acts.Imports = wired.Imports
		if err := ensureSweepSchedule(ctx, tc, cfg); err != nil {
			return err
		}
		started++
		go func() { errs <- runWorker(ctx, tc, cfg, acts, log) }()
		go foldAnalytics(ctx, st, cfg.AnalyticsFoldInterval, log)
	}
	if cmd == "worker" && cfg.MetricsAddr != "" {
		// A worker has no API to serve /metrics from.
		started++
		go func() { errs <- serveMetrics(ctx, cfg.MetricsAddr, promMetrics.Handler(), log) }()
	}
	if cmd == "api" || cmd == "dev" {
		if cfg.AdminKey == "" {
			cfg.AdminKey = generateKey()
			log.Warn("PLAYBOOKD_ADMIN_KEY not set: generated an admin key for this dev process",
				"admin_key", cfg.AdminKey)
		}
		started++
		go func() {
			errs <- serveAPI(ctx, cfg, application, st, tc, promMetrics, links, proxies, log)
		}()
	}
	var firstErr error
	for i := 0; i < started; i++ {
		if err := <-errs; err != nil && firstErr == nil {
			firstErr = err
		}
		cancel()
	}
	return firstErr
}

// newSender is how email goes out, for the worker's activities and the
// API's sign-in links alike: SendGrid with a key, else captured.
func newSender(cfg config.Config, log *slog.Logger) mail.Sender {
	if cfg.SendGridAPIKey != "" {
		return mail.NewSendGrid(cfg.SendGridAPIKey, cfg.SendGridBaseURL)
	}
	log.Info("SENDGRID_API_KEY not set: emails are captured in the outbox and logged, not sent")
	return mail.Capture{Log: log}
}

// oidcConfig is the team's identity provider for single sign-on; nil when
// OIDC_ISSUER_URL is not set.
func oidcConfig(cfg config.Config) *signin.OIDCConfig {
	if !cfg.SSO() {
		return nil
	}
	return &signin.OIDCConfig{Issuer: cfg.OIDCIssuerURL, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		RedirectURL: cfg.OIDCRedirectURL(), Name: cfg.OIDCProviderName}
}

func newActivities(cfg config.Config, st *store.Store, set *templates.Set, sender mail.Sender, starter activities.RunStarter,
	log *slog.Logger) (*activities.Activities, error) {
	name, addr := cfg.EmailFromAddress()
	return &activities.Activities{Store: st, Sender: sender, Templates: set, Runs: starter,
		HTTP: activities.NewWebhookClient(activities.WebhookClientConfig{Guard: cfg.Webhooks()}), Secrets: st,
		From: mail.Address{Name: name, Email: addr}, Log: log,
		PublicBaseURL: cfg.PublicBaseURL, SlackWebhookURL: cfg.SlackWebhookURL,
		Digests: cfg.DigestHourUTC >= 0, DigestHourUTC: cfg.DigestHourUTC}, nil
}

func runWorker(ctx context.Context, tc client.Client, cfg config.Config, acts *activities.Activities, log *slog.Logger) error {
	w := worker.New(tc, worker.Options{TaskQueue: cfg.TemporalTaskQueue, EmailsPerSecond: cfg.EmailsPerSecond,
		WorkflowCacheSize: cfg.WorkflowCacheSize}, acts)
	if err := w.Start(); err != nil {
		return err
	}
	log.Info("worker started", "task_queue", cfg.TemporalTaskQueue, "namespace", cfg.TemporalNamespace)
	<-ctx.Done()
	log.Info("worker draining")
	w.Stop() // waits for running activities, up to the worker's stop timeout
	log.Info("worker stopped")
	return nil
}

func serveAPI(ctx context.Context, cfg config.Config, application *app.App, st *store.Store, tc client.Client,
	promMetrics *metrics.Metrics, links *unsubscribe.Links, proxies []netip.Prefix, log *slog.Logger) error {
	e := api.New(api.Config{
		App:                application,
		Metrics:            promMetrics,
		Links:              links,
		SendGridWebhookKey: webhookKey(cfg),
		Ready: []api.Check{
			{Name: "postgres", Ping: st.Ping},
			{Name: "temporal", Ping: func(ctx context.Context) error {
				_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			}},
		},
		AdminKey:       cfg.AdminKey,
		TrustedProxies: proxies,
		Log:            log,
	})
	// The console: the same binary, the same application as the API.
	if _, err := console.Register(e, console.Config{App: application, AdminKey: cfg.AdminKey,
		Secure: strings.HasPrefix(cfg.PublicBaseURL, "https://"), Log: log}); err != nil {
		return err
	}
	srv := api.NewServer(cfg.HTTPAddr, e, api.DefaultTimeouts)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("API listening", "addr", cfg.HTTPAddr)
	select {
	case err := <-serveErr:
		return fmt.Errorf("HTTP server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("HTTP shutdown: %w", err)
	}
	log.Info("API stopped")
	return nil
}

// serveMetrics serves /metrics until ctx ends.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	log.Info("metrics listening", "addr", addr)
	select {
	case err := <-serveErr:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// ensureSweepSchedule creates the trigger sweep's schedule, or brings an
// existing one to the configured interval; every worker does this at start.
func ensureSweepSchedule(ctx context.Context, tc client.Client, cfg config.Config) error {
	schedule := client.ScheduleOptions{
		ID:   workflows.TriggerSweepScheduleID,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cfg.TriggerSweepInterval}}},
		Action: &client.ScheduleWorkflowAction{
			ID: workflows.TriggerSweepWorkflowID(), Workflow: workflows.TriggerSweepName, TaskQueue: cfg.TemporalTaskQueue,
			WorkflowExecutionTimeout: time.Hour,
		},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	}
	_, err := tc.ScheduleClient().Create(ctx, schedule)
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create the trigger sweep schedule: %w", err)
		}
		return nil
	}
	err = tc.ScheduleClient().GetHandle(ctx, workflows.TriggerSweepScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &schedule.Spec
			s.Action = schedule.Action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update the trigger sweep schedule: %w", err)
	}
	return nil
}

// retry keeps connecting for a minute, so the processes can start before
// their dependencies (docker compose, make run).
func retry[T any](ctx context.Context, log *slog.Logger, what string, connect func() (T, error)) (T, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		v, err := connect()
		if err == nil {
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			var zero T
			return zero, fmt.Errorf("cannot reach %s: %w", what, errors.Join(err, ctx.Err()))
		}
		log.Warn("waiting for dependency", "dependency", what, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func generateKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "pbk_" + base64.RawURLEncoding.EncodeToString(b)
}

// webhookKey is the parsed SendGrid verification key; config has checked it.
func webhookKey(cfg config.Config) *ecdsa.PublicKey {
	if cfg.SendGridWebhookKey == "" {
		return nil
	}
	key, _ := config.WebhookPublicKey(cfg.SendGridWebhookKey)
	return key
}
