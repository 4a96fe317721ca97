package console

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/analytics"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
)

type analyticsData struct {
	Report analytics.Report
	Key    string
	// The form: the version chosen (a number, or "all" for every one), the
	// period, and what was wrong with them.
	Version, From, To, Error string
	Versions                 []versionChoice // every version of the playbook, for the form
	// Idle are the drafts left out of "every version": nobody ran them in
	// the period, so they would only add rows of zeros.
	Idle    []int
	Cards   []versionCard
	Steps   []stepRow
	Surveys []surveyStep // the survey steps' tables
	Health  bool         // some version is a recovery or renewal play
	Value   bool         // some version reports time to value (an onboarding play)
	ARR     bool         // some version reports ARR (an expansion play)
}

type versionChoice struct {
	Version int
	Status  states.Version
}

// versionCard is one version's runs, side by side with the others.
type versionCard struct {
	analytics.Version
	Median        string // of the ended runs, in words
	Outcomes      bars
	Before, After bars
	// The time to first login and first value, in words; the ARR facts.
	FirstLogin, FirstValue string
	ARRFacts               []fact
}

// fact is a term and its value, for a facts list.
type fact struct{ Term, Value string }

// stepRow is one step across the versions (a step id one version lacks has
// an empty cell there).
type stepRow struct {
	ID, Kind string
	Name     string // the first version's that names it ("": the id is all)
	Cells    []stepCell
}

type stepCell struct {
	Version int
	Present bool
	Step    analytics.Step
	Summary string
	Chart   *bars
}

// surveyStep is a survey step's tables, one per version that has the step.
type surveyStep struct {
	ID, Name string
	Versions []surveyVersion
}

type surveyVersion struct {
	Version int
	Table   surveyTable
}

