package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/portfolio"
)

// Analytics reads what GET /v1/playbooks/{key}/analytics reports.
type Analytics = analytics.Store

// getPlaybookAnalytics reports a playbook's runs that started in the days
// from..to (both included; default the year to today), per version: one, or
// every version side by side.
func (h *handlers) getPlaybookAnalytics(c echo.Context) error {
	q := queryFilter{c: c}
	q.only("version", "from", "to")
	version := 0
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > math.MaxInt32 {
			q.fe.add("version", "must be a whole number from 1 to 2147483647")
		}
		version = n
	}
	to := dateParam(c, &q.fe, "to", portfolio.Today(time.Now()))
	from := dateParam(c, &q.fe, "from", portfolio.YearTo(to))
	if len(q.fe) == 0 && from.After(to) {
		q.fe.add("from", "must not be after to")
	}
	if err := q.err(); err != nil {
		return err
	}
	report, err := analytics.Build(c.Request().Context(), h.analytics,
		analytics.Query{Key: c.Param("key"), Version: version, From: from, To: to, Now: time.Now()})
	if errors.Is(err, analytics.ErrNotFound) {
		what := "playbook " + c.Param("key")
		if version != 0 {
			what += " version " + strconv.Itoa(version)
		}
		return problem(http.StatusNotFound, what+" not found")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}
