package playbook

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A printf width builds its padding in fmt before any bound on the output
// sees it: validation refuses wide and argument-taken (*) widths in every
// part of a template and in notify messages, at the part's path and line.
func TestWideFormatsAreRefusedAtValidation(t *testing.T) {
	formats := []struct{ action, message string }{
		{`{{printf "%10000000[1]d" 1}}`, `printf: the verb "%10000000" has a width of 10000000; widths and precisions may be at most 64`},
		{`{{printf "%.10000000f" .Account.ARR}}`, `printf: the verb "%.10000000" has a precision of 10000000`},
		{`{{printf "%*d" 100000000 1}}`, `printf: the verb "%*" takes its width from an argument (*); write the width in the format`},
		{`{{printf "%[1]*d" 100000000 1}}`, `printf: the verb "%[1]*" takes its width from an argument (*)`},
		{`{{printf "%-99999s" .Account.Name}}`, `printf: the verb "%-99999" has a width of 99999`},
		{`{{$f := "%999999d"}}{{printf $f 1}}`, `printf takes its format as a quoted string such as "%.0f", not $f`},
	}
	parts := []struct {
		path, line, yaml string
	}{
		{"templates[0].subject", "line 1 of the subject", "templates: [{name: t, subject: '%s', html: '<p>x</p>', text: x}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n"},
		{"templates[0].html", "line 1 of the html", "templates: [{name: t, subject: s, html: '<p>%s</p>', text: x}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n"},
		{"templates[0].text", "line 1 of the text", "templates: [{name: t, subject: s, html: '<p>x</p>', text: '%s'}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n"},
		{"steps[0].notify.message", "line 1 of the message", "steps: [{id: a, notify: {url: 'https://hooks.example.com/x', message: '%s'}}]\n"},
	}
	for _, f := range formats {
		for _, p := range parts {
			t.Run(p.path+" "+f.action, func(t *testing.T) {
				src := head + strings.Replace(p.yaml, "%s", strings.ReplaceAll(f.action, "'", "''"), 1)
				_, err := Parse([]byte(src), checked)
				var errs Errors
				require.True(t, errors.As(err, &errs), "accepted")
				require.Len(t, errs, 1, "%v", errs)
				require.Equal(t, p.path, errs[0].Path)
				require.Contains(t, errs[0].Message, p.line+": "+f.message)
			})
		}
	}
}
