// Package config reads playbookd's settings from environment variables.
package config

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/caarlos0/env/v11"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/netguard"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
)

// Config holds every setting the processes read at start-up. The defaults suit
// the local development stack started by `make run`.
type Config struct {
	DatabaseURL       string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/playbookd?sslmode=disable"`
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TemporalTaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"playbookd"`
	TemporalUIURL     string `env:"TEMPORAL_UI_URL" envDefault:"http://127.0.0.1:8233"`
	HTTPAddr          string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	SendGridAPIKey    string `env:"SENDGRID_API_KEY"`
	SendGridBaseURL   string `env:"SENDGRID_BASE_URL" envDefault:"https://api.sendgrid.com"`
	// SendGridWebhookKey is the event webhook's verification key (base64
	// DER ECDSA public key, from SendGrid's mail settings); empty: no webhook.
	SendGridWebhookKey string `env:"SENDGRID_WEBHOOK_PUBLIC_KEY"`
	EmailFrom          string `env:"EMAIL_FROM" envDefault:"Customer Success <success@playbookd.local>"`
	// The brand of the customer emails' layout: the sender's name (empty:
	// EMAIL_FROM's display name, else "Customer Success"), an https logo
	// (empty: the name instead), the accent colour (#rrggbb), and the
	// sender's postal address, which every commercial email must carry
	// (CAN-SPAM): required with SENDGRID_API_KEY; while emails are only
	// captured, the footer says it is not set.
	BrandName         string `env:"BRAND_NAME"`
	BrandLogoURL      string `env:"BRAND_LOGO_URL"`
	BrandColor        string `env:"BRAND_COLOR" envDefault:"#2b6cb0"`
	MailPostalAddress string `env:"MAIL_POSTAL_ADDRESS"`
	// AdminKey is the operator's own key (CheckAdminKey says how strong).
	AdminKey string `env:"PLAYBOOKD_ADMIN_KEY"`
	// TrustedProxies are the addresses (CIDR ranges or single addresses) of
	// the load balancers in front of the API: from them, the client is the
	// one X-Forwarded-For names. Empty: the client is the connection's peer
	// (X-Forwarded-For is ignored: any client could write it).
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`
	// EmailCap automated emails at most to one address per EmailCapWindow,
	// across playbooks; 0 turns the cap off.
	EmailCap       int           `env:"EMAIL_CAP" envDefault:"3"`
	EmailCapWindow time.Duration `env:"EMAIL_CAP_WINDOW" envDefault:"168h"`
	// EmailMinGap is the least time between two automated emails to one
	// contact, across every run; 0 turns it off. EmailHoldRecheck is how
	// often an email held by a play of higher priority asks again.
	EmailMinGap      time.Duration `env:"EMAIL_MIN_GAP" envDefault:"24h"`
	EmailHoldRecheck time.Duration `env:"EMAIL_HOLD_RECHECK" envDefault:"6h"`
	// SendWindow is when customer emails go, in each account's time zone,
	// for playbooks whose definition sets no send_window ("none": any time).
	SendWindow string `env:"SEND_WINDOW" envDefault:"mon-fri 09:00-17:00"`
	// EmailsPerSecond limits sends across all workers (SendGrid's limit is
	// per account); 0: unlimited.
	EmailsPerSecond float64 `env:"EMAILS_PER_SECOND" envDefault:"10"`
	// Escalation deadlines of levels 1-4 by segment; unset, those of
	// accounts.DefaultEscalationSLA (seed 000 "Escalation Levels").
	SLAEnterprise []time.Duration `env:"ESCALATION_SLA_ENTERPRISE" envSeparator:","`
	SLAMidMarket  []time.Duration `env:"ESCALATION_SLA_MID_MARKET" envSeparator:","`
	SLASMB        []time.Duration `env:"ESCALATION_SLA_SMB" envSeparator:","`
	SigningKey    string          `env:"PLAYBOOKD_SIGNING_KEY"`
	PublicBaseURL string          `env:"PUBLIC_BASE_URL" envDefault:"http://127.0.0.1:8080"`
	LogLevel      string          `env:"LOG_LEVEL" envDefault:"info"`
	// HealthModel is a preset (seed-003, seed-000, seed-001, seed-002, seed-004) or a YAML/JSON
	// model file (health.Model).
	HealthModel string `env:"HEALTH_MODEL" envDefault:"seed-003"`
	// The lowest ARR of the enterprise and mid_market segments (seeds 000, 003).
	SegmentEnterpriseARR float64 `env:"SEGMENT_ENTERPRISE_MIN_ARR" envDefault:"100000"`
	SegmentMidMarketARR  float64 `env:"SEGMENT_MID_MARKET_MIN_ARR" envDefault:"25000"`
	// When the measured risk signals fire (seed 000 "Early Warning System"):
	// usage down by this percent from its peak within the days; this many
	// high-priority tickets within the days.
	SignalUsageDeclinePercent float64 `env:"SIGNAL_USAGE_DECLINE_PERCENT" envDefault:"25"`
	SignalUsageDeclineDays    int     `env:"SIGNAL_USAGE_DECLINE_DAYS" envDefault:"30"`
	SignalSupportSpikeTickets int     `env:"SIGNAL_SUPPORT_SPIKE_TICKETS" envDefault:"3"`
	SignalSupportSpikeDays    int     `env:"SIGNAL_SUPPORT_SPIKE_DAYS" envDefault:"14"`
	// TriggerSweepInterval is how often the schedule records renewal windows
	// and schedule occasions and retries trigger starts left pending.
	TriggerSweepInterval time.Duration `env:"TRIGGER_SWEEP_INTERVAL" envDefault:"1h"`
	// AnalyticsFoldInterval is how often a worker folds the analytics
	// deltas the database's triggers append into the summaries; reads add
	// unfolded deltas too, so it bounds their work, not their accuracy.
	AnalyticsFoldInterval time.Duration `env:"ANALYTICS_FOLD_INTERVAL" envDefault:"5s"`
	// MetricsAddr is where `playbookd worker` serves /metrics (the API
	// serves it on HTTP_ADDR); empty: not served.
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9090"`
	// WorkflowCacheSize is how many runs a worker keeps in memory between
	// their steps; others are replayed from history when their next step
	// comes (playbook runs wait days between steps).
	WorkflowCacheSize int `env:"WORKFLOW_CACHE_SIZE" envDefault:"2000"`
	// NotifyDevAllowHTTPLoopback lets notify steps post over plain http and
	// to loopback (127.0.0.0/8, ::1, localhost), for a local stand-in of
	// Slack. Development only: the API on 127.0.0.1 becomes reachable.
	// Private, link-local and metadata addresses stay refused.
	NotifyDevAllowHTTPLoopback bool `env:"NOTIFY_DEV_ALLOW_HTTP_LOOPBACK" envDefault:"false"`
	// SlackWebhookURL, when set, is a Slack incoming webhook told of every
	// approval assigned or escalated (besides the assignee's email). It is
	// a secret: its path is the credential.
	SlackWebhookURL string `env:"SLACK_WEBHOOK_URL"`
	// DigestHourUTC is the hour (UTC) from which the trigger sweep sends each
	// team member the day's digest of pending approvals and overdue tasks;
	// -1: no digest.
	DigestHourUTC int `env:"DIGEST_HOUR_UTC" envDefault:"13"`
	// Single sign-on to the console with the team's OpenID Connect
	// provider: its issuer URL and this client's credentials, all three or
	// none (none: members sign in with an emailed link). The redirect URL
	// to register with the provider is OIDCRedirectURL.
	OIDCIssuerURL    string `env:"OIDC_ISSUER_URL"`
	OIDCClientID     string `env:"OIDC_CLIENT_ID"`
	OIDCClientSecret string `env:"OIDC_CLIENT_SECRET"`
	// OIDCProviderName is what the sign-in page calls the provider:
	// "Sign in with {name}".
	OIDCProviderName string `env:"OIDC_PROVIDER_NAME" envDefault:"your identity provider"`
	// AccountFieldsSpec declares the accounts' custom fields templates may
	// read and field conditions may test, as name:type (text, number or
	// bool) separated by commas, such as "plan:text,renewed:bool" (the
	// measured seats_used_pct and feature_adoption_pct always are).
	AccountFieldsSpec string `env:"ACCOUNT_FIELDS"`

	// TLS and credentials for a Temporal cluster beyond this machine or
	// Temporal Cloud (temporal.go). Cert, key and CA are each a PEM file's
	// path or the PEM text itself (a secret mounted as a variable).
	TemporalTLS           bool   `env:"TEMPORAL_TLS"`
	TemporalTLSCert       string `env:"TEMPORAL_TLS_CERT"`
	TemporalTLSKey        string `env:"TEMPORAL_TLS_KEY"`
	TemporalTLSCA         string `env:"TEMPORAL_TLS_CA"`
	TemporalTLSServerName string `env:"TEMPORAL_TLS_SERVER_NAME"`
	TemporalAPIKey        string `env:"TEMPORAL_API_KEY"`
}

