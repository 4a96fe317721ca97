package console

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/team"
)

// maxFormBytes bounds a console form: an edited email's text (256 KiB)
// percent-encoded, with room for the rest.
const maxFormBytes = 2 << 20

// readableForms bounds form bodies and refuses, before any handler sees
// them, values no handler should: NUL (PostgreSQL refuses it in text) and
// bytes that are not UTF-8, as the API's edge does.
func readableForms(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return next(c)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The form is larger than the console takes (2 MiB).")
			}
			return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
		}
		for name, values := range r.PostForm {
			for _, v := range values {
				if !utf8.ValidString(name) || !utf8.ValidString(v) || strings.ContainsRune(v, 0) || strings.ContainsRune(name, 0) {
					return echo.NewHTTPError(http.StatusBadRequest, "The form has a NUL character or bytes that are not UTF-8 text.")
				}
			}
		}
		return next(c)
	}
}

// errorPages turns what a console handler could not do into a page: a
// missing page, a refused request, or an internal error (logged, never
// shown).
func (h *Handler) errorPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code < 500 {
			heading, advice := http.StatusText(he.Code), "Check the address, or go back and try again."
			if msg, ok := he.Message.(string); ok && msg != http.StatusText(he.Code) {
				advice = msg
			}
			switch he.Code {
			case http.StatusNotFound:
				heading = "Not found"
			case http.StatusForbidden:
				heading = forbiddenHeading
			}
			return h.failure(c, he.Code, heading, advice)
		}
		h.cfg.Log.ErrorContext(c.Request().Context(), "console request failed", "error", err,
			"method", c.Request().Method, "path", c.Path())
		return h.failure(c, http.StatusInternalServerError, "Something went wrong",
			"The console could not do this; the error has been logged. Try again in a moment.")
	}
}

// allow lets only the roles through; anyone else gets a 403 page (the
// console hides what a role may not do, so this is a hand-made request).
func (h *Handler) allow(roles ...string) echo.MiddlewareFunc {
	return h.allowWith("Starting, pausing and cancelling runs and posting events are for ops and admins.", roles...)
}

// allowWith is allow with its own advice.
func (h *Handler) allowWith(advice string, roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !slices.Contains(roles, current(c).Role) {
				return h.forbidden(c, "Your role ("+current(c).Role+") may not do this. "+advice)
			}
			return next(c)
		}
	}
}

const forbiddenHeading = "Not yours to open"

func (h *Handler) forbidden(c echo.Context, advice string) error {
	return h.failure(c, http.StatusForbidden, forbiddenHeading, advice)
}

// may says whether the signed-in person's role is one of roles: what a page
// offers.
func may(a team.Actor, roles ...string) bool { return slices.Contains(roles, a.Role) }

const flashCookie = "playbookd_flash"

// flash keeps what an action did for the page it redirects to.
func (h *Handler) flash(c echo.Context, msg string) {
	c.SetCookie(h.cookie(flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), time.Minute))
}

// takeFlash reads the message an action left, once.
func (h *Handler) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(h.cookie(flashCookie, "", 0))
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || !utf8.Valid(raw) || len(raw) > 500 {
		return ""
	}
	return string(raw)
}

// redirect answers a form with the page to show next and what was done.
func (h *Handler) redirect(c echo.Context, to, msg string) error {
	if msg != "" {
		h.flash(c, msg)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
