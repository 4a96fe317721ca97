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

// Bands are the lowest whole-number totals of green and yellow; anything
// below yellow is red.
type Bands struct {
	Green  int `json:"green" yaml:"green"`
	Yellow int `json:"yellow" yaml:"yellow"`
}

// Band names.
const (
	Green  = "green"
	Yellow = "yellow"
	Red    = "red"
)

// Band says which band a whole-number total falls in.
func (b Bands) Band(total int) string {
	switch {
	case total >= b.Green:
		return Green
	case total >= b.Yellow:
		return Yellow
	default:
		return Red
	}
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
	return errors.Join(errs...)
}
