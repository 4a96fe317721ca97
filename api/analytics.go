package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/analytics"
)

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
	period := h.period(c, &q.fe)
	if err := q.err(); err != nil {
		return err
	}
	report, err := h.app.PlaybookAnalytics(c.Request().Context(), c.Param("key"), version, period)
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
