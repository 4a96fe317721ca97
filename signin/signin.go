// Package signin signs team members in to the console as themselves: with
// a one-time link emailed to them, or with OpenID Connect single sign-on
// through the team's identity provider (oidc.go). Either way the member
// gets a console session acting with their role and email; API keys stay
// for integrations.
//
// A link request never says whether the address belongs to a member: the
// answer, and its timing, are the same either way (the email goes out in
// the background).
package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	pbmail "github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

const (
	// LinkTTL is how long an emailed link works: long enough to open the
	// email, short enough that an old email is not a key.
	LinkTTL = 15 * time.Minute
	// SessionTTL is how long a member's sign-in lasts: a working day, as
	// a key's.
	SessionTTL = 12 * time.Hour
	// LinkPath and CallbackPath are where the console serves the emailed
	// link and the identity provider's redirect.
	LinkPath     = "/console/sign-in/link"
	CallbackPath = "/console/sign-in/oidc/callback"
	// sendTimeout bounds a link email's send in the background.
	sendTimeout = 30 * time.Second
	// maxTokenBytes bounds a token read from a request: ours are 43.
	maxTokenBytes = 128
)

// DefaultLinkLimit is how many links one member is sent at most, whoever
// asks: a mailbox cannot be flooded through the sign-in page.
var DefaultLinkLimit = store.LinkLimit{Count: 5, Per: time.Hour}

// Store is what sign-in reads and writes (store.Store).
type Store interface {
	CreateSignInLink(ctx context.Context, email string, ttl time.Duration, limit store.LinkLimit) (string, store.SignInMember, error)
	CheckSignInLink(ctx context.Context, token string) (store.SignInMember, error)
	SignInWithLink(ctx context.Context, token string, sessionTTL time.Duration) (string, store.Session, error)
	SignInMemberByEmail(ctx context.Context, email string) (store.SignInMember, error)
	CreateMemberSession(ctx context.Context, member store.SignInMember, ttl time.Duration) (string, store.Session, error)
}

// Throttle holds back clients that keep failing to authenticate: the same
// record the API's keys and the console's key sign-in count in.
type Throttle interface {
	Wait(client string) time.Duration
	Fail(client string)
}

// Service signs members in.
type Service struct {
	Store  Store
	Mailer pbmail.Sender
	// From is who link emails come from (EMAIL_FROM).
	From pbmail.Address
	// PublicBaseURL is where the links point (PUBLIC_BASE_URL).
	PublicBaseURL string
	Failures      Throttle
	// OIDC is the identity provider; nil: no single sign-on.
	OIDC      *OIDC
	LinkLimit store.LinkLimit
	Log       *slog.Logger
}

// Session is a member's new console session: the cookie's token (not
// stored) and who it signs in.
type Session struct {
	Token     string
	Member    store.SignInMember
	ExpiresAt time.Time
}

// ErrBadEmail refuses a link request whose address is not one.
var ErrBadEmail = errors.New("not an email address")

// ThrottledError refuses a client that failed too often lately, before
// anything it sent is looked at.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins from this client: wait %s", e.Wait.Round(time.Second))
}

// RequestLink emails a one-time sign-in link to the active team member
// with this email, for a client (its address, for the throttle); next is
// where the console goes once signed in ("": the inbox). Every request
// counts against the client as a failed sign-in would: asking is cheap,
// and each answer could be an email sent. Whether the address belongs to
// a member is never said: an unknown or deactivated address, or a member
// sent too many links lately, gets the same nil.
func (s *Service) RequestLink(ctx context.Context, client, email, next string) error {
	if wait := s.Failures.Wait(client); wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	email, err := normaliseEmail(email)
	if err != nil {
		return err
	}
	s.Failures.Fail(client)
	token, member, err := s.Store.CreateSignInLink(ctx, email, LinkTTL, s.LinkLimit)
	switch {
	case errors.Is(err, store.ErrUnknownMember), errors.Is(err, store.ErrInactiveMember), errors.Is(err, store.ErrTooManyLinks):
		s.Log.InfoContext(ctx, "sign-in link not sent", "email", email, "reason", err.Error())
		return nil
	case err != nil:
		return err
	}
	msg := s.linkEmail(member, token, next)
	// The answer does not wait for the email provider: it would take
	// longer for a member than for anyone else. An email lost with its
	// process (a stop mid-send) is asked for again.
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		receipt, err := s.Mailer.Send(ctx, msg)
		switch {
		case err != nil:
			s.Log.ErrorContext(ctx, "sign-in link email not sent", "to", member.Email, "error", err)
		case receipt.Status == states.EmailCaptured:
			// No email provider (development): the log is the only way
			// to the link.
			s.Log.InfoContext(ctx, "sign-in link captured, not sent (no SENDGRID_API_KEY): open it to sign in",
				"to", member.Email, "link", LinkIn(msg))
		default:
			s.Log.InfoContext(ctx, "sign-in link sent", "to", member.Email)
		}
	}()
	return nil
}

