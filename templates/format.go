package templates

import (
	"fmt"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"unicode/utf8"
)

// Bounds of what one function call in a template may build. fmt builds a
// whole result before the bounded buffer of a part sees a byte of it, so
// `{{printf "%10000000d" 1}}` cost 10 MB per verb however small the part's
// limit; and a template without loops still doubles a value with each line
// (`{{$s = print $s $s}}`, nested js or %q), so every call is bounded, not
// only printf.
const (
	// MaxFormatWidth bounds a width or a precision in a printf format:
	// enough to line up a column or print a decimal number.
	MaxFormatWidth = 64
	// MaxCallBytes bounds the result of one call of print, printf,
	// println, html, js or urlquery: as long as a definition's template
	// part may be as source, and a quarter of the text part's bound.
	MaxCallBytes = 64 << 10
	// MaxCallArgs bounds the arguments of one call. html/template joins the
	// arguments of html and urlquery with a function of its own, which no
	// bound of ours wraps: this bounds that join.
	MaxCallArgs = 16
)

// maxFormatScratch bounds what printf may build before its result is
// measured: an estimate of the longest result from the format and the
// arguments' lengths (a verb reuses an argument with %[1]s).
const maxFormatScratch = 1 << 20

// maxNumberBytes is the most a verb prints of a number within the width
// and precision bounds: %f of the largest float64 is 309 digits, and the
// precision adds to it.
const maxNumberBytes = 320 + 2*MaxFormatWidth

// boundedFuncs replace text/template's functions that build text: same
// names and results, each refusing a result past MaxCallBytes before
// building it where its arguments tell, after otherwise. Every Set and
// RenderMessage registers them, so the worker, the simulation and the
// console's preview render alike.
var boundedFuncs = map[string]any{
	"printf":   boundedPrintf,
	"print":    joining("print", fmt.Sprint),
	"println":  joining("println", fmt.Sprintln),
	"html":     joining("html", texttemplate.HTMLEscaper),
	"js":       joining("js", texttemplate.JSEscaper),
	"urlquery": joining("urlquery", texttemplate.URLQueryEscaper),
	// Not text/template's, and builds no text: it passes an argument on.
	"default": defaultValue,
}

// CallError says why a call in a template was refused as it ran.
type CallError struct {
	Func   string
	Reason string
}

func (e *CallError) Error() string { return e.Func + ": " + e.Reason }

func tooLong(name string) *CallError {
	return &CallError{Func: name, Reason: fmt.Sprintf("the result would be longer than %d bytes (%d KiB), the limit of one call",
		MaxCallBytes, MaxCallBytes>>10)}
}

// textLen is the length of an argument that is text; 0 for other values,
// which print short (the template data holds no lists).
func textLen(a any) int {
	switch v := a.(type) {
	case string:
		return len(v)
	case []byte:
		return len(v)
	}
	return 0
}

// joining bounds a function whose result is at least as long as its text
// arguments together (print joins them, the escapers only lengthen them).
func joining(name string, f func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		total := 0
		for _, a := range args {
			total += textLen(a)
		}
		if total > MaxCallBytes {
			return "", tooLong(name)
		}
		out := f(values(args)...)
		if len(out) > MaxCallBytes {
			return "", tooLong(name)
		}
		return out, nil
	}
}

// values has a measure (Metrics' *int and *float64) print as its value, as
// {{.}} prints it, not as an address; nil stays nil.
func values(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		switch p := a.(type) {
		case *int:
			if p != nil {
				out[i] = *p
			}
		case *float64:
			if p != nil {
				out[i] = *p
			}
		}
	}
	return out
}

func boundedPrintf(format string, args ...any) (string, error) {
	verbs, err := checkFormat(format)
	if err != nil {
		return "", &CallError{Func: "printf", Reason: err.Error()}
	}
	// Each verb prints one argument, %q or % x at most five times its
	// length; arguments left over are printed too (%!(EXTRA ...)).
	longest, total := 0, 0
	for _, a := range args {
		n := textLen(a)
		longest, total = max(longest, n), total+n+maxNumberBytes
	}
	if estimate := len(format) + verbs*(MaxFormatWidth+maxNumberBytes+5*longest) + 5*total; estimate > maxFormatScratch {
		return "", tooLong("printf")
	}
	out := fmt.Sprintf(format, values(args)...)
	if len(out) > MaxCallBytes {
		return "", tooLong("printf")
	}
	return out, nil
}

