package templates

import (
	"regexp"
	"strings"
	"testing"
)

func TestMarkdownLight(t *testing.T) {
	p := func(s string) string { return `<p style="` + styleP + `">` + s + "</p>\n" }
	tests := []struct {
		name, in string
		html     string // the body's html
		text     string // the plain-text part
	}{
		{"paragraphs", "One\n\nTwo", p("One") + p("Two"), "One\n\nTwo"},
		{"line break", "One\ntwo", p("One<br>\ntwo"), "One\ntwo"},
		{"list", "Steps:\n- a\n- b\n\nEnd", p("Steps:") + `<ul style="` + styleUL + `">` + "\n" +
			`  <li style="` + styleLI + `">a</li>` + "\n" + `  <li style="` + styleLI + `">b</li>` + "\n</ul>\n" + p("End"), "Steps:\n- a\n- b\n\nEnd"},
		{"bold", "a **b** c", p("a <strong>b</strong> c"), "a **b** c"},
		{"unclosed bold", "a **b", p("a **b"), "a **b"},
		{"link", "see [the guide](https://x.example/g?a=1&b=2)",
			p(`see <a href="https://x.example/g?a=1&amp;b=2" style="text-decoration:underline;">the guide</a>`), "see the guide (https://x.example/g?a=1&b=2)"},
		{"http link", "[x](http://x.example)", p(`<a href="http://x.example" style="text-decoration:underline;">x</a>`), "x (http://x.example)"},
		{"mailto", "write [me](mailto:pat@x.example)", p(`write <a href="mailto:pat@x.example" style="text-decoration:underline;">me</a>`), "write me (pat@x.example)"},
		{"link that is its url", "[https://x.example](https://x.example)", p(`<a href="https://x.example" style="text-decoration:underline;">https://x.example</a>`), "https://x.example"},
		{"bold link", "**[x](https://x.example)**", p(`<strong><a href="https://x.example" style="text-decoration:underline;">x</a></strong>`), "**x (https://x.example)**"},
		{"javascript stays text", "[x](javascript:alert(1))", p("[x](javascript:alert(1))"), "[x](javascript:alert(1))"},
		{"data stays text", "[x](data:text/html,hi)", p("[x](data:text/html,hi)"), "[x](data:text/html,hi)"},
		{"relative stays text", "[x](/admin)", p("[x](/admin)"), "[x](/admin)"},
		{"url with a space stays text", "[x](https://x.example/a b)", p("[x](https://x.example/a b)"), "[x](https://x.example/a b)"},
		{"quote in url stays text", `[x](https://x.example/"onmouseover=)`, p(`[x](https://x.example/&#34;onmouseover=)`), `[x](https://x.example/"onmouseover=)`},
		{"headings", "# Title\n## Sub\nText", `<h1 style="` + styleH1 + `">Title</h1>` + "\n" + `<h2 style="` + styleH2 + `">Sub</h2>` + "\n" + p("Text"), "# Title\n## Sub\nText"},
		{"not a heading", "#hashtag", p("#hashtag"), "#hashtag"},
		{"escaped", `<script>alert("x")</script> & **<b>**`, p(`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; <strong>&lt;b&gt;</strong>`), `<script>alert("x")</script> & **<b>**`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := markdownHTML(tt.in); got != tt.html {
				t.Errorf("html:\n got %q\nwant %q", got, tt.html)
			}
			if got := markdownText(tt.in); got != tt.text {
				t.Errorf("text:\n got %q\nwant %q", got, tt.text)
			}
		})
	}
}

