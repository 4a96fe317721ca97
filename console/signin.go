package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/signin"
	"github.com/playbookd/playbookd/store"
)

// Members sign in as themselves (session.go has the API key's sign-in):
// an emailed one-time link, or single sign-on. The use cases are
// signin.Service's (App.SignIn); these handlers carry the cookies.
const (
	// ssoCookie keeps a single sign-on under way (signin.Pending) from the
	// start to the callback. SameSite=Lax: the callback is a navigation
	// from the identity provider's site, which a Strict cookie would miss.
	ssoCookie = "playbookd_sso"
	ssoPath   = Prefix + "/sign-in/oidc"
	ssoTTL    = 10 * time.Minute
)

func (h *Handler) memberSignInRoutes(g *echo.Group) {
	g.POST("/sign-in/email", h.requestLink, h.signInCSRF)
	// GET shows the link's confirmation and changes nothing (mail
	// scanners open links); only the confirmation's POST signs in.
	g.GET("/sign-in/link", h.linkPage)
	g.POST("/sign-in/link", h.useLink, h.signInCSRF)
	g.GET("/sign-in/oidc", h.startSSO)
	g.GET("/sign-in/oidc/callback", h.finishSSO)
}

type sentData struct {
	Email, Next string
	LinkMinutes int
}

func (h *Handler) requestLink(c echo.Context) error {
	email, next := strings.TrimSpace(c.Request().PostFormValue("email")), safeNext(c.Request().PostFormValue("next"))
	err := h.app.SignIn.RequestLink(c.Request().Context(), c.RealIP(), email, next)
	var throttled *signin.ThrottledError
	switch {
	case errors.As(err, &throttled):
		return h.tooManySignIns(c, throttled.Wait)
	case errors.Is(err, signin.ErrBadEmail):
		return h.renderSignIn(c, http.StatusUnprocessableEntity,
			signInData{Error: "Enter your work email address, such as casey@example.com.", Email: email})
	case err != nil:
		return err
	}
	return h.render(c, http.StatusOK, "sign-in-sent", page{Title: "Check your email",
		Data: sentData{Email: email, Next: next, LinkMinutes: linkMinutes}})
}

var linkMinutes = int(signin.LinkTTL / time.Minute)

type linkData struct {
	// The link's member and token, when it can sign in.
	Name, Email, Token string
	// Problem and Advice say why it cannot.
	Problem, Advice string
	Next            string
}

func (h *Handler) linkPage(c echo.Context) error {
	token, next := c.QueryParam("token"), safeNext(c.QueryParam("next"))
	member, err := h.app.SignIn.CheckLink(c.Request().Context(), token)
	if err != nil {
		return h.linkRefused(c, err, member.Email, next)
	}
	name := member.Name
	if name == "" {
		name = member.Email
	}
	return h.renderLink(c, http.StatusOK, linkData{Name: name, Email: member.Email, Token: token, Next: next})
}

func (h *Handler) useLink(c echo.Context) error {
	form := c.Request().PostFormValue
	next := safeNext(form("next"))
	sess, err := h.app.SignIn.UseLink(c.Request().Context(), c.RealIP(), form("token"))
	if err != nil {
		return h.linkRefused(c, err, "", next)
	}
	h.startSession(c, sess)
	return c.Redirect(http.StatusSeeOther, next)
}

// linkRefused is the page of a link that cannot sign in, offering a new
// one; an error that is no refusal is returned as it is.
func (h *Handler) linkRefused(c echo.Context, err error, email, next string) error {
	var throttled *signin.ThrottledError
	d := linkData{Email: email, Next: next}
	status := http.StatusGone
	switch {
	case errors.As(err, &throttled):
		return h.tooManySignIns(c, throttled.Wait)
	case errors.Is(err, store.ErrSignInLinkUsed):
		d.Problem, d.Advice = "This link has been used", "A sign-in link works once. Ask for a new one:"
	case errors.Is(err, store.ErrSignInLinkExpired):
		d.Problem, d.Advice = "This link has expired", fmt.Sprintf("A sign-in link works for %d minutes. Ask for a new one:", linkMinutes)
	case errors.Is(err, store.ErrInactiveMember):
		status, d.Email = http.StatusForbidden, ""
		d.Problem, d.Advice = "This link no longer works", "Its team member has been deactivated. If you are back on the team, ask an admin to reactivate you, then ask for a new link:"
	case errors.Is(err, store.ErrSignInLinkUnknown):
		status = http.StatusNotFound
		d.Problem, d.Advice = "This link does not work", "It is not a sign-in link of this console: it may have been cut short when copied. Ask for a new one:"
	default:
		return err
	}
	return h.renderLink(c, status, d)
}

func (h *Handler) renderLink(c echo.Context, status int, d linkData) error {
	csrf, err := h.signInForm(c)
	if err != nil {
		return err
	}
	return h.render(c, status, "sign-in-link", page{Title: "Sign in", CSRF: csrf, Data: d})
}

