package playbook

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/templates"
)

var checked = Options{BuiltinTemplates: []string{"welcome", "qbr-invite"}, CheckTemplate: templates.Check}

// Templates are type-checked against the data they render over when the
// definition is validated, not when the email goes out; each error names the
// template, the part and the line, and sits at that line of the source.
func TestTemplatesAreTypeCheckedAtValidation(t *testing.T) {
	own := func(part string) string {
		parts := map[string]string{"subject": "'Hi {{.Account.Name}}'", "html": "'<p>Hi</p>'", "text": "'Hi'"}
		parts[strings.Fields(part)[0]] = part[len(strings.Fields(part)[0])+1:]
		return "key: k\nname: K\ntemplates:\n  - name: note\n    subject: " + parts["subject"] + "\n    html: " + parts["html"] + "\n    text: " + parts["text"] +
			"\nsteps: [{id: a, email: {template: note, to: champion}}]\n"
	}
	tests := []struct {
		name, src, path string
		line            int
		message         string
	}{
		{"unknown field in the html", own("html |\n      <p>Hi {{.Contact.FirstName}},</p>\n      <p>Your score: {{.Health.Score}}</p>\n      <p>{{.Nonsense.Thing}}</p>"),
			"templates[0].html", 9, `template "note", line 3 of the html: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health`},
		{"unknown field in the subject", own("subject 'Hi {{.Contact.Nmae}}'"),
			"templates[0].subject", 5, `template "note", line 1 of the subject: .Contact.Nmae is not a field of .Contact; fields: Name, Email, FirstName`},
		{"unknown function in the text", own("text |\n      Hi\n      {{upper .Account.Name}}"),
			"templates[0].text", 9, `template "note", line 2 of the text: not a valid Go template: function "upper" not defined`},
		{"bad pipeline", own("text '{{.Account.Name | .CSM.Name}}'"),
			"templates[0].text", 7, "line 1 of the text: .CSM.Name is a value, not a function"},
		{"comparison of unlike numbers", own("text '{{if gt .Account.ARR 100000}}big{{end}}'"),
			"templates[0].text", 7, "gt cannot compare .Account.ARR (a decimal number) with 100000 (a whole number); write 100000.0"},
		{"html escaping", own("html '<a href=\"{{.CSM.Email}}'"),
			"templates[0].html", 6, "the html ends inside a tag"},
		{"include", own("text '{{template \"subject\" .}}'"),
			"templates[0].text", 7, "must not use {{template}}"},
		{"range", own("text |\n      Hi\n      {{range 3}}x{{end}}"),
			"templates[0].text", 9, "line 2 of the text: must not use {{range}}"},
		{"notify message", "key: k\nname: K\nsteps:\n  - id: a\n    notify:\n      url: https://hooks.example.com/x\n      message: |\n        Heads up:\n        {{.Account.Nmae}} is red\n",
			"steps[0].notify.message", 9, "line 2 of the message: .Account.Nmae is not a field of .Account"},
		{"json", `{"key":"k","name":"K","templates":[{"name":"note","subject":"s","html":"<p>x</p>",` + "\n" + `"text":"Hi\n{{.Nonsense}}"}],"steps":[{"id":"a","email":{"template":"note","to":"champion"}}]}`,
			"templates[0].text", 2, "line 2 of the text: .Nonsense is not a field of the data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), checked)
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			require.Len(t, errs, 1, "%v", errs)
			require.Equal(t, tt.path, errs[0].Path)
			require.Contains(t, errs[0].Message, tt.message)
			require.Equal(t, tt.line, errs[0].Line, errs[0].Message)
		})
	}
	// What renders is accepted: every documented field, first names, and
	// the comparisons that work.
	var all strings.Builder
	for _, f := range templates.Fields() {
		all.WriteString("      " + f.Name + ": {{" + f.Name + "}}\n")
	}
	src := own("text |\n" + all.String() + "      {{if lt .Health.Score 50}}low{{end}}{{if gt .Account.ARR 100000.0}}big{{end}}{{with .Health.Band}}{{.}}{{end}}")
	_, err := Parse([]byte(src), checked)
	require.NoError(t, err)
}

