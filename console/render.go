package console

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/team"
)

// page is what every template gets: the layout's needs, and the page's own.
type page struct {
	Title  string
	Signed team.Actor // zero on the sign-in page
	CSRF   string
	Nav    string // the menu entry to mark as current
	Flash  string // what the last action did
	Data   any
}

// parsePages parses each page with the layout it extends; times for people
// are written in loc.
func parsePages(loc *time.Location) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"ago":    ago,
		"until":  until,
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"prefix": func() string { return Prefix },
	}
	for name, fn := range workFuncs {
		funcs[name] = fn
	}
	for name, fn := range timeFuncs(loc) {
		funcs[name] = fn
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		// Files named _*.html hold the parts every page may use (charts).
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html", name)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes a page; a template error is a 500 before anything is sent.
func (h *Handler) render(c echo.Context, status int, name string, p page) error {
	pages, err := h.pagesIn(h.zone(c))
	if err != nil {
		return err
	}
	t, ok := pages[name]
	if !ok {
		return fmt.Errorf("console: no page %q", name)
	}
	if s := current(c); s.Role != "" {
		p.Signed, p.CSRF = s.Actor, s.CSRF
		if p.Flash == "" {
			p.Flash = h.takeFlash(c)
		}
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

type failureData struct{ Heading, Advice string }

// failure is a page saying what went wrong and what to do.
func (h *Handler) failure(c echo.Context, status int, heading, advice string) error {
	return h.render(c, status, "failure", page{Title: heading, Data: failureData{Heading: heading, Advice: advice}})
}

// pageCSP allows only the console's own styles, scripts, frames and
// requests (the editor's check as you type): no inline script can run,
// whatever a customer's data holds.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secureHeaders sets the headers every console answer carries.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Content-Security-Policy", pageCSP)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func randomToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// ago says how long ago t was, in the largest whole unit.
func ago(t time.Time) string { return span(time.Since(t)) + " ago" }

// until says how long until t, or how long it is overdue.
func until(t time.Time) string {
	d := time.Until(t)
	if d < 0 {
		return "overdue by " + span(-d)
	}
	return "in " + span(d)
}

func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return plural(h, "hour")
		}
		return plural(h, "hour") + " " + plural(m, "minute")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