func (h *Handler) startSSO(c echo.Context) error {
	address, pending, err := h.app.SignIn.StartSSO(c.Request().Context(), safeNext(c.QueryParam("next")))
	switch {
	case errors.Is(err, signin.ErrNoSSO):
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not set up here: sign in with an emailed link.")
	case errors.Is(err, signin.ErrProviderUnavailable):
		h.cfg.Log.WarnContext(c.Request().Context(), "single sign-on: identity provider unavailable", "error", err)
		return h.renderSignIn(c, http.StatusServiceUnavailable, signInData{Error: fmt.Sprintf(
			"%s could not be reached. Try again in a minute, or have a sign-in link emailed to you.", h.app.SignIn.SSOName())})
	case err != nil:
		return err
	}
	c.SetCookie(h.ssoCookie(pending.Encode(), ssoTTL))
	return c.Redirect(http.StatusSeeOther, address)
}

func (h *Handler) ssoCookie(value string, ttl time.Duration) *http.Cookie {
	ck := h.cookie(ssoCookie, value, ttl)
	ck.Path, ck.SameSite = ssoPath, http.SameSiteLaxMode
	return ck
}

type doneData struct{ Email, Next string }

func (h *Handler) finishSSO(c echo.Context) error {
	var pending signin.Pending
	if ck, err := c.Cookie(ssoCookie); err == nil {
		pending = signin.DecodePending(ck.Value)
	}
	c.SetCookie(h.ssoCookie("", 0)) // one callback per start
	provider := h.app.SignIn.SSOName()
	if code := c.QueryParam("error"); code != "" {
		return h.renderSignIn(c, http.StatusUnauthorized, signInData{Error: fmt.Sprintf(
			"%s did not sign you in (%s). Try again, or have a sign-in link emailed to you.", provider, shortName(code))})
	}
	sess, err := h.app.SignIn.FinishSSO(c.Request().Context(), c.RealIP(), pending, c.QueryParam("state"), c.QueryParam("code"))
	var (
		throttled *signin.ThrottledError
		refused   *signin.RefusedError
	)
	switch {
	case errors.As(err, &throttled):
		return h.tooManySignIns(c, throttled.Wait)
	case errors.Is(err, signin.ErrNoSSO):
		return echo.NewHTTPError(http.StatusNotFound, "Single sign-on is not set up here: sign in with an emailed link.")
	case errors.Is(err, signin.ErrStateMismatch):
		return h.renderSignIn(c, http.StatusForbidden, signInData{Error: "This sign-in did not start in this browser, " +
			"or took longer than 10 minutes, so it was not used. Sign in again."})
	case errors.As(err, &refused) && errors.Is(err, store.ErrInactiveMember):
		return h.renderSignIn(c, http.StatusForbidden, signInData{Error: refused.Email +
			" has been deactivated, so it cannot sign in. If you are back on the team, ask an admin to reactivate you."})
	case errors.As(err, &refused):
		return h.renderSignIn(c, http.StatusForbidden, signInData{Error: fmt.Sprintf(
			"%s signed you in as %s, who is not a member of this team. Ask an admin to add you, then sign in again.", provider, refused.Email)})
	case errors.Is(err, signin.ErrNoVerifiedEmail):
		h.cfg.Log.InfoContext(c.Request().Context(), "single sign-on refused", "error", err)
		return h.renderSignIn(c, http.StatusForbidden, signInData{Error: fmt.Sprintf(
			"%s did not give a verified email address, which is how this console knows its members. Ask your admin.", provider)})
	case errors.Is(err, signin.ErrUnverifiedToken):
		h.cfg.Log.WarnContext(c.Request().Context(), "single sign-on refused", "error", err)
		return h.renderSignIn(c, http.StatusUnauthorized, signInData{Error: fmt.Sprintf(
			"%s's answer could not be verified, so it was not used. Sign in again.", provider)})
	case errors.Is(err, signin.ErrProviderUnavailable):
		h.cfg.Log.WarnContext(c.Request().Context(), "single sign-on: identity provider unavailable", "error", err)
		return h.renderSignIn(c, http.StatusBadGateway, signInData{Error: fmt.Sprintf(
			"%s could not be reached. Try again in a minute, or have a sign-in link emailed to you.", provider)})
	case err != nil:
		return err
	}
	h.startSession(c, sess)
	// A page, not a redirect: this request is the end of redirects through
	// the provider's site, and a browser that holds such a navigation to be
	// cross-site (RFC 6265bis; Chromium does not by default) would keep the
	// session's SameSite=Strict cookie from a redirect's next request. The
	// page's refresh is a navigation of this site.
	next := safeNext(pending.Next)
	c.Response().Header().Set("Refresh", "0; url="+next)
	return h.render(c, http.StatusOK, "sign-in-done", page{Title: "Signed in", Data: doneData{Email: sess.Member.Email, Next: next}})
}

// startSession gives the browser a member's new session.
func (h *Handler) startSession(c echo.Context, sess signin.Session) {
	c.SetCookie(h.cookie(sessionCookie, sess.Token, time.Until(sess.ExpiresAt)))
	c.SetCookie(h.cookie(signInCookie, "", 0))
}

// tooManySignIns is the answer to a client held back by the throttle.
func (h *Handler) tooManySignIns(c echo.Context, wait time.Duration) error {
	c.Response().Header().Set(echo.HeaderRetryAfter, throttle.RetryAfter(wait))
	return h.failure(c, http.StatusTooManyRequests, "Too many sign-in attempts",
		fmt.Sprintf("This address tried to sign in too often. Try again in %s seconds.", throttle.RetryAfter(wait)))
}
