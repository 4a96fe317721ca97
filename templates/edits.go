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

// Layout is the html a template without its own html part renders for the
// subject and text.
func Layout(subject, text string) string { return layoutHTML(subject, text) + "\n" }

// Edited is the draft with a person's edits applied (CheckEdits first):
// each edited part replaces the draft's. An edited text without an edited
// html gets the shared layout of the new text, so the html never keeps the
// old words; a draft whose html is that layout follows an edited subject too.
// The result is held to the bounds: the layout of a text can outgrow them.
func (r Rendered) Edited(e Rendered) (Rendered, error) {
	out := r
	laidOut := r.HTML == Layout(r.Subject, r.Text)
	if e.Subject != "" {
		out.Subject = e.Subject
	}
	if e.Text != "" {
		out.Text = e.Text
	}
	switch {
	case e.HTML != "":
		out.HTML = e.HTML
	case e.Text != "" || laidOut && e.Subject != "":
		out.HTML = Layout(out.Subject, out.Text)
	}
	return out, out.Check()
}
