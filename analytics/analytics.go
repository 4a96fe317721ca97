// Package analytics measures what a playbook did, per version, so two
// versions can be compared on the same figures ("did the new onboarding
// email improve activation?"): runs started, live and ended by outcome with
// their median duration; per step the runs that reached, skipped or passed
// it, its emails with SendGrid's events, its approvals and its tasks; and
// for recovery and renewal plays the health band before and after and
// whether the accounts stayed; for survey steps the surveys sent, answered
// and their NPS or CSAT by segment; for onboarding plays the time to first
// login and first value, for expansion plays the ARR gained. The API's GET /v1/playbooks/{key}/analytics
// and the console's analytics page show the same report.
package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// Store is what the report reads.
type Store interface {
	PlaybookDefinitions(ctx context.Context, key string) ([]store.PlaybookDefinition, error)
	PlaybookFigures(ctx context.Context, sc store.AnalyticsScope, now time.Time) (store.PlaybookFigures, error)
}

// The account events time to value is measured by: the first login, and the
// first value event, the moment the customer first got what they bought
// (integrators report it with POST /v1/accounts/{id}/events as {"name": "first_value"},
// from their product: the first report built, the first invoice sent).
const (
	EventFirstLogin = "first_login"
	EventFirstValue = "first_value"
)

// ErrNotFound says there is no such playbook, or no such version of it.
var ErrNotFound = errors.New("no such playbook or version")

// Query selects the report: a playbook, one version (0: every version side
// by side) and the days From..To, both included, in which runs started.
type Query struct {
	Key      string
	Version  int
	From, To time.Time
	Now      time.Time // what "overdue" is measured against
}

// Report is a playbook's figures, one entry per version, oldest first.
type Report struct {
	Playbook string    `json:"playbook"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Versions []Version `json:"versions"`
}

// Version is the figures of one version's runs.
type Version struct {
	Version int            `json:"version"`
	Status  states.Version `json:"status"` // draft, published or archived
	Runs    Runs           `json:"runs"`
	Steps   []Step         `json:"steps"`
	// Health and Retention are reported for recovery and renewal plays
	// (triggered by a health band, a risk signal or the renewal window, or
	// counting from the renewal date); nil for the others.
	Health    *Health    `json:"health"`
	Retention *Retention `json:"retention"`
	// TimeToValue is reported for onboarding plays (triggered when an
	// account is created), ARR for expansion plays (triggered by the
	// expansion signals); nil for the others, where neither says whether
	// the play worked.
	TimeToValue *TimeToValue `json:"time_to_value"`
	ARR         *ARR         `json:"arr"`
}

// TimeToValue is how long after their run started the accounts of a
// version's runs first logged in and first got value.
type TimeToValue struct {
	Runs       int       `json:"runs"` // the runs started, of which the milestones count
	FirstLogin Milestone `json:"first_login"`
	FirstValue Milestone `json:"first_value"`
}

// Milestone is an account event: the runs whose account reported it after
// the run started, and the median days from the start to its first report.
type Milestone struct {
	Event      string   `json:"event"`
	Reached    int      `json:"reached"`
	MedianDays *float64 `json:"median_days"`
}

// ARR is the ARR of the accounts of a version's ended runs (a churned
// account pays 0): when each run started, when it ended, and now. Gained
// is End - Start (negative when they shrank); a version is judged on the
// run's end, so that older versions do not win by having had more time.
type ARR struct {
	Runs     int     `json:"runs"`
	Start    float64 `json:"start"`
	End      float64 `json:"end"`
	Now      float64 `json:"now"`
	Gained   float64 `json:"gained"`
	Expanded int     `json:"expanded"` // runs whose account paid more at the end than at the start
}

// Runs counts a version's runs that started in the period.
type Runs struct {
	Started        int       `json:"started"`
	Live           int       `json:"live"`
	Ended          int       `json:"ended"`
	MedianDuration *float64  `json:"median_duration_seconds"` // of the ended ones
	Outcomes       []Outcome `json:"outcomes"`
}

// Outcome is how many runs ended one way, and their median duration.
type Outcome struct {
	Outcome        string  `json:"outcome"`
	Count          int     `json:"count"`
	MedianDuration float64 `json:"median_duration_seconds"`
}

// Step is one step's figures. Reached counts runs that left a record of
// the step (an email, a task, an approval, an account change); Passed counts
// runs that got this far or further (they reached a later step, or went
// through every step); Skipped is Passed without Reached: the step's
// condition was false, or its branch was not taken. Steps that leave no
// record (waits, checks, branches, notifications, starts) have only Passed.
type Step struct {
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"` // the step's title, when it has one
	Kind      string    `json:"kind"`
	Recorded  bool      `json:"recorded"`
	Passed    int       `json:"passed"`
	Reached   *int      `json:"reached"`
	Skipped   *int      `json:"skipped"`
	Emails    Emails    `json:"emails"`
	Approvals Approvals `json:"approvals"`
	Tasks     Tasks     `json:"tasks"`
	// Surveys are a survey step's figures by segment (all first): its
	// survey emails that went out, those answered, and the NPS or mean
	// CSAT of every answer to them; nil for other steps.
	Surveys []survey.Figures `json:"surveys"`
}

