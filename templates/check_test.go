package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

// full is data with every field set, so every branch of a template runs.
var full = Data{
	Account: Account{ID: "acme", Name: "Acme", Segment: "smb", ARR: 48000, LifecycleStage: "onboarding",
		RenewalDate: "2026-09-30", ContractStart: "2025-10-01"},
	Contact: Person{Name: "Pat Lee", Email: "pat@acme.test"},
	CSM:     Person{Name: "Casey Smith", Email: "casey@cs.test"},
	Health:  Health{Score: 42, Band: "red"},
	Metrics: Metrics{MeasuredAt: "2026-05-31", ActiveUsers: ptr(42), LicensedUsers: ptr(50), SeatUtilisation: ptr(84),
		LoginsPerWeek: ptr(12.5), TicketVolume: ptr(3), TotalTickets: ptr(10), CriticalTickets: ptr(0), NPS: ptr(-5),
		CSAT: ptr(4.5), DaysSinceLastContact: ptr(6), Components: map[string]int{"usage": 80, "support": 0}},
	Survey: NewSurvey("nps", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, func(score int) string {
		return fmt.Sprintf("https://cs.test/v1/surveys/respond?token=t%d", score)
	}),
}

func ptr[T any](v T) *T { return &v }

func check(src string, html bool) []string {
	var out []string
	Check(src, html, func(line int, msg string) { out = append(out, fmt.Sprintf("%d: %s", line, msg)) })
	return out
}

