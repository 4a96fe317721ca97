package signin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OIDCConfig is the team's identity provider (the OIDC_* settings).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL: its discovery document is
	// Issuer + "/.well-known/openid-configuration", and ID tokens must
	// name it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is PUBLIC_BASE_URL + CallbackPath, as registered with
	// the provider.
	RedirectURL string
	// Name is what the sign-in page calls the provider: "Sign in with
	// {Name}".
	Name string
	// HTTPClient reaches the provider (nil: one with providerTimeout).
	HTTPClient *http.Client
}

// providerTimeout bounds each request to the identity provider.
const providerTimeout = 10 * time.Second

// OIDC signs in through an OpenID Connect provider with the authorization
// code flow: the state proves that the browser coming back is the one that
// left, the nonce that the ID token was made for this sign-in, and PKCE
// that the code is useless to whoever intercepts it.
type OIDC struct {
	cfg    OIDCConfig
	client *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC makes a provider of cfg. It does not reach the provider: its
// discovery document is read at the first sign-in (and again after a
// failure), so the API starts while the provider is unreachable.
func NewOIDC(cfg OIDCConfig) *OIDC {
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: providerTimeout}
	}
	return &OIDC{cfg: cfg, client: client}
}

// Name is what the sign-in page calls the provider.
func (o *OIDC) Name() string { return o.cfg.Name }

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", ErrProviderUnavailable, o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth(p *oidc.Provider) oauth2.Config {
	return oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email"}}
}

// Pending is a sign-in sent to the provider and not back yet: what the
// browser keeps (in a short-lived HttpOnly cookie) until the callback.
type Pending struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// Next is where the console goes once signed in.
	Next string `json:"next,omitempty"`
}

// Encode is the pending sign-in as a cookie's value.
func (p Pending) Encode() string {
	raw, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// DecodePending reads a cookie's value; a value that is not one is an
// empty Pending, which no callback matches.
func DecodePending(value string) Pending {
	var p Pending
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || json.Unmarshal(raw, &p) != nil {
		return Pending{}
	}
	return p
}

// Errors of single sign-on, besides RefusedError and ThrottledError.
var (
	ErrNoSSO = errors.New("single sign-on is not configured")
	// ErrProviderUnavailable: the provider's discovery or token endpoint
	// could not be reached or answered an error.
	ErrProviderUnavailable = errors.New("the identity provider could not be reached")
	// ErrStateMismatch: the callback does not belong to the sign-in this
	// browser started (tampered, replayed, or started elsewhere).
	ErrStateMismatch = errors.New("the sign-in did not come back to the browser that started it")
	// ErrUnverifiedToken: the ID token failed verification (signature,
	// issuer, audience, expiry or nonce).
	ErrUnverifiedToken = errors.New("the identity provider's ID token could not be verified")
	// ErrNoVerifiedEmail: the ID token has no email, or says it is not
	// verified.
	ErrNoVerifiedEmail = errors.New("the identity provider did not give a verified email")
)

// SSOName is the identity provider's name for the sign-in page; "" when
// single sign-on is not configured.
func (s *Service) SSOName() string {
	if s.OIDC == nil {
		return ""
	}
	return s.OIDC.Name()
}

// StartSSO begins a single sign-on: the provider's address to send the
// browser to, and what the browser keeps until it comes back.
func (s *Service) StartSSO(ctx context.Context, next string) (string, Pending, error) {
	if s.OIDC == nil {
		return "", Pending{}, ErrNoSSO
	}
	p, err := s.OIDC.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	pending := Pending{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Next: next}
	cfg := s.OIDC.oauth(p)
	return cfg.AuthCodeURL(pending.State, oidc.Nonce(pending.Nonce), oauth2.S256ChallengeOption(pending.Verifier)), pending, nil
}

// FinishSSO ends a single sign-on at the callback: the state must be the
// pending one's, the code is exchanged for an ID token (with the PKCE
// verifier), whose signature, issuer, audience, expiry and nonce are
// verified; its email, verified, must be an active team member's. A
// callback that is not this browser's, or whose token fails, counts
// against the client as a failed sign-in.
func (s *Service) FinishSSO(ctx context.Context, client string, pending Pending, state, code string) (Session, error) {
	if s.OIDC == nil {
		return Session{}, ErrNoSSO
	}
	if wait := s.Failures.Wait(client); wait > 0 {
		return Session{}, &ThrottledError{Wait: wait}
	}
	if !sameToken(state, pending.State) || pending.Nonce == "" || pending.Verifier == "" || code == "" {
		s.Failures.Fail(client)
		return Session{}, ErrStateMismatch
	}
	email, err := s.OIDC.verifiedEmail(ctx, pending, code)
	if errors.Is(err, ErrUnverifiedToken) {
		s.Failures.Fail(client)
	}
	if err != nil {
		return Session{}, err
	}
	return s.signInMember(ctx, email)
}

func (o *OIDC) verifiedEmail(ctx context.Context, pending Pending, code string) (string, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	cfg := o.oauth(p)
	ctx = oidc.ClientContext(ctx, o.client)
	token, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// The provider refused the code: spent, forged, or not this client's.
			return "", fmt.Errorf("%w: the code was refused: %v", ErrUnverifiedToken, err)
		}
		return "", fmt.Errorf("%w: token exchange: %v", ErrProviderUnavailable, err)
	}
	raw, ok := token.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", fmt.Errorf("%w: the token response has no id_token", ErrUnverifiedToken)
	}
	idToken, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnverifiedToken, err)
	}
	if !sameToken(idToken.Nonce, pending.Nonce) {
		return "", fmt.Errorf("%w: the nonce is not this sign-in's", ErrUnverifiedToken)
	}
	var claims struct {
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
	}
	if err := idToken.Claims(&claims); err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnverifiedToken, err)
	}
	email, err := normaliseEmail(claims.Email)
	if err != nil {
		return "", fmt.Errorf("%w: the ID token has no email claim (is the email scope allowed?)", ErrNoVerifiedEmail)
	}
	if !verified(claims.EmailVerified) {
		return "", fmt.Errorf("%w: %s is not verified by the provider", ErrNoVerifiedEmail, email)
	}
	return email, nil
}

// verified reads email_verified: absent is taken as verified (the provider
// vouches for the addresses it issues); present, it must be true (some
// providers send the string "true").
func verified(claim json.RawMessage) bool {
	if len(claim) == 0 || string(claim) == "null" {
		return true
	}
	var b bool
	if json.Unmarshal(claim, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(claim, &s) == nil && s == "true"
}

func randomString() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read does not fail (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(raw)
}