// What fields print is text, never Markdown: customer data cannot make a
// link or a list; the template's own markup may hold a field.
func TestFieldsAreNeverMarkdown(t *testing.T) {
	set := &Set{byName: map[string]template{}}
	if err := set.add("note", `{{define "subject"}}Hi{{end}}{{define "text"}}Hi {{.Contact.Name}},
{{.Account.Name}}
Open [your dashboard](https://app.example.com/a/{{.Account.ID}}) or **{{.CSM.Name}}**.{{end}}`); err != nil {
		t.Fatal(err)
	}
	got, err := set.Render("note", Data{
		Account: Account{ID: "acc-1", Name: "- [Win a prize](https://evil.example)\n# Urgent"},
		Contact: Person{Name: "**Pat**"},
		CSM:     Person{Name: "Sam <i>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"evil.example\"", "<li", "<h1", "<strong>Pat", "<i>"} {
		if strings.Contains(got.HTML, bad) {
			t.Errorf("customer data became markup (%q):\n%s", bad, got.HTML)
		}
	}
	if strings.ContainsAny(got.HTML+got.Text, string(litOpen)+string(litClose)) {
		t.Errorf("the marks are left in:\n%q\n%q", got.HTML, got.Text)
	}
	for _, want := range []string{"Hi **Pat**,", "- [Win a prize](https://evil.example)",
		`<a href="https://app.example.com/a/acc-1" style="text-decoration:underline;">your dashboard</a>`, "<strong>Sam &lt;i&gt;</strong>"} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("html lacks %q:\n%s", want, got.HTML)
		}
	}
	wantText := "Hi **Pat**,\n- [Win a prize](https://evil.example)\n# Urgent\nOpen your dashboard (https://app.example.com/a/acc-1) or **Sam <i>**.\n"
	if got.Text != wantText {
		t.Errorf("text:\n got %q\nwant %q", got.Text, wantText)
	}
	// The source an approver edits is the template's, without the marks.
	if _, text, _ := set.Source("note"); strings.Contains(text, literalName) {
		t.Errorf("Source shows the marking: %q", text)
	}
}

var fontFamily = regexp.MustCompile(`font-family:([^;"]*)`)

// noSerif fails unless every font named is a sans-serif stack.
func noSerif(t *testing.T, html string) {
	t.Helper()
	if strings.Count(html, "serif") != strings.Count(html, "sans-serif") || strings.Contains(html, "<font") {
		t.Errorf("a serif font:\n%s", html)
	}
	for _, m := range fontFamily.FindAllStringSubmatch(html, -1) {
		if !strings.HasSuffix(m[1], "sans-serif") {
			t.Errorf("font-family %q does not fall back to sans-serif", m[1])
		}
	}
}

func TestBrandLayout(t *testing.T) {
	base, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	data := Data{Account: Account{Name: "Acme"}, Contact: Person{Name: "Pat"}, CSM: Person{Name: "Sam", Email: "sam@x.example"}}
	const link = "https://cs.example/u/abc?t=1&x=2"
	tests := []struct {
		name        string
		brand       Brand
		logo        bool
		color, head string
	}{
		{"neutral", Brand{}, false, DefaultBrandColor, ">" + DefaultBrandName + "</span>"},
		{"named and coloured", Brand{Name: "Acme Success", Color: "#AA3300", PostalAddress: "1 Main St, Springfield"}, false, "#aa3300", ">Acme Success</span>"},
		{"logo", Brand{Name: "Acme", LogoURL: "https://cdn.example/logo.png", PostalAddress: "1 Main St"}, true, DefaultBrandColor, `<img src="https://cdn.example/logo.png" alt="Acme"`},
		{"http logo left out", Brand{Name: "Acme", LogoURL: "http://cdn.example/logo.png"}, false, DefaultBrandColor, ">Acme</span>"},
		{"hostile", Brand{Name: `<script>x</script>`, PostalAddress: `"><img src=x onerror=alert(1)>`, Color: `red;background:url(x)`}, false, DefaultBrandColor, ">&lt;script&gt;x&lt;/script&gt;</span>"},
	}
	for _, tt := range tests {
		for _, name := range []string{"getting-started", "welcome"} { // text-first, hand-written html
			t.Run(tt.name+" "+name, func(t *testing.T) {
				set := base.WithBrand(tt.brand)
				r, err := set.Render(name, data)
				if err != nil {
					t.Fatal(err)
				}
				sent := WithFooter(r, set.Brand(), link)
				html := sent.HTML
				if hasImg := strings.Contains(html, "<img"); name == "getting-started" && hasImg != tt.logo {
					t.Errorf("logo shown: %v, want %v", hasImg, tt.logo)
				}
				if name == "getting-started" {
					for _, want := range []string{tt.head, "border-top:4px solid " + tt.color, "max-width:600px", `name="viewport"`} {
						if !strings.Contains(html, want) {
							t.Errorf("html lacks %q:\n%s", want, html)
						}
					}
				}
				address := tt.brand.PostalAddress
				if address == "" {
					address = "Postal address not set (MAIL_POSTAL_ADDRESS)"
				}
				wantHTML := []string{`<a href="https://cs.example/u/abc?t=1&amp;x=2"`, ">Unsubscribe</a>"}
				if !strings.Contains(address, "<") {
					wantHTML = append(wantHTML, address)
				}
				for _, want := range wantHTML {
					if !strings.Contains(html, want) {
						t.Errorf("html footer lacks %q:\n%s", want, html)
					}
				}
				if strings.Count(html, footerStart) != 1 || strings.Contains(html, "added when the email is sent") {
					t.Errorf("want one footer, with the link:\n%s", html)
				}
				for _, bad := range []string{"<script", "<img src=x", "url(x)"} {
					if strings.Contains(html, bad) {
						t.Errorf("unescaped %q:\n%s", bad, html)
					}
				}
				for _, want := range []string{"\n--\n", strings.ToLower(address)[:5], "Unsubscribe: " + link + "\n"} {
					if !strings.Contains(strings.ToLower(sent.Text), strings.ToLower(want)) {
						t.Errorf("text lacks %q:\n%s", want, sent.Text)
					}
				}
				noSerif(t, html)
			})
		}
	}
}