// checkFormat refuses a printf format whose widths or precisions are over
// MaxFormatWidth or come from an argument (*), and counts its verbs. It
// reads the format as fmt's doPrintf does, step for step (flags, an
// argument index, a width, a precision, an index, one verb), so that no
// width fmt would see escapes it.
func checkFormat(format string) (verbs int, err error) {
	end := len(format)
	for i := 0; i < end; {
		if format[i] != '%' {
			i++
			continue
		}
		start := i
		i++
		verbs++
		for i < end && strings.IndexByte("#0+- ", format[i]) >= 0 {
			i++
		}
		afterIndex := false
		i, afterIndex = formatIndex(format, i)
		if i < end && format[i] == '*' {
			return 0, verbError(format, start, i+1, "takes its width from an argument (*); write the width in the format")
		}
		n, overflow, next := formatNumber(format, i)
		if overflow || n > MaxFormatWidth {
			return 0, verbError(format, start, next, widthReason("width", format[i:next]))
		}
		i = next
		if i+1 < end && format[i] == '.' {
			i++
			i, afterIndex = formatIndex(format, i)
			if i < end && format[i] == '*' {
				return 0, verbError(format, start, i+1, "takes its precision from an argument (*); write the precision in the format")
			}
			n, overflow, next = formatNumber(format, i)
			if overflow || n > MaxFormatWidth {
				return 0, verbError(format, start, next, widthReason("precision", format[i:next]))
			}
			i = next
		}
		if !afterIndex {
			i, _ = formatIndex(format, i)
		}
		if i >= end {
			break
		}
		_, size := utf8.DecodeRuneInString(format[i:])
		i += size
	}
	return verbs, nil
}

func widthReason(what, digits string) string {
	if len(digits) > 12 {
		digits = digits[:12] + "…"
	}
	return fmt.Sprintf("has a %s of %s; widths and precisions may be at most %d", what, digits, MaxFormatWidth)
}

// verbError names the verb (format[start:end], cut short when long).
func verbError(format string, start, end int, reason string) error {
	verb := format[start:min(end, len(format))]
	if len(verb) > 24 {
		cut := 24
		for cut > 0 && !utf8.RuneStart(verb[cut]) {
			cut--
		}
		verb = verb[:cut] + "…"
	}
	return fmt.Errorf("the verb %q %s", verb, reason)
}

// formatIndex skips an argument index such as [2] where fmt's argNumber
// would, and reports whether it found one.
func formatIndex(format string, i int) (int, bool) {
	if i >= len(format) || format[i] != '[' {
		return i, false
	}
	s := format[i:]
	if len(s) < 3 {
		return i + 1, false
	}
	for j := 1; j < len(s); j++ {
		if s[j] == ']' {
			_, overflow, next := formatNumber(s[:j], 1)
			if overflow || next != j || j == 1 {
				return i + j + 1, false
			}
			return i + j + 1, true
		}
	}
	return i + 1, false
}

// formatNumber reads the digits at format[i:] as fmt's parsenum does. fmt
// gives up on a number past a million (overflow), which is over the bound
// anyway; next is then past all the digits, to name them.
func formatNumber(format string, i int) (n int, overflow bool, next int) {
	for next = i; next < len(format) && '0' <= format[next] && format[next] <= '9'; next++ {
		if n > 1e6 {
			overflow = true
			continue
		}
		n = n*10 + int(format[next]-'0')
	}
	return n, overflow, next
}

// checkArgs refuses a call with more than MaxCallArgs arguments anywhere in
// a parsed template.
func checkArgs(t *texttemplate.Template) error {
	if d, n := callOverArgs(t); n != nil {
		return fmt.Errorf("%s: %s", d, tooManyArgs(n))
	}
	return nil
}

// callOverArgs is the first call with more than MaxCallArgs arguments in
// any of t's templates, with that template's name; nil when none is.
func callOverArgs(t *texttemplate.Template) (string, *parse.CommandNode) {
	for _, d := range t.Templates() {
		if d.Tree == nil {
			continue
		}
		if n := manyArgs(d.Tree.Root); n != nil {
			return d.Name(), n
		}
	}
	return "", nil
}

func tooManyArgs(cmd *parse.CommandNode) string {
	return fmt.Sprintf("%s takes %d arguments; a call may take at most %d", cmd.Args[0], len(cmd.Args)-1, MaxCallArgs)
}

// manyArgs is the first command below n with more than MaxCallArgs
// arguments, or nil.
func manyArgs(n parse.Node) *parse.CommandNode {
	var found *parse.CommandNode
	var visit func(parse.Node)
	pipe := func(p *parse.PipeNode) {
		if p == nil {
			return
		}
		for _, c := range p.Cmds {
			visit(c)
		}
	}
	visit = func(n parse.Node) {
		if found != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				visit(c)
			}
		case *parse.ActionNode:
			pipe(n.Pipe)
		case *parse.IfNode:
			pipe(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.WithNode:
			pipe(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.RangeNode:
			pipe(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.TemplateNode:
			pipe(n.Pipe)
		case *parse.PipeNode:
			pipe(n)
		case *parse.CommandNode:
			if len(n.Args)-1 > MaxCallArgs {
				found = n
				return
			}
			for _, a := range n.Args {
				visit(a)
			}
		case *parse.ChainNode:
			visit(n.Node)
		}
	}
	visit(n)
	return found
}