// Check refuses what Render fails on, at the line Render fails at, and
// accepts what Render renders: it runs no template, yet agrees with running.
func TestCheckAgreesWithRender(t *testing.T) {
	bad := []struct {
		name, src string
		html      bool
		want      string // line: message, in part
	}{
		{"unknown field", "Hi\n{{.Nonsense.Thing}}", false, "2: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health"},
		{"unknown nested field", "{{.Contact.Nmae}}", false, "1: .Contact.Nmae is not a field of .Contact; fields: Name, Email, FirstName"},
		{"case", "{{.account.Name}}", false, "(names are case-sensitive: .Account)"},
		{"field of a string", "{{.Account.Name.First}}", false, "1: .Account.Name is a string: it has no field First"},
		{"inside with", "{{with .CSM}}\n{{.Phone}}{{end}}", false, "2: .Phone is not a field of a person"},
		{"variable", "{{$c := .Contact}}{{$c.Phone}}", false, "1: $c.Phone is not a field of $c"},
		{"root variable in with", "{{with .Contact}}{{$.Phone}}{{end}}", false, "1: $.Phone is not a field of $"},
		{"unknown function", "{{upper .Account.Name}}", false, `1: function "upper" not defined; functions: and, call, default, eq`},
		{"arguments to a field", "{{.Account.Name 3}}", false, "is a value, not a function"},
		{"arguments to a method", "{{.Contact.FirstName 3}}", false, "1: .Contact.FirstName takes 0 argument(s), not 1"},
		{"piped into a field", "{{.Account.Name | .CSM.Name}}", false, "is a value, not a function"},
		{"len without argument", "{{len}}", false, "1: len takes 1 argument(s), not 0"},
		{"len of a number", "{{len .Health.Score}}", false, "has no length"},
		{"printf without format", "{{printf .Health.Score}}", false, "printf takes its format first"},
		{"float compared with int", "{{if gt .Account.ARR 100000}}big{{end}}", false, "gt cannot compare .Account.ARR (a decimal number) with 100000 (a whole number); write 100000.0"},
		{"string compared with number", "{{if eq .Health.Band 1}}x{{end}}", false, "eq cannot compare .Health.Band (a string) with 1"},
		{"order of a struct", "{{if lt .Contact .CSM}}x{{end}}", false, "lt cannot order .Contact"},
		{"html ends in a tag", "<p>Hi <a href=\"{{.CSM.Email}}", true, "1: the html ends inside a tag"},
		{"undefined template", "{{template \"other\" .}}", false, `1: no template "other"`},
		{"misspelt measure", "{{with .Metrics.ActiveUser}}{{.}}{{end}}", false, "1: .Metrics.ActiveUser is not a field of .Metrics; fields: MeasuredAt, ActiveUsers,"},
		{"measure compared", "{{if lt .Metrics.NPS 0}}x{{end}}", false, "lt cannot order .Metrics.NPS: a measure, which may be missing"},
		{"measure compared inside with", "{{with .Metrics.NPS}}{{if lt . 0}}x{{end}}{{end}}", false, "lt cannot order .: a measure"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got := check(tt.src, tt.html)
			if len(got) == 0 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("Check = %q, want %q", got, tt.want)
			}
			if err := renderPart(t, tt.src, tt.html); err == nil {
				t.Fatalf("Render accepts what Check refuses")
			}
		})
	}
	good := []struct {
		name, src string
		html      bool
	}{
		{"every field", fieldsTemplate(), false},
		{"every field in html", "<p>" + fieldsTemplate() + "</p>", true},
		{"first names", "Hi {{.Contact.FirstName}}, {{.CSM.FirstName}} here", false},
		{"with and else", "{{with .Health.Band}}Band {{.}}{{else}}no health yet{{end}}", false},
		{"variables", "{{$n := .Account.Name}}{{$n}} {{$.CSM.Email}}{{with .Contact}}{{$.Account.ID}}{{.Email}}{{end}}", false},
		{"score compared with int", "{{if lt .Health.Score 50}}low{{else if ge .Health.Score 80}}high{{end}}", false},
		{"arr compared with float", "{{if gt .Account.ARR 100000.0}}big{{end}}", false},
		{"pipelines", "{{.Account.ARR | printf \"%.0f\"}} {{.Account.Name | len}} {{printf \"%s-%d\" .Account.ID .Health.Score}}", false},
		{"functions", "{{if and .Contact.Name (not .Health.Band)}}x{{end}}{{index .Account.Name 0}}{{slice .Account.Name 1}}{{html .Contact.Name}}{{urlquery .CSM.Email}}", false},
		{"eq of strings", "{{if eq .Account.Segment \"smb\" \"mid_market\"}}small{{end}}", false},
		{"html attributes", "<a href=\"mailto:{{.CSM.Email}}\">{{.CSM.Name}}</a>", true},
		{"parenthesized", "{{(.Contact).FirstName}} {{(index .Account.Name 0)}}", false},
		{"measures", "{{with .Metrics.ActiveUsers}}{{.}} of {{$.Metrics.LicensedUsers}}{{end}} {{with .Metrics.CSAT}}{{printf \"%.1f\" .}}{{end}} {{print .Metrics.NPS}}", false},
		{"components", "{{with index .Metrics.Components \"usage\"}}{{.}}{{end}}{{range $name, $score := .Metrics.Components}}{{$name}} {{if lt $score 50}}low{{end}}{{end}}", false},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(tt.src, tt.html); len(got) > 0 {
				t.Fatalf("Check = %q", got)
			}
			if err := renderPart(t, tt.src, tt.html); err != nil {
				t.Fatalf("Render: %v", err)
			}
		})
	}
}

// renderPart renders src as the html or the text part of a template.
func renderPart(t *testing.T, src string, html bool) error {
	t.Helper()
	set := &Set{byName: map[string]template{}}
	subject, text, part := "s", src, "text"
	if html {
		text, part = "t", "html"
	}
	own, err := set.WithSource("t", subject, map[bool]string{true: src, false: "<p>h</p>"}[html], text)
	if err != nil {
		return err
	}
	_, err = own.Render("t", full)
	var rerr *RenderError
	if err != nil && (!errors.As(err, &rerr) || rerr.Part != part) {
		t.Fatalf("Render error %v is not a RenderError of the %s", err, part)
	}
	return err
}

