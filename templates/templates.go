// Package templates renders the emails playbooks send. Each built-in template
// is one file defining "subject", "text" and "html"; text parts go through
// text/template and the html part through html/template, so customer data is
// escaped where it lands in markup.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"github.com/playbookd/playbookd/message"
)

//go:embed builtin/*.tmpl
var builtinFS embed.FS

// ErrUnknown is returned for a template name nobody defined.
var ErrUnknown = errors.New("unknown template")

// Bounds of what a template renders. They are enforced while rendering: the
// output is written to a buffer that refuses to grow past its bound, which
// stops the execution there, so a template that repeats itself costs neither
// the memory nor the time of its whole output.
const (
	MaxSubjectChars = 250       // after trimming; SendGrid and mail clients cut long subjects anyway
	MaxHTMLBytes    = 512 << 10 // the html part, also when laid out from the text
	MaxTextBytes    = 256 << 10 // the text part
	MaxMessageBytes = 40 << 10  // a notify message: Slack's own limit is 40,000 characters
)

// oneLine makes a rendered subject one line: line breaks and other control
// characters (from a template, or data stored before they were refused)
// become spaces, so a subject can never carry a header of its own.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// maxSubjectBytes bounds the subject before it is trimmed: room for the
// longest subject in UTF-8 and the blank lines around it in a source.
const maxSubjectBytes = 4*MaxSubjectChars + 1<<10

// TooLargeError says which part of a rendered email (or a message) is over
// its bound.
type TooLargeError struct {
	Part  string // subject, html, text or message
	Limit int
	Unit  string // bytes or characters
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the %s is longer than the limit of %d %s", e.Part, e.Limit, e.Unit)
}

// boundedBuffer is where a part renders: a write that would take it past the
// limit fails, and text/template stops executing at the first failed write.
type boundedBuffer struct {
	buf   bytes.Buffer
	limit int
	over  *TooLargeError // what a write past the limit returns
}

func bounded(part string, limit int) *boundedBuffer {
	return &boundedBuffer{limit: limit, over: &TooLargeError{Part: part, Limit: limit, Unit: "bytes"}}
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.limit {
		return 0, b.over
	}
	return b.buf.Write(p)
}

func (b *boundedBuffer) String() string { return b.buf.String() }

// Check holds content to the bounds: Render does, and content a person
// edited must too.
func (r Rendered) Check() error {
	switch {
	case utf8.RuneCountInString(r.Subject) > MaxSubjectChars:
		return &TooLargeError{Part: "subject", Limit: MaxSubjectChars, Unit: "characters"}
	case len(r.HTML) > MaxHTMLBytes:
		return &TooLargeError{Part: "html", Limit: MaxHTMLBytes, Unit: "bytes"}
	case len(r.Text) > MaxTextBytes:
		return &TooLargeError{Part: "text", Limit: MaxTextBytes, Unit: "bytes"}
	}
	return nil
}

// Rendered is a finished email: the content every other package knows
// (message.Content) with the bounds and edit rules of this package.
type Rendered message.Content

type template struct {
	src  string // the source: subject, text and html as {{define}}s
	text *texttemplate.Template
	html *htmltemplate.Template
	// laidOut: the template gives no html; its text is Markdown-light
	// (markdown.go) and the layout makes the html.
	laidOut bool
}

// Set is a collection of parsed templates, and the brand its customer
// emails are laid out with (WithBrand; zero: the neutral brand).
type Set struct {
	byName map[string]template
	brand  Brand
}

// Builtin parses the templates shipped with the binary.
func Builtin() (*Set, error) { return parseDir(builtinFS, "builtin") }

// parseDir parses every .tmpl file of an embedded directory, each named by
// its file name.
func parseDir(fsys embed.FS, dir string) (*Set, error) {
	set := &Set{byName: map[string]template{}}
	paths, err := fs.Glob(fsys, dir+"/*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		src, err := fsys.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, dir+"/"), ".tmpl")
		if err := set.add(name, string(src)); err != nil {
			return nil, err
		}
	}
	return set, nil
}

