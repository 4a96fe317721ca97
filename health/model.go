// Package health scores accounts: raw metrics in, component scores, a
// 0-100 total and a band out (PRODUCT.md §7). It also spots the seed 000
// risk signals that can be read off snapshots. It does no I/O.
package health

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Model is a weighted sum of components, each a weighted mean of measures.
// The weights need not add up to 100: the total is always renormalised over
// the components that had input.
type Model struct {
	Name       string      `json:"name" yaml:"name"`
	Components []Component `json:"components" yaml:"components"`
	Bands      Bands       `json:"bands" yaml:"bands"`
}

// Component is one dimension of health, such as usage or support.
type Component struct {
	Name   string  `json:"name" yaml:"name"`
	Weight float64 `json:"weight" yaml:"weight"`
	Terms  []Term  `json:"terms" yaml:"terms"`
}

// Term is one measure's share of its component.
type Term struct {
	Measure string  `json:"measure" yaml:"measure"`
	Weight  float64 `json:"weight" yaml:"weight"`
}

// Bands are the lowest whole-number totals of green and yellow, and of
// orange when the model has a fourth band; anything below the lowest is red.
// Orange 0 means three bands, and is left out of JSON and YAML so that
// three-band models read and write as they always have.
type Bands struct {
	Green  int `json:"green" yaml:"green"`
	Yellow int `json:"yellow" yaml:"yellow"`
	Orange int `json:"orange,omitempty" yaml:"orange,omitempty"`
}

// Band names. Orange ("high risk") lies between yellow and red, and only
// models with four bands (seed 004's) use it.
const (
	Green  = "green"
	Yellow = "yellow"
	Orange = "orange"
	Red    = "red"
)

// BandNames are every band a snapshot may have, best first: the vocabulary
// of playbooks, filters, counts and the database's checks.
var BandNames = []string{Green, Yellow, Orange, Red}

// BandRank orders bands, higher is healthier (green 3, red 0); ok is false
// for a name that is not a band, such as "" before the first snapshot.
func BandRank(band string) (rank int, ok bool) {
	i := slices.Index(BandNames, band)
	if i < 0 {
		return 0, false
	}
	return len(BandNames) - 1 - i, true
}

// Band says which band a whole-number total falls in.
func (b Bands) Band(total int) string {
	switch {
	case total >= b.Green:
		return Green
	case total >= b.Yellow:
		return Yellow
	case b.Orange > 0 && total >= b.Orange:
		return Orange
	default:
		return Red
	}
}

// Names are the bands this model gives, best first: three, or four with
// orange.
func (b Bands) Names() []string {
	if b.Orange == 0 {
		return []string{Green, Yellow, Red}
	}
	return slices.Clone(BandNames)
}

