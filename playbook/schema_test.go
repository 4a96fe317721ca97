package playbook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/templates"
)

// servedSchema compiles Schema(), which GET /v1/playbooks/schema.json serves,
// with a real JSON Schema validator.
func servedSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := json.Marshal(Schema())
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("playbook.json", doc))
	sch, err := c.Compile("playbook.json")
	require.NoError(t, err)
	return sch
}

// instance is a YAML or JSON definition as the JSON a schema validates.
func instance(t *testing.T, src []byte) any {
	t.Helper()
	var x any
	require.NoError(t, yaml.Unmarshal(src, &x))
	raw, err := json.Marshal(x)
	require.NoError(t, err)
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	return v
}

// builtinOptions are the options the service validates with.
func builtinOptions(t *testing.T) Options {
	set, err := templates.Builtin()
	require.NoError(t, err)
	return Options{BuiltinTemplates: set.Names(), CheckTemplate: templates.Check}
}

// corpus is every definition the repository holds: the built-ins, the test
// data and the fuzz corpora of the parser and of the API.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"../playbooks/builtin/*.yaml", "testdata/*.yaml", "testdata/*.json", "../api/testdata/*.yaml", "../api/testdata/*.json"} {
		files, err := filepath.Glob(pattern)
		require.NoError(t, err)
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			out[f] = src
		}
	}
	for _, dir := range []string{"testdata/fuzz/FuzzParse", "../api/testdata/fuzz/FuzzAPIBodies"} {
		files, err := filepath.Glob(dir + "/*")
		require.NoError(t, err)
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			for i, line := range strings.Split(string(src), "\n") {
				if lit, ok := strings.CutPrefix(line, "[]byte("); ok {
					body, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
					require.NoError(t, err, "%s:%d", f, i+1)
					out[f] = []byte(body)
				}
			}
		}
	}
	return out
}

// What the validator accepts, the served schema accepts: every built-in and
// every definition in the test data. (The schema cannot say everything the
// validator does, so the converse is the table below.)
func TestServedSchemaAcceptsEveryValidDefinition(t *testing.T) {
	sch := servedSchema(t)
	opts := builtinOptions(t)
	valid := 0
	builtins := 0
	for name, src := range corpus(t) {
		_, err := Parse(src, opts)
		if strings.Contains(name, "builtin") {
			require.NoError(t, err, name)
			builtins++
		}
		if err != nil {
			continue
		}
		valid++
		if err := sch.Validate(instance(t, src)); err != nil {
			t.Errorf("%s is valid, but the served schema refuses it:\n%v", name, err)
		}
	}
	require.Equal(t, 20, builtins)
	require.GreaterOrEqual(t, valid, 8, "the corpus holds few valid definitions")
}