// fieldsTemplate uses every documented field.
func fieldsTemplate() string {
	var b strings.Builder
	for _, f := range Fields() {
		b.WriteString("{{" + f.Name + "}}\n")
	}
	return b.String()
}

// The documented fields are exactly what a template can reach in Data.
func TestFieldsDescribeData(t *testing.T) {
	var reachable []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Type.Kind() == reflect.Struct {
				walk(prefix+"."+f.Name, f.Type)
			} else {
				reachable = append(reachable, prefix+"."+f.Name)
			}
		}
		for i := 0; i < t.NumMethod(); i++ {
			reachable = append(reachable, prefix+"."+t.Method(i).Name)
		}
	}
	walk("", reflect.TypeOf(Data{}))
	var documented []string
	types := map[reflect.Kind]string{reflect.String: "string", reflect.Float64: "number", reflect.Int: "integer", reflect.Map: "map", reflect.Slice: "list"}
	for _, f := range Fields() {
		documented = append(documented, f.Name)
		if f.Description == "" || f.Example == "" {
			t.Errorf("%s: description and example wanted", f.Name)
		}
		var kind reflect.Kind
		Check("{{"+f.Name+"}}", false, func(line int, msg string) { t.Errorf("%s: %s", f.Name, msg) })
		v := reflect.ValueOf(full)
		for _, name := range strings.Split(f.Name, ".")[1:] {
			if m := v.MethodByName(name); m.IsValid() {
				v = m.Call(nil)[0]
			} else {
				v = v.FieldByName(name)
			}
		}
		kind = reflect.Indirect(v).Kind() // a measure is a pointer: nil when not measured
		if types[kind] != f.Type {
			t.Errorf("%s is documented as %s, is %s", f.Name, f.Type, kind)
		}
	}
	if strings.Join(reachable, " ") == "" || !sameSet(reachable, documented) {
		t.Fatalf("documented %v\nreachable  %v", documented, reachable)
	}
}

func sameSet(a, b []string) bool {
	set := map[string]int{}
	for _, x := range a {
		set[x]++
	}
	for _, x := range b {
		set[x]--
	}
	for _, n := range set {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// Every built-in template type-checks and renders, with every field set and
// with none (a contact without a name is greeted "there").
func TestBuiltinTemplatesCheckAndRender(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := fs.Glob(builtinFS, "builtin/*.tmpl")
	for _, p := range paths {
		src, _ := builtinFS.ReadFile(p)
		Check(string(src), false, func(line int, msg string) { t.Errorf("%s:%d: %s", p, line, msg) })
	}
	for _, name := range set.Names() {
		for _, data := range []Data{full, {}} {
			got, err := set.Render(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if strings.Contains(got.Text, "Hi ,") || strings.Contains(got.Text, "Dear ,") {
				t.Errorf("%s greets nobody: %q", name, got.Text)
			}
		}
	}
}

// A template that fails to render says so once, in words: which template,
// which part, which line of it, what is wrong.
func TestRenderErrorIsOneClearMessage(t *testing.T) {
	set, _ := Builtin()
	own, err := set.WithSource("note", "Hello {{.Account.Name}}", "<p>Hi</p>\n<p>{{.Nonsense.Thing}}</p>", "Hi {{.Contact.FirstName}}")
	if err != nil {
		t.Fatal(err)
	}
	_, err = own.Render("note", full)
	var rerr *RenderError
	if !errors.As(err, &rerr) {
		t.Fatalf("err = %v, want a RenderError", err)
	}
	want := `template "note", line 2 of the html: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health, Metrics, Survey`
	if err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
	_, err = RenderMessage("Alert\n{{.Account.name}} is red", full)
	if err == nil || err.Error() != "line 2 of the message: .Account.name is not a field of .Account; fields: ID, Name, Segment, ARR, LifecycleStage, RenewalDate, ContractStart, Fields (names are case-sensitive: .Account.Name)" {
		t.Fatalf("message: err = %v", err)
	}
}
