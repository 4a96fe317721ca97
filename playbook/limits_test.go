package playbook

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const head = "key: k\nname: K\n"

// stepsYAML lists n top-level steps written by one format (given the index).
func stepsYAML(n int, step string) string {
	var b strings.Builder
	b.WriteString(head + "steps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, step, i)
	}
	return b.String()
}

// nestedSteps nests if/then depth levels deep: depth 1 is a plain step.
func nestedSteps(depth int) string {
	s := "{id: s1, wait: 1d}"
	for i := 2; i <= depth; i++ {
		s = fmt.Sprintf("{id: s%d, if: {segment: [smb]}, then: [%s]}", i, s)
	}
	return head + "steps: [" + s + "]\n"
}

// nestedCondition nests not depth levels deep: depth 1 is a plain condition.
func nestedCondition(depth int) string {
	c := "{segment: [smb]}"
	for i := 2; i <= depth; i++ {
		c = "{not: " + c + "}"
	}
	return head + "steps: [{id: a, when: " + c + ", wait: 1d}]\n"
}

// aliasedTitles anchors one title of size bytes and uses it in n tasks.
func aliasedTitles(size, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%ssteps:\n  - {id: t0, task: {title: &title %s, assignee: csm}}\n", head, strings.Repeat("x", size))
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - {id: t%d, task: {title: *title, assignee: csm}}\n", i)
	}
	return b.String()
}

func ownTemplate(field, src string) string {
	parts := map[string]string{"subject": "'Hi'", "html": "'<p>Hi</p>'", "text": "'Hi'"}
	parts[field] = src
	return fmt.Sprintf("%stemplates: [{name: t, subject: %s, html: %s, text: %s}]\nsteps: [{id: a, email: {template: t, to: champion}}]\n",
		head, parts["subject"], parts["html"], parts["text"])
}

func TestLimitsAreRefusedNamingThem(t *testing.T) {
	tests := []struct {
		name, src, path, message string
	}{
		{"too many steps", stepsYAML(MaxSteps+1, "  - {id: s%d, wait: 1d}\n"), "steps", "has 501 steps (nested ones included); the limit is 500"},
		{"too many steps once nested ones count", head + "steps: [{id: r, repeat: {every: 1d, times: 2, steps: [" +
			strings.TrimSuffix(strings.Repeat("{wait: 1h}, ", MaxSteps), ", ") + "]}}]\n", "steps", "has 501 steps"},
		{"steps nest too deep", nestedSteps(MaxStepDepth + 1), "steps[0]" + strings.Repeat(".then[0]", MaxStepDepth-1) + ".then",
			"steps nest 9 levels deep here (then, else, repeat.steps, on_timeout); the limit is 8"},
		{"conditions nest too deep", nestedCondition(MaxConditionDepth + 1), "steps[0].when" + strings.Repeat(".not", MaxConditionDepth),
			"conditions nest 9 levels deep here (all, any, not); the limit is 8"},
		{"exit conditions nest too deep", head + "exit: [{outcome: x, when: " + strings.Repeat("{any: [", 9) + "{segment: [smb]}" +
			strings.Repeat("]}", 9) + "}]\nsteps: [{id: a, wait: 1d}]\n", "exit[0].when" + strings.Repeat(".any[0]", 8), "the limit is 8"},
		{"template part too large", ownTemplate("html", "'"+strings.Repeat("x", MaxTemplateBytes+1)+"'"), "templates[0].html",
			"is 65537 bytes; the limit is 65536 bytes (64 KiB)"},
		{"notify message too large", head + "steps: [{id: a, notify: {url: 'https://hooks.test/x', message: '" +
			strings.Repeat("x", MaxTemplateBytes+1) + "'}}]\n", "steps[0].notify.message", "the limit is 65536 bytes"},
		{"definition too large as JSON", head + "description: '" + strings.Repeat("x", MaxDefinitionBytes) + "'\nsteps: [{id: a, wait: 1d}]\n",
			"", "as JSON (aliases expanded); the limit is 262144 bytes (256 KiB)"},
		{"aliases expand past the limit", aliasedTitles(10_000, 40), "",
			"once its aliases are expanded, the definition is larger than the limit of 262144 bytes (256 KiB)"},
		{"aliases expand past the limit in free-form fields", head + "steps:\n  - {id: t, task: {title: &x " + strings.Repeat("x", 10_000) +
			", assignee: csm}}\n  - {id: u, update_account: {fields: {a: [" + strings.TrimSuffix(strings.Repeat("*x, ", 30), ", ") + "]}}}\n",
			"", "once its aliases are expanded"},
		{"range in a template", ownTemplate("text", "'{{range 5000000}}spam{{end}}'"), "templates[0].text", "must not use {{range}}"},
		{"range in html", ownTemplate("html", "'<p>{{if .Account.Name}}{{range 9}}x{{end}}{{end}}</p>'"), "templates[0].html", "must not use {{range}}"},
		{"define in a template", ownTemplate("subject", `'{{define "x"}}y{{end}}'`), "templates[0].subject", "must not define templates"},
		{"range in a notify message", head + "steps: [{id: a, notify: {url: 'https://hooks.test/x', message: '{{range 100}}x{{end}}'}}]\n",
			"steps[0].notify.message", "must not use {{range}}"},
		{"keys JSON cannot hold", head + "steps: [{id: a, update_account: {fields: {x: {1: 2}}}}]\n", "steps[0].update_account.fields", "mapping keys are strings"},
		{"NaN", head + "steps: [{id: a, if: {field: {name: x, gt: .nan}}, then: [{id: b, wait: 1d}]}]\n", "steps[0].if.field.gt", "must be a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { requireErrorAt(t, tt.src, tt.path, tt.message) })
	}
}

func TestDefinitionsAtTheLimitsPass(t *testing.T) {
	for name, src := range map[string]string{
		"max steps":             stepsYAML(MaxSteps, "  - {id: s%d, wait: 1d}\n"),
		"max step depth":        nestedSteps(MaxStepDepth),
		"max condition depth":   nestedCondition(MaxConditionDepth),
		"aliases within limit":  aliasedTitles(1_000, 20),
		"largest template part": ownTemplate("text", "'"+strings.Repeat("x", MaxTemplateBytes)+"'"),
	} {
		_, err := Parse([]byte(src), opts)
		require.NoError(t, err, name)
	}
	// An alias stands for its anchor's content.
	def, err := Parse([]byte(aliasedTitles(10, 3)), opts)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("x", 10), def.Steps[2].Task.Title)
}