// Webhooks is where notify steps may post, for validation and for the
// notify client alike.
func (c Config) Webhooks() netguard.Policy {
	return netguard.Policy{AllowHTTP: c.NotifyDevAllowHTTPLoopback, AllowLoopback: c.NotifyDevAllowHTTPLoopback}
}

// Health returns the configured health model; validate has checked it.
func (c Config) Health() health.Model {
	m, _ := health.LoadModel(c.HealthModel)
	return m
}

// AccountFields are the custom fields ACCOUNT_FIELDS declares (nil when
// unset); validate has checked them.
func (c Config) AccountFields() []accounts.Field {
	f, _ := accounts.ParseFields(c.AccountFieldsSpec)
	return f
}

// Segments returns the ARR thresholds of the segments.
func (c Config) Segments() accounts.SegmentThresholds {
	return accounts.SegmentThresholds{Enterprise: c.SegmentEnterpriseARR, MidMarket: c.SegmentMidMarketARR}
}

// Signals returns the risk signals' thresholds; validate has checked them.
func (c Config) Signals() health.SignalThresholds {
	day := 24 * time.Hour
	return health.SignalThresholds{
		UsageDeclinePercent: c.SignalUsageDeclinePercent, UsageDeclineWindow: time.Duration(c.SignalUsageDeclineDays) * day,
		SupportSpikeTickets: c.SignalSupportSpikeTickets, SupportSpikeWindow: time.Duration(c.SignalSupportSpikeDays) * day,
	}
}

