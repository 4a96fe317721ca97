package templates

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/playbook"
)

var declared = accounts.DeclaredFields([]accounts.Field{{Name: "plan", Type: "text"}, {Name: "region", Type: "text"}, {Name: "renewed", Type: "bool"}})

func checkDeclared(src string, html bool) []string {
	var out []string
	Checker{AccountFields: declared}.Check(src, html, func(line int, msg string) { out = append(out, fmt.Sprintf("%d: %s", line, msg)) })
	return out
}

// A template may read the custom fields the organisation declares, and no
// other: the message lists those it may.
func TestCheckHoldsCustomFieldsToTheDeclaredOnes(t *testing.T) {
	const list = "declared: feature_adoption_pct, plan, region, renewed, seats_used_pct"
	bad := []struct{ name, src, want string }{
		{"undeclared", "Hi\n{{.Account.Fields.colour}}", "2: .Account.Fields.colour is not a declared account field; " + list},
		{"undeclared with a default", `{{.Account.Fields.colour | default "red"}}`, "1: .Account.Fields.colour is not a declared account field"},
		{"case matters", "{{.Account.Fields.Plan}}", "1: .Account.Fields.Plan is not a declared account field"},
		{"inside with", "{{with .Account}}\n\n{{.Fields.colour}}{{end}}", "3: .Fields.colour is not a declared account field"},
		{"through a variable", "{{$f := .Account.Fields}}{{$f.colour}}", "1: $f.colour is not a declared account field"},
		{"index", `{{index .Account.Fields "colour"}}`, `1: .Account.Fields.colour is not a declared account field`},
		{"a field of a field", "{{.Account.Fields.plan.tier}}", "1: .Account.Fields.plan is a string: it has no field tier"},
		{"compared as a number", "{{if gt .Account.Fields.seats_used_pct 85.0}}x{{end}}", "gt cannot compare .Account.Fields.seats_used_pct (a string) with 85.0 (a decimal number)"},
		{"default takes two", `{{.Account.Fields.plan | default}}`, "1: default takes 2 argument(s), not 1"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got := checkDeclared(tt.src, false)
			if len(got) == 0 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("Check = %q, want %q", got, tt.want)
			}
		})
	}
	good := []struct {
		name, src string
		html      bool
	}{
		{"declared", "{{.Account.Fields.plan}} {{.Account.Fields.region}}", false},
		{"measured ones always are", "{{.Account.Fields.seats_used_pct}}% {{.Account.Fields.feature_adoption_pct}}", false},
		{"default", `{{.Account.Fields.plan | default "Standard"}} {{default "EMEA" .Account.Fields.region}}`, false},
		{"default in html", `<p>{{.Account.Fields.plan | default "Standard"}}</p>`, true},
		{"compared", `{{if eq .Account.Fields.renewed "true"}}thanks{{end}}{{if eq (.Account.Fields.plan | default "x") "Enterprise"}}big{{end}}`, false},
		{"tested", "{{with .Account.Fields.plan}}on {{.}}{{else}}no plan{{end}}", false},
		{"index", `{{index .Account.Fields "plan"}}`, false},
		{"default of a measure", `{{.Metrics.NPS | default "not measured"}}`, false},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkDeclared(tt.src, tt.html); len(got) > 0 {
				t.Fatalf("Check = %q", got)
			}
		})
	}
	// Without a declaration (an approver's edit, a render error explained)
	// any name is taken: it renders empty.
	if got := check("{{.Account.Fields.colour}}", false); len(got) > 0 {
		t.Fatalf("Check without a declaration = %q", got)
	}
}

