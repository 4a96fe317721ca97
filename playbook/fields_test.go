package playbook

import (
	"errors"
	"strings"
	"testing"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/templates"
)

// With declared account fields, templates and field conditions are held
// to them: each error names the path, the line and the declared names.
func TestAccountFieldsAreDeclared(t *testing.T) {
	declared := accounts.DeclaredFields([]accounts.Field{{Name: "plan", Type: "text"}})
	opts := Options{BuiltinTemplates: []string{"welcome"}, CheckTemplate: templates.Checker{AccountFields: declared}.Check, AccountFields: declared}
	def := func(field, template string) string {
		return "key: k\nname: K\ntemplates:\n  - name: note\n    subject: Hi\n    text: |\n      Hello\n      " + template +
			"\nsteps:\n  - id: a\n    when: {field: {name: " + field + ", eq: x}}\n    email: {template: note, to: champion}\n"
	}
	if _, err := Parse([]byte(def("plan", `{{.Account.Fields.plan | default "Standard"}}`)), opts); err != nil {
		t.Fatalf("declared fields: %v", err)
	}
	if _, err := Parse([]byte(def("seats_used_pct", "{{.Account.Fields.seats_used_pct}}")), opts); err != nil {
		t.Fatalf("measured fields are always declared: %v", err)
	}
	_, err := Parse([]byte(def("colour", "{{.Account.Fields.colour}}")), opts)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want two errors, got %v", err)
	}
	want := map[string]struct {
		line int
		msg  string
	}{
		"templates[0].text":        {8, `template "note", line 2 of the text: .Account.Fields.colour is not a declared account field; declared: feature_adoption_pct, plan, seats_used_pct`},
		"steps[0].when.field.name": {11, `"colour" is not a declared account field; declared: feature_adoption_pct, plan, seats_used_pct`},
	}
	for _, e := range errs {
		w, ok := want[e.Path]
		if !ok || e.Line != w.line || !strings.Contains(e.Message, w.msg) {
			t.Errorf("%s line %d: %s; want line %d: %s", e.Path, e.Line, e.Message, w.line, w.msg)
		}
	}
	// Nothing declared: a condition may name any field (and default parses
	// without the type-check).
	if _, err := Parse([]byte(def("colour", `{{.Account.Name | default "you"}}`)), Options{BuiltinTemplates: []string{"welcome"}}); err != nil {
		t.Fatalf("no declaration: %v", err)
	}
}
