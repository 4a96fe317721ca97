package app

import (
	"context"
	"errors"
	"time"

	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/portfolio"
)

// Period is the days a report covers, both included.
type Period struct{ From, To time.Time }

// ErrPeriodReversed: the period's start is after its end.
var ErrPeriodReversed = errors.New("the period's start is after its end")

// ReportPeriod is the period of a report from what its reader gave (nil:
// left out): the end defaults to today, the start to a year before the
// end. A reversed period is ErrPeriodReversed, with the default period.
func (a *App) ReportPeriod(from, to *time.Time) (Period, error) {
	p := Period{To: portfolio.Today(a.Now())}
	if to != nil {
		p.To = *to
	}
	p.From = portfolio.YearTo(p.To)
	if from != nil {
		p.From = *from
	}
	if p.From.After(p.To) {
		today := portfolio.Today(a.Now())
		return Period{From: portfolio.YearTo(today), To: today}, ErrPeriodReversed
	}
	return p, nil
}

// PortfolioReport is the book's report over the period.
func (a *App) PortfolioReport(ctx context.Context, p Period) (portfolio.Report, error) {
	return portfolio.Build(ctx, a.Portfolio, p.From, p.To)
}

// PlaybookAnalytics is a playbook's report over the runs that started in
// the period: of one version, or (version 0) of every version side by
// side; analytics.ErrNotFound when there is no such playbook or version.
func (a *App) PlaybookAnalytics(ctx context.Context, key string, version int, p Period) (analytics.Report, error) {
	return analytics.Build(ctx, a.Analytics, analytics.Query{Key: key, Version: version, From: p.From, To: p.To, Now: a.Now()})
}