// Every text-first built-in is laid out, in a sans-serif font.
func TestBuiltinsAreLaidOut(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	data := Data{Account: Account{Name: "Acme"}, Contact: Person{Name: "Pat"}, CSM: Person{Name: "Sam"}}
	for _, name := range set.Names() {
		r, err := set.Render(name, data)
		if err != nil {
			continue // a survey needs its options; surveys have their own html
		}
		if set.byName[name].laidOut && !laidOut(r.HTML) {
			t.Errorf("%s: not laid out", name)
		}
		if !strings.Contains(r.HTML, footerStart) {
			t.Errorf("%s: no footer", name)
		}
		noSerif(t, r.HTML)
	}
}

// The footer is the send's: sending puts the link in the preview's slot,
// not a second footer beside it.
func TestWithFooterReplacesThePreviewFooter(t *testing.T) {
	b := Brand{PostalAddress: "1 Main St"}
	for name, html := range map[string]string{
		"laid out":        layoutHTML(b, "S", "Hi", footerHTML(b, "")),
		"hand-written":    withFooterHTML("<html><body><p>Hi</p></body></html>", footerHTML(b, "")),
		"no body element": "<p>Hi</p>",
	} {
		t.Run(name, func(t *testing.T) {
			got := WithFooter(Rendered{Subject: "S", HTML: html, Text: "Hi\n"}, b, "https://u.example/1")
			if strings.Count(got.HTML, footerStart) != 1 || strings.Count(got.HTML, "1 Main St") != 1 ||
				!strings.Contains(got.HTML, `href="https://u.example/1"`) {
				t.Errorf("html:\n%s", got.HTML)
			}
			if want := "Hi\n\n--\nCustomer Success · 1 Main St\nUnsubscribe: https://u.example/1\n"; got.Text != want {
				t.Errorf("text = %q, want %q", got.Text, want)
			}
		})
	}
}

// Team notices are no customer email: no footer, no unsubscribe link.
func TestNoticesHaveNoFooter(t *testing.T) {
	set, err := Notices()
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.RenderNotice("approval-assigned", Notice{Step: "qbr"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.HTML, footerStart) || strings.Contains(r.HTML, "nsubscribe") {
		t.Errorf("a notice has a footer:\n%s", r.HTML)
	}
}

func TestBrandChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"colour", CheckColor("#1a2B3c"), true},
		{"default colour", CheckColor(""), true},
		{"colour name", CheckColor("blue"), false},
		{"short colour", CheckColor("#abc"), false},
		{"https logo", CheckLogoURL("https://cdn.example/l.png"), true},
		{"no logo", CheckLogoURL(""), true},
		{"http logo", CheckLogoURL("http://cdn.example/l.png"), false},
		{"relative logo", CheckLogoURL("/logo.png"), false},
		{"one line", CheckLine("1 Main St, Springfield"), true},
		{"two lines", CheckLine("1 Main St\nSpringfield"), false},
	} {
		if (tt.err == nil) != tt.want {
			t.Errorf("%s: err = %v", tt.name, tt.err)
		}
	}
}
