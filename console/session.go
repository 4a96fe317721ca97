package console

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

const (
	sessionCookie = "playbookd_session"
	// signInCookie carries the sign-in form's CSRF token (double submit):
	// there is no session yet to hold it.
	signInCookie = "playbookd_signin"
	csrfField    = "csrf"
)

// session is what a signed-in request carries: who (as the API's rules know
// them) and the form token.
type session struct {
	team.Actor
	CSRF string
}

const sessionKey = "console_session"

func current(c echo.Context) session {
	s, _ := c.Get(sessionKey).(session)
	return s
}

func adminKeyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// signedIn lets a request through with a live session, and sends anyone
// else to the sign-in page (coming back here afterwards).
func (h *Handler) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cookie, err := c.Cookie(sessionCookie)
		if err == nil && cookie.Value != "" {
			sess, err := h.app.Sessions.LookupSession(c.Request().Context(), cookie.Value)
			switch {
			case err == nil && (sess.KeyID != nil || sess.MemberID != nil ||
				subtle.ConstantTimeCompare(sess.AdminKeyHash, adminKeyHash(h.cfg.AdminKey)) == 1):
				c.Set(sessionKey, session{Actor: team.Actor{Role: sess.Role, Email: sess.MemberEmail}, CSRF: sess.CSRFToken})
				return next(c)
			case err != nil && !errors.Is(err, store.ErrNoSession):
				return err
			}
		}
		if c.Request().Method != http.MethodGet {
			return h.failure(c, http.StatusUnauthorized, "Your sign-in has ended", "Sign in again, then repeat what you were doing.")
		}
		return c.Redirect(http.StatusSeeOther, Prefix+"/sign-in?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
}

// sessionCSRF refuses a form that does not carry the session's token.
func (h *Handler) sessionCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			return next(c)
		}
		if !sameToken(formToken(c), current(c).CSRF) || !sameOrigin(c) {
			return h.failure(c, http.StatusForbidden, "This form has expired",
				"The page was not sent by this console, or it is older than your sign-in. Go back, reload it and try again.")
		}
		return next(c)
	}
}

// signInCSRF checks the sign-in form against its cookie.
func (h *Handler) signInCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cookie, err := c.Cookie(signInCookie)
		if err != nil || !sameToken(formToken(c), cookie.Value) || !sameOrigin(c) {
			return h.failure(c, http.StatusForbidden, "This form has expired", "Reload the sign-in page and try again.")
		}
		return next(c)
	}
}

// formToken is the CSRF token a form sent, from its body only: a token in
// the address would be written to request logs and browser history, and
// sent on in Referer headers.
func formToken(c echo.Context) string {
	return c.Request().PostFormValue(csrfField)
}

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin: a browser sends Origin with a form post; when it does, it
// must be this server (SameSite cookies already stop most cross-site posts).
func sameOrigin(c echo.Context) bool {
	origin := c.Request().Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, c.Request().Host)
}

func (h *Handler) cookie(name, value string, ttl time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, Secure: h.cfg.Secure,
		SameSite: http.SameSiteStrictMode}
	if ttl > 0 {
		ck.MaxAge = int(ttl.Seconds())
	} else {
		ck.MaxAge = -1
	}
	return ck
}

type signInData struct {
	Next  string
	Error string
	// Email is the address typed, shown again with its error.
	Email string
	// Provider names the identity provider of single sign-on ("": none).
	Provider string
	// KeyOpen shows the API key's form (its error is shown).
	KeyOpen     bool
	LinkMinutes int
}

func (h *Handler) signInPage(c echo.Context) error {
	return h.renderSignIn(c, http.StatusOK, signInData{})
}

// showSignIn is the sign-in page with a problem of the API key's form.
func (h *Handler) showSignIn(c echo.Context, status int, problem string) error {
	return h.renderSignIn(c, status, signInData{Error: problem, KeyOpen: problem != ""})
}

func (h *Handler) renderSignIn(c echo.Context, status int, d signInData) error {
	token, err := h.signInForm(c)
	if err != nil {
		return err
	}
	d.Next, d.Provider, d.LinkMinutes = safeNext(c.FormValue("next")), h.app.SignIn.SSOName(), linkMinutes
	return h.render(c, status, "sign-in", page{Title: "Sign in", CSRF: token, Data: d})
}

// signInForm gives the browser the CSRF token of a sign-in form (there is
// no session yet to hold one) and returns it for the page.
func (h *Handler) signInForm(c echo.Context) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	c.SetCookie(h.cookie(signInCookie, token, 30*time.Minute))
	return token, nil
}

// signIn trades an API key for a session. A client that has failed too
// often is refused before its key is looked at, whatever the key.
func (h *Handler) signIn(c echo.Context) error {
	ctx := c.Request().Context()
	key := strings.TrimSpace(c.FormValue("key"))
	client := c.RealIP()
	var (
		token string
		err   error
	)
	switch wait := h.app.AuthFailures.Wait(client); {
	case wait > 0:
		c.Response().Header().Set(echo.HeaderRetryAfter, throttle.RetryAfter(wait))
		return h.failure(c, http.StatusTooManyRequests, "Too many failed sign-ins",
			fmt.Sprintf("Sign-ins from this address failed too often. Try again in %s seconds.", throttle.RetryAfter(wait)))
	case key == "":
		return h.showSignIn(c, http.StatusUnprocessableEntity, "Paste your API key.")
	case h.cfg.AdminKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(h.cfg.AdminKey)) == 1:
		token, _, err = h.app.Sessions.CreateSession(ctx, nil, adminKeyHash(key), "admin", sessionTTL)
	default:
		k, lookupErr := h.app.Sessions.LookupAPIKey(ctx, key)
		if errors.Is(lookupErr, store.ErrUnknownKey) {
			h.app.AuthFailures.Fail(client)
			return h.showSignIn(c, http.StatusUnauthorized, "This key is unknown or has been revoked.")
		}
		if lookupErr != nil {
			return lookupErr
		}
		token, _, err = h.app.Sessions.CreateSession(ctx, &k.ID, nil, k.Role, sessionTTL)
	}
	if err != nil {
		return err
	}
	c.SetCookie(h.cookie(sessionCookie, token, sessionTTL))
	c.SetCookie(h.cookie(signInCookie, "", 0))
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("next")))
}

func (h *Handler) signOut(c echo.Context) error {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := h.app.Sessions.EndSession(c.Request().Context(), cookie.Value); err != nil {
			return err
		}
	}
	c.SetCookie(h.cookie(sessionCookie, "", 0))
	return c.Redirect(http.StatusSeeOther, Prefix+"/sign-in")
}

// safeNext keeps a redirect inside the console: never another site, and
// one line (a form field's line breaks are allowed by the forms' rules).
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") || !oneLine(next) {
		return Prefix + "/"
	}
	return next
}