// Definitions both the schema and the validator refuse.
func TestServedSchemaAndValidatorRefuseTheSame(t *testing.T) {
	sch := servedSchema(t)
	opts := builtinOptions(t)
	ok := "key: k\nname: K\n"
	step := func(s string) string { return ok + "steps:\n  - " + s + "\n" }
	tests := map[string]string{
		"band trigger to a role":       ok + "trigger: {on: health_band, to: champion}\nsteps: [{id: a, wait: 1d}]\n",
		"band trigger without band":    ok + "trigger: {on: health_band}\nsteps: [{id: a, wait: 1d}]\n",
		"signal on another trigger":    ok + "trigger: {on: account_created, signal: usage_decline}\nsteps: [{id: a, wait: 1d}]\n",
		"unknown signal":               ok + "trigger: {on: risk_signal, signal: churn}\nsteps: [{id: a, wait: 1d}]\n",
		"days before out of range":     "key: k\nname: K\nanchor: renewal_date\ntrigger: {on: renewal_window, days_before: 999}\nsteps: [{id: a, wait: 1d}]\n",
		"schedule without every":       ok + "trigger: {on: schedule}\nsteps: [{id: a, wait: 1d}]\n",
		"every not a duration":         ok + "trigger: {on: schedule, every: quarterly}\nsteps: [{id: a, wait: 1d}]\n",
		"unknown schedule anchor":      ok + "trigger: {on: schedule, every: 13w, anchor: renewal_date}\nsteps: [{id: a, wait: 1d}]\n",
		"every on another trigger":     ok + "trigger: {on: expansion, every: 13w}\nsteps: [{id: a, wait: 1d}]\n",
		"anchor on another trigger":    ok + "trigger: {on: account_created, anchor: created}\nsteps: [{id: a, wait: 1d}]\n",
		"trigger without on":           ok + "trigger: {to: red}\nsteps: [{id: a, wait: 1d}]\n",
		"unknown field":                ok + "colour: red\nsteps: [{id: a, wait: 1d}]\n",
		"missing key":                  "name: K\nsteps: [{id: a, wait: 1d}]\n",
		"key with spaces":              "key: Big Key\nname: K\nsteps: [{id: a, wait: 1d}]\n",
		"blank name":                   "key: k\nname: '  '\nsteps: [{id: a, wait: 1d}]\n",
		"no steps":                     ok + "steps: []\n",
		"unknown anchor":               ok + "anchor: signup\nsteps: [{id: a, wait: 1d}]\n",
		"unknown segment":              ok + "segments: [huge]\nsteps: [{id: a, wait: 1d}]\n",
		"bad clock":                    ok + "send_window: {start: 9am, end: '17:00'}\nsteps: [{id: a, wait: 1d}]\n",
		"window without end":           ok + "send_window: {start: '09:00'}\nsteps: [{id: a, wait: 1d}]\n",
		"unknown weekday":              ok + "send_window: {days: [monday], start: '09:00', end: '17:00'}\nsteps: [{id: a, wait: 1d}]\n",
		"bad outcome":                  ok + "exit: [{when: {account_status: churned}, outcome: Churned!}]\nsteps: [{id: a, wait: 1d}]\n",
		"blank template subject":       ok + "templates: [{name: n, subject: ' ', html: h, text: t}]\nsteps: [{id: a, wait: 1d}]\n",
		"template without text":        ok + "templates: [{name: n, subject: s, html: h}]\nsteps: [{id: a, wait: 1d}]\n",
		"template name with spaces":    ok + "templates: [{name: My Note, subject: s, html: h, text: t}]\nsteps: [{id: a, wait: 1d}]\n",
		"step without id":              step("{wait: 1d}"),
		"bad step id":                  step("{id: Step One, wait: 1d}"),
		"blank step name":              step("{id: a, name: '  ', wait: 1d}"),
		"step name too long":           step("{id: a, name: " + strings.Repeat("x", MaxStepName+1) + ", wait: 1d}"),
		"step name on two lines":       step("{id: a, name: \"Call\\nthem\", wait: 1d}"),
		"two actions":                  step("{id: a, wait: 1d, task: {title: T, assignee: csm}}"),
		"no action":                    step("{id: a}"),
		"bad duration":                 step("{id: a, wait: 3 days}"),
		"units out of order":           step("{id: a, wait: 12h1d}"),
		"unit twice":                   step("{id: a, wait: 1d1d}"),
		"duration as a number":         step("{id: a, wait: 3}"),
		"template and sendgrid id":     step("{id: a, email: {template: welcome, sendgrid_template_id: d-0123456789abcdef0123456789abcdef, to: champion}}"),
		"email without template":       step("{id: a, email: {to: champion}}"),
		"bad sendgrid id":              step("{id: a, email: {sendgrid_template_id: d-123, to: champion}}"),
		"unknown contact role":         step("{id: a, email: {template: welcome, to: [boss]}}"),
		"no contact roles":             step("{id: a, email: {template: welcome, to: []}}"),
		"unknown assignee":             step("{id: a, task: {title: T, assignee: cms}}"),
		"blank task title":             step("{id: a, task: {title: ' ', assignee: csm}}"),
		"unknown priority":             step("{id: a, task: {title: T, assignee: csm, priority: asap}}"),
		"approval without email":       step("{id: a, approval: {assignee: csm}}"),
		"unknown on_reject":            step("{id: a, approval: {assignee: csm, on_reject: maybe, email: {template: welcome, to: champion}}}"),
		"bad event":                    step("{id: a, wait_for: {event: First Login}}"),
		"score out of range":           step("{id: a, if: {health_score: {lt: 500}}, then: [{id: b, wait: 1d}]}"),
		"score without bound":          step("{id: a, if: {health_score: {}}, then: [{id: b, wait: 1d}]}"),
		"empty condition":              step("{id: a, when: {}, wait: 1d}"),
		"unknown band in condition":    step("{id: a, when: {health_band: [purple]}, wait: 1d}"),
		"unknown account status":       step("{id: a, when: {account_status: paused}, wait: 1d}"),
		"repeat without end":           step("{id: a, repeat: {every: 1d, steps: [{id: b, wait: 1h}]}}"),
		"repeat negative times":        step("{id: a, repeat: {every: 1d, times: -1, until: 3d, steps: [{id: b, wait: 1h}]}}"),
		"repeat too often":             step("{id: a, repeat: {every: 1d, times: 5000, steps: [{id: b, wait: 1h}]}}"),
		"repeat without steps":         step("{id: a, repeat: {every: 1d, times: 2, steps: []}}"),
		"start without key":            step("{id: a, start_playbook: {}}"),
		"update nothing":               step("{id: a, update_account: {}}"),
		"unknown account status set":   step("{id: a, update_account: {status: paused}}"),
		"notify without message":       step("{id: a, notify: {url: 'https://hooks.example.com/x'}}"),
		"check_health with an option":  step("{id: a, check_health: {fresh: true}}"),
		"field condition without name": step("{id: a, when: {field: {eq: 1}}, wait: 1d}"),
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(src), opts)
			var errs Errors
			require.True(t, errors.As(err, &errs), "the validator accepts it")
			require.Error(t, sch.Validate(instance(t, []byte(src))), "the schema accepts it; the validator says %v", err)
		})
	}
}

