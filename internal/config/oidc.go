package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// OIDCCallbackPath is where the console takes the identity provider's
// redirect back (the console serves it; signin.CallbackPath).
const OIDCCallbackPath = "/console/sign-in/oidc/callback"

// SSO reports whether single sign-on is configured (validate has checked
// that the three settings come together).
func (c Config) SSO() bool { return c.OIDCIssuerURL != "" }

// OIDCRedirectURL is the redirect URL to register with the identity
// provider: PUBLIC_BASE_URL + OIDCCallbackPath.
func (c Config) OIDCRedirectURL() string {
	return strings.TrimRight(c.PublicBaseURL, "/") + OIDCCallbackPath
}

// validateOIDC checks the single sign-on settings: all or none, an issuer
// over https (its keys sign the ID tokens: plain http only on loopback,
// for a provider on this machine), a one-line name. The secret is never
// quoted back.
func (c Config) validateOIDC() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	set := map[string]bool{"OIDC_ISSUER_URL": c.OIDCIssuerURL != "", "OIDC_CLIENT_ID": c.OIDCClientID != "",
		"OIDC_CLIENT_SECRET": c.OIDCClientSecret != ""}
	if !set["OIDC_ISSUER_URL"] && !set["OIDC_CLIENT_ID"] && !set["OIDC_CLIENT_SECRET"] {
		return nil
	}
	for _, name := range []string{"OIDC_ISSUER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"} {
		if !set[name] {
			bad(name, "required when any of OIDC_ISSUER_URL, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET is set (single sign-on needs all three)")
		}
	}
	if set["OIDC_ISSUER_URL"] {
		if err := checkIssuer(c.OIDCIssuerURL); err != nil {
			bad("OIDC_ISSUER_URL", "%v, got %q", err, c.OIDCIssuerURL)
		}
	}
	if strings.ContainsFunc(c.OIDCClientID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		bad("OIDC_CLIENT_ID", "must not contain spaces, line breaks or control characters")
	}
	if strings.ContainsFunc(c.OIDCClientSecret, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		bad("OIDC_CLIENT_SECRET", "must not contain line breaks or control characters (a newline usually comes from the file it was read from)")
	}
	if name := strings.TrimSpace(c.OIDCProviderName); name == "" || utf8.RuneCountInString(name) > 60 ||
		strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		bad("OIDC_PROVIDER_NAME", "want a one-line name of at most 60 characters, such as Okta")
	}
	return errs
}

func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("want the provider's issuer URL, such as https://accounts.example.com")
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return errors.New("want https (plain http only for a provider on this machine)")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("want the issuer URL without query, fragment or credentials")
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