// Emails counts a step's emails by what became of them: Sent counts sent
// and captured ones, the provider's figures those with at least one such
// SendGrid event (a click counts as an open too). Emails, Approvals and
// Tasks are the report's own figures, not the store's rows, because the
// report is the API's answer.
type Emails struct {
	Sent         int `json:"sent"`
	Skipped      int `json:"skipped"`
	Failed       int `json:"failed"`
	Delivered    int `json:"delivered"`
	Opened       int `json:"opened"`
	Clicked      int `json:"clicked"`
	Bounced      int `json:"bounced"`
	Unsubscribed int `json:"unsubscribed"`
}

// Approvals counts a step's approvals by status, with the median seconds
// from request to decision of those approved or rejected.
type Approvals struct {
	Requested      int      `json:"requested"`
	Approved       int      `json:"approved"`
	Rejected       int      `json:"rejected"`
	Expired        int      `json:"expired"`
	Pending        int      `json:"pending"`
	MedianDecision *float64 `json:"median_decision_seconds"`
}

// Tasks counts a step's tasks: done, open, and open past their due time.
type Tasks struct {
	Created int `json:"created"`
	Done    int `json:"done"`
	Open    int `json:"open"`
	Overdue int `json:"overdue"`
}

// Bands counts runs by a health band.
type Bands struct {
	Green  int `json:"green"`
	Yellow int `json:"yellow"`
	// Orange is the high-risk band of four-band models; always 0 under
	// three, and always present so that clients see one shape.
	Orange   int `json:"orange"`
	Red      int `json:"red"`
	Unscored int `json:"unscored"`
}

// Health is the health band of the ended runs' accounts when each run
// started and when it ended, and how many moved up, stayed or moved down.
type Health struct {
	Runs      int   `json:"runs"`
	Before    Bands `json:"before"`
	After     Bands `json:"after"`
	Improved  int   `json:"improved"`
	Unchanged int   `json:"unchanged"`
	Worsened  int   `json:"worsened"`
	Unknown   int   `json:"unknown"` // unscored before or after
}

// Retention is whether the accounts of the ended runs are customers now.
type Retention struct {
	Runs        int      `json:"runs"`
	Retained    int      `json:"retained"`
	Churned     int      `json:"churned"`
	RetainedPct *float64 `json:"retained_pct"`
}

// recordedKinds are the step kinds that leave a record in PostgreSQL.
var recordedKinds = []string{playbook.KindEmail, playbook.KindTask, playbook.KindApproval, playbook.KindUpdateAccount, playbook.KindSurvey}

