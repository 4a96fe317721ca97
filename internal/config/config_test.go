package config

import (
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/netguard"
)

func TestLoadDefaults(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if cfg.TemporalTaskQueue != "playbookd" || cfg.HTTPAddr != "127.0.0.1:8080" {
		t.Fatalf("unexpected defaults: %+v", cfg)
	}
	name, addr := cfg.EmailFromAddress()
	if name != "Customer Success" || addr != "success@playbookd.local" {
		t.Fatalf("EmailFromAddress = %q, %q", name, addr)
	}
	if cfg.Webhooks() != (netguard.Policy{}) {
		t.Fatalf("webhooks must default to https and public hosts only, got %+v", cfg.Webhooks())
	}
}

// A Slack webhook is an https URL; the development setting lets a local
// stand-in on loopback take it. The URL's path (its secret) is never quoted.
func TestSlackWebhookURL(t *testing.T) {
	if _, err := LoadFrom(map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/secret"}); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFrom(map[string]string{"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T/B/secret"})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("want an error without the URL's path, got %v", err)
	}
	if _, err := LoadFrom(map[string]string{"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T/B/secret",
		"NOTIFY_DEV_ALLOW_HTTP_LOOPBACK": "true"}); err != nil {
		t.Fatal(err)
	}
}

func TestNotifyDevelopmentSetting(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{"NOTIFY_DEV_ALLOW_HTTP_LOOPBACK": "true"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (netguard.Policy{AllowHTTP: true, AllowLoopback: true}); cfg.Webhooks() != want {
		t.Fatalf("Webhooks() = %+v, want %+v", cfg.Webhooks(), want)
	}
	if _, err := LoadFrom(map[string]string{"NOTIFY_DEV_ALLOW_HTTP_LOOPBACK": "yes please"}); err == nil ||
		!strings.Contains(err.Error(), "NOTIFY_DEV_ALLOW_HTTP_LOOPBACK") {
		t.Fatalf("want an error naming NOTIFY_DEV_ALLOW_HTTP_LOOPBACK, got %v", err)
	}
}

func TestLoadRejectsBadValuesNamingThem(t *testing.T) {
	p := newPKI(t) // temporal_test.go
	missing := filepath.Join(t.TempDir(), "nowhere.pem")
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"database url", map[string]string{"DATABASE_URL": "mysql://x"}, []string{"DATABASE_URL"}},
		{"temporal address", map[string]string{"TEMPORAL_ADDRESS": "localhost"}, []string{"TEMPORAL_ADDRESS"}},
		{"empty namespace", map[string]string{"TEMPORAL_NAMESPACE": " "}, []string{"TEMPORAL_NAMESPACE"}},
		{"blank queue", map[string]string{"TEMPORAL_TASK_QUEUE": "  "}, []string{"TEMPORAL_TASK_QUEUE"}},
		{"http addr", map[string]string{"HTTP_ADDR": "8080"}, []string{"HTTP_ADDR"}},
		{"sendgrid url", map[string]string{"SENDGRID_BASE_URL": "not a url"}, []string{"SENDGRID_BASE_URL"}},
		{"email from", map[string]string{"EMAIL_FROM": "nobody"}, []string{"EMAIL_FROM"}},
		{"short admin key", map[string]string{"PLAYBOOKD_ADMIN_KEY": "short"}, []string{"PLAYBOOKD_ADMIN_KEY"}},
		{"admin key of the old minimum", map[string]string{"PLAYBOOKD_ADMIN_KEY": "test-admin-key-0123456789"}, []string{"PLAYBOOKD_ADMIN_KEY: too weak"}},
		{"repetitive admin key", map[string]string{"PLAYBOOKD_ADMIN_KEY": strings.Repeat("ab12", 16)}, []string{"PLAYBOOKD_ADMIN_KEY: too weak"}},
		{"admin key with a newline", map[string]string{"PLAYBOOKD_ADMIN_KEY": "bench-admin-key-0123456789abcdef\n"}, []string{"PLAYBOOKD_ADMIN_KEY: must not contain"}},
		{"trusted proxy not an address", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,lb.internal"}, []string{"TRUSTED_PROXIES"}},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL"}},
		{"short signing key", map[string]string{"PLAYBOOKD_SIGNING_KEY": "short"}, []string{"PLAYBOOKD_SIGNING_KEY"}},
		{"public url", map[string]string{"PUBLIC_BASE_URL": "cs.example"}, []string{"PUBLIC_BASE_URL"}},
		{"negative cap", map[string]string{"EMAIL_CAP": "-1"}, []string{"EMAIL_CAP"}},
		{"digest hour", map[string]string{"DIGEST_HOUR_UTC": "24"}, []string{"DIGEST_HOUR_UTC"}},
		{"slack over http", map[string]string{"SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/T/B/x"}, []string{"SLACK_WEBHOOK_URL"}},
		{"slack to metadata", map[string]string{"SLACK_WEBHOOK_URL": "https://169.254.169.254/x"}, []string{"SLACK_WEBHOOK_URL"}},
		{"unknown health model", map[string]string{"HEALTH_MODEL": "seed-999"}, []string{"HEALTH_MODEL"}},
		{"segments upside down", map[string]string{"SEGMENT_MID_MARKET_MIN_ARR": "200000"}, []string{"SEGMENT_MID_MARKET_MIN_ARR"}},
		{"usage decline of nothing", map[string]string{"SIGNAL_USAGE_DECLINE_PERCENT": "0"}, []string{"SIGNAL_USAGE_DECLINE_PERCENT"}},
		{"usage decline of everything", map[string]string{"SIGNAL_USAGE_DECLINE_PERCENT": "100"}, []string{"SIGNAL_USAGE_DECLINE_PERCENT"}},
		{"usage decline not a number", map[string]string{"SIGNAL_USAGE_DECLINE_PERCENT": "a quarter"}, []string{"SIGNAL_USAGE_DECLINE_PERCENT"}},
		{"usage window of no days", map[string]string{"SIGNAL_USAGE_DECLINE_DAYS": "0"}, []string{"SIGNAL_USAGE_DECLINE_DAYS"}},
		{"usage window over a year", map[string]string{"SIGNAL_USAGE_DECLINE_DAYS": "366"}, []string{"SIGNAL_USAGE_DECLINE_DAYS"}},
		{"spike of no tickets", map[string]string{"SIGNAL_SUPPORT_SPIKE_TICKETS": "0"}, []string{"SIGNAL_SUPPORT_SPIKE_TICKETS"}},
		{"spike window a duration", map[string]string{"SIGNAL_SUPPORT_SPIKE_DAYS": "14d"}, []string{"SIGNAL_SUPPORT_SPIKE_DAYS"}},
		{"spike window negative", map[string]string{"SIGNAL_SUPPORT_SPIKE_DAYS": "-1"}, []string{"SIGNAL_SUPPORT_SPIKE_DAYS"}},
		{"sweep too often", map[string]string{"TRIGGER_SWEEP_INTERVAL": "5s"}, []string{"TRIGGER_SWEEP_INTERVAL"}},
		{"metrics address", map[string]string{"METRICS_ADDR": "nine"}, []string{"METRICS_ADDR"}},
		{"three SLA levels", map[string]string{"ESCALATION_SLA_SMB": "48h,8h,4h"}, []string{"ESCALATION_SLA_SMB"}},
		{"zero SLA", map[string]string{"ESCALATION_SLA_ENTERPRISE": "4h,0s,1h,30m"}, []string{"ESCALATION_SLA_ENTERPRISE"}},
		{"SLA not durations", map[string]string{"ESCALATION_SLA_MID_MARKET": "a day"}, []string{"ESCALATION_SLA_MID_MARKET"}},
		{"cap window", map[string]string{"EMAIL_CAP_WINDOW": "0s"}, []string{"EMAIL_CAP_WINDOW"}},
		{"cap window not a duration", map[string]string{"EMAIL_CAP_WINDOW": "a week"}, []string{"EMAIL_CAP_WINDOW"}},
		{"send window backwards", map[string]string{"SEND_WINDOW": "mon-fri 17:00-09:00"}, []string{"SEND_WINDOW"}},
		{"send window without hours", map[string]string{"SEND_WINDOW": "weekdays"}, []string{"SEND_WINDOW"}},
		{"negative email gap", map[string]string{"EMAIL_MIN_GAP": "-1h"}, []string{"EMAIL_MIN_GAP"}},
		{"hold recheck too often", map[string]string{"EMAIL_HOLD_RECHECK": "1s"}, []string{"EMAIL_HOLD_RECHECK"}},
		{"several at once", map[string]string{"HTTP_ADDR": "x", "EMAIL_FROM": "y"}, []string{"HTTP_ADDR", "EMAIL_FROM"}},
		{"cert without key", map[string]string{"TEMPORAL_TLS_CERT": p.certFile}, []string{"TEMPORAL_TLS_KEY: required"}},
		{"key without cert", map[string]string{"TEMPORAL_TLS_KEY": p.keyFile}, []string{"TEMPORAL_TLS_CERT: required"}},
		{"cert file missing", map[string]string{"TEMPORAL_TLS_CERT": missing, "TEMPORAL_TLS_KEY": p.keyFile}, []string{"TEMPORAL_TLS_CERT: want PEM"}},
		{"both files missing", map[string]string{"TEMPORAL_TLS_CERT": missing, "TEMPORAL_TLS_KEY": missing},
			[]string{"TEMPORAL_TLS_CERT: want PEM", "TEMPORAL_TLS_KEY: want PEM"}},
		{"key of another certificate", map[string]string{"TEMPORAL_TLS_CERT": p.certFile, "TEMPORAL_TLS_KEY": p.caFile},
			[]string{"TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY"}},
		{"CA file missing", map[string]string{"TEMPORAL_TLS_CA": missing}, []string{"TEMPORAL_TLS_CA"}},
		{"CA file without certificate", map[string]string{"TEMPORAL_TLS_CA": p.keyFile}, []string{"TEMPORAL_TLS_CA: no PEM certificate"}},
		{"TLS not a boolean", map[string]string{"TEMPORAL_TLS": "sure"}, []string{"TEMPORAL_TLS"}},
		{"API key with a newline", map[string]string{"TEMPORAL_API_KEY": "key\n"}, []string{"TEMPORAL_API_KEY"}},
		{"API key and a bad CA at once", map[string]string{"TEMPORAL_API_KEY": "a key", "TEMPORAL_TLS_CA": "-----BEGIN nothing"},
			[]string{"TEMPORAL_API_KEY", "TEMPORAL_TLS_CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom(tt.vars)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestEscalationSLAFromEnvironment(t *testing.T) {
	smb := [4]time.Duration{72 * time.Hour, 12 * time.Hour, 6 * time.Hour, 3 * time.Hour}
	tests := map[string]struct {
		vars map[string]string
		want map[string][4]time.Duration
	}{
		// The defaults are the account model's, written once.
		"unset": {nil, accounts.DefaultEscalationSLA()},
		"smb set": {map[string]string{"ESCALATION_SLA_SMB": "72h,12h,6h,3h"}, map[string][4]time.Duration{
			"enterprise": {4 * time.Hour, 2 * time.Hour, time.Hour, 30 * time.Minute},
			"mid_market": {24 * time.Hour, 8 * time.Hour, 4 * time.Hour, 2 * time.Hour},
			"smb":        smb,
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadFrom(tt.vars)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.EscalationSLA(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("EscalationSLA() = %v, want %v", got, tt.want)
			}
		})
	}
}

// The admin keys the repository's scripts, suites and examples use are
// strong enough; a refused key is never quoted back.
func TestAdminKeyStrength(t *testing.T) {
	tests := []struct {
		key    string
		reason string // empty: accepted
	}{
		{key: "bench-admin-key-0123456789abcdef"},                                  // cmd/bench
		{key: "e2e-admin-key-0123456789abcdefghijk"},                               // e2e
		{key: "pbk_3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},                        // scripts/lib.sh, dev: pbk_ and 24 random bytes
		{key: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"},                  // openssl rand -hex 24
		{key: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"},                      // openssl rand -base64 33
		{key: "test-admin-key-0123456789", reason: "too weak"},                     // the old minimum, 16+
		{key: strings.Repeat("a", 64), reason: "too weak"},                         // long, one character
		{key: "0123456" + strings.Repeat("0", 40), reason: "too weak"},             // 7 different
		{key: "9f86d081884c7d659a2feaa0c55ad015 a3bf", reason: "must not contain"}, // a space
		{key: "9f86d081884c7d659a2feaa0c55ad015a3bf\n", reason: "must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := LoadFrom(map[string]string{"PLAYBOOKD_ADMIN_KEY": tt.key})
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "PLAYBOOKD_ADMIN_KEY: "+tt.reason) {
				t.Fatalf("want PLAYBOOKD_ADMIN_KEY: %s..., got %v", tt.reason, err)
			}
			if strings.Contains(err.Error(), strings.TrimSpace(tt.key)) {
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 ,2001:db8::1/64"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.TrustedProxyRanges()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/64")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("TrustedProxyRanges() = %v, want %v", got, want)
	}
}

// The signals' thresholds default to seed 000's and follow their variables.
func TestSignalThresholds(t *testing.T) {
	day := 24 * time.Hour
	cfg, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Signals() != health.DefaultSignalThresholds {
		t.Errorf("defaults %+v, want the seed's %+v", cfg.Signals(), health.DefaultSignalThresholds)
	}
	cfg, err = LoadFrom(map[string]string{"SIGNAL_USAGE_DECLINE_PERCENT": "12.5", "SIGNAL_USAGE_DECLINE_DAYS": "60",
		"SIGNAL_SUPPORT_SPIKE_TICKETS": "5", "SIGNAL_SUPPORT_SPIKE_DAYS": "7"})
	if err != nil {
		t.Fatal(err)
	}
	want := health.SignalThresholds{UsageDeclinePercent: 12.5, UsageDeclineWindow: 60 * day, SupportSpikeTickets: 5, SupportSpikeWindow: 7 * day}
	if cfg.Signals() != want {
		t.Errorf("Signals() = %+v, want %+v", cfg.Signals(), want)
	}
	if err := cfg.Signals().Check(); err != nil {
		t.Errorf("a valid configuration gives thresholds health refuses: %v", err)
	}
}

func TestBrandSettings(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BrandDisplayName() != "Customer Success" || cfg.BrandColor != "#2b6cb0" || cfg.BrandLogoURL != "" || cfg.MailPostalAddress != "" {
		t.Fatalf("brand defaults: %q %q %q %q", cfg.BrandDisplayName(), cfg.BrandColor, cfg.BrandLogoURL, cfg.MailPostalAddress)
	}
	cfg, err = LoadFrom(map[string]string{"EMAIL_FROM": "Acme Success <cs@acme.example>"})
	if err != nil || cfg.BrandDisplayName() != "Acme Success" {
		t.Fatalf("the name defaults to EMAIL_FROM's: %q, %v", cfg.BrandDisplayName(), err)
	}
	cfg, err = LoadFrom(map[string]string{"EMAIL_FROM": "cs@acme.example"})
	if err != nil || cfg.BrandDisplayName() != "Customer Success" {
		t.Fatalf("without a display name: %q, %v", cfg.BrandDisplayName(), err)
	}
	cfg, err = LoadFrom(map[string]string{"BRAND_NAME": "Acme", "BRAND_LOGO_URL": "https://cdn.acme.example/logo.png",
		"BRAND_COLOR": "#AA3300", "SENDGRID_API_KEY": "SG.key", "MAIL_POSTAL_ADDRESS": "Acme Inc., 1 Main St, Springfield"})
	if err != nil || cfg.BrandDisplayName() != "Acme" {
		t.Fatalf("a full brand: %q, %v", cfg.BrandDisplayName(), err)
	}
	for _, tt := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"colour name", map[string]string{"BRAND_COLOR": "blue"}, "BRAND_COLOR"},
		{"short colour", map[string]string{"BRAND_COLOR": "#abc"}, "BRAND_COLOR"},
		{"http logo", map[string]string{"BRAND_LOGO_URL": "http://cdn.acme.example/logo.png"}, "BRAND_LOGO_URL"},
		{"relative logo", map[string]string{"BRAND_LOGO_URL": "/logo.png"}, "BRAND_LOGO_URL"},
		{"two-line name", map[string]string{"BRAND_NAME": "Acme\nInc"}, "BRAND_NAME"},
		{"no address when sending", map[string]string{"SENDGRID_API_KEY": "SG.key"}, "MAIL_POSTAL_ADDRESS: required with SENDGRID_API_KEY"},
		{"blank address when sending", map[string]string{"SENDGRID_API_KEY": "SG.key", "MAIL_POSTAL_ADDRESS": "  "}, "MAIL_POSTAL_ADDRESS: required"},
		{"address with a line break", map[string]string{"MAIL_POSTAL_ADDRESS": "1 Main St\nSpringfield"}, "MAIL_POSTAL_ADDRESS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom(tt.vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error naming %s, got %v", tt.want, err)
			}
		})
	}
}
