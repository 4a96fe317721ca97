package config

import (
	"strings"
	"testing"
)

// Single sign-on is configured with all three settings or none; the
// issuer is https (http on loopback only); the secret is never quoted.
func TestOIDCSettings(t *testing.T) {
	full := map[string]string{"OIDC_ISSUER_URL": "https://accounts.example.com", "OIDC_CLIENT_ID": "playbookd",
		"OIDC_CLIENT_SECRET": "s3cret-value", "PUBLIC_BASE_URL": "https://cs.example.com/"}
	with := func(name, value string) map[string]string {
		vars := map[string]string{}
		for k, v := range full {
			vars[k] = v
		}
		if value == "" {
			delete(vars, name)
		} else {
			vars[name] = value
		}
		return vars
	}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string // "": valid; else a variable the error names
	}{
		{"none", map[string]string{}, ""},
		{"all three", full, ""},
		{"a provider on this machine", with("OIDC_ISSUER_URL", "http://127.0.0.1:5556/dex"), ""},
		{"localhost", with("OIDC_ISSUER_URL", "http://localhost:5556"), ""},
		{"no secret", with("OIDC_CLIENT_SECRET", ""), "OIDC_CLIENT_SECRET"},
		{"no client id", with("OIDC_CLIENT_ID", ""), "OIDC_CLIENT_ID"},
		{"no issuer", with("OIDC_ISSUER_URL", ""), "OIDC_ISSUER_URL"},
		{"issuer over http", with("OIDC_ISSUER_URL", "http://accounts.example.com"), "OIDC_ISSUER_URL"},
		{"issuer not a URL", with("OIDC_ISSUER_URL", "accounts.example.com"), "OIDC_ISSUER_URL"},
		{"issuer with a query", with("OIDC_ISSUER_URL", "https://accounts.example.com/?tenant=1"), "OIDC_ISSUER_URL"},
		{"client id with a space", with("OIDC_CLIENT_ID", "play bookd"), "OIDC_CLIENT_ID"},
		{"secret with a newline", with("OIDC_CLIENT_SECRET", "s3cret-value\n"), "OIDC_CLIENT_SECRET"},
		{"blank name", with("OIDC_PROVIDER_NAME", "  "), "OIDC_PROVIDER_NAME"},
		{"long name", with("OIDC_PROVIDER_NAME", strings.Repeat("Okta ", 13)), "OIDC_PROVIDER_NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadFrom(tc.vars)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if cfg.SSO() != (tc.vars["OIDC_ISSUER_URL"] != "") {
					t.Fatalf("SSO() = %v", cfg.SSO())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the secret is quoted back: %v", err)
			}
		})
	}
	cfg, err := LoadFrom(full)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.OIDCRedirectURL(); got != "https://cs.example.com/console/sign-in/oidc/callback" {
		t.Fatalf("OIDCRedirectURL() = %q", got)
	}
	if cfg.OIDCProviderName != "your identity provider" {
		t.Fatalf("OIDC_PROVIDER_NAME defaults to %q", cfg.OIDCProviderName)
	}
}