// analyticsPage shows GET /v1/playbooks/{key}/analytics for the published
// version (or one chosen, or every version side by side), with small
// charts. Without a published version it shows every version that ran.
func (h *Handler) analyticsPage(c echo.Context) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	defs, err := h.app.Analytics.PlaybookDefinitions(ctx, key)
	if err != nil {
		return err
	}
	if len(defs) == 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no playbook with this key.")
	}
	d := analyticsData{Key: key, Version: c.QueryParam("version"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	published := 0
	for _, def := range defs {
		d.Versions = append(d.Versions, versionChoice{Version: def.Version, Status: def.Status})
		if def.Status == states.VersionPublished {
			published = def.Version
		}
	}
	version := 0
	switch d.Version {
	case "": // the version new runs take; every version when none does
		version, d.Version = published, strconv.Itoa(published)
		if published == 0 {
			d.Version = allVersions
		}
	case allVersions:
	default:
		n, ok := versionNumber(d.Version)
		switch {
		case !ok:
			d.Error = fmt.Sprintf("The query parameter version must be a version number from 1 to %d, or %s for every version.", maxVersion, allVersions)
		case !slices.ContainsFunc(d.Versions, func(v versionChoice) bool { return v.Version == n }):
			d.Error = "There is no such version of this playbook."
		}
		version = n
	}
	p := h.period(&d.Error, d.From, d.To)
	status := http.StatusOK
	if d.Error != "" {
		status, version, d.Version = http.StatusBadRequest, 0, allVersions
	}
	report, err := h.app.PlaybookAnalytics(ctx, key, version, p)
	if errors.Is(err, analytics.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no playbook with this key.")
	}
	if err != nil {
		return err
	}
	if version == 0 {
		report.Versions, d.Idle = withoutIdleDrafts(report.Versions)
	}
	d.Report = report
	if d.Error == "" {
		d.From, d.To = report.From, report.To
	}
	d.Cards, d.Steps, d.Health = versionCards(report, h.app.Bands), stepRows(report), false
	d.Surveys = surveySteps(d.Steps)
	for _, v := range report.Versions {
		d.Health = d.Health || v.Health != nil
		d.Value = d.Value || v.TimeToValue != nil
		d.ARR = d.ARR || v.ARR != nil
	}
	return h.render(c, status, "analytics", page{Title: key + " analytics", Nav: "playbooks", Data: d})
}

// allVersions is the version parameter's value for every version side by
// side.
const allVersions = "all"

// withoutIdleDrafts leaves out the drafts that no run started in the
// period: they are someone's work in progress, not something to compare.
func withoutIdleDrafts(versions []analytics.Version) (kept []analytics.Version, idle []int) {
	for _, v := range versions {
		if v.Status == states.VersionDraft && v.Runs.Started == 0 {
			idle = append(idle, v.Version)
			continue
		}
		kept = append(kept, v)
	}
	return kept, idle
}

func versionCards(r analytics.Report, model health.Bands) []versionCard {
	cards := make([]versionCard, 0, len(r.Versions))
	for _, v := range r.Versions {
		card := versionCard{Version: v}
		if v.Runs.MedianDuration != nil {
			card.Median = duration(*v.Runs.MedianDuration)
		}
		var labels, values, classes []string
		var counts []float64
		for _, o := range v.Runs.Outcomes {
			labels = append(labels, o.Outcome)
			values = append(values, fmt.Sprintf("%d, median %s", o.Count, duration(o.MedianDuration)))
			classes = append(classes, outcomeClass(o.Outcome))
			counts = append(counts, float64(o.Count))
		}
		card.Outcomes = barChart(fmt.Sprintf("How runs of version %d ended", v.Version), labels, values, classes, counts, 0)
		if h := v.Health; h != nil {
			// Before and after show the same rows, so they read side by side.
			orange := model.Orange > 0 || h.Before.Orange > 0 || h.After.Orange > 0
			card.Before = bandBars(fmt.Sprintf("Health band when runs of version %d started", v.Version), h.Before, orange)
			card.After = bandBars(fmt.Sprintf("Health band when runs of version %d ended", v.Version), h.After, orange)
		}
		if t := v.TimeToValue; t != nil {
			card.FirstLogin, card.FirstValue = milestone(t.FirstLogin, t.Runs), milestone(t.FirstValue, t.Runs)
		}
		if a := v.ARR; a != nil {
			card.ARRFacts = []fact{
				{"When the runs started", money(a.Start)},
				{"When they ended", money(a.End)},
				{"Gained", signedMoney(a.Gained)},
				{"Now", money(a.Now)},
				{"Accounts that grew", fmt.Sprintf("%d of %d", a.Expanded, a.Runs)},
			}
		}
		cards = append(cards, card)
	}
	return cards
}

// milestone says how many runs' accounts reached an event, and how soon.
func milestone(m analytics.Milestone, runs int) string {
	if m.Reached == 0 || m.MedianDays == nil {
		return fmt.Sprintf("none of the %d runs yet", runs)
	}
	return fmt.Sprintf("%d of the %d runs (%s), median %s", m.Reached, runs, share(float64(m.Reached), float64(runs)), days(*m.MedianDays))
}

func days(d float64) string {
	if d == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%g days", d)
}

// signedMoney writes a gain with its sign: +$500, −$1,200, $0.
func signedMoney(v float64) string {
	switch {
	case v > 0:
		return "+" + money(v)
	case v < 0:
		return "−" + money(-v)
	}
	return money(0)
}

func bandBars(title string, b analytics.Bands, orange bool) bars {
	return bandChart(title, bandCounts{b.Green, b.Yellow, b.Orange, b.Red, b.Unscored}, orange)
}

// stepRows lines the steps of every version up by id, in the order they
// first appear.
func stepRows(r analytics.Report) []stepRow {
	var rows []stepRow
	index := map[string]int{}
	for _, v := range r.Versions {
		for _, s := range v.Steps {
			i, ok := index[s.ID]
			if !ok {
				i = len(rows)
				index[s.ID] = i
				rows = append(rows, stepRow{ID: s.ID, Kind: s.Kind})
			}
			if rows[i].Name == "" {
				rows[i].Name = s.Name
			}
		}
	}
	for i := range rows {
		for _, v := range r.Versions {
			cell := stepCell{Version: v.Version}
			for _, s := range v.Steps {
				if s.ID == rows[i].ID {
					cell.Present, cell.Step = true, s
					cell.Summary, cell.Chart = stepFigures(v.Version, s)
				}
			}
			rows[i].Cells = append(rows[i].Cells, cell)
		}
	}
	return rows
}

// stepFigures says in words how far runs got with a step, and draws what
// its kind did.
func stepFigures(version int, s analytics.Step) (string, *bars) {
	summary := fmt.Sprintf("%d runs got this far", s.Passed)
	if s.Recorded {
		summary = fmt.Sprintf("reached by %d of the %d runs that got this far; skipped by %d", *s.Reached, s.Passed, *s.Skipped)
	}
	title := fmt.Sprintf("Step %s of version %d", cmp.Or(s.Name, s.ID), version)
	var chart bars
	switch s.Kind {
	case playbook.KindEmail, playbook.KindSurvey: // a survey step's emails too; its answers are in Surveys
		e := s.Emails
		sent := float64(e.Sent)
		rate := func(n int) string { return fmt.Sprintf("%d (%s)", n, share(float64(n), sent)) }
		chart = barChart(title+": emails", []string{"Sent", "Delivered", "Opened", "Clicked", "Bounced", "Unsubscribed", "Skipped", "Failed"},
			[]string{fmt.Sprint(e.Sent), rate(e.Delivered), rate(e.Opened), rate(e.Clicked), rate(e.Bounced), rate(e.Unsubscribed), fmt.Sprint(e.Skipped), fmt.Sprint(e.Failed)},
			[]string{"metric", "green", "green", "green", "red", "red", "none", "red"},
			[]float64{sent, float64(e.Delivered), float64(e.Opened), float64(e.Clicked), float64(e.Bounced), float64(e.Unsubscribed), float64(e.Skipped), float64(e.Failed)}, 0)
	case playbook.KindApproval:
		a := s.Approvals
		if a.MedianDecision != nil {
			summary += "; decided in " + duration(*a.MedianDecision) + " (median)"
		}
		chart = barChart(title+": approvals", []string{"Approved", "Rejected", "Expired", "Pending", "Escalation tasks"},
			[]string{fmt.Sprint(a.Approved), fmt.Sprint(a.Rejected), fmt.Sprint(a.Expired), fmt.Sprint(a.Pending), fmt.Sprint(s.Tasks.Created)},
			[]string{"green", "red", "yellow", "metric", "none"},
			[]float64{float64(a.Approved), float64(a.Rejected), float64(a.Expired), float64(a.Pending), float64(s.Tasks.Created)}, 0)
	case playbook.KindTask:
		t := s.Tasks
		chart = barChart(title+": tasks", []string{"Done", "Open", "Overdue"},
			[]string{fmt.Sprint(t.Done), fmt.Sprint(t.Open), fmt.Sprint(t.Overdue)}, []string{"green", "metric", "red"},
			[]float64{float64(t.Done), float64(t.Open), float64(t.Overdue)}, 0)
	default:
		return summary, nil
	}
	return summary, &chart
}

// surveySteps are the steps that have survey figures in some version, in
// the steps' order; none when nothing was sent or answered at all.
func surveySteps(rows []stepRow) []surveyStep {
	var out []surveyStep
	sent := false
	for _, r := range rows {
		st := surveyStep{ID: r.ID, Name: r.Name}
		for _, c := range r.Cells {
			if c.Present && c.Step.Surveys != nil {
				caption := fmt.Sprintf("Surveys of step %s, version %d: its emails that went out, those answered, and the NPS or CSAT of the answers, with their number in brackets.", cmp.Or(r.Name, r.ID), c.Version)
				t := surveyTableOf(caption, c.Step.Surveys)
				sent = sent || !t.Empty
				st.Versions = append(st.Versions, surveyVersion{Version: c.Version, Table: t})
			}
		}
		if st.Versions != nil {
			out = append(out, st)
		}
	}
	if !sent {
		return nil
	}
	return out
}
