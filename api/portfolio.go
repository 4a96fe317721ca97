package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/portfolio"
)

// getPortfolio reports band distribution now, and over the days from..to, both
// included (default: the year to today), seed 003's retention metrics and how
// playbook runs ended.
func (h *handlers) getPortfolio(c echo.Context) error {
	var fe fieldErrors
	to := dateParam(c, &fe, "to", portfolio.Today(time.Now()))
	from := dateParam(c, &fe, "from", portfolio.YearTo(to))
	if len(fe) == 0 && from.After(to) {
		fe.add("from", "must not be after to")
	}
	if len(fe) > 0 {
		return problem(http.StatusBadRequest, "the query has invalid parameters", fe...)
	}
	report, err := portfolio.Build(c.Request().Context(), h.portfolio, from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

func dateParam(c echo.Context, fe *fieldErrors, name string, fallback time.Time) time.Time {
	if d := parseDate(fe, name, c.QueryParam(name)); d != nil {
		return *d
	}
	return fallback
}
