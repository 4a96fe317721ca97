package playbook

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// referenceEntries are the reference's entries by anchor.
func referenceEntries(t *testing.T) map[string]ReferenceEntry {
	t.Helper()
	out := map[string]ReferenceEntry{}
	for _, s := range Reference() {
		require.NotContains(t, out, s.ID, "anchor %s twice", s.ID)
		out[s.ID] = ReferenceEntry{ID: s.ID, Name: s.Title, About: s.About}
		for _, e := range s.Entries {
			require.NotContains(t, out, e.ID, "anchor %s twice", e.ID)
			out[e.ID] = e
		}
	}
	return out
}

// Every step kind, trigger, condition and top-level key the validator
// knows has an entry, with a description and an example: a new one
// without its entry fails here.
func TestReferenceCoversTheLanguage(t *testing.T) {
	entries := referenceEntries(t)
	var want []string
	for _, k := range StepKinds {
		want = append(want, "step-"+k)
	}
	for _, on := range TriggerEvents {
		want = append(want, "trigger-"+on)
	}
	for _, k := range fieldNames(reflect.TypeOf(Condition{})) {
		want = append(want, "condition-"+k)
	}
	for _, k := range fieldNames(reflect.TypeOf(Definition{})) {
		want = append(want, "key-"+k)
	}
	require.Greater(t, len(want), 40)
	for _, id := range append(want, "definition", "step", "trigger", "condition", "duration", "duration-syntax") {
		e, ok := entries[id]
		if !ok {
			t.Errorf("the reference has no entry %s", id)
			continue
		}
		require.NotEmpty(t, strings.TrimSpace(e.About), "%s has no description", id)
	}
	for id, e := range entries {
		if strings.Contains(id, "-") {
			require.NotEmpty(t, e.Example, "%s has no example", id)
		}
	}
	// No example is left over from an entry that went away.
	for id := range examples {
		require.Contains(t, entries, id, "reference.yaml has an example for %s, which is no entry", id)
	}
}

// Each example is real YAML that the validator accepts, with the
// built-in templates and the templates' type-check, and shows what its
// entry is about.
func TestReferenceExamplesValidate(t *testing.T) {
	opts := builtinOptions(t)
	for id, e := range referenceEntries(t) {
		if e.Example == "" {
			continue
		}
		t.Run(id, func(t *testing.T) {
			var fragment map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(e.Example), &fragment), "not a YAML mapping")
			src := ExampleDefinition(e.Example)
			_, err := Parse([]byte(src), opts)
			require.NoError(t, err, "%s", src)
			kind, name, _ := strings.Cut(id, "-")
			switch kind {
			case "step", "condition", "key":
				require.Contains(t, e.Example, name+":", "the example does not show %s", name)
			case "trigger":
				require.Contains(t, e.Example, "on: "+name)
			}
		})
	}
}

// The entries are the schema's: a property's description and vocabulary.
func TestReferenceIsTheSchemas(t *testing.T) {
	entries := referenceEntries(t)
	require.Equal(t, docs["Step.survey"], entries["step-survey"].About)
	require.Equal(t, HealthBands, entries["condition-health_band"].Values)
	require.Equal(t, "key-templates", ReferenceAnchor("templates"))
	survey := entries["step-survey"].Options
	require.Equal(t, "kind", survey[0].Name)
	require.True(t, survey[0].Required)
	require.Equal(t, SurveyKinds, survey[0].Values)
	var band ReferenceOption
	for _, o := range entries["trigger-health_band"].Options {
		if o.Name == "to" {
			band = o
		}
	}
	require.True(t, band.Required)
	require.Equal(t, HealthBands, band.Values)
	require.Contains(t, entries["duration-syntax"].About, "at most 3650 days")
	wait := entries["step-wait_for"].Options
	require.Equal(t, []string{"event", "within", "on_timeout"}, []string{wait[0].Name, wait[1].Name, wait[2].Name})
	require.Equal(t, "duration-syntax", wait[1].Link)
	described := Schema()["$defs"].(map[string]any)["Step"].(map[string]any)["properties"].(map[string]any)["wait"].(map[string]any)["description"]
	require.Contains(t, described, "Pause the run for this long. A duration: whole numbers with units")
}

