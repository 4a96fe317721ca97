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
	// The hand-written html wins over the layout; the footer's slot follows it.
	if got.Subject != "Hello Acme" || got.Text != "Hi Pat\n" || !strings.HasPrefix(got.HTML, "<p>Pat &lt;b&gt;</p>\n"+footerStart) || laidOut(got.HTML) {
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
	for _, want := range []string{"<title>Hi A&amp;B</title>", `<p style="` + styleP + `">Hello &lt;Pat&gt;,</p>`,
		`<ul style="` + styleUL + `">` + "\n" + `  <li style="` + styleLI + `">connect data</li>` + "\n" + `  <li style="` + styleLI + `">invite users</li>` + "\n</ul>",
		`<p style="` + styleP + `">Thanks</p>`} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("html lacks %q:\n%s", want, got.HTML)
		}
	}
}

func TestRenderStopsAtTheBounds(t *testing.T) {
	set, _ := Builtin()
	loop := "{{range 5000000}}{{$.Account.Name}} {{end}}"
	tests := []struct {
		name, subject, html, text string
		part                      string
		limit                     int
	}{
		{"subject", loop, "<p>x</p>", "x", "subject", MaxSubjectChars},
		{"long subject", strings.Repeat("é", MaxSubjectChars+1), "<p>x</p>", "x", "subject", MaxSubjectChars},
		{"html", "Hi", "<p>" + loop + "</p>", "x", "html", MaxHTMLBytes},
		{"text", "Hi", "<p>x</p>", loop, "text", MaxTextBytes},
		// Laid out from the text, escaping makes the html five times longer.
		{"html laid out from text", "Hi", "", strings.Repeat("&", 110<<10), "html", MaxHTMLBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own := &Set{byName: map[string]template{}}
			src := `{{define "subject"}}` + tt.subject + `{{end}}{{define "text"}}` + tt.text + `{{end}}`
			if tt.html != "" {
				src += `{{define "html"}}` + tt.html + `{{end}}`
			}
			if err := own.add("big", src); err != nil {
				t.Fatal(err)
			}
			_, err := own.Render("big", Data{Account: Account{Name: "Acme"}})
			var tooLarge *TooLargeError
			if !errors.As(err, &tooLarge) || tooLarge.Part != tt.part || tooLarge.Limit != tt.limit {
				t.Fatalf("err = %v, want the %s over %d", err, tt.part, tt.limit)
			}
		})
	}
	// At the bounds is fine.
	own, err := set.WithSource("max", strings.Repeat("é", MaxSubjectChars), "x", strings.Repeat("x", MaxTextBytes))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := own.Render("max", Data{}); err != nil {
		t.Fatal(err)
	}
	if _, err := RenderMessage(loop, Data{}); !errors.As(err, new(*TooLargeError)) {
		t.Fatalf("message: err = %v", err)
	}
}

