package playbook

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Control characters written as YAML escapes (or JSON's \u escapes) are
// refused in every text of a definition, naming the field; tab and line
// breaks only where text is multiline.
func TestControlCharactersInDefinitionTextsAreRefused(t *testing.T) {
	hostile := []string{`\0`, `\a`, `\e`, `\x7f`, `\x1b[31m`, `\u0085`, `\x9b`, `\b`, `\v`, `\f`}
	places := []struct {
		name, yaml, path string
	}{
		{"playbook name", "key: k\nname: \"K%s\"\nsteps: [{id: a, wait: 1d}]\n", "name"},
		{"description", "key: k\nname: K\ndescription: \"D%s\"\nsteps: [{id: a, wait: 1d}]\n", "description"},
		{"task title", "key: k\nname: K\nsteps: [{id: a, task: {title: \"T%s\", assignee: csm}}]\n", "steps[0].task.title"},
		{"task description", "key: k\nname: K\nsteps: [{id: a, task: {title: T, description: \"D%s\", assignee: csm}}]\n", "steps[0].task.description"},
		{"template subject", "key: k\nname: K\ntemplates: [{name: t, subject: \"Hi%s\", html: '<p>Hi</p>', text: Hi}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n", "templates[0].subject"},
		{"template html", "key: k\nname: K\ntemplates: [{name: t, subject: Hi, html: \"<p>Hi%s</p>\", text: Hi}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n", "templates[0].html"},
		{"nested step title", "key: k\nname: K\nsteps: [{id: a, if: {segment: [smb]}, then: [{id: b, task: {title: \"T%s\", assignee: csm}}]}]\n", "steps[0].then[0].task.title"},
		{"exit outcome", "key: k\nname: K\nexit: [{when: {status: [churned]}, outcome: \"x%s\"}]\nsteps: [{id: a, wait: 1d}]\n", "exit[0].outcome"},
	}
	for _, place := range places {
		for _, h := range hostile {
			t.Run(place.name+" "+h, func(t *testing.T) {
				src := strings.Replace(place.yaml, "%s", h, 1)
				_, err := Parse([]byte(src), Options{})
				var errs Errors
				require.True(t, errors.As(err, &errs), "refused: %v", err)
				found := false
				for _, e := range errs {
					if e.Path == place.path && strings.Contains(e.Message, "control character") {
						found = true
					}
				}
				require.True(t, found, "an error at %s naming the control character, got %v", place.path, errs)
			})
		}
	}
}

func TestLineBreaksOnlyInMultilineTexts(t *testing.T) {
	ok := "key: k\nname: K\ndescription: \"one\\ntwo\\tthree\"\ntemplates: [{name: t, subject: Hi, html: \"<p>\\n\\tHi</p>\", text: \"Hi\\r\\nthere\"}]\nsteps: [{id: a, task: {title: \"T\\tab\", assignee: csm}}, {id: b, email: {template: t, to: champion}}]\n"
	_, err := Parse([]byte(ok), Options{})
	require.NoError(t, err)

	_, err = Parse([]byte("key: k\nname: \"K\\nL\"\nsteps: [{id: a, wait: 1d}]\n"), Options{})
	require.ErrorContains(t, err, "control character")
}
