// Package portfolio reports the state of the whole book of accounts: bands
// now, seed 003's retention metrics over a period, how playbook runs
// ended, and surveys (response rates, NPS, CSAT) by segment. The API's GET /v1/metrics/portfolio and the console's portfolio
// page show the same report.
package portfolio

import (
	"context"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// Store is what the report reads.
type Store interface {
	BandDistribution(ctx context.Context) (store.BandCounts, error)
	RetentionCohort(ctx context.Context, from, to time.Time) (store.Cohort, error)
	PlaybookOutcomes(ctx context.Context, from, to time.Time) ([]store.OutcomeStats, error)
	LiveRunCounts(ctx context.Context) (map[string]int, error)
	PortfolioSurveys(ctx context.Context, from, to time.Time) ([]store.SegmentSurveys, error)
}

// Retention is seed 003's retention of the accounts active at the start.
type Retention struct {
	AccountsAtStart int      `json:"accounts_at_start"`
	AccountsKept    int      `json:"accounts_retained"`
	ARRAtStart      float64  `json:"arr_at_start"`
	ARRKept         float64  `json:"arr_retained"`
	ARRAtEnd        float64  `json:"arr_at_end"`
	GRR             *float64 `json:"grr_pct"`            // (ARR retained / ARR at start) * 100
	NRR             *float64 `json:"nrr_pct"`            // (ARR retained + expansion) / ARR at start * 100
	LogoRetention   *float64 `json:"logo_retention_pct"` // customers retained / customers at start * 100
}

// Playbook is how one playbook's runs ended, and how many are live.
type Playbook struct {
	Playbook string    `json:"playbook"`
	Live     int       `json:"live"`
	Outcomes []Outcome `json:"outcomes"`
}

// Outcome is how many runs of a playbook ended one way in the period, and
// their median duration. Outcome and Bands are the report's own, not the
// store's rows, because the report is the API's answer.
type Outcome struct {
	Outcome        string  `json:"outcome"`
	Count          int     `json:"count"`
	MedianDuration float64 `json:"median_duration_seconds"`
}

// Bands counts active accounts by their latest health band; Unscored have
// no snapshot yet.
type Bands struct {
	Green  int `json:"green"`
	Yellow int `json:"yellow"`
	// Orange is the high-risk band of four-band models; always 0 under
	// three, and always present so that clients see one shape.
	Orange   int `json:"orange"`
	Red      int `json:"red"`
	Unscored int `json:"unscored"`
}

// Report is the portfolio over the days From..To, both included.
type Report struct {
	From      string     `json:"from"`
	To        string     `json:"to"`
	Bands     Bands      `json:"bands"`
	Retention Retention  `json:"retention"`
	Playbooks []Playbook `json:"playbooks"`
	// Surveys by segment (all first): the survey emails written in the
	// period that went out and how many of them were answered (whenever),
	// and the NPS and mean CSAT of the answers given in the period.
	Surveys []survey.Figures `json:"surveys"`
}

// Build reads the report of the days from..to (dates, both included).
func Build(ctx context.Context, st Store, from, to time.Time) (Report, error) {
	end := to.AddDate(0, 0, 1)
	bands, err := st.BandDistribution(ctx)
	if err != nil {
		return Report{}, err
	}
	cohort, err := st.RetentionCohort(ctx, from, end)
	if err != nil {
		return Report{}, err
	}
	outcomes, err := st.PlaybookOutcomes(ctx, from, end)
	if err != nil {
		return Report{}, err
	}
	live, err := st.LiveRunCounts(ctx)
	if err != nil {
		return Report{}, err
	}
	surveys, err := st.PortfolioSurveys(ctx, from, end)
	if err != nil {
		return Report{}, err
	}
	bySegment := map[string]survey.Counts{}
	for _, s := range surveys {
		bySegment[s.Segment] = s.Counts
	}
	r := Report{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		Bands: Bands{Green: bands.Green, Yellow: bands.Yellow, Orange: bands.Orange, Red: bands.Red, Unscored: bands.Unscored},
		Retention: Retention{AccountsAtStart: cohort.Accounts, AccountsKept: cohort.Retained,
			ARRAtStart: cohort.ARRStart, ARRKept: cohort.ARRKept, ARRAtEnd: cohort.ARREnd,
			GRR: percent(cohort.ARRKept, cohort.ARRStart), NRR: percent(cohort.ARREnd, cohort.ARRStart),
			LogoRetention: percent(float64(cohort.Retained), float64(cohort.Accounts))},
		Playbooks: []Playbook{}, Surveys: survey.BySegment(bySegment)}
	byKey := map[string]int{}
	add := func(key string) int {
		if i, ok := byKey[key]; ok {
			return i
		}
		byKey[key] = len(r.Playbooks)
		r.Playbooks = append(r.Playbooks, Playbook{Playbook: key, Live: live[key], Outcomes: []Outcome{}})
		return byKey[key]
	}
	for _, o := range outcomes { // ordered by key
		i := add(o.PlaybookKey)
		r.Playbooks[i].Outcomes = append(r.Playbooks[i].Outcomes, Outcome{Outcome: o.Outcome, Count: o.Count, MedianDuration: o.MedianDuration})
	}
	for _, key := range slices.Sorted(maps.Keys(live)) {
		add(key)
	}
	return r, nil
}

// Today is the last day of a report asked for without dates.
func Today(now time.Time) time.Time { return now.UTC().Truncate(24 * time.Hour) }

// YearTo is the first day of a report ending on to that was asked for
// without a start: a year of days.
func YearTo(to time.Time) time.Time { return to.AddDate(-1, 0, 1) }

func percent(part, whole float64) *float64 {
	if whole == 0 {
		return nil
	}
	p := math.Round(part/whole*1000) / 10
	return &p
}