// Definitions stored before the limits existed are checked by CheckLimits.
func TestCheckLimitsOfAStoredDefinition(t *testing.T) {
	def := &Definition{Key: "k", Name: "K"}
	for i := 0; i < MaxSteps; i++ {
		def.Steps = append(def.Steps, Step{ID: fmt.Sprintf("s%d", i), Wait: new(Duration)})
	}
	require.NoError(t, def.CheckLimits())
	def.Steps = append(def.Steps, Step{ID: "one-more", Wait: new(Duration)})
	require.ErrorContains(t, def.CheckLimits(), "the limit is 500")
	require.ErrorContains(t, def.Validate(opts), "the limit is 500")
}

// Every error is found and counted, however many there are; the cost is
// measured by BenchmarkParseSteps.
func TestEveryErrorOfManyStepsIsCounted(t *testing.T) {
	const n = 60_000
	_, err := Parse([]byte(stepsYAML(n, "- {id: B%d}\n")), opts)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	byMessage := map[string]int{}
	for _, e := range errs {
		msg, _, _ := strings.Cut(e.Message, ";")
		if strings.HasSuffix(msg, "bytes as JSON (aliases expanded)") {
			msg = "the definition is N bytes as JSON"
		}
		byMessage[msg]++
	}
	require.Equal(t, map[string]int{
		"must be lower-case letters, digits and '-', such as \"welcome-email\"": n,
		"has no action": n,
		"the definition has 60000 steps (nested ones included)": 1,
		"the definition is N bytes as JSON":                     1,
	}, byMessage)
}

// BenchmarkParseSteps parses 10,000 top-level steps, all invalid or all
// valid (which still fails MaxSteps, once).
func BenchmarkParseSteps(b *testing.B) {
	for _, bench := range []struct{ name, step string }{
		{"invalid", "  - {id: Bad%d, email: {template: nope, to: [boss]}}\n"},
		{"valid", "  - {id: s%d, email: {template: welcome, to: [champion]}}\n"},
	} {
		src := []byte(stepsYAML(10_000, bench.step))
		b.Run(bench.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = Parse(src, opts)
			}
		})
	}
}
