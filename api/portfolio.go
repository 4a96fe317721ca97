package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
)

// getPortfolio reports band distribution now, and over the days from..to, both
// included (default: the year to today), seed 003's retention metrics and how
// playbook runs ended.
func (h *handlers) getPortfolio(c echo.Context) error {
	var fe fieldErrors
	period := h.period(c, &fe)
	if len(fe) > 0 {
		return problem(http.StatusBadRequest, "the query has invalid parameters", fe...)
	}
	report, err := h.app.PortfolioReport(c.Request().Context(), period)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}

// period reads a report's from and to (app.ReportPeriod fills in what is
// left out); what is wrong with them goes into fe.
func (h *handlers) period(c echo.Context, fe *fieldErrors) app.Period {
	from := parseDate(fe, "from", c.QueryParam("from"))
	to := parseDate(fe, "to", c.QueryParam("to"))
	p, err := h.app.ReportPeriod(from, to)
	if errors.Is(err, app.ErrPeriodReversed) && len(*fe) == 0 {
		fe.add("from", "must not be after to")
	}
	return p
}
