package console

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/text"
	"github.com/playbookd/playbookd/team"
)

// maxFormBytes bounds a console form: an edited email's text (256 KiB)
// percent-encoded, with room for the rest.
const maxFormBytes = 2 << 20

// readableInput refuses, before any handler sees it, what no handler
// should: a path, query parameter or form field with a control character
// or bytes that are not UTF-8, a query that does not parse, a form past
// maxFormBytes. The rules are the API edge's, from internal/text, so what
// one edge refuses the other does not store: a form field is held to the
// rule of any string of a JSON body (tab, CR and LF allowed); that a field
// is one line is its own rule, checked where it is read (as the API's
// schema does), so the page can say it next to the field. The API's edge
// checks paths and queries for the whole server too; the console checks
// its own so that it holds when mounted alone.
func readableInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if p := text.Problem(r.URL.Path, false); p != "" {
			return echo.NewHTTPError(http.StatusBadRequest, "The address (its path) "+p+".")
		}
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest,
				"The address's query cannot be read: it is name=value pairs separated by &, with ; and % escaped.")
		}
		if err := readable("query parameter", query, false); err != nil {
			return err
		}
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
		if err := readable("form field", r.PostForm, true); err != nil {
			return err
		}
		return next(c)
	}
}

// readable is a 400 naming the first of values (in name order) that
// breaks the text rules, or nil; multiline allows CR and LF in values.
func readable(what string, values url.Values, multiline bool) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if p := text.Problem(name, false); p != "" {
			// Not echoed: the name itself is what is wrong.
			return echo.NewHTTPError(http.StatusBadRequest, "The name of a "+what+" "+p+".")
		}
		for _, v := range values[name] {
			if p := text.Problem(v, multiline); p != "" {
				return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("The %s %s %s.", what, shortName(name), p))
			}
		}
	}
	return nil
}

// shortName is a parameter's name as a page shows it: a hand-made request
// may send a name of any length.
func shortName(name string) string {
	const most = 60
	if len(name) <= most {
		return name
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
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
	return h.allowWith("Starting, pausing and cancelling runs are for ops and admins.", roles...)
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
