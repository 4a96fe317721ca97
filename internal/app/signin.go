package app

import (
	"context"

	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store"
)

// Mailer sends an email now, outside any run: the sign-in links (the
// worker's activities send the outbox's emails with the same sender).
type Mailer interface {
	Send(ctx context.Context, msg mail.Message) (mail.Receipt, error)
}

// SignIn signs team members in as themselves: an emailed one-time link,
// or single sign-on (signin.Service).
type SignIn interface {
	// RequestLink emails a link to the member with this email, and says
	// nothing of whether there is one.
	RequestLink(ctx context.Context, client, email, next string) error
	// CheckLink says whose a link is without using it.
	CheckLink(ctx context.Context, token string) (store.SignInMember, error)
	// UseLink signs in with a link, once.
	UseLink(ctx context.Context, client, token string) (signin.Session, error)
	// SSOName is the identity provider's name; "": no single sign-on.
	SSOName() string
	StartSSO(ctx context.Context, next string) (string, signin.Pending, error)
	FinishSSO(ctx context.Context, client string, pending signin.Pending, state, code string) (signin.Session, error)
}

// newSignIn wires sign-in: links sent with d.Mailer (nil: captured in the
// log), failures counted in the edges' throttle.
func newSignIn(d Deps, failures Throttle) *signin.Service {
	mailer := d.Mailer
	if mailer == nil {
		mailer = mail.Capture{Log: d.Log}
	}
	s := &signin.Service{Store: d.Store, Mailer: mailer, From: d.MailFrom, PublicBaseURL: d.PublicBaseURL,
		Failures: failures, LinkLimit: signin.DefaultLinkLimit, Log: d.Log}
	if d.OIDC != nil {
		s.OIDC = signin.NewOIDC(*d.OIDC)
	}
	return s
}
