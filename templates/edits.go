package templates

import (
	"strings"
	"unicode"
)

// EditError says why a part of a person's edits cannot be sent.
type EditError struct {
	Part   string // subject, html or text
	Reason string
}

func (e *EditError) Error() string { return "the " + e.Part + " " + e.Reason }

// CheckEdits holds a person's edits of a drafted email (empty parts are not
// edited) to the render bounds and to what can be sent truthfully: a
// single-line subject (it becomes a header), no NUL (PostgreSQL refuses it),
// and an html edit only with the text, so that both parts say the same.
func CheckEdits(e Rendered) error {
	if err := e.Check(); err != nil {
		return err
	}
	if strings.IndexFunc(e.Subject, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0 {
		return &EditError{Part: "subject", Reason: "must be a single line without control characters"}
	}
	for _, p := range []struct{ part, s string }{{"html", e.HTML}, {"text", e.Text}} {
		if strings.ContainsRune(p.s, 0) {
			return &EditError{Part: p.part, Reason: "must not contain a NUL character"}
		}
	}
	if e.HTML != "" && e.Text == "" {
		return &EditError{Part: "text", Reason: "is required with an edited html, so that plain-text readers get the same email"}
	}
	return nil
}

// Edited is the draft with a person's edits applied (CheckEdits first):
// each edited part replaces the draft's. An edited text without an edited
// html is Markdown-light: the text part keeps it readable (markdownText)
// and the html is laid out from it, so the html never keeps the old words.
// A laid-out draft keeps its brand and footer, with the new body (and
// title); any other html gets the neutral layout, whose footer the send
// fills in. The result is held to the bounds: the layout of a text can
// outgrow them.
func (r Rendered) Edited(e Rendered) (Rendered, error) {
	out := r
	if e.Subject != "" {
		out.Subject = e.Subject
	}
	switch {
	case e.HTML != "":
		out.HTML = e.HTML
		if e.Text != "" {
			out.Text = e.Text
		}
	case e.Text != "":
		out.Text = markdownText(e.Text)
		if laidOut(r.HTML) {
			out.HTML = relayout(r.HTML, out.Subject, e.Text)
		} else {
			out.HTML = Layout(out.Subject, e.Text)
		}
	case e.Subject != "" && laidOut(r.HTML):
		out.HTML = retitle(r.HTML, out.Subject)
	}
	return out, out.Check()
}
