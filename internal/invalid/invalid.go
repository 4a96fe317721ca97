// Package invalid says what is wrong with a request, field by field: every
// domain service refuses bad input with an *Error, and both edges show it
// the same way (the API as problem+json field errors, the console next to
// the form's fields). Pure: nothing of ours imported.
package invalid

import (
	"fmt"
	"strings"
)

// Field is one bad part of a request, named as the API names it
// (decision, edits.subject, successor, ...).
type Field struct {
	Field   string
	Message string
}

// Error lists every bad part of a request: nothing was written.
type Error struct {
	What   string // what was refused: "task", "decision", "note", ...
	Errors []Field
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Field + ": " + fe.Message
	}
	return "invalid " + e.What + ": " + strings.Join(msgs, "; ")
}

// Add records one bad field.
func (e *Error) Add(field, format string, args ...any) {
	e.Errors = append(e.Errors, Field{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err is e when a field was bad, else nil.
func (e *Error) Err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// One is the refusal of a request with one bad field.
func One(what, field, format string, args ...any) error {
	e := &Error{What: what}
	e.Add(field, format, args...)
	return e
}
