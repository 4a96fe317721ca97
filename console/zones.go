package console

import (
	"html/template"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Times are shown in the signed-in member's time zone (team_members.timezone)
// with its abbreviation; a session without a member (the admin key, a key
// that is nobody's) reads UTC. Machine-readable times (iso, countdowns) stay
// UTC.

const zoneKey = "console_zone"

// zone is the time zone of the request's member, looked up once a request.
// A zone the clock database does not know reads as UTC.
func (h *Handler) zone(c echo.Context) *time.Location {
	if loc, ok := c.Get(zoneKey).(*time.Location); ok {
		return loc
	}
	loc := time.UTC
	if email := current(c).Email; email != "" {
		if m, err := h.app.Team.TeamMemberByEmail(c.Request().Context(), email); err == nil {
			loc = location(m.Timezone)
		}
	}
	c.Set(zoneKey, loc)
	return loc
}

// locations caches the zones read from the clock database (time.LoadLocation
// reads it on every call).
var locations sync.Map

func location(name string) *time.Location {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" {
		return time.UTC
	}
	locations.Store(name, loc)
	return loc
}

// timeFuncs write times for people, in loc.
func timeFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"date":     func(t time.Time) string { return t.In(loc).Format("2 Jan 2006") },
		"datetime": func(t time.Time) string { return t.In(loc).Format("2 Jan 2006 15:04 MST") },
	}
}

// pagesIn are the pages writing times in loc: parsed once a zone, the first
// time someone in it opens a page (UTC's at start).
func (h *Handler) pagesIn(loc *time.Location) (map[string]*template.Template, error) {
	if loc == time.UTC {
		return h.pages, nil
	}
	if p, ok := h.zoned.Load(loc.String()); ok {
		return p.(map[string]*template.Template), nil
	}
	p, err := parsePages(loc)
	if err != nil {
		return nil, err
	}
	actual, _ := h.zoned.LoadOrStore(loc.String(), p)
	return actual.(map[string]*template.Template), nil
}