// An edited part replaces the draft's; the html never keeps words the text
// no longer has.
func TestEditedKeepsTheHTMLInStepWithTheText(t *testing.T) {
	own := Rendered{Subject: "Hi", HTML: "<p>Hello Pat</p>\n", Text: "Hello Pat\n"}
	laidOut := Rendered{Subject: "Hi", HTML: Layout("Hi", "Hello Pat\n"), Text: "Hello Pat\n"}
	branded := Brand{Name: "Acme CS", Color: "#aa0000", PostalAddress: "1 Main St"}
	brandDraft := Rendered{Subject: "Hi", HTML: layoutHTML(branded, "Hi", "Hello Pat", footerHTML(branded, "")) + "\n", Text: "Hello Pat\n"}
	tests := []struct {
		name         string
		draft, edits Rendered
		want         Rendered
	}{
		{"nothing edited", own, Rendered{}, own},
		{"subject of an own html", own, Rendered{Subject: "Hey"}, Rendered{Subject: "Hey", HTML: own.HTML, Text: own.Text}},
		{"subject of a laid-out html", laidOut, Rendered{Subject: "Hey"},
			Rendered{Subject: "Hey", HTML: Layout("Hey", "Hello Pat\n"), Text: "Hello Pat\n"}},
		{"text alone", own, Rendered{Text: "Bye <all>"}, Rendered{Subject: "Hi", HTML: Layout("Hi", "Bye <all>"), Text: "Bye <all>"}},
		{"html with text", own, Rendered{HTML: "<p>Bye</p>", Text: "Bye"}, Rendered{Subject: "Hi", HTML: "<p>Bye</p>", Text: "Bye"}},
		{"markdown text", own, Rendered{Text: "See [docs](https://x.example)"},
			Rendered{Subject: "Hi", HTML: Layout("Hi", "See [docs](https://x.example)"), Text: "See docs (https://x.example)"}},
		// A branded draft keeps its brand and footer: only the body and title change.
		{"text of a branded draft", brandDraft, Rendered{Subject: "Hey", Text: "Bye **all**"},
			Rendered{Subject: "Hey", HTML: layoutHTML(branded, "Hey", "Bye **all**", footerHTML(branded, "")) + "\n", Text: "Bye **all**"}},
		{"subject of a branded draft", brandDraft, Rendered{Subject: "Hey"},
			Rendered{Subject: "Hey", HTML: layoutHTML(branded, "Hey", "Hello Pat", footerHTML(branded, "")) + "\n", Text: "Hello Pat\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.draft.Edited(tt.edits)
			if err != nil || got != tt.want {
				t.Errorf("Edited = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if !strings.Contains(Layout("Hi", "Bye <all>"), ">Bye &lt;all&gt;</p>") {
		t.Errorf("the layout escapes the edited text: %q", Layout("Hi", "Bye <all>"))
	}
}

// The escalation notice goes to whoever is next on the ladder: the level
// that let the deadline pass is not always the CSM's.
func TestEscalationNoticeDoesNotBlameTheCSMsLevel(t *testing.T) {
	set, err := Notices()
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.RenderNotice("approval-escalated", Notice{Account: Account{Name: "Acme"},
		To: Person{Name: "Val VP", Email: "val@cs.test"}, CSM: Person{Name: "Casey"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.Text, "Casey's level") || !strings.Contains(got.Text, "not decided before its deadline") {
		t.Errorf("text = %q", got.Text)
	}
}

// Every notice names the essentials and links to the approval's page, in
// both parts, with the account's name escaped in the html; notices are not
// templates a playbook can send.
func TestNoticesCarryTheEssentialsAndTheLink(t *testing.T) {
	set, err := Notices()
	if err != nil {
		t.Fatal(err)
	}
	builtin, _ := Builtin()
	n := Notice{To: Person{Name: "Casey Smith"}, Account: Account{Name: "Acme <b>Corp</b>", Segment: "smb"},
		CSM: Person{Name: "Casey Smith"}, Playbook: "onboarding", Step: "invite", Level: "1 (csm)",
		Deadline: "Tue 1 Dec 2026 14:00 UTC", Link: "https://cs.example/console/approvals/42?x=1&y=2"}
	for _, name := range []string{"approval-assigned", "approval-escalated"} {
		if builtin.Has(name) {
			t.Errorf("%s is a built-in template a playbook could send to customers", name)
		}
		got, err := set.RenderNotice(name, n)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, want := range []string{"Hi Casey,", "Acme <b>Corp</b>", "onboarding, step invite", "1 (csm)", n.Deadline, n.Link} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("%s: text lacks %q: %q", name, want, got.Text)
			}
		}
		for _, want := range []string{`<a href="https://cs.example/console/approvals/42?x=1&amp;y=2">`, "Acme &lt;b&gt;Corp&lt;/b&gt;", n.Deadline} {
			if !strings.Contains(got.HTML, want) {
				t.Errorf("%s: html lacks %q: %q", name, want, got.HTML)
			}
		}
	}
}

// A rendered subject is one line whatever the template or the data holds:
// no line break can smuggle a header into the message.
func TestRenderedSubjectIsOneLine(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	set, err = set.WithSource("own", "Hi {{.Account.Name}}\r\nBcc: victim@example.com", "", "Hello")
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.Render("own", Data{Account: Account{Name: "Acme\x00\nCorp"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hi Acme Corp Bcc: victim@example.com"; got.Subject != want {
		t.Errorf("subject = %q, want %q", got.Subject, want)
	}
}

// The digest lists approvals with their links and overdue tasks, escaped in
// the html, and says so in its subject; an empty section is left out.
func TestDailyDigestRenders(t *testing.T) {
	set, err := Notices()
	if err != nil {
		t.Fatal(err)
	}
	got, err := set.RenderDigest("daily-digest", Digest{To: Person{Name: "Casey Smith"}, Day: "Tue 1 Dec 2026",
		Inbox: "https://cs.example/console/", Approvals: []DigestLine{{What: "invite", Account: "A&B", When: "soon",
			Link: "https://cs.example/console/approvals/1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Your day: 1 approval pending, 0 tasks overdue" {
		t.Errorf("subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "- invite for A&B, decide by soon: https://cs.example/console/approvals/1") || strings.Contains(got.Text, "Overdue") {
		t.Errorf("text = %q", got.Text)
	}
	if !strings.Contains(got.HTML, `<a href="https://cs.example/console/approvals/1">invite</a> for A&amp;B`) {
		t.Errorf("html = %q", got.HTML)
	}
}

// The monthly usage update says the measures the latest snapshot has, a
// measured 0 included, and nothing of those it has not.
func TestMonthlyUsageUpdateSaysWhatIsMeasured(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	partial := full
	partial.Metrics = Metrics{MeasuredAt: "2026-05-31", ActiveUsers: ptr(0), LicensedUsers: ptr(50)}
	for _, tt := range []struct {
		name    string
		data    Data
		want    []string
		notWant []string
	}{
		{"every measure", full, []string{"as we last measured it on 2026-05-31:\n- Active users: 42\n- Licensed users: 50\n- Seats in use: 84%\n- Logins per week: 12.5\n- Support tickets: 3\n- Critical tickets: 0\n- Health score: 42 out of 100\n\nDoes this"}, nil},
		{"some measured", partial, []string{"- Active users: 0\n- Licensed users: 50\n- Health score: 42"}, []string{"Seats", "Logins", "tickets", "no usage figures"}},
		{"no snapshot", Data{Account: full.Account, CSM: full.CSM}, []string{"Hi there,\n\nWe have no usage figures for Acme yet; once we do, this note will share them.\n\nDoes this"}, []string{"Active", "Health"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := set.Render("monthly-usage-update", tt.data)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, got.Text)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got.Text, w) {
					t.Errorf("text has %q:\n%s", w, got.Text)
				}
			}
		})
	}
}