// Every error carries the line of its path, the validator's as well as the
// decoder's; a missing field is placed at its parent.
func TestEveryErrorHasItsLine(t *testing.T) {
	src := `key: Big Key
name: K
trigger: {on: health_band, to: champion}
send_window:
  start: "9am"
  end: "17:00"
steps:
  - id: a
    task:
      title: T
      assignee: cms
  - id: b
    email: {template: nope, to: [boss]}
  - id: c
    wait_for: {event: First Login}
  - id: d
    approval:
      email: {template: welcome, to: champion}
`
	_, err := Parse([]byte(src), checked)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	lines := map[string]int{}
	for _, e := range errs {
		require.Positive(t, e.Line, "%s has no line", e)
		lines[e.Path] = e.Line
	}
	require.Equal(t, map[string]int{
		"key": 1, "trigger.to": 3, "send_window.start": 5, "steps[0].task.assignee": 11,
		"steps[1].email.template": 13, "steps[1].email.to[0]": 13, "steps[2].wait_for.event": 15,
		"steps[3].approval.assignee": 17,
	}, lines)

	// Errors found after parsing get their lines from the source too.
	src = "key: k\nname: K\nsteps:\n  - id: a\n    wait: 1d\n  - id: b\n    start_playbook: {key: ghost}\n"
	def, err := Parse([]byte(src), checked)
	require.NoError(t, err)
	err = CheckStarts(def, map[string][]string{})
	require.True(t, errors.As(err, &errs))
	require.Equal(t, Errors{{Path: "steps[1].start_playbook.key", Line: 7, Message: `unknown playbook "ghost": no published playbook has this key`}},
		Locate([]byte(src), errs))
}

// "required" is for what is absent; a value that is there but wrong is told
// what is wrong with it.
func TestPresentButWrongIsNotRequired(t *testing.T) {
	tests := []struct{ name, src, path, message string }{
		{"key", "key: Big Key\nname: K\nsteps: [{id: a, wait: 1d}]\n", "key", `must be lower-case letters, digits and '-', at most 63, such as "onboarding"; "Big Key" is not`},
		{"step id", "key: k\nname: K\nsteps: [{id: Step One, wait: 1d}]\n", "steps[0].id", `"Step One" is not`},
		{"band", "key: k\nname: K\ntrigger: {on: health_band, to: champion}\nsteps: [{id: a, wait: 1d}]\n", "trigger.to", `unknown value "champion"; one of green, yellow, orange, red`},
		{"signal", "key: k\nname: K\ntrigger: {on: risk_signal, signal: churn}\nsteps: [{id: a, wait: 1d}]\n", "trigger.signal", `unknown value "churn"`},
		{"days before", "key: k\nname: K\nanchor: renewal_date\ntrigger: {on: renewal_window, days_before: 999}\nsteps: [{id: a, wait: 1d}]\n", "trigger.days_before", "999 is not a number of days from 1 to 730"},
		{"clock", "key: k\nname: K\nsend_window: {start: 9am, end: '17:00'}\nsteps: [{id: a, wait: 1d}]\n", "send_window.start", `"9am" is not`},
		{"outcome", "key: k\nname: K\nexit: [{when: {account_status: churned}, outcome: Churned!}]\nsteps: [{id: a, wait: 1d}]\n", "exit[0].outcome", `"Churned!" is not`},
		{"event", "key: k\nname: K\nsteps: [{id: a, wait_for: {event: First Login}}]\n", "steps[0].wait_for.event", `"First Login" is not`},
		{"start key", "key: k\nname: K\nsteps: [{id: a, start_playbook: {key: Red Recovery}}]\n", "steps[0].start_playbook.key", `"Red Recovery" is not`},
		{"template name", "key: k\nname: K\ntemplates: [{name: My Note, subject: s, html: h, text: t}]\nsteps: [{id: a, wait: 1d}]\n", "templates[0].name", `"My Note" is not`},
		{"blank name", "key: k\nname: '  '\nsteps: [{id: a, wait: 1d}]\n", "name", "is blank"},
		{"blank title", "key: k\nname: K\nsteps: [{id: a, task: {title: ' ', assignee: csm}}]\n", "steps[0].task.title", "is blank"},
		{"empty steps", "key: k\nname: K\nsteps: []\n", "steps", "is empty"},
		{"empty roles", "key: k\nname: K\nsteps: [{id: a, email: {template: welcome, to: []}}]\n", "steps[0].email.to", "is empty"},
		{"empty then", "key: k\nname: K\nsteps: [{id: a, if: {segment: smb}, then: []}]\n", "steps[0].then", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), checked)
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			for _, e := range errs {
				if e.Path == tt.path {
					require.Contains(t, e.Message, tt.message)
					require.NotContains(t, e.Message, "required")
					return
				}
			}
			t.Fatalf("no error at %s in %v", tt.path, errs)
		})
	}
	// Absent, it is required.
	for path, src := range map[string]string{
		"key":                         "name: K\nsteps: [{id: a, wait: 1d}]\n",
		"trigger.to":                  "key: k\nname: K\ntrigger: {on: health_band}\nsteps: [{id: a, wait: 1d}]\n",
		"steps":                       "key: k\nname: K\n",
		"steps[0].id":                 "key: k\nname: K\nsteps: [{wait: 1d}]\n",
		"steps[0].task.assignee":      "key: k\nname: K\nsteps: [{id: a, task: {title: T}}]\n",
		"steps[0].wait_for.event":     "key: k\nname: K\nsteps: [{id: a, wait_for: {within: 1d}}]\n",
		"templates[0].text":           "key: k\nname: K\ntemplates: [{name: n, subject: s}]\nsteps: [{id: a, wait: 1d}]\n",
		"steps[0].email.to":           "key: k\nname: K\nsteps: [{id: a, email: {template: welcome}}]\n",
		"steps[0].notify.url":         "key: k\nname: K\nsteps: [{id: a, notify: {message: hi}}]\n",
		"steps[0].repeat.every":       "key: k\nname: K\nsteps: [{id: a, repeat: {times: 2, steps: [{id: b, wait: 1d}]}}]\n",
		"trigger.days_before":         "key: k\nname: K\nanchor: renewal_date\ntrigger: {on: renewal_window}\nsteps: [{id: a, wait: 1d}]\n",
		"steps[0].start_playbook.key": "key: k\nname: K\nsteps: [{id: a, start_playbook: {}}]\n",
	} {
		t.Run("absent "+path, func(t *testing.T) { requireErrorAtWith(t, checked, src, path, "required") })
	}
}