func TestReferenceAnchor(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "definition"},
		{"colour", "definition"},
		{"key", "key-key"},
		{"send_window.start", "key-send_window"},
		{"segments[1]", "key-segments"},
		{"exit[0].outcome", "key-exit"},
		{"exit[0].when", "key-exit"},
		{"exit[0].when.account_status", "condition-account_status"},
		{"exit[1].when.all[1].health_band[0]", "condition-health_band"},
		{"templates[0].name", "key-templates"},
		{"templates[0].html", "fields"},
		{"trigger", "trigger"},
		{"trigger.on", "trigger"},
		{"trigger.to", "trigger"},
		{"trigger.days_before", "trigger-renewal_window"},
		{"trigger.every", "trigger-schedule"},
		{"trigger.category", "trigger-survey_response"},
		{"steps", "key-steps"},
		{"steps[0]", "step"},
		{"steps[0].id", "step"},
		{"steps[3].at", "step"},
		{"steps[0].emial", "step"},
		{"steps[2].survey.kind", "step-survey"},
		{"steps[2].survey.to[1]", "step-survey"},
		{"steps[0].approval.email.template", "step-approval"},
		{"steps[0].check_health", "step-check_health"},
		{"steps[0].when", "condition"},
		{"steps[0].when.helth_band", "condition"},
		{"steps[0].when.health_band[0]", "condition-health_band"},
		{"steps[0].when.not.segment[0]", "condition-segment"},
		{"steps[0].when.not", "condition-not"},
		{"steps[0].when.any[2]", "condition-any"},
		{"steps[0].when.field.name", "condition-field"},
		{"steps[0].if", "step-if"},
		{"steps[0].if.health_score.lt", "condition-health_score"},
		{"steps[0].then", "step-if"},
		{"steps[0].else[1].notify.url", "step-notify"},
		{"steps[0].on_timeout", "step-wait_for"},
		{"steps[0].on_timeout[0].task.assignee", "step-task"},
		{"steps[0].repeat.every", "step-repeat"},
		{"steps[0].repeat.steps", "step-repeat"},
		{"steps[0].repeat.steps[0].wait", "step-wait"},
		{"steps[0].repeat.steps[0].then[0].when.event_received", "condition-event_received"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ReferenceAnchor(tt.path), tt.path)
	}
}

// Every error the validator gives, on definitions with many kinds of
// mistake, links to an entry the reference has.
func TestErrorsLinkToEntries(t *testing.T) {
	entries := referenceEntries(t)
	opts := builtinOptions(t)
	bad := []string{
		"key: Big Key\nname: ' '\nanchor: signup\ncolour: red\nsegments: [huge]\npriority: 500\n" +
			"trigger: {on: renewal_window, days_before: 999, signal: x}\nsend_window: {start: 9am}\n" +
			"exit: [{when: {all: [{health_band: [purple]}, {}]}, outcome: Bad!}]\n" +
			"templates: [{name: n, subject: '{{.Nope}}', html: h, text: t}]\n" +
			"steps:\n" +
			"  - {id: a, wait: 3 days, at: -1d}\n" +
			"  - {id: b, survey: {kind: ces, to: [boss]}}\n" +
			"  - {id: c, if: {health_score: {lt: 500}}, then: [{id: d, task: {title: ' ', assignee: cms}}]}\n" +
			"  - {id: e, wait_for: {event: First}, on_timeout: [{id: f, notify: {message: hi}}]}\n" +
			"  - {id: g, repeat: {every: 1d, steps: [{id: h, start_playbook: {key: Big Key}}]}}\n" +
			"  - {id: i, update_account: {status: paused}, when: {not: {field: {eq: 1}}}}\n" +
			"  - {id: j, approval: {assignee: csm, on_reject: maybe, email: {to: champion}}}\n" +
			"  - {id: k}\n",
		"key: k\nname: K\ntrigger: {on: schedule, every: 3d, anchor: renewal_date}\nsteps: [{id: a, email: {template: nope, to: []}}]\n",
	}
	seen := 0
	for _, src := range bad {
		_, err := Parse([]byte(src), opts)
		var errs Errors
		require.True(t, errors.As(err, &errs), "%v", err)
		for _, e := range errs {
			anchor := ReferenceAnchor(e.Path)
			if anchor == "fields" {
				continue // the template fields' entries are the console's (templates.Fields)
			}
			require.Contains(t, entries, anchor, "%s (%s)", e.Path, e.Message)
			seen++
		}
	}
	require.Greater(t, seen, 25)
}