func (s *Set) add(name, src string) error {
	text, err := texttemplate.New(name).Option(missingKey).Funcs(boundedFuncs).Parse(src)
	if err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	if err := checkArgs(text); err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	html, err := htmltemplate.New(name).Option(missingKey).Funcs(boundedFuncs).Parse(src)
	if err != nil {
		return fmt.Errorf("template %s: %w", name, err)
	}
	for _, part := range []string{"subject", "text"} {
		if text.Lookup(part) == nil {
			return fmt.Errorf("template %s: missing {{define %q}}", name, part)
		}
	}
	laid := html.Lookup("html") == nil
	if laid {
		markTextFields(text)
	}
	s.byName[name] = template{src: src, text: text, html: html, laidOut: laid}
	return nil
}

// markedText is the text part as rendered for the layout: each field's
// output marked as literal (literalFunc), so that customer data is never
// read as Markdown. It is a copy of the "text" tree, so the part's source
// (Source, error lines) stays as written.
const markedText = "text (marked)"

// markTextFields adds markedText to a text-first template: "text" with
// every action that prints piped through literalFunc. The function is
// registered after parsing, so no template source can call it.
func markTextFields(t *texttemplate.Template) {
	tree := t.Lookup("text").Tree.Copy()
	var walk func(*parse.ListNode)
	walk = func(l *parse.ListNode) {
		if l == nil {
			return
		}
		for _, n := range l.Nodes {
			switch n := n.(type) {
			case *parse.ActionNode:
				if len(n.Pipe.Decl) == 0 { // a declaration or assignment prints nothing
					ident := parse.NewIdentifier(literalName).SetTree(tree).SetPos(n.Pos)
					n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{ident}})
				}
			case *parse.IfNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.List)
				walk(n.ElseList)
			}
		}
	}
	walk(tree.Root)
	t.Funcs(map[string]any{literalName: literalFunc})
	// The tree parsed already; adding it cannot fail.
	_, _ = t.AddParseTree(markedText, tree)
}

// literalName is literalFunc's name in templates: not a Go identifier a
// template could write.
const literalName = "playbookd_literal"

// WithSource returns a set that also holds a template given as separate
// parts (a playbook definition's own template); it shadows a built-in of the
// same name.
func (s *Set) WithSource(name, subject, html, text string) (*Set, error) {
	src := fmt.Sprintf(`{{define "subject"}}%s{{end}}{{define "text"}}%s{{end}}`, subject, text)
	// Without html the template is text-first: the brand's layout.
	if strings.TrimSpace(html) != "" {
		src += fmt.Sprintf(`{{define "html"}}%s{{end}}`, html)
	}
	out := &Set{byName: make(map[string]template, len(s.byName)+1), brand: s.brand}
	for k, v := range s.byName {
		out.byName[k] = v
	}
	if err := out.add(name, src); err != nil {
		return nil, err
	}
	return out, nil
}

// Has reports whether the set defines the template.
func (s *Set) Has(name string) bool {
	_, ok := s.byName[name]
	return ok
}

// Names lists the templates, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Render fills a customer email's template in. The html ends in the
// footer's slot, as previewed (no unsubscribe link yet: WithFooter puts
// the recipient's in when sending); the text has no footer yet.
func (s *Set) Render(name string, data Data) (Rendered, error) {
	return s.render(name, data, true)
}