func requireErrorAtWith(t *testing.T, opts Options, src, path, message string) {
	t.Helper()
	_, err := Parse([]byte(src), opts)
	require.ErrorContains(t, err, fmt.Sprintf("%s (line", path))
	var errs Errors
	require.True(t, errors.As(err, &errs))
	for _, e := range errs {
		if e.Path == path && strings.Contains(e.Message, message) {
			return
		}
	}
	t.Fatalf("no error at %q containing %q in:\n%v", path, message, err)
}

// A definition's own template may give subject and text alone (the layout
// makes the html); one with neither text nor html is still refused, and so
// is one with html but no text (plain-text readers get nothing).
func TestOwnTemplateIsTextFirst(t *testing.T) {
	src := func(parts string) string {
		return "key: k\nname: K\ntemplates: [{name: note, subject: 'Hi {{.Account.Name}}'" + parts + "}]\n" +
			"steps: [{id: a, email: {template: note, to: [champion]}}]\n"
	}
	def, err := Parse([]byte(src(", text: 'Hello **{{.Contact.FirstName}}**, see [the guide](https://example.com/guide)'")), checked)
	require.NoError(t, err)
	require.Empty(t, def.Templates[0].HTML)
	_, err = Parse([]byte(src(", text: 'Hello', html: '<p>Hello</p>'")), checked)
	require.NoError(t, err, "hand-written html stays possible")
	requireErrorAtWith(t, checked, src(""), "templates[0].text", "required")
	requireErrorAtWith(t, checked, src(", html: '<p>Hello</p>'"), "templates[0].text", "required")
	requireErrorAtWith(t, checked, src(", text: 'Hi {{.Nonsense}}'"), "templates[0].text", ".Nonsense is not a field")
}
