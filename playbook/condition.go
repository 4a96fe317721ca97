package playbook

import "slices"

// Condition is a test on what the run knows of the account. Several keys in
// one condition must all hold.
type Condition struct {
	Segment        []string        `json:"segment,omitempty"`
	HealthBand     []string        `json:"health_band,omitempty"`
	HealthScore    *Compare        `json:"health_score,omitempty"`
	Field          *FieldCondition `json:"field,omitempty"`
	EventReceived  string          `json:"event_received,omitempty"`
	AccountStatus  string          `json:"account_status,omitempty"`
	LifecycleStage string          `json:"lifecycle_stage,omitempty"`
	All            []Condition     `json:"all,omitempty"`
	Any            []Condition     `json:"any,omitempty"`
	Not            *Condition      `json:"not,omitempty"`
}

// Compare bounds a number; every bound set must hold.
type Compare struct {
	Lt  *float64 `json:"lt,omitempty"`
	Lte *float64 `json:"lte,omitempty"`
	Gt  *float64 `json:"gt,omitempty"`
	Gte *float64 `json:"gte,omitempty"`
}

// FieldCondition tests one custom field of the account.
type FieldCondition struct {
	Name   string `json:"name"`
	Eq     any    `json:"eq,omitempty"`
	Ne     any    `json:"ne,omitempty"`
	In     []any  `json:"in,omitempty"`
	Exists *bool  `json:"exists,omitempty"`
	Compare
}

// Facts is what conditions are evaluated against.
type Facts struct {
	Segment        string
	AccountStatus  string
	LifecycleStage string
	HealthScore    *float64 // nil: no snapshot yet
	HealthBand     string   // "" when unknown
	Fields         map[string]any
	EventReceived  func(name string) bool
}

// Holds evaluates the condition. Unknown facts (no health yet, a missing
// field) make a test false, so `not` of it true.
func (c *Condition) Holds(f Facts) bool {
	if c == nil {
		return true
	}
	if len(c.Segment) > 0 && !slices.Contains(c.Segment, f.Segment) {
		return false
	}
	if len(c.HealthBand) > 0 && !slices.Contains(c.HealthBand, f.HealthBand) {
		return false
	}
	if c.HealthScore != nil && (f.HealthScore == nil || !c.HealthScore.holds(*f.HealthScore)) {
		return false
	}
	if c.Field != nil && !c.Field.holds(f.Fields) {
		return false
	}
	if c.EventReceived != "" && (f.EventReceived == nil || !f.EventReceived(c.EventReceived)) {
		return false
	}
	if c.AccountStatus != "" && c.AccountStatus != f.AccountStatus {
		return false
	}
	if c.LifecycleStage != "" && c.LifecycleStage != f.LifecycleStage {
		return false
	}
	for i := range c.All {
		if !c.All[i].Holds(f) {
			return false
		}
	}
	if len(c.Any) > 0 && !slices.ContainsFunc(c.Any, func(a Condition) bool { return a.Holds(f) }) {
		return false
	}
	if c.Not != nil && c.Not.Holds(f) {
		return false
	}
	return true
}

func (c Compare) holds(v float64) bool {
	return (c.Lt == nil || v < *c.Lt) && (c.Lte == nil || v <= *c.Lte) &&
		(c.Gt == nil || v > *c.Gt) && (c.Gte == nil || v >= *c.Gte)
}

func (c Compare) empty() bool { return c.Lt == nil && c.Lte == nil && c.Gt == nil && c.Gte == nil }

func (fc *FieldCondition) holds(fields map[string]any) bool {
	v, ok := fields[fc.Name]
	if fc.Exists != nil && ok != *fc.Exists {
		return false
	}
	if fc.Eq != nil && !(ok && sameValue(v, fc.Eq)) {
		return false
	}
	if fc.Ne != nil && ok && sameValue(v, fc.Ne) {
		return false
	}
	if len(fc.In) > 0 && !(ok && slices.ContainsFunc(fc.In, func(x any) bool { return sameValue(v, x) })) {
		return false
	}
	if !fc.Compare.empty() {
		n, isNum := number(v)
		if !ok || !isNum || !fc.Compare.holds(n) {
			return false
		}
	}
	return true
}

// sameValue compares JSON-ish values; numbers compare by value whatever
// their Go type (YAML ints, JSON floats).
func sameValue(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch a.(type) {
	case string, bool:
		return a == b
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	return 0, false
}