// render fills a template in; a customer email's html gets the footer
// (customer), a team notice's none.
func (s *Set) render(name string, data any, customer bool) (Rendered, error) {
	t, ok := s.byName[name]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	subject := bounded("subject", maxSubjectBytes)
	// Past maxSubjectBytes the subject is far over MaxSubjectChars: say that.
	subject.over = &TooLargeError{Part: "subject", Limit: MaxSubjectChars, Unit: "characters"}
	text := bounded("text", MaxTextBytes)
	html := bounded("html", MaxHTMLBytes)
	if err := t.text.ExecuteTemplate(subject, "subject", data); err != nil {
		return Rendered{}, t.failed(name, "subject", err)
	}
	textPart := "text"
	if t.laidOut {
		// The marks take 6 bytes a field; the text without them is held
		// to MaxTextBytes below.
		text, textPart = bounded("text", 2*MaxTextBytes), markedText
	}
	if err := t.text.ExecuteTemplate(text, textPart, data); err != nil {
		return Rendered{}, t.failed(name, "text", err)
	}
	out := Rendered{Subject: oneLine(subject.String()), Text: strings.TrimSpace(text.String())}
	footer := ""
	if customer {
		footer = footerHTML(s.brand, "")
	}
	if t.laidOut {
		out.HTML = layoutHTML(s.brand, out.Subject, out.Text, footer)
		out.Text = strings.TrimSpace(markdownText(out.Text))
	} else {
		if err := t.html.ExecuteTemplate(html, "html", data); err != nil {
			return Rendered{}, t.failed(name, "html", err)
		}
		out.HTML = strings.TrimSpace(html.String())
		if customer {
			out.HTML = withFooterHTML(out.HTML, footer)
		}
	}
	if err := out.Check(); err != nil {
		return Rendered{}, fmt.Errorf("render %s: %w", name, err)
	}
	out.Text += "\n"
	out.HTML += "\n"
	return out, nil
}

// RenderMessage fills in a one-off text template, such as a notify step's
// message, within MaxMessageBytes.
func RenderMessage(src string, data Data) (string, error) {
	t, err := texttemplate.New("message").Option(missingKey).Funcs(boundedFuncs).Parse(src)
	if err != nil {
		line, msg := parseError(err)
		return "", &RenderError{Part: "message", Line: line, Reason: msg}
	}
	if _, n := callOverArgs(t); n != nil {
		line := 1 + strings.Count(src[:min(int(n.Position()), len(src))], "\n")
		return "", &RenderError{Part: "message", Line: line, Reason: tooManyArgs(n)}
	}
	out := bounded("message", MaxMessageBytes)
	if err := t.Execute(out, data); err != nil {
		if errors.As(err, new(*TooLargeError)) {
			return "", err
		}
		return "", template{src: src}.failed("", "message", err)
	}
	return out.String(), nil
}

// RenderError says why a template did not render over an account's data:
// which template, which part, at which line of the part.
type RenderError struct {
	Template string // "" for a notify message
	Part     string // subject, text, html or message
	Line     int    // in the part, from 1; 0 when not known
	Reason   string
}

func (e *RenderError) Error() string {
	where := "the " + e.Part
	if e.Line > 0 {
		where = fmt.Sprintf("line %d of the %s", e.Line, e.Part)
	}
	if e.Template != "" {
		where = fmt.Sprintf("template %q, %s", e.Template, where)
	}
	return where + ": " + e.Reason
}

var execErrorPattern = regexp.MustCompile(`(?s)^template: [^:]*:(\d+):\d+: executing "[^"]*" at <(.*?)>: (.*)$`)

// failed describes an error of executing a part. Output over its bound keeps
// its own error; anything else becomes a RenderError whose reason is Check's
// when Check sees the problem at that line.
func (t template) failed(name, part string, err error) error {
	var tooLarge *TooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("render %s %s: %w", name, part, err)
	}
	out := &RenderError{Template: name, Part: part, Reason: strings.TrimPrefix(err.Error(), "template: ")}
	line := 0
	var escape *htmltemplate.Error
	if errors.As(err, &escape) {
		line, out.Reason = escape.Line, escape.Description
	} else if m := execErrorPattern.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		out.Reason = m[2] + ": " + m[3]
	}
	if line == 0 {
		return out
	}
	out.Line = line - t.startLine(part) + 1
	found := false
	// The part's html escaping is not in question here: the check over the
	// text's rules says what is wrong at that line, if it sees it.
	Check(t.src, false, func(l int, msg string) {
		if l == line && !found {
			out.Reason, found = msg, true
		}
	})
	return out
}

// startLine is the line of the source where a part's text begins (a notify
// message is one part: 1).
func (t template) startLine(part string) int {
	if t.text == nil {
		return 1
	}
	d := t.text.Lookup(part)
	if d == nil || d.Tree == nil || d.Tree.Root == nil || int(d.Tree.Root.Pos) > len(t.src) {
		return 1
	}
	return 1 + strings.Count(t.src[:d.Tree.Root.Pos], "\n")
}
