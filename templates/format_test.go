package templates

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocated runs f and returns the bytes it allocated and how long it took.
func allocated(f func()) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

// Widths and precisions past MaxFormatWidth, or taken from an argument,
// are refused by Check (validation) and by Render (the worker, the
// simulation, the preview), before fmt builds anything: the issue's
// `%10000000[1]d` cost 10 MB a verb.
func TestWideFormatsAreRefusedByCheckAndRender(t *testing.T) {
	tests := []struct {
		name, src, check string
	}{
		{"width with an index", `{{printf "%10000000[1]d" 1}}`, `printf: the verb "%10000000" has a width of 10000000; widths and precisions may be at most 64`},
		{"precision", `{{printf "%.10000000f" 1.5}}`, `the verb "%.10000000" has a precision of 10000000`},
		{"star width", `{{printf "%*d" 100000000 1}}`, `the verb "%*" takes its width from an argument (*)`},
		{"star width with an index", `{{printf "%[1]*d" 100000000 1}}`, `the verb "%[1]*" takes its width from an argument`},
		{"star precision", `{{printf "%.*f" 100000000 1.5}}`, `takes its precision from an argument`},
		{"star precision with an index", `{{printf "%.[1]*f" 100000000 1.5}}`, `takes its precision from an argument`},
		{"left-aligned", `{{printf "%-99999s" "x"}}`, `the verb "%-99999" has a width of 99999`},
		{"zero-padded", `{{printf "%0999999d" 1}}`, `has a width of 999999`},
		{"just over the bound", `{{printf "%65d" 1}}`, `has a width of 65; widths and precisions may be at most 64`},
		{"past fmt's own cut-off", `{{printf "%` + strings.Repeat("9", 40) + `d" 1}}`, `has a width of 999999999999…`},
		{"after a verb fmt reads as '.'", `{{printf "%5.5.%10000000d" 1}}`, `the verb "%10000000" has a width of 10000000`},
		{"after an index fmt reads as the verb '['", `{{printf "%[1]5[%10000000d]" 1}}`, `the verb "%10000000" has a width`},
		{"piped format", `{{1 | printf "%10000000d"}}`, `has a width of 10000000`},
		{"format from a variable", `{{$f := "%999999d"}}{{printf $f 1}}`, `printf takes its format as a quoted string such as "%.0f", not $f`},
		{"format built as it runs", `{{printf (print "%99" "99999d") 1}}`, `printf takes its format as a quoted string`},
		{"second line", "Hi\n{{printf \"%d and %100d\" 1 2}}", `2: printf: the verb "%100" has a width of 100`},
	}
	var took time.Duration
	bytes, _ := allocated(func() {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := check(tt.src, false)
				if len(got) != 1 || !strings.Contains(got[0], tt.check) {
					t.Fatalf("Check = %q, want %q", got, tt.check)
				}
				for _, html := range []bool{false, true} {
					start := time.Now()
					err := renderPart(t, tt.src, html)
					took += time.Since(start)
					var rerr *RenderError
					if !errors.As(err, &rerr) || rerr.Line == 0 {
						t.Fatalf("html %v: Render = %v, want a RenderError at a line", html, err)
					}
				}
				if _, err := RenderMessage(tt.src, full); err == nil {
					t.Fatal("a notify message renders it")
				}
			})
		}
	})
	t.Logf("%d hostile formats refused by Check and Render (text, html, message): %d KiB allocated in all, rendering took %v",
		len(tests), bytes>>10, took)
	if bytes > 64<<20 {
		t.Fatalf("refusing them allocated %d MiB", bytes>>20)
	}
}

// The verbs of a format made as the template runs are checked as it runs:
// Check refuses the template, and a definition stored before the rule
// cannot render it either.
func TestRunTimeFormatsAreBounded(t *testing.T) {
	for _, format := range []string{"%10000000[1]d", "%.10000000f", "%*d", "%[1]*d", "%-99999s", "%999999d", "%.[2]*[1]f"} {
		_, err := boundedPrintf(format, 100000000, 1.5)
		var call *CallError
		if !errors.As(err, &call) || call.Func != "printf" {
			t.Errorf("printf %q: err = %v, want a CallError", format, err)
		}
	}
	data := full
	data.Account.Name = "%10000000d"
	// The error names the line and says what Check says of it.
	if _, err := RenderMessage("{{printf .Account.Name 1}}", data); err == nil || !strings.Contains(err.Error(), "line 1 of the message: printf") {
		t.Fatalf("a format from the data: err = %v", err)
	}
	data.Account.Name = "%d"
	if got, err := RenderMessage("{{printf .Account.Name 1}}", data); err != nil || got != "1" {
		t.Fatalf("a narrow format from the data = %q, %v", got, err)
	}
}