// Build reads the report.
func Build(ctx context.Context, st Store, q Query) (Report, error) {
	defs, err := st.PlaybookDefinitions(ctx, q.Key)
	if err != nil {
		return Report{}, err
	}
	if q.Version != 0 {
		defs = slices.DeleteFunc(defs, func(d store.PlaybookDefinition) bool { return d.Version != q.Version })
	}
	if len(defs) == 0 {
		return Report{}, ErrNotFound
	}
	sc := store.AnalyticsScope{Key: q.Key, Version: q.Version, From: q.From, To: q.To.AddDate(0, 0, 1)}
	r := Report{Playbook: q.Key, From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly)}
	byVersion := map[int]*Version{}
	stepIndex := map[int]map[string]int{} // version → step id → index in its Steps
	health := false
	for _, d := range defs {
		var def playbook.Definition
		if err := json.Unmarshal(d.Definition, &def); err != nil {
			return Report{}, fmt.Errorf("decode playbook %s v%d: %w", q.Key, d.Version, err)
		}
		v := Version{Version: d.Version, Status: d.Status, Runs: Runs{Outcomes: []Outcome{}}, Steps: []Step{}}
		stepIndex[d.Version] = map[string]int{}
		walk(def.Steps, func(s *playbook.Step) {
			kind := s.Kind()
			step := Step{ID: s.ID, Name: s.Name, Kind: kind, Recorded: slices.Contains(recordedKinds, kind)}
			if step.Recorded {
				step.Reached, step.Skipped = new(int), new(int)
			}
			stepIndex[d.Version][s.ID] = len(v.Steps)
			v.Steps = append(v.Steps, step)
		})
		if measuresHealth(&def) {
			v.Health, v.Retention, health = &Health{}, &Retention{}, true
		}
		switch trigger(&def) {
		case "account_created":
			v.TimeToValue = &TimeToValue{FirstLogin: Milestone{Event: EventFirstLogin}, FirstValue: Milestone{Event: EventFirstValue}}
		case "expansion":
			v.ARR = &ARR{}
		}
		r.Versions = append(r.Versions, v)
	}
	for i := range r.Versions {
		byVersion[r.Versions[i].Version] = &r.Versions[i]
	}
	step := func(version int, id string) *Step {
		v, ok := byVersion[version]
		if !ok {
			return nil
		}
		i, ok := stepIndex[version][id]
		if !ok {
			return nil // a record of a step the definition does not have
		}
		return &v.Steps[i]
	}

	f, err := st.PlaybookFigures(ctx, sc, q.Now)
	if err != nil {
		return Report{}, err
	}
	for _, o := range f.Outcomes {
		v := byVersion[o.Version]
		switch {
		case v == nil:
		case o.Status == "": // the version's total
			v.Runs.Started, v.Runs.MedianDuration = o.Count, o.MedianDuration
		case o.Status.Live():
			v.Runs.Live += o.Count
		default:
			name := o.Outcome
			if name == "" {
				name = string(o.Status)
			}
			v.Runs.Ended += o.Count
			v.Runs.Outcomes = append(v.Runs.Outcomes, Outcome{Outcome: name, Count: o.Count, MedianDuration: deref(o.MedianDuration)})
		}
	}

	for _, p := range f.Progress {
		v := byVersion[p.Version]
		if v == nil {
			continue
		}
		for i := range v.Steps {
			if p.Finished || p.MaxPos >= i {
				v.Steps[i].Passed += p.Runs
			}
		}
	}
	for _, rc := range f.Reached { // one row per source of records: the largest counts
		if s := step(rc.Version, rc.Step); s != nil && s.Recorded {
			*s.Reached = max(*s.Reached, rc.Runs)
		}
	}
	for _, v := range r.Versions {
		for i := range v.Steps {
			if s := &v.Steps[i]; s.Recorded {
				*s.Skipped = max(0, s.Passed-*s.Reached)
			}
		}
	}

	for _, e := range f.Emails {
		if s := step(e.Version, e.Step); s != nil {
			s.Emails = Emails{Sent: e.Sent, Skipped: e.Skipped, Failed: e.Failed, Delivered: e.Delivered,
				Opened: e.Opened, Clicked: e.Clicked, Bounced: e.Bounced, Unsubscribed: e.Unsubscribed}
		}
	}
	for _, a := range f.Approvals {
		if s := step(a.Version, a.Step); s != nil {
			s.Approvals = Approvals{Requested: a.Requested, Approved: a.Approved, Rejected: a.Rejected,
				Expired: a.Expired, Pending: a.Pending, MedianDecision: a.MedianDecision}
		}
	}
	for _, t := range f.Tasks {
		if s := step(t.Version, t.Step); s != nil {
			s.Tasks = Tasks{Created: t.Created, Done: t.Done, Open: t.Open, Overdue: t.Overdue}
		}
	}
	addSurveys(r.Versions, f.Surveys, step)

	if health {
		for _, o := range f.Health {
			if v := byVersion[o.Version]; v != nil && v.Health != nil {
				addHealth(v.Health, v.Retention, o)
			}
		}
		for _, v := range r.Versions {
			if v.Retention != nil {
				v.Retention.RetainedPct = percent(v.Retention.Retained, v.Retention.Runs)
			}
		}
	}
	addValue(byVersion, f)
	return r, nil
}