// Presets are the models the seeds describe. seed-003 is the default: its
// formulas are the only ones the seeds spell out term by term; the others
// map their named dimensions onto the same measures.
var Presets = map[string]Model{
	// Seed 003 "Multi-Dimensional Health Model", formulas as written.
	"seed-003": {Name: "seed-003", Bands: Bands{Green: 80, Yellow: 50}, Components: []Component{
		{Name: "usage", Weight: 30, Terms: []Term{{"seat_utilisation", 40}, {"feature_adoption", 30}, {"login_frequency", 30}}},
		{Name: "engagement", Weight: 25, Terms: []Term{{"email_response", 30}, {"meeting_attendance", 25}, {"qbr_participation", 25}, {"contact_recency", 20}}},
		{Name: "support", Weight: 20, Terms: []Term{{"ticket_volume", 30}, {"critical_tickets", 30}, {"support_csat", 40}}},
		{Name: "satisfaction", Weight: 15, Terms: []Term{{"nps", 50}, {"csat", 30}, {"sentiment", 20}}},
		{Name: "financial", Weight: 10, Terms: []Term{{"payment", 40}, {"expansion_revenue", 30}, {"renewal_budget", 30}}},
	}},
	// Seed 000 "Health Score Calculation": red below 50, yellow 50-70, green above 70.
	"seed-000": {Name: "seed-000", Bands: Bands{Green: 71, Yellow: 50}, Components: []Component{
		{Name: "product_usage", Weight: 40, Terms: []Term{{"seat_utilisation", 50}, {"login_frequency", 50}}},
		{Name: "feature_adoption", Weight: 30, Terms: []Term{{"feature_adoption", 100}}},
		{Name: "support_engagement", Weight: 20, Terms: []Term{{"ticket_volume", 50}, {"support_csat", 50}}},
		{Name: "business_outcomes", Weight: 10, Terms: []Term{{"expansion_revenue", 50}, {"nps", 50}}},
	}},
	// Seed 001 "Health Score Model": green 80-100, yellow 60-79, red 0-59.
	"seed-001": {Name: "seed-001", Bands: Bands{Green: 80, Yellow: 60}, Components: []Component{
		{Name: "engagement", Weight: 40, Terms: []Term{{"login_frequency", 40}, {"seat_utilisation", 40}, {"ticket_volume", 20}}},
		{Name: "product", Weight: 30, Terms: []Term{{"feature_adoption", 100}}},
		{Name: "relationship", Weight: 20, Terms: []Term{{"qbr_participation", 40}, {"nps", 30}, {"csat", 30}}},
		{Name: "business", Weight: 10, Terms: []Term{{"expansion_revenue", 50}, {"renewal_budget", 50}}},
	}},
	// Seed 002 "Customer Health Monitoring" > "Health Score Calculation":
	// healthy 80-100, at risk 60-79, critical 0-59. Of each dimension's
	// metrics, those with a measure stand for it, equally unless noted:
	//   - usage: login frequency ("daily, weekly, monthly active users") is
	//     login_frequency and seat_utilisation, half of the share together;
	//     feature adoption the other half. Campaign activity, data volume and
	//     integration usage have no measure.
	//   - performance: nothing measures campaign results, ROI or goals. As in
	//     seed 000's business outcomes, expansion revenue (customers who get a
	//     return buy more) and NPS (their own verdict on the value) stand in.
	//   - engagement: support interactions are support_csat, training
	//     participation meeting_attendance, feedback email_response, and
	//     relationship strength qbr_participation and contact_recency.
	//     Community has no measure.
	//   - risk: ticket volume and severity are ticket_volume and
	//     critical_tickets, contract renewal risk renewal_budget and payment
	//     (every measure is high when the risk is low). Competitive threats
	//     and business changes are risk signals (competitor_mentioned,
	//     champion_left), not terms of the score.
	"seed-002": {Name: "seed-002", Bands: Bands{Green: 80, Yellow: 60}, Components: []Component{
		{Name: "usage", Weight: 40, Terms: []Term{{"login_frequency", 25}, {"seat_utilisation", 25}, {"feature_adoption", 50}}},
		{Name: "performance", Weight: 30, Terms: []Term{{"expansion_revenue", 50}, {"nps", 50}}},
		{Name: "engagement", Weight: 20, Terms: []Term{{"support_csat", 20}, {"meeting_attendance", 20}, {"email_response", 20}, {"qbr_participation", 20}, {"contact_recency", 20}}},
		{Name: "risk", Weight: 10, Terms: []Term{{"ticket_volume", 25}, {"critical_tickets", 25}, {"renewal_budget", 25}, {"payment", 25}}},
	}},
	// Seed 004 "Process 1: Customer Health Scoring": healthy 90-100, at risk
	// 70-89, high risk 50-69 (orange), critical 0-49; the only seed with four
	// bands. Its metrics on our measures, equally weighted:
	//   - usage: login frequency and feature usage.
	//   - engagement: support tickets (ticket_volume) and meetings
	//     (meeting_attendance).
	//   - performance: nothing measures ROI or goals; expansion revenue and a
	//     confirmed renewal budget (the sponsor judged the goals met enough to
	//     fund another term) stand in. NPS is not used here, as seed 002 does,
	//     because satisfaction counts it already.
	//   - satisfaction: NPS and CSAT.
	// The seed's per-component thresholds (70 %, 80 %, 90 %, 75 %) are review
	// targets, not part of the total, so they are not modelled.
	"seed-004": {Name: "seed-004", Bands: Bands{Green: 90, Yellow: 70, Orange: 50}, Components: []Component{
		{Name: "usage", Weight: 30, Terms: []Term{{"login_frequency", 50}, {"feature_adoption", 50}}},
		{Name: "engagement", Weight: 25, Terms: []Term{{"ticket_volume", 50}, {"meeting_attendance", 50}}},
		{Name: "performance", Weight: 25, Terms: []Term{{"expansion_revenue", 50}, {"renewal_budget", 50}}},
		{Name: "satisfaction", Weight: 20, Terms: []Term{{"nps", 50}, {"csat", 50}}},
	}},
}

