package playbook

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
)

// A survey step is checked like an email step (roles, a template that
// exists) plus its kind; without a template it is sent with the kind's
// built-in one, which must exist. A survey_response trigger takes a
// category, and only it does. The served schema refuses what the validator
// refuses, and each error names its path.
func TestSurveyStepsAndTrigger(t *testing.T) {
	sch := servedSchema(t)
	opts := builtinOptions(t)
	ok := "key: k\nname: K\n"
	step := func(s string) string { return ok + "steps:\n  - " + s + "\n" }
	trigger := func(tr string) string { return ok + "trigger: " + tr + "\nsteps: [{id: a, wait: 1d}]\n" }
	tests := []struct {
		name, src   string
		opts        *Options // nil: the built-in templates
		path, msg   string   // "" when valid
		schemaKnows bool     // the schema refuses it too
	}{
		{name: "nps with the default template", src: step("{id: a, survey: {kind: nps, to: [champion, admin]}}")},
		{name: "csat with a built-in template", src: step("{id: a, survey: {kind: csat, to: champion, template: welcome}}")},
		{name: "any answer", src: trigger("{on: survey_response}")},
		{name: "detractors", src: trigger("{on: survey_response, category: detractor}")},
		{name: "no kind", src: step("{id: a, survey: {to: champion}}"),
			path: "steps[0].survey.kind", msg: "required: one of nps, csat", schemaKnows: true},
		{name: "unknown kind", src: step("{id: a, survey: {kind: ces, to: champion}}"),
			path: "steps[0].survey.kind", msg: `unknown value "ces"; one of nps, csat`, schemaKnows: true},
		{name: "no roles", src: step("{id: a, survey: {kind: nps}}"),
			path: "steps[0].survey.to", msg: "required: contact roles", schemaKnows: true},
		{name: "empty roles", src: step("{id: a, survey: {kind: nps, to: []}}"),
			path: "steps[0].survey.to", msg: "is empty: give contact roles", schemaKnows: true},
		{name: "unknown role", src: step("{id: a, survey: {kind: nps, to: [champion, boss]}}"),
			path: "steps[0].survey.to[1]", msg: `unknown role "boss"`, schemaKnows: true},
		{name: "unknown template", src: step("{id: a, survey: {kind: nps, to: champion, template: nope}}"),
			path: "steps[0].survey.template", msg: `unknown template "nope"`},
		{name: "unknown option", src: step("{id: a, survey: {kind: nps, to: champion, question: why}}"),
			path: "steps[0].survey.question", msg: "unknown field", schemaKnows: true},
		{name: "survey and email", src: step("{id: a, survey: {kind: nps, to: champion}, email: {template: welcome, to: champion}}"),
			path: "steps[0]", msg: "has several actions (email, survey)", schemaKnows: true},
		{name: "default template missing", src: step("{id: a, survey: {kind: csat, to: champion}}"), opts: &Options{BuiltinTemplates: []string{"welcome"}},
			path: "steps[0].survey.template", msg: "the built-in csat-survey is not defined"},
		{name: "unknown category", src: trigger("{on: survey_response, category: fan}"),
			path: "trigger.category", msg: `unknown value "fan"; one of promoter, passive, detractor`, schemaKnows: true},
		{name: "category on another trigger", src: trigger("{on: event, event: churned, category: promoter}"),
			path: "trigger.category", msg: "only with on: survey_response", schemaKnows: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.opts != nil {
				o = *tt.opts
			}
			def, err := Parse([]byte(tt.src), o)
			schemaErr := sch.Validate(instance(t, []byte(tt.src)))
			if tt.path == "" {
				require.NoError(t, err)
				require.NoError(t, schemaErr, "the served schema refuses a valid definition")
				if s := def.Steps[0]; s.Survey != nil {
					require.Equal(t, KindSurvey, s.Kind())
				}
				return
			}
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			found := false
			for _, e := range errs {
				found = found || e.Path == tt.path && strings.Contains(e.Message, tt.msg)
			}
			require.True(t, found, "no error at %q containing %q in %v", tt.path, tt.msg, err)
			if tt.schemaKnows {
				require.Error(t, schemaErr, "the served schema accepts it")
			}
		})
	}
}

// Without a template a survey goes out with its kind's built-in one.
func TestSurveyTemplateName(t *testing.T) {
	require.Equal(t, "nps-survey", (&SurveyAction{Kind: "nps"}).TemplateName())
	require.Equal(t, "csat-survey", (&SurveyAction{Kind: "csat"}).TemplateName())
	require.Equal(t, "mine", (&SurveyAction{Kind: "nps", Template: "mine"}).TemplateName())
	set, err := templates.Builtin()
	require.NoError(t, err)
	for _, kind := range []string{"nps", "csat"} {
		require.True(t, set.Has(DefaultSurveyTemplate(kind)), "no built-in template for %s", kind)
	}
}

// A definition's own template may range over .Survey.Options, the one list
// its data has, but over nothing else and not inside another range: nested
// ranges multiply, and a range over a number can spin without writing.
func TestOwnTemplatesRangeOnlyOverSurveyOptions(t *testing.T) {
	own := func(text string) string {
		return "key: k\nname: K\ntemplates:\n  - name: s\n    subject: S\n    html: '<p>x</p>'\n    text: '" + text +
			"'\nsteps: [{id: a, survey: {kind: nps, to: champion, template: s}}]\n"
	}
	tests := []struct{ name, text, msg string }{
		{"over the options", "{{range .Survey.Options}}{{.Score}}: {{.URL}} {{end}}", ""},
		{"from the root", "{{with .Account}}{{range $i, $o := $.Survey.Options}}{{$i}} {{$o.Label}}{{end}}{{end}}", ""},
		{"with an else", "{{range .Survey.Options}}{{.Score}}{{else}}no survey{{end}}", ""},
		{"over a number", "{{range 1000000}}{{end}}", "must not use {{range}} but over .Survey.Options"},
		{"over a map", "{{range .Metrics.Components}}{{.}}{{end}}", "must not use {{range}} but over .Survey.Options"},
		{"nested", "{{range .Survey.Options}}{{range .Survey.Options}}x{{end}}{{end}}", "inside a {{range}} over .Survey.Options"},
		{"nested in an if", "{{range .Survey.Options}}{{if .Label}}{{range 9}}{{end}}{{end}}{{end}}", "must not use {{range}} but over"},
		{"include inside", "{{range .Survey.Options}}{{template \"x\"}}{{end}}", "must not use {{template}}"},
		{"wrong field inside", "{{range .Survey.Options}}{{.Link}}{{end}}", ".Link is not a field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(own(tt.text)), builtinOptions(t))
			if tt.msg == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.msg)
		})
	}
}

// The survey test definition is valid and its steps are surveys.
func TestSurveyDefinitionFile(t *testing.T) {
	src, err := os.ReadFile("testdata/survey-follow-up.yaml")
	require.NoError(t, err)
	def, err := Parse(src, builtinOptions(t))
	require.NoError(t, err)
	require.Equal(t, "detractor", def.Trigger.Category)
	require.Equal(t, KindSurvey, def.Steps[1].Kind())
	require.Equal(t, "short-csat", def.Steps[2].Survey.TemplateName())
}

// The language's survey words are package survey's, in its order.
func TestSurveyWordsAreTheSurveyPackages(t *testing.T) {
	require.Equal(t, survey.Kinds, SurveyKinds)
	require.Equal(t, survey.Categories, SurveyCategories)
	require.Equal(t, survey.EventName, "survey_response")
	require.Contains(t, TriggerEvents, survey.EventName)
}