// Orange, the high-risk band of four-band health models, is a band like the
// others in triggers and conditions, for the validator and the served
// schema alike; a name that is no band is still refused by both.
func TestOrangeBand(t *testing.T) {
	sch := servedSchema(t)
	opts := builtinOptions(t)
	ok := "key: k\nname: K\n"
	tests := []struct {
		name    string
		src     string
		path    string // "" when valid
		message string
	}{
		{"trigger to orange", ok + "trigger: {on: health_band, to: orange}\nsteps: [{id: a, wait: 1d}]\n", "", ""},
		{"condition on orange", ok + "steps:\n  - {id: a, when: {health_band: [orange, red]}, wait: 1d}\n", "", ""},
		{"if on orange", ok + "steps:\n  - {id: a, if: {health_band: [orange]}, then: [{id: b, wait: 1d}]}\n", "", ""},
		{"trigger to amber", ok + "trigger: {on: health_band, to: amber}\nsteps: [{id: a, wait: 1d}]\n",
			"trigger.to", `unknown value "amber"; one of green, yellow, orange, red`},
		{"condition on amber", ok + "steps:\n  - {id: a, when: {health_band: [orange, amber]}, wait: 1d}\n",
			"steps[0].when.health_band[1]", "green, yellow, orange, red"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := Parse([]byte(tt.src), opts)
			schemaErr := sch.Validate(instance(t, []byte(tt.src)))
			if tt.path == "" {
				require.NoError(t, err)
				require.NoError(t, schemaErr, "the served schema refuses a valid definition")
				if def.Trigger != nil {
					require.Equal(t, "orange", def.Trigger.To)
				}
				return
			}
			require.Error(t, schemaErr, "the served schema accepts it")
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			found := false
			for _, e := range errs {
				found = found || e.Path == tt.path && strings.Contains(e.Message, tt.message)
			}
			require.True(t, found, "no error at %q containing %q in %v", tt.path, tt.message, err)
		})
	}
	facts := Facts{HealthBand: "orange"}
	require.True(t, (&Condition{HealthBand: []string{"orange", "red"}}).Holds(facts))
	require.False(t, (&Condition{HealthBand: []string{"yellow"}}).Holds(facts))
}

// The language's bands are the scoring package's, in its order.
func TestHealthBandsAreTheModelsBands(t *testing.T) {
	require.Equal(t, health.BandNames, HealthBands)
}