// Without printf's widths a template still doubles a value with each line
// or each nested escaper; every call that builds text is bounded, so the
// part fails at MaxCallBytes instead of at gigabytes.
func TestTextBuildingCallsAreBounded(t *testing.T) {
	doubling := `{{$s := "0123456789abcdef"}}` + strings.Repeat(`{{$s = print $s $s}}`, 30) + `{{$s}}`
	tests := []struct {
		name, src, want string
	}{
		{"print doubling a variable", doubling, "print: the result would be longer than 65536 bytes"},
		{"println doubling a variable", strings.ReplaceAll(doubling, "print", "println"), "println: the result would be longer"},
		{"nested js doubles its backslashes", `{{"''''''''" ` + strings.Repeat("| js ", 40) + `}}`, "js: the result would be longer"},
		{"nested %q", strings.Repeat(`{{printf "%q" `, 1) + `(` + strings.Repeat(`printf "%q" (`, 30) + `"\"\""` + strings.Repeat(")", 31) + "}}", "printf: the result would be longer"},
		{"html lengthens", `{{$s := "&&&&&&&&&&&&&&&&"}}` + strings.Repeat(`{{$s = html $s $s}}`, 20), "html: the result would be longer"},
		{"urlquery lengthens", `{{$s := "%%%%%%%%%%%%%%%%"}}` + strings.Repeat(`{{$s = urlquery $s $s}}`, 20), "urlquery: the result would be longer"},
		{"an argument reused by every verb", `{{$s := "0123456789abcdef"}}` + strings.Repeat(`{{$s = print $s $s}}`, 11) +
			`{{printf "` + strings.Repeat("%[1]s", 2000) + `" $s}}`, "printf: the result would be longer"},
		{"arguments left over", `{{$s := "0123456789abcdef"}}` + strings.Repeat(`{{$s = print $s $s}}`, 11) +
			`{{printf "x" $s $s $s $s $s $s $s $s $s $s $s $s}}`, "printf: the result would be longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(tt.src, false); len(got) > 0 {
				t.Fatalf("Check = %q: the test wants a template only rendering refuses", got)
			}
			var err error
			bytes, took := allocated(func() { err = renderPart(t, tt.src, false) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Render = %v, want %q", err, tt.want)
			}
			t.Logf("refused in %v, %d KiB allocated", took, bytes>>10)
			if bytes > 32<<20 {
				t.Fatalf("refusing it allocated %d MiB", bytes>>20)
			}
		})
	}
}

// html/template joins the arguments of html and urlquery with a function
// no bound wraps: a call takes at most MaxCallArgs arguments, at
// validation and when a template is parsed to render.
func TestCallsTakeABoundedNumberOfArguments(t *testing.T) {
	many := `{{$s := "x"}}{{html` + strings.Repeat(" $s", MaxCallArgs+1) + `}}`
	if got := check(many, true); len(got) != 1 || !strings.Contains(got[0], "html takes 17 arguments here; a call may take at most 16") {
		t.Fatalf("Check = %q", got)
	}
	if _, err := (&Set{byName: map[string]template{}}).WithSource("t", "s", "<p>"+many+"</p>", "t"); err == nil ||
		!strings.Contains(err.Error(), "html takes 17 arguments; a call may take at most 16") {
		t.Fatalf("WithSource = %v", err)
	}
	if _, err := RenderMessage("hi\n"+many, full); err == nil || err.Error() != "line 2 of the message: html takes 17 arguments; a call may take at most 16" {
		t.Fatalf("RenderMessage = %v", err)
	}
	fine := `{{$s := "x"}}{{html` + strings.Repeat(" $s", MaxCallArgs) + `}}`
	if got := check(fine, true); len(got) > 0 {
		t.Fatalf("Check = %q", got)
	}
}

// What templates print with printf keeps working.
func TestUsualFormatsRender(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{{printf "%.0f" .Account.ARR}}`, "48000"},
		{`{{.Account.ARR | printf "%.2f"}}`, "48000.00"},
		{`{{printf "%-8s|" .Account.Name}}`, "Acme    |"},
		{`{{printf "%5.1f%%" 42.25}}`, " 42.2%"},
		{`{{printf "%[2]s, %[1]s" .Account.Name .Contact.Name}}`, "Pat Lee, Acme"},
		{`{{printf "%064d" 7}}`, strings.Repeat("0", 63) + "7"},
		{`{{printf "%.64f" 0.5}}`, "0.5" + strings.Repeat("0", 63)},
		{`{{printf "%q" .Contact.Name}}`, `"Pat Lee"`},
		{`{{print .Health.Score " " .Health.Band}}`, "42 red"},
		{`{{urlquery .CSM.Email}}`, "casey%40cs.test"},
	}
	for _, tt := range tests {
		if got := check(tt.src, false); len(got) > 0 {
			t.Errorf("%s: Check = %q", tt.src, got)
		}
		got, err := RenderMessage(tt.src, full)
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

// Whatever format checkFormat lets through, fmt prints a bounded result:
// the format, and per verb at most a number within the bounds or one
// argument.
func FuzzCheckFormatBoundsFmt(f *testing.F) {
	for _, seed := range []string{"%d", "%10000000[1]d", "%5.5.%10000000d", "%[1]5[%10000000d]", "%[1]*d", "%.[2]*[1]f",
		"%[3]2d", "%[", "%[]d", "%[99999999999999999]d", "%.", "%-+# 0x", "%64.64f", "%%%d%%", "%!", "%[2]-5d", "%.5[1]d", "%1.%1000000d"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, format string) {
		verbs, err := checkFormat(format)
		if err != nil {
			return
		}
		out := fmt.Sprintf(format, 12345, -1.5e300, "xyz", true)
		if bound := len(format) + verbs*(MaxFormatWidth+maxNumberBytes) + 4*maxNumberBytes; len(out) > bound {
			t.Fatalf("%q passes the check and prints %d bytes, over %d", format, len(out), bound)
		}
	})
}
