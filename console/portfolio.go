package console

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/portfolio"
)

type portfolioData struct {
	portfolio.Report
	Accounts  int
	Bands     bars
	Retention bars
	Playbooks []playbookRow
	Surveys   surveyTable
	// The period form, and what was wrong with it.
	From, To, Error string
}

type playbookRow struct {
	portfolio.Playbook
	Ended int
	Chart bars
}

// portfolioPage shows GET /v1/metrics/portfolio's report with small charts.
func (h *Handler) portfolioPage(c echo.Context) error {
	d := portfolioData{From: c.QueryParam("from"), To: c.QueryParam("to")}
	p := h.period(&d.Error, d.From, d.To)
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusBadRequest
	}
	report, err := h.app.PortfolioReport(c.Request().Context(), p)
	if err != nil {
		return err
	}
	d.Report = report
	if d.Error == "" {
		d.From, d.To = report.From, report.To
	}
	b := report.Bands
	counts := bandCounts{b.Green, b.Yellow, b.Orange, b.Red, b.Unscored}
	d.Accounts = counts.total()
	d.Bands = bandChart("Active accounts by health band", counts, h.app.Bands.Orange > 0 || b.Orange > 0)
	r := report.Retention
	pcts := []*float64{r.GRR, r.NRR, r.LogoRetention}
	amounts, labels := make([]float64, 3), make([]string, 3)
	for i, p := range pcts {
		labels[i] = "no accounts at the start"
		if p != nil {
			amounts[i], labels[i] = *p, fmt.Sprintf("%g %%", *p)
		}
	}
	d.Retention = barChart("Retention of the accounts active at the start", []string{"Gross revenue (GRR)", "Net revenue (NRR)", "Logos"},
		labels, []string{"metric", "metric", "metric"}, amounts, 100)
	d.Retention.Reference = &chartTick{Pos: d.Retention.x(100), Label: "100 %"}
	for _, p := range report.Playbooks {
		row := playbookRow{Playbook: p}
		var outLabels, outValues, outClasses []string
		var outCounts []float64
		for _, o := range p.Outcomes {
			row.Ended += o.Count
			outLabels = append(outLabels, o.Outcome)
			outValues = append(outValues, fmt.Sprintf("%d, median %s", o.Count, duration(o.MedianDuration)))
			outClasses = append(outClasses, outcomeClass(o.Outcome))
			outCounts = append(outCounts, float64(o.Count))
		}
		row.Chart = barChart("How runs of "+p.Playbook+" ended", outLabels, outValues, outClasses, outCounts, 0)
		d.Playbooks = append(d.Playbooks, row)
	}
	d.Surveys = surveyTableOf("Survey emails written in the period that went out, and how many were answered; NPS and CSAT of the answers given in the period, with their number in brackets.", report.Surveys)
	return h.render(c, status, "portfolio", page{Title: "Portfolio", Nav: "portfolio", Data: d})
}

// period reads a form's days from..to (app.ReportPeriod fills in what is
// left out); when something is wrong with them (said in problem), it is
// the default period.
func (h *Handler) period(problem *string, fromText, toText string) app.Period {
	to, okTo := dateParam(problem, toText, "to")
	from, okFrom := dateParam(problem, fromText, "from")
	var given [2]*time.Time
	if okFrom {
		given[0] = &from
	}
	if okTo {
		given[1] = &to
	}
	p, err := h.app.ReportPeriod(given[0], given[1])
	if errors.Is(err, app.ErrPeriodReversed) && *problem == "" {
		*problem = "The start must not be after the end."
	}
	if *problem != "" {
		p, _ = h.app.ReportPeriod(nil, nil)
	}
	return p
}

// dateParam reads a period's end from a form; what is wrong with it goes
// into problem.
func dateParam(problem *string, v, name string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		*problem = "The " + map[string]string{"from": "start", "to": "end"}[name] + " is a date from 1900 to 2200, as YYYY-MM-DD."
		return time.Time{}, false
	}
	return t, true
}

func share(n, total float64) string {
	if total == 0 {
		return "0 %"
	}
	return fmt.Sprintf("%.0f %%", n/total*100)
}

// outcomeClass colours an outcome: kept, lost, or neither.
func outcomeClass(outcome string) string {
	switch outcome {
	case "completed", "recovered", "renewed", "expanded":
		return "green"
	case "churned", "failed":
		return "red"
	}
	return "yellow"
}

// duration says a median run length in the largest whole unit.
func duration(seconds float64) string { return span(time.Duration(seconds * float64(time.Second))) }