// MaxSignalDays bounds the signals' windows: a snapshot reads the
// account's snapshots of the usage window before it.
const MaxSignalDays = 365

// Load reads the environment. Every problem is reported at once, each naming
// the variable, so a misconfigured deployment is fixed in one round.
func Load() (Config, error) {
	return parse(env.Options{})
}

// LoadFrom reads settings from the given map instead of the process
// environment; tests use it.
func LoadFrom(vars map[string]string) (Config, error) {
	return parse(env.Options{Environment: vars})
}

func parse(opts env.Options) (Config, error) {
	// Defaults that are facts of the account model come from it; the
	// variables, when set, replace them.
	sla := accounts.DefaultEscalationSLA()
	levels := func(segment string) []time.Duration { d := sla[segment]; return d[:] }
	cfg := Config{SLAEnterprise: levels("enterprise"), SLAMidMarket: levels("mid_market"), SLASMB: levels("smb")}
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		return Config{}, nameVariables(err)
	}
	return cfg, cfg.validate()
}

// nameVariables rewrites the library's parse errors, which name Go fields,
// to name the environment variables people set.
func nameVariables(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	t := reflect.TypeOf(Config{})
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := t.FieldByName(pe.Name); ok {
				out = append(out, fmt.Errorf("%s: cannot parse: %v", f.Tag.Get("env"), pe.Err))
				continue
			}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func (c Config) validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		bad("DATABASE_URL", "want a postgres:// URL, got %q", c.DatabaseURL)
	}
	if !hostPort(c.TemporalAddress) {
		bad("TEMPORAL_ADDRESS", "want host:port, got %q", c.TemporalAddress)
	}
	if strings.TrimSpace(c.TemporalNamespace) == "" {
		bad("TEMPORAL_NAMESPACE", "must not be empty")
	}
	if strings.TrimSpace(c.TemporalTaskQueue) == "" {
		bad("TEMPORAL_TASK_QUEUE", "must not be empty")
	}
	if _, err := c.temporalTLSConfig(); err != nil {
		errs = append(errs, err)
	}
	if strings.ContainsFunc(c.TemporalAPIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// It travels in a gRPC header; a newline usually comes from the file it was read from.
		bad("TEMPORAL_API_KEY", "must not contain spaces, line breaks or control characters")
	}
	if u, err := url.Parse(c.TemporalUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("TEMPORAL_UI_URL", "want an http(s) URL, got %q", c.TemporalUIURL)
	}
	if c.MetricsAddr != "" && !hostPort(c.MetricsAddr) {
		bad("METRICS_ADDR", "want host:port (host may be empty), got %q", c.MetricsAddr)
	}
	if !hostPort(c.HTTPAddr) {
		bad("HTTP_ADDR", "want host:port (host may be empty), got %q", c.HTTPAddr)
	}
	if u, err := url.Parse(c.SendGridBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("SENDGRID_BASE_URL", "want an http(s) URL, got %q", c.SendGridBaseURL)
	}
	if c.SendGridWebhookKey != "" {
		if _, err := WebhookPublicKey(c.SendGridWebhookKey); err != nil {
			bad("SENDGRID_WEBHOOK_PUBLIC_KEY", "%v", err)
		}
	}
	if _, err := mail.ParseAddress(c.EmailFrom); err != nil {
		bad("EMAIL_FROM", "want an address such as \"Success <cs@example.com>\", got %q", c.EmailFrom)
	}
	errs = append(errs, c.validateBrand()...)
	if _, err := health.LoadModel(c.HealthModel); err != nil {
		bad("HEALTH_MODEL", "%v", err)
	}
	if !(0 < c.SegmentMidMarketARR && c.SegmentMidMarketARR < c.SegmentEnterpriseARR) {
		bad("SEGMENT_MID_MARKET_MIN_ARR", "must be above 0 and below SEGMENT_ENTERPRISE_MIN_ARR (%g), got %g", c.SegmentEnterpriseARR, c.SegmentMidMarketARR)
	}
	if !(c.SignalUsageDeclinePercent > 0 && c.SignalUsageDeclinePercent < 100) {
		bad("SIGNAL_USAGE_DECLINE_PERCENT", "want a percent above 0 and below 100, such as 25, got %g", c.SignalUsageDeclinePercent)
	}
	for name, days := range map[string]int{"SIGNAL_USAGE_DECLINE_DAYS": c.SignalUsageDeclineDays, "SIGNAL_SUPPORT_SPIKE_DAYS": c.SignalSupportSpikeDays} {
		if days < 1 || days > MaxSignalDays {
			bad(name, "want whole days from 1 to %d, got %d", MaxSignalDays, days)
		}
	}
	if c.SignalSupportSpikeTickets < 1 || c.SignalSupportSpikeTickets > 1000 {
		bad("SIGNAL_SUPPORT_SPIKE_TICKETS", "want 1 to 1000 tickets, got %d", c.SignalSupportSpikeTickets)
	}
	if c.TriggerSweepInterval < time.Minute {
		bad("TRIGGER_SWEEP_INTERVAL", "must be at least 1m, got %s", c.TriggerSweepInterval)
	}
	if c.WorkflowCacheSize < 0 {
		bad("WORKFLOW_CACHE_SIZE", "must not be negative (0 keeps the SDK default, 10000)")
	}
	if c.EmailCap < 0 {
		bad("EMAIL_CAP", "must not be negative (0 turns the cap off)")
	}
	for name, levels := range map[string][]time.Duration{"ESCALATION_SLA_ENTERPRISE": c.SLAEnterprise,
		"ESCALATION_SLA_MID_MARKET": c.SLAMidMarket, "ESCALATION_SLA_SMB": c.SLASMB} {
		if len(levels) != 4 || slices.ContainsFunc(levels, func(d time.Duration) bool { return d <= 0 }) {
			bad(name, "want four positive durations, levels 1 to 4, such as 4h,2h,1h,30m")
		}
	}
	if c.EmailsPerSecond < 0 {
		bad("EMAILS_PER_SECOND", "must not be negative (0: unlimited)")
	}
	if c.EmailCapWindow <= 0 {
		bad("EMAIL_CAP_WINDOW", "must be a positive duration such as 168h")
	}
	if _, err := playbook.ParseSendWindow(c.SendWindow); err != nil {
		bad("SEND_WINDOW", "%v (\"none\" sends at any time)", err)
	}
	if c.EmailMinGap < 0 {
		bad("EMAIL_MIN_GAP", "must not be negative (0 turns it off), such as 24h")
	}
	if c.EmailHoldRecheck < time.Minute {
		bad("EMAIL_HOLD_RECHECK", "must be at least 1m, such as 6h")
	}
	if c.SigningKey != "" && len(c.SigningKey) < 32 {
		bad("PLAYBOOKD_SIGNING_KEY", "must be at least 32 characters")
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PUBLIC_BASE_URL", "want the API's public http(s) address, got %q", c.PublicBaseURL)
	}
	errs = append(errs, c.validateOIDC()...)
	if _, err := accounts.ParseFields(c.AccountFieldsSpec); err != nil {
		bad("ACCOUNT_FIELDS", "%v", err)
	}
	if c.DigestHourUTC < -1 || c.DigestHourUTC > 23 {
		bad("DIGEST_HOUR_UTC", "want an hour 0-23, or -1 for no digest, got %d", c.DigestHourUTC)
	}
	if c.SlackWebhookURL != "" {
		// The URL is never quoted back: its path is a secret.
		if err := c.Webhooks().CheckURL(c.SlackWebhookURL); err != nil {
			bad("SLACK_WEBHOOK_URL", "want an incoming webhook's https URL on a public host: %v", err)
		}
	}
	if c.AdminKey != "" {
		// The key is never quoted back.
		if err := CheckAdminKey(c.AdminKey); err != nil {
			bad("PLAYBOOKD_ADMIN_KEY", "%v", err)
		}
	}
	if _, err := c.TrustedProxyRanges(); err != nil {
		bad("TRUSTED_PROXIES", "%v", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	return errors.Join(errs...)
}

// The admin key's strength: it opens everything, and the operator chooses
// it, so it is held to what a random key has (`openssl rand -hex 24`, the
// keys `make run` and `dev` generate). Failed sign-ins are throttled too,
// but per client and per replica.
const (
	AdminKeyMinLength   = 32
	AdminKeyMinDistinct = 8
)

// CheckAdminKey refuses an admin key too short or too repetitive to resist
// guessing, or one that cannot travel in a header as typed.
func CheckAdminKey(key string) error {
	distinct := map[rune]bool{}
	for _, r := range key {
		if r <= ' ' || r == 0x7f {
			return errors.New("must not contain spaces, line breaks or control characters (a newline usually comes from the file it was read from)")
		}
		distinct[r] = true
	}
	if utf8.RuneCountInString(key) < AdminKeyMinLength || len(distinct) < AdminKeyMinDistinct {
		return fmt.Errorf("too weak: want at least %d characters, at least %d of them different, such as the output of `openssl rand -hex 24`",
			AdminKeyMinLength, AdminKeyMinDistinct)
	}
	return nil
}

// TrustedProxyRanges is TRUSTED_PROXIES parsed: a single address is a
// range of one.
func (c Config) TrustedProxyRanges() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("want addresses or CIDR ranges such as 10.0.0.0/8, got %q", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func hostPort(s string) bool {
	i := strings.LastIndex(s, ":")
	if i < 0 || i == len(s)-1 {
		return false
	}
	for _, r := range s[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

var brandColorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// validateBrand checks the brand settings (templates.Brand holds the same
// rules; config does not import templates).
func (c Config) validateBrand() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	oneLine := func(s string) bool { return !strings.ContainsFunc(s, unicode.IsControl) }
	if !oneLine(c.BrandName) || utf8.RuneCountInString(c.BrandName) > 100 {
		bad("BRAND_NAME", "want one line of at most 100 characters, such as \"Acme Customer Success\"")
	}
	if c.BrandLogoURL != "" {
		if u, err := url.Parse(c.BrandLogoURL); err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(c.BrandLogoURL, " \"'<>") {
			// Mail clients block images over plain http.
			bad("BRAND_LOGO_URL", "want an https URL of an image, such as https://example.com/logo.png, got %q", c.BrandLogoURL)
		}
	}
	if !brandColorPattern.MatchString(c.BrandColor) {
		bad("BRAND_COLOR", "want a colour as #rrggbb, such as #2b6cb0, got %q", c.BrandColor)
	}
	switch {
	case !oneLine(c.MailPostalAddress) || utf8.RuneCountInString(c.MailPostalAddress) > 300:
		bad("MAIL_POSTAL_ADDRESS", "want one line of at most 300 characters, such as \"Acme Inc., 1 Main St, Springfield, IL 62701, USA\"")
	case c.SendGridAPIKey != "" && strings.TrimSpace(c.MailPostalAddress) == "":
		bad("MAIL_POSTAL_ADDRESS", "required with SENDGRID_API_KEY: every commercial email must carry the sender's postal address, "+
			"such as \"Acme Inc., 1 Main St, Springfield, IL 62701, USA\"")
	}
	return errs
}

// BrandDisplayName is the sender's name in the emails' layout: BRAND_NAME,
// else EMAIL_FROM's display name, else "Customer Success".
func (c Config) BrandDisplayName() string {
	if n := strings.TrimSpace(c.BrandName); n != "" {
		return n
	}
	if n, _ := c.EmailFromAddress(); strings.TrimSpace(n) != "" {
		return strings.TrimSpace(n)
	}
	return "Customer Success"
}

// EmailFromAddress splits EMAIL_FROM into name and address; validate has
// already checked that it parses.
func (c Config) EmailFromAddress() (name, address string) {
	a, err := mail.ParseAddress(c.EmailFrom)
	if err != nil {
		return "", c.EmailFrom
	}
	return a.Name, a.Address
}

// WebhookPublicKey parses SendGrid's event webhook verification key.
func WebhookPublicKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("want SendGrid's base64 verification key: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("want SendGrid's base64 verification key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is not an ECDSA public key")
	}
	return ec, nil
}

// EscalationSLA is the ladder's deadlines by segment, levels 1-4.
func (c Config) EscalationSLA() map[string][4]time.Duration {
	four := func(d []time.Duration) [4]time.Duration { return [4]time.Duration{d[0], d[1], d[2], d[3]} }
	return map[string][4]time.Duration{"enterprise": four(c.SLAEnterprise), "mid_market": four(c.SLAMidMarket), "smb": four(c.SLASMB)}
}

// DefaultSendWindow is the organisation's send window (validated by Load);
// nil when it is "none".
func (c Config) DefaultSendWindow() *playbook.SendWindow {
	w, _ := playbook.ParseSendWindow(c.SendWindow)
	return w
}

// FrequencyCap is the frequency cap the worker applies to automated
// emails, and simulations with it.
func (c Config) FrequencyCap() message.Cap {
	return message.Cap{Count: c.EmailCap, Window: c.EmailCapWindow, MinGap: c.EmailMinGap, HoldRecheck: c.EmailHoldRecheck}
}
