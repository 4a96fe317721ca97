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
	err := set.add("half", `{{define "subject"}}x{{end}}{{define "text"}}y{{end}}`)
	if err == nil || !strings.Contains(err.Error(), `"html"`) {
		t.Fatalf("err = %v, want a complaint about the html part", err)
	}
}

func TestFirstNameFallback(t *testing.T) {
	for name, want := range map[string]string{"": "there", "  ": "there", "Ana": "Ana", "Ana Lima": "Ana"} {
		if got := (Person{Name: name}).FirstName(); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", name, got, want)
		}
	}
}
