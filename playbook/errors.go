package playbook

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem of a definition: where and what is expected.
type FieldError struct {
	Path    string `json:"path"`           // steps[3].approval.assignee; "" for the whole document
	Line    int    `json:"line,omitempty"` // in the YAML/JSON source, when known
	Message string `json:"message"`
}

func (e FieldError) String() string {
	where := e.Path
	if where == "" {
		where = "(document)"
	}
	if e.Line > 0 {
		where = fmt.Sprintf("%s (line %d)", where, e.Line)
	}
	return where + ": " + e.Message
}

// Errors lists every problem found; it is the error Parse and Validate return.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

func (es *Errors) add(path string, line int, format string, args ...any) {
	*es = append(*es, FieldError{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// paths indexes the paths of errors, so that covering a path costs its
// length, not the number of errors.
func (es Errors) paths() map[string]bool {
	set := make(map[string]bool, len(es))
	for _, e := range es {
		set[e.Path] = true
	}
	return set
}

// covered reports whether an error is recorded at path or above it (at a
// prefix ending where a field or an index begins).
func covered(set map[string]bool, path string) bool {
	if set[path] {
		return true
	}
	for i := 1; i < len(path); i++ {
		if (path[i] == '.' || path[i] == '[') && set[path[:i]] {
			return true
		}
	}
	return false
}

// sorted orders errors by line, then path, for stable messages.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Path < es[j].Path
	})
	return es
}