// CheckLink says whose a link is, without using it: the confirmation page
// a mail scanner may open changes nothing. A link that cannot sign in is
// store.ErrSignInLinkUnknown, ErrSignInLinkUsed, ErrSignInLinkExpired or
// ErrInactiveMember.
func (s *Service) CheckLink(ctx context.Context, token string) (store.SignInMember, error) {
	if !plausibleToken(token) {
		return store.SignInMember{}, store.ErrSignInLinkUnknown
	}
	return s.Store.CheckSignInLink(ctx, token)
}

// UseLink signs in with a link, once. An unknown link counts against the
// client as a failed sign-in.
func (s *Service) UseLink(ctx context.Context, client, token string) (Session, error) {
	if wait := s.Failures.Wait(client); wait > 0 {
		return Session{}, &ThrottledError{Wait: wait}
	}
	if !plausibleToken(token) {
		s.Failures.Fail(client)
		return Session{}, store.ErrSignInLinkUnknown
	}
	cookie, sess, err := s.Store.SignInWithLink(ctx, token, SessionTTL)
	if errors.Is(err, store.ErrSignInLinkUnknown) {
		s.Failures.Fail(client)
	}
	if err != nil {
		return Session{}, err
	}
	return sessionOf(cookie, sess), nil
}

func sessionOf(token string, s store.Session) Session {
	m := store.SignInMember{Email: s.MemberEmail, Role: s.Role}
	if s.MemberID != nil {
		m.ID = *s.MemberID
	}
	return Session{Token: token, Member: m, ExpiresAt: s.ExpiresAt}
}

// RefusedError refuses signing in a verified address that is not an
// active team member's: Err is store.ErrUnknownMember or ErrInactiveMember.
type RefusedError struct {
	Email string
	Err   error
}

func (e *RefusedError) Error() string { return e.Email + ": " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// signInMember makes a session for the active member with a verified
// email (single sign-on).
func (s *Service) signInMember(ctx context.Context, email string) (Session, error) {
	member, err := s.Store.SignInMemberByEmail(ctx, email)
	if errors.Is(err, store.ErrUnknownMember) || errors.Is(err, store.ErrInactiveMember) {
		return Session{}, &RefusedError{Email: email, Err: err}
	}
	if err != nil {
		return Session{}, err
	}
	token, sess, err := s.Store.CreateMemberSession(ctx, member, SessionTTL)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: token, Member: member, ExpiresAt: sess.ExpiresAt}, nil
}

// normaliseEmail is a bare address, lower-cased as team emails are.
func normaliseEmail(v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	a, err := mail.ParseAddress(v)
	if v == "" || len(v) > 254 || err != nil || a.Address != v {
		return "", ErrBadEmail
	}
	return v, nil
}

func plausibleToken(token string) bool {
	return token != "" && len(token) <= maxTokenBytes
}

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// LinkURL is the address of a link's token: what the email carries.
func LinkURL(base, token, next string) string {
	q := url.Values{"token": {token}}
	if next != "" && next != "/console/" {
		q.Set("next", next)
	}
	return strings.TrimRight(base, "/") + LinkPath + "?" + q.Encode()
}

var linkHTML = template.Must(template.New("link").Parse(`<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hi {{.Name}},</p>
<p>Sign in to playbookd as {{.Email}}: the link works once, within {{.Minutes}} minutes.</p>
<p><a href="{{.URL}}">Sign in to playbookd</a></p>
<p>If you did not ask to sign in, ignore this email: nobody can sign in without the link.</p>
</body></html>`))

func (s *Service) linkEmail(m store.SignInMember, token, next string) pbmail.Message {
	link := LinkURL(s.PublicBaseURL, token, next)
	name := m.Name
	if name == "" {
		name = "there"
	}
	minutes := int(LinkTTL / time.Minute)
	var html strings.Builder
	_ = linkHTML.Execute(&html, map[string]any{"Name": name, "Email": m.Email, "Minutes": minutes, "URL": link})
	text := fmt.Sprintf("Hi %s,\n\nSign in to playbookd as %s: the link works once, within %d minutes.\n\n%s\n\n"+
		"If you did not ask to sign in, ignore this email: nobody can sign in without the link.\n", name, m.Email, minutes, link)
	return pbmail.Message{From: s.From, To: pbmail.Address{Name: m.Name, Email: m.Email},
		Subject: "Your sign-in link for playbookd", HTML: html.String(), Text: text,
		Categories: []string{"playbookd", "sign-in"}}
}

// LinkIn is the sign-in link an email carries ("" when none): what a test
// reading its recorded emails follows.
func LinkIn(msg pbmail.Message) string {
	for line := range strings.Lines(msg.Text) {
		line = strings.TrimSpace(line)
		if u, err := url.Parse(line); err == nil && u.Path == LinkPath && u.Query().Get("token") != "" {
			return line
		}
	}
	return ""
}