// A custom field reads as text whatever JSON it was given; an account
// without it gets the default, or nothing.
func TestCustomFieldsRender(t *testing.T) {
	var raw map[string]any
	d := json.NewDecoder(strings.NewReader(`{"plan": "Enterprise", "seats": 1000000, "pct": 87.5, "big": 1e6, "renewed": true,
		"lapsed": false, "blank": "  ", "gone": null, "tags": ["a", "b"]}`))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	fields := NewCustomFields(raw)
	if _, ok := fields["gone"]; ok {
		t.Fatal("a null field must be absent")
	}
	// Numbers decoded without UseNumber (float64) read the same.
	if got := NewCustomFields(map[string]any{"seats": 1e6, "pct": 87.5, "n": 3})["seats"]; got != "1000000" {
		t.Fatalf("float64 1e6 reads %q", got)
	}
	data := full
	data.Account.Fields = fields
	tests := []struct{ name, src, want string }{
		{"text", "{{.Account.Fields.plan}}", "Enterprise"},
		{"text with a default", `{{.Account.Fields.plan | default "Standard"}}`, "Enterprise"},
		{"missing with a default", `{{.Account.Fields.region | default "Standard"}}`, "Standard"},
		{"missing without", "[{{.Account.Fields.region}}]", "[]"},
		{"blank with a default", `{{.Account.Fields.blank | default "Standard"}}`, "Standard"},
		{"whole number", "{{.Account.Fields.seats}}", "1000000"},
		{"decimal", "{{.Account.Fields.pct}}", "87.5"},
		{"exponent", "{{.Account.Fields.big}}", "1000000"},
		{"true", "{{.Account.Fields.renewed}}", "true"},
		{"false is a value, not missing", `{{.Account.Fields.lapsed | default "unknown"}}`, "false"},
		{"compared", `{{if eq .Account.Fields.renewed "true"}}renewed{{end}}`, "renewed"},
		{"list", "{{.Account.Fields.tags}}", `["a","b"]`},
		{"with", "{{with .Account.Fields.region}}in {{.}}{{else}}nowhere{{end}}", "nowhere"},
		{"index of a missing one", `[{{index .Account.Fields "region"}}]`, "[]"},
		{"a measure not measured", `{{.Metrics.NPS | default "n/a"}}`, "n/a"},
	}
	set := &Set{byName: map[string]template{}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own, err := set.WithSource("t", "s", "<p>"+tt.src+"</p>", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			d := data
			d.Metrics.NPS = nil
			r, err := own.Render("t", d)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(r.Text) != tt.want {
				t.Errorf("text = %q, want %q", r.Text, tt.want)
			}
			if want := "<p>" + strings.ReplaceAll(tt.want, `"`, "&#34;") + "</p>"; !strings.Contains(r.HTML, want) {
				t.Errorf("html = %q, want it to hold %q", r.HTML, want)
			}
			msg, err := RenderMessage(tt.src, d)
			if err != nil || msg != tt.want {
				t.Errorf("message = %q, %v; want %q", msg, err, tt.want)
			}
		})
	}
}

// The template fields CS ops look up list each declared field.
func TestFieldsForListsTheDeclaredFields(t *testing.T) {
	all := FieldsFor(declared)
	if len(all) != len(Fields())+len(declared) {
		t.Fatalf("%d fields for %d declared", len(all), len(declared))
	}
	byName := map[string]Field{}
	for _, f := range all {
		byName[f.Name] = f
	}
	plan, ok := byName[".Account.Fields.plan"]
	if !ok || plan.Type != "string" || !strings.Contains(plan.Description, `{{.Account.Fields.plan | default "Enterprise"}}`) {
		t.Fatalf("plan: %+v", plan)
	}
	// Each entry is what a template may write.
	for _, f := range all[len(Fields()):] {
		if got := checkDeclared("{{"+f.Name+"}}", false); len(got) > 0 {
			t.Errorf("%s: %q", f.Name, got)
		}
	}
}

// The definition validator parses a part knowing the names of the
// functions Render registers beyond text/template's (playbook/fields.go):
// one added here must be added there.
func TestOwnFunctionsParseInDefinitions(t *testing.T) {
	for name := range boundedFuncs {
		if _, err := texttemplate.New("x").Parse("{{" + name + "}}"); err == nil {
			continue // text/template's own
		}
		src := fmt.Sprintf("key: k\nname: K\nsteps:\n  - id: a\n    notify:\n      url: https://hooks.example.com/x\n      message: '{{%s \"a\" .Account.Name}}'\n", name)
		if _, err := playbook.Parse([]byte(src), playbook.Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