// addValue adds the time to value and ARR figures to the versions that
// report them.
func addValue(byVersion map[int]*Version, f store.PlaybookFigures) {
	for _, v := range byVersion {
		if v.TimeToValue != nil {
			v.TimeToValue.Runs = v.Runs.Started
		}
	}
	for _, t := range f.Firsts {
		v := byVersion[t.Version]
		if v == nil || v.TimeToValue == nil {
			continue
		}
		m := &v.TimeToValue.FirstLogin
		if t.Event == EventFirstValue {
			m = &v.TimeToValue.FirstValue
		}
		m.Reached, m.MedianDays = t.Runs, round1(t.MedianDays)
	}
	for _, a := range f.ARR {
		if v := byVersion[a.Version]; v != nil && v.ARR != nil {
			*v.ARR = ARR{Runs: a.Runs, Start: a.Start, End: a.End, Now: a.Now, Gained: math.Round((a.End-a.Start)*100) / 100, Expanded: a.Expanded}
		}
	}
}

func round1(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := math.Round(*p*10) / 10
	return &v
}

// addSurveys gives survey steps their figures by segment: every step of
// the survey kind (nothing sent yet: zeros and nulls), and any step whose
// emails were surveys.
func addSurveys(versions []Version, rows []store.StepSurveys, step func(version int, id string) *Step) {
	type key struct {
		version int
		step    string
	}
	counts := map[key]map[string]survey.Counts{}
	for _, c := range rows {
		k := key{c.Version, c.Step}
		if counts[k] == nil {
			counts[k] = map[string]survey.Counts{}
		}
		counts[k][c.Segment] = c.Counts
	}
	for _, v := range versions {
		for i := range v.Steps {
			if s := &v.Steps[i]; s.Kind == playbook.KindSurvey {
				s.Surveys = survey.BySegment(nil)
			}
		}
	}
	for k, bySegment := range counts {
		if s := step(k.version, k.step); s != nil {
			s.Surveys = survey.BySegment(bySegment)
		}
	}
}

// walk visits steps depth first, in the order a run meets them.
func walk(steps []playbook.Step, visit func(*playbook.Step)) {
	for i := range steps {
		s := &steps[i]
		visit(s)
		walk(s.Then, visit)
		walk(s.Else, visit)
		walk(s.OnTimeout, visit)
		if s.Repeat != nil {
			walk(s.Repeat.Steps, visit)
		}
	}
}

// trigger is what starts the play on its own; "" when only the API does.
func trigger(def *playbook.Definition) string {
	if def.Trigger == nil {
		return ""
	}
	return def.Trigger.On
}

// measuresHealth says whether a play is about health or renewal: the ones
// whose before and after health, and retention, say whether they worked.
func measuresHealth(def *playbook.Definition) bool {
	if def.Anchor == playbook.AnchorRenewalDate {
		return true
	}
	if def.Trigger == nil {
		return false
	}
	return slices.Contains([]string{"health_band", "risk_signal", "renewal_window"}, def.Trigger.On)
}

func addHealth(h *Health, ret *Retention, o store.HealthOutcome) {
	h.Runs += o.Runs
	count(&h.Before, o.Before, o.Runs)
	count(&h.After, o.After, o.Runs)
	before, okB := health.BandRank(o.Before)
	after, okA := health.BandRank(o.After)
	switch {
	case !okB || !okA:
		h.Unknown += o.Runs
	case after > before:
		h.Improved += o.Runs
	case after < before:
		h.Worsened += o.Runs
	default:
		h.Unchanged += o.Runs
	}
	ret.Runs += o.Runs
	if o.AccountStatus == "churned" {
		ret.Churned += o.Runs
	} else {
		ret.Retained += o.Runs
	}
}

func count(b *Bands, band string, n int) {
	switch band {
	case health.Green:
		b.Green += n
	case health.Yellow:
		b.Yellow += n
	case health.Orange:
		b.Orange += n
	case health.Red:
		b.Red += n
	default:
		b.Unscored += n
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func percent(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	p := float64(int(float64(part)/float64(whole)*1000+0.5)) / 10
	return &p
}
