package templates

import (
	"errors"
	"strings"
	"testing"
)

func TestBuiltinWelcomeRendersAndEscapes(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.Render("welcome", Data{
		Account: Account{ID: "a1", Name: `Acme <script>alert(1)</script>`},
		Contact: Person{Name: "Pat Jones", Email: "pat@acme.test"},
		CSM:     Person{Name: "Casey CSM", Email: "casey@cs.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.Subject, "Welcome to your onboarding, Acme") || strings.Contains(got.Subject, "\n") {
		t.Errorf("subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "Hi Pat,") || !strings.Contains(got.Text, "casey@cs.test") {
		t.Errorf("text = %q", got.Text)
	}
	if strings.Contains(got.HTML, "<script>") || !strings.Contains(got.HTML, "&lt;script&gt;") {
		t.Errorf("html does not escape account data: %q", got.HTML)
	}
}

func TestRenderUnknownTemplate(t *testing.T) {
	set, _ := Builtin()
	if _, err := set.Render("nope", Data{}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want ErrUnknown", err)
	}
}

func TestTemplateMustDefineEveryPart(t *testing.T) {
	set := &Set{byName: map[string]template{}}
	err := set.add("half", `{{define "subject"}}x{{end}}{{define "html"}}y{{end}}`)
	if err == nil || !strings.Contains(err.Error(), `"text"`) {
		t.Fatalf("err = %v, want a complaint about the missing text part", err)
	}
}

func TestFirstNameFallback(t *testing.T) {
	for name, want := range map[string]string{"": "there", "  ": "there", "Ana": "Ana", "Ana Lima": "Ana"} {
		if got := (Person{Name: name}).FirstName(); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestWithSourceAddsAndShadows(t *testing.T) {
	set, _ := Builtin()
	own, err := set.WithSource("welcome", "Hello {{.Account.Name}}", "<p>{{.Contact.Name}}</p>", "Hi {{.Contact.FirstName}}")
	if err != nil {
		t.Fatal(err)
	}
	got, err := own.Render("welcome", Data{Account: Account{Name: "Acme"}, Contact: Person{Name: "Pat <b>"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Hello Acme" || got.Text != "Hi Pat\n" || got.HTML != "<p>Pat &lt;b&gt;</p>\n" {
		t.Fatalf("rendered %+v", got)
	}
	orig, _ := set.Render("welcome", Data{Account: Account{Name: "Acme"}})
	if orig.Subject == "Hello Acme" {
		t.Fatal("WithSource changed the original set")
	}
	if _, err := set.WithSource("bad", "{{.Oops", "x", "y"); err == nil {
		t.Fatal("a template that does not parse must be refused")
	}
}

func TestTextOnlyTemplateGetsEscapedHTMLLayout(t *testing.T) {
	set := &Set{byName: map[string]template{}}
	if err := set.add("note", `{{define "subject"}}Hi {{.Account.Name}}{{end}}{{define "text"}}Hello {{.Contact.Name}},

Next steps:
- connect data
- invite users

Thanks{{end}}`); err != nil {
		t.Fatal(err)
	}
	got, err := set.Render("note", Data{Account: Account{Name: "A&B"}, Contact: Person{Name: "<Pat>"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>Hi A&amp;B</title>", "<p>Hello &lt;Pat&gt;,</p>", "<ul>\n  <li>connect data</li>\n  <li>invite users</li>\n</ul>", "<p>Thanks</p>"} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("html lacks %q:\n%s", want, got.HTML)
		}
	}
}
