package templates

import (
	"errors"
	htmltemplate "html/template"
	"io"
	"strconv"
	"strings"
	texttemplate "text/template"
)

// Compose is how an email is made for one recipient wherever it is sent or
// shown (the send, the simulation, the approval page): the recipient's own
// draft with a person's edits, each edited part itself a template over the
// same recipient's data. An edit that says "Hi {{.Contact.FirstName}}," greets
// every recipient by their name, and a part left alone keeps each recipient's
// own draft; an edit without fields is sent as written. Nil edits give the
// draft.
func Compose(draft Rendered, edits *Rendered, data Data) (Rendered, error) {
	if edits == nil || *edits == (Rendered{}) {
		return draft, nil
	}
	if err := CheckEdits(*edits); err != nil {
		return Rendered{}, err
	}
	var filled Rendered
	for _, p := range []struct {
		part, src string
		out       *string
	}{{"subject", edits.Subject, &filled.Subject}, {"text", edits.Text, &filled.Text}, {"html", edits.HTML, &filled.HTML}} {
		if p.src == "" {
			continue
		}
		s, err := fillPart(p.part, p.src, data)
		if err != nil {
			return Rendered{}, err
		}
		if s == "" {
			return Rendered{}, &EditError{Part: p.part, Reason: "is empty once its fields are filled in"}
		}
		*p.out = s
	}
	if filled.Subject != "" {
		filled.Subject = oneLine(filled.Subject)
	}
	return draft.Edited(filled)
}

// partLimit is the render bound of each part.
var partLimit = map[string]int{"subject": maxSubjectBytes, "text": MaxTextBytes, "html": MaxHTMLBytes}

// fillPart fills in one part of an edit, within the part's bound, with the
// functions and checks of every template (Check for the fields it may use).
func fillPart(part, src string, data Data) (string, error) {
	var problems []string
	Check(src, part == "html", func(line int, message string) {
		problems = append(problems, message)
		if line > 0 {
			problems[len(problems)-1] = "line " + strconv.Itoa(line) + ": " + message
		}
	})
	if len(problems) > 0 {
		return "", &EditError{Part: part, Reason: "has a field that cannot be filled in: " + strings.Join(problems, "; ")}
	}
	out := bounded(part, partLimit[part])
	var exec func(io.Writer) error
	if part == "html" {
		t, err := htmltemplate.New(part).Option(missingKey).Funcs(boundedFuncs).Parse(src)
		if err != nil {
			return "", &EditError{Part: part, Reason: "cannot be read: " + err.Error()}
		}
		exec = func(w io.Writer) error { return t.Execute(w, data) }
	} else {
		t, err := texttemplate.New(part).Option(missingKey).Funcs(boundedFuncs).Parse(src)
		if err != nil {
			return "", &EditError{Part: part, Reason: "cannot be read: " + err.Error()}
		}
		if err := checkArgs(t); err != nil {
			return "", &EditError{Part: part, Reason: err.Error()}
		}
		exec = func(w io.Writer) error { return t.Execute(w, data) }
	}
	if err := exec(out); err != nil {
		var tooLarge *TooLargeError
		if errors.As(err, &tooLarge) {
			return "", tooLarge
		}
		return "", &EditError{Part: part, Reason: "could not be filled in: " + err.Error()}
	}
	return out.String(), nil
}

// Source is what a template's subject and text say before they are filled
// in, for a person who edits an email for several recipients at once.
func (s *Set) Source(name string) (subject, text string, ok bool) {
	t, ok := s.byName[name]
	if !ok {
		return "", "", false
	}
	part := func(p string) string {
		if d := t.text.Lookup(p); d != nil && d.Tree != nil && d.Tree.Root != nil {
			return strings.TrimSpace(d.Tree.Root.String())
		}
		return ""
	}
	return part("subject"), part("text"), true
}
