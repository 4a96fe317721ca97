// Package text holds the rules for the text the edges take, the API's
// requests and the console's forms alike: one set, so that nothing one edge
// refuses can be stored through the other. It is pure: no I/O.
package text

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ControlIndex is the byte index of the first control character in s, or
// -1. Tab is allowed, and CR and LF in multiline text (notes, templates,
// comments): PostgreSQL refuses NUL in text, and the other control
// characters only corrupt what shows the text (logs, terminals, headers).
func ControlIndex(s string, multiline bool) int {
	for i, r := range s {
		if r == '\t' || (multiline && (r == '\n' || r == '\r')) {
			continue
		}
		if unicode.IsControl(r) {
			return i
		}
	}
	return -1
}

// Problem says what keeps s from being text an edge takes, in words that
// follow a field's name ("note has the control character U+0007 at byte
// 3: ..."), or "" when nothing does.
func Problem(s string, multiline bool) string {
	if !utf8.ValidString(s) {
		return "is not UTF-8 text"
	}
	i := ControlIndex(s, multiline)
	if i < 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	allowed := "no control characters but tab"
	if multiline {
		allowed = "no control characters but tab and line breaks"
	}
	return fmt.Sprintf("has the control character %U at byte %d: it holds %s", r, i, allowed)
}
