package playbook

import (
	_ "embed"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReferenceSection is one part of the language reference: the definition's
// keys, steps, triggers, conditions or durations.
type ReferenceSection struct {
	ID      string // the anchor: definition, step, trigger, condition, duration
	Title   string
	About   string
	Options []ReferenceOption // keys every entry of the section takes (a step's id, when...)
	Entries []ReferenceEntry
}

// ReferenceEntry is one thing a definition may say: a top-level key, a step
// kind, a trigger, a condition, durations.
type ReferenceEntry struct {
	ID      string // the anchor, stable: key-send_window, step-email, trigger-schedule, condition-health_band
	Name    string // as written in a definition
	About   string
	Type    string   // what its value is, in words
	Values  []string // the values it may take, where they are a closed list
	Options []ReferenceOption
	Example string // a fragment of a definition; ExampleDefinition completes it
}

// ReferenceOption is one key of an entry's mapping.
type ReferenceOption struct {
	Name     string
	Type     string
	Required bool
	About    string
	Values   []string
	Link     string // the anchor saying more about its type, or ""
}

//go:embed reference.yaml
var referenceExamples []byte

// examples are the reference's examples by anchor, read once.
var examples = func() map[string]string {
	out := map[string]string{}
	if err := yaml.Unmarshal(referenceExamples, &out); err != nil {
		panic("playbook: reference.yaml: " + err.Error())
	}
	return out
}()

// stepKeys are the keys any step may have besides its action; the action's
// own companions (then, else, on_timeout) are documented with it.
var stepKeys = []string{"id", "name", "at", "after", "when", "skip_if_late", "cite"}

// stepCompanions are the step keys that belong to an action.
var stepCompanions = map[string][]string{KindIf: {"then", "else"}, KindWaitFor: {"on_timeout"}}

// Reference is the language reference CS ops read (the console's
// /console/reference), generated from Schema(), which the validator's
// vocabularies, patterns and limits make: every top-level key, step kind,
// trigger and condition, each with an example that validates.
func Reference() []ReferenceSection {
	defs := Schema()["$defs"].(map[string]any)
	r := reader{defs: defs}

	definition := ReferenceSection{ID: "definition", Title: "The definition", About: r.about("Definition")}
	for _, key := range r.propertyNames("Definition") {
		e := r.entry("key-"+key, key, "Definition", key)
		if nested := r.refOf(r.prop("Definition", key)); nested != "" && nested != "Trigger" && nested != "Step" {
			e.Options = r.options(nested, nil)
		}
		definition.Entries = append(definition.Entries, e)
	}

	step := ReferenceSection{ID: "step", Title: "Steps", About: r.about("Step"), Options: r.options("Step", stepKeys)}
	for _, kind := range StepKinds {
		e := r.entry("step-"+kind, kind, "Step", kind)
		if def := r.refOf(r.prop("Step", kind)); def != "" && def != "Condition" {
			e.Options = r.options(def, nil)
		}
		for _, c := range stepCompanions[kind] {
			e.Options = append(e.Options, r.option("Step", c))
		}
		step.Entries = append(step.Entries, e)
	}

	trigger := ReferenceSection{ID: "trigger", Title: "Triggers", About: r.about("Trigger") + " " + docs["Trigger.on"],
		Options: []ReferenceOption{r.option("Trigger", "on")}}
	trigger.Options[0].About = "The trigger, one of those below."
	for _, on := range TriggerEvents {
		e := ReferenceEntry{ID: "trigger-" + on, Name: "on: " + on, About: triggerDocs[on], Example: examples["trigger-"+on]}
		for _, o := range triggerOptions {
			if slices.Contains(o.on, on) {
				opt := r.option("Trigger", o.field)
				opt.Required = o.required
				if o.field == "to" && on == "health_band" {
					opt.Values = HealthBands
				}
				e.Options = append(e.Options, opt)
			}
		}
		trigger.Entries = append(trigger.Entries, e)
	}

	condition := ReferenceSection{ID: "condition", Title: "Conditions", About: r.about("Condition") +
		" Conditions are written under a step's when or if and an exit rule's when."}
	for _, key := range r.propertyNames("Condition") {
		e := r.entry("condition-"+key, key, "Condition", key)
		if def := r.refOf(r.prop("Condition", key)); def != "" && def != "Condition" {
			e.Options = r.options(def, nil)
		}
		condition.Entries = append(condition.Entries, e)
	}

	duration := ReferenceSection{ID: "duration", Title: "Durations", About: "How a definition writes a length of time.", Entries: []ReferenceEntry{{
		ID: "duration-syntax", Name: "durations", Type: "text",
		About: fmt.Sprintf("Offsets, waits and deadlines (at, after, wait, within, due, expires_in, every, until, skip_if_late) are durations: %s. "+
			"Units are w (weeks), d (days), h, m and s. A top-level at may be negative before a renewal_date or contract_start anchor; "+
			"a schedule's every is whole days from %dd to %dd.", durationText(), MinScheduleEvery/Day, MaxScheduleEvery/Day),
		Values: []string{"pattern " + durationPattern}, Example: examples["duration-syntax"],
	}}}
	return []ReferenceSection{definition, step, trigger, condition, duration}
}

// durationText is what the schema says of a duration.
func durationText() string {
	return schemaOf(durationType, "", nil).(map[string]any)["description"].(string)
}

// ExampleDefinition completes an entry's example into a whole definition,
// as the reference's examples are checked: a key, a name and a step are
// added where the fragment has none.
func ExampleDefinition(fragment string) string {
	has := func(key string) bool {
		for _, line := range strings.Split(fragment, "\n") {
			if strings.HasPrefix(line, key+":") {
				return true
			}
		}
		return false
	}
	var b strings.Builder
	if !has("key") {
		b.WriteString("key: example\n")
	}
	if !has("name") {
		b.WriteString("name: Example\n")
	}
	b.WriteString(fragment)
	if !strings.HasSuffix(fragment, "\n") {
		b.WriteString("\n")
	}
	if !has("steps") {
		b.WriteString("steps:\n  - {id: example-step, wait: 1d}\n")
	}
	return b.String()
}

// reader reads the schema's definitions.
type reader struct{ defs map[string]any }

func (r reader) def(name string) map[string]any { return r.defs[name].(map[string]any) }

func (r reader) about(name string) string { d, _ := r.def(name)["description"].(string); return d }

func (r reader) prop(def, name string) map[string]any {
	p, _ := r.def(def)["properties"].(map[string]any)[name].(map[string]any)
	return p
}

// propertyNames are a definition's properties in the order its Go type
// declares them (the schema's map has none), then any others by name.
func (r reader) propertyNames(def string) []string {
	props := r.def(def)["properties"].(map[string]any)
	var names []string
	if v := structOf(def); v != nil {
		for _, n := range fieldNames(reflect.TypeOf(v)) {
			if _, ok := props[n]; ok {
				names = append(names, n)
			}
		}
	}
	var rest []string
	for n := range props {
		if !slices.Contains(names, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// refOf is the definition a property refers to, "" when none.
func (r reader) refOf(p map[string]any) string {
	if ref, ok := p["$ref"].(string); ok {
		return strings.TrimPrefix(ref, "#/$defs/")
	}
	if alts, ok := p["anyOf"].([]any); ok {
		for _, a := range alts {
			if name := r.refOf(a.(map[string]any)); name != "" {
				return name
			}
		}
	}
	return ""
}

// entry is the entry of a property: its description, type and values.
func (r reader) entry(id, name, def, prop string) ReferenceEntry {
	o := r.option(def, prop)
	return ReferenceEntry{ID: id, Name: name, About: o.About, Type: o.Type, Values: o.Values, Example: examples[id]}
}

// options are a definition's properties, only those named when only is
// not nil, in its order.
func (r reader) options(def string, only []string) []ReferenceOption {
	names := only
	if names == nil {
		names = r.propertyNames(def)
	}
	out := make([]ReferenceOption, 0, len(names))
	for _, n := range names {
		out = append(out, r.option(def, n))
	}
	return out
}

// option is a property as a reader needs it.
func (r reader) option(def, name string) ReferenceOption {
	p := r.prop(def, name)
	req, _ := r.def(def)["required"].([]string)
	o := ReferenceOption{Name: name, Required: slices.Contains(req, name)}
	o.About, _ = p["description"].(string)
	o.Type, o.Values, o.Link = r.typeOf(p)
	return o
}

// typeOf says what a value of the schema is, its vocabulary and where the
// reference says more.
func (r reader) typeOf(p map[string]any) (string, []string, string) {
	if ref := r.refOf(p); ref != "" {
		if ref == "CheckHealth" {
			return "nothing: the key alone", nil, ""
		}
		switch ref {
		case "Condition":
			return "a condition", nil, "condition"
		case "HealthScore":
			return "bounds: lt, lte, gt, gte (0 to 100)", nil, "condition-health_score"
		case "EmailAction":
			return "an email, as an email step's", nil, "step-email"
		case "Trigger":
			return "a trigger", nil, "trigger"
		}
		return "a mapping", nil, ""
	}
	if alts, ok := p["anyOf"].([]any); ok { // a text or a list of them
		t, values, link := r.typeOf(alts[0].(map[string]any))
		return "one or a list of: " + t, values, link
	}
	if p["pattern"] == durationPattern {
		return "duration", nil, "duration-syntax"
	}
	values := stringsOf(p["enum"])
	switch p["type"] {
	case "string":
		if len(values) > 0 {
			return "one of the values", values, ""
		}
		return "text", nil, ""
	case "integer":
		return "whole number", nil, ""
	case "number":
		return "number", nil, ""
	case "boolean":
		return "true or false", nil, ""
	case "object":
		return "a mapping", nil, ""
	case "array":
		items, _ := p["items"].(map[string]any)
		switch r.refOf(items) {
		case "Step":
			return "a list of steps", nil, "step"
		case "Condition":
			return "a list of conditions", nil, "condition"
		case "":
			if items["type"] == nil {
				return "a list of values", nil, ""
			}
		}
		return "a list of mappings", nil, ""
	}
	return "any value", nil, ""
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// structOf is a zero value of the language's type of the name, for its
// fields' order.
func structOf(name string) any {
	for _, v := range []any{Definition{}, Trigger{}, ExitRule{}, SendWindow{}, Template{}, Step{}, EmailAction{}, SurveyAction{},
		TaskAction{}, ApprovalAction{}, WaitFor{}, Repeat{}, StartPlaybook{}, UpdateAccount{}, Notify{}, Condition{}, FieldCondition{}} {
		if fmt.Sprintf("%T", v) == "playbook."+name {
			return v
		}
	}
	return nil
}

// ReferenceAnchor is the reference's entry an error's path is about, by
// its anchor: steps[2].survey.kind is about the survey step
// (step-survey), trigger.on about triggers (trigger),
// exit[0].when.all[1].health_band[0] about the health_band condition.
// The document as a whole ("") is about the definition.
func ReferenceAnchor(path string) string {
	segs := pathSegments(path)
	if len(segs) == 0 {
		return "definition"
	}
	first := segs[0]
	switch {
	case first.name == "steps" && first.item:
		return stepAnchor(segs[1:])
	case first.name == "trigger":
		return triggerAnchor(segs[1:])
	case first.name == "exit" && len(segs) > 2 && segs[1].name == "when":
		return conditionAnchor(segs[2:])
	case first.name == "templates" && len(segs) > 1 && slices.Contains([]string{"subject", "html", "text"}, segs[1].name):
		return "fields" // what a template may say: its fields (the console's part)
	case slices.Contains(definitionKeys, first.name):
		return "key-" + first.name
	}
	return "definition"
}

// segment is a part of an error's path: a field, maybe an item of it.
type segment struct {
	name string
	item bool // an index follows: steps[2]
}

func pathSegments(path string) []segment {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		name, _, item := strings.Cut(part, "[")
		out = append(out, segment{name: name, item: item})
	}
	return out
}

var (
	definitionKeys = fieldNames(reflect.TypeOf(Definition{}))
	conditionKeys  = fieldNames(reflect.TypeOf(Condition{}))
)

// stepAnchor is the anchor of a path inside a step (after steps[i]).
func stepAnchor(segs []segment) string {
	if len(segs) == 0 {
		return "step"
	}
	s := segs[0]
	nested := len(segs) > 1 && segs[1].item // a step list's item follows
	switch {
	case s.name == KindRepeat && nested && segs[1].name == "steps":
		return stepAnchor(segs[2:])
	case (s.name == "then" || s.name == "else" || s.name == "on_timeout") && s.item:
		return stepAnchor(segs[1:])
	case s.name == KindIf && len(segs) > 1, s.name == "when":
		return conditionAnchor(segs[1:])
	case slices.Contains(StepKinds, s.name):
		return "step-" + s.name
	}
	for kind, companions := range stepCompanions {
		if slices.Contains(companions, s.name) {
			return "step-" + kind
		}
	}
	return "step"
}

// conditionAnchor is the anchor of a path inside a condition: its deepest
// condition key.
func conditionAnchor(segs []segment) string {
	anchor := "condition"
	for i := 0; i < len(segs) && slices.Contains(conditionKeys, segs[i].name); i++ {
		s := segs[i]
		anchor = "condition-" + s.name
		if s.name == "not" || (s.name == "all" || s.name == "any") && s.item {
			continue // a condition inside: its keys say more
		}
		break
	}
	return anchor
}

// triggerAnchor is the anchor of a path inside the trigger: the trigger an
// option belongs to when only one takes it.
func triggerAnchor(segs []segment) string {
	if len(segs) == 0 {
		return "trigger"
	}
	for _, o := range triggerOptions {
		if o.field == segs[0].name && len(o.on) == 1 {
			return "trigger-" + o.on[0]
		}
	}
	return "trigger"
}