// DefaultModel is seed 003's model.
const DefaultModel = "seed-003"

// LoadModel returns a preset by name, or reads a model from a YAML or JSON
// file and validates it.
func LoadModel(nameOrPath string) (Model, error) {
	if nameOrPath == "" {
		nameOrPath = DefaultModel
	}
	if m, ok := Presets[nameOrPath]; ok {
		return m, nil
	}
	src, err := os.ReadFile(nameOrPath)
	if err != nil {
		return Model{}, fmt.Errorf("health model %q is neither a preset (%s) nor a readable file: %w",
			nameOrPath, strings.Join(PresetNames(), ", "), err)
	}
	var m Model
	if json.Valid(src) {
		err = json.Unmarshal(src, &m)
	} else {
		dec := yaml.NewDecoder(strings.NewReader(string(src)))
		dec.KnownFields(true)
		err = dec.Decode(&m)
	}
	if err != nil {
		return Model{}, fmt.Errorf("health model %s: %w", nameOrPath, err)
	}
	if m.Name == "" {
		m.Name = nameOrPath
	}
	if err := m.Validate(); err != nil {
		return Model{}, fmt.Errorf("health model %s: %w", nameOrPath, err)
	}
	return m, nil
}

// PresetNames lists the presets in order.
func PresetNames() []string { return slices.Sorted(maps.Keys(Presets)) }

// Validate reports every problem of a model at once.
func (m Model) Validate() error {
	var errs []error
	if len(m.Components) == 0 {
		errs = append(errs, errors.New("components: at least one"))
	}
	seen := map[string]bool{}
	for i, c := range m.Components {
		at := fmt.Sprintf("components[%d]", i)
		if c.Name == "" || seen[c.Name] {
			errs = append(errs, fmt.Errorf("%s.name: required and unique", at))
		}
		seen[c.Name] = true
		if c.Weight <= 0 {
			errs = append(errs, fmt.Errorf("%s.weight: must be above 0", at))
		}
		if len(c.Terms) == 0 {
			errs = append(errs, fmt.Errorf("%s.terms: at least one", at))
		}
		for j, t := range c.Terms {
			if _, ok := measures[t.Measure]; !ok {
				errs = append(errs, fmt.Errorf("%s.terms[%d].measure: unknown %q; one of %s", at, j, t.Measure, strings.Join(MeasureNames(), ", ")))
			}
			if t.Weight <= 0 {
				errs = append(errs, fmt.Errorf("%s.terms[%d].weight: must be above 0", at, j))
			}
		}
	}
	if !(0 < m.Bands.Yellow && m.Bands.Yellow < m.Bands.Green && m.Bands.Green <= 100) {
		errs = append(errs, fmt.Errorf("bands: need 0 < yellow < green <= 100, got yellow %d, green %d", m.Bands.Yellow, m.Bands.Green))
	}
	// Orange 0 is "no fourth band"; anything else must sit strictly between
	// red and yellow, or the orange band would be empty.
	if m.Bands.Orange != 0 && !(0 < m.Bands.Orange && m.Bands.Orange < m.Bands.Yellow) {
		errs = append(errs, fmt.Errorf("bands.orange: need 0 < orange < yellow (leave orange out for three bands), got orange %d, yellow %d", m.Bands.Orange, m.Bands.Yellow))
	}
	return errors.Join(errs...)
}
