package api

import (
	"maps"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
)

type retentionView struct {
	AccountsAtStart int      `json:"accounts_at_start"`
	AccountsKept    int      `json:"accounts_retained"`
	ARRAtStart      float64  `json:"arr_at_start"`
	ARRKept         float64  `json:"arr_retained"`
	ARRAtEnd        float64  `json:"arr_at_end"`
	GRR             *float64 `json:"grr_pct"`            // (ARR retained / ARR at start) * 100
	NRR             *float64 `json:"nrr_pct"`            // (ARR retained + expansion) / ARR at start * 100
	LogoRetention   *float64 `json:"logo_retention_pct"` // customers retained / customers at start * 100
}

type playbookOutcomes struct {
	Playbook string               `json:"playbook"`
	Live     int                  `json:"live"`
	Outcomes []store.OutcomeStats `json:"outcomes"`
}

type portfolioView struct {
	From      string             `json:"from"`
	To        string             `json:"to"`
	Bands     store.BandCounts   `json:"bands"`
	Retention retentionView      `json:"retention"`
	Playbooks []playbookOutcomes `json:"playbooks"`
}

// getPortfolio reports band distribution now, and over the days from..to, both
// included (default: the year to today), seed 003's retention metrics and how
// playbook runs ended.
func (h *handlers) getPortfolio(c echo.Context) error {
	var fe fieldErrors
	today := time.Now().UTC().Truncate(24 * time.Hour)
	to := dateParam(c, &fe, "to", today)
	from := dateParam(c, &fe, "from", to.AddDate(-1, 0, 1))
	if len(fe) == 0 && from.After(to) {
		fe.add("from", "must not be after to")
	}
	end := to.AddDate(0, 0, 1)
	if len(fe) > 0 {
		return problem(http.StatusBadRequest, "the query has invalid parameters", fe...)
	}
	ctx := c.Request().Context()
	bands, err := h.portfolio.BandDistribution(ctx)
	if err != nil {
		return err
	}
	cohort, err := h.portfolio.RetentionCohort(ctx, from, end)
	if err != nil {
		return err
	}
	outcomes, err := h.portfolio.PlaybookOutcomes(ctx, from, end)
	if err != nil {
		return err
	}
	live, err := h.portfolio.LiveRunCounts(ctx)
	if err != nil {
		return err
	}
	v := portfolioView{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Bands: bands,
		Retention: retentionView{AccountsAtStart: cohort.Accounts, AccountsKept: cohort.Retained,
			ARRAtStart: cohort.ARRStart, ARRKept: cohort.ARRKept, ARRAtEnd: cohort.ARREnd,
			GRR: percent(cohort.ARRKept, cohort.ARRStart), NRR: percent(cohort.ARREnd, cohort.ARRStart),
			LogoRetention: percent(float64(cohort.Retained), float64(cohort.Accounts))},
		Playbooks: []playbookOutcomes{}}
	byKey := map[string]int{}
	add := func(key string) int {
		if i, ok := byKey[key]; ok {
			return i
		}
		byKey[key] = len(v.Playbooks)
		v.Playbooks = append(v.Playbooks, playbookOutcomes{Playbook: key, Live: live[key], Outcomes: []store.OutcomeStats{}})
		return byKey[key]
	}
	for _, o := range outcomes { // ordered by key
		i := add(o.PlaybookKey)
		v.Playbooks[i].Outcomes = append(v.Playbooks[i].Outcomes, o)
	}
	for _, key := range slices.Sorted(maps.Keys(live)) {
		add(key)
	}
	return c.JSON(http.StatusOK, v)
}

func dateParam(c echo.Context, fe *fieldErrors, name string, fallback time.Time) time.Time {
	if d := parseDate(fe, name, c.QueryParam(name)); d != nil {
		return *d
	}
	return fallback
}

func percent(part, whole float64) *float64 {
	if whole == 0 {
		return nil
	}
	p := math.Round(part/whole*1000) / 10
	return &p
}
