package console_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// formFuzzEnv sets how many random posts TestConsoleFormsUnderRandomInput
// makes (BENCHMARKS.md runs it with 20,000).
const formFuzzEnv = "PLAYBOOKD_FORM_FUZZ"

// Every console form, posted with random values in its fields (control
// characters, invalid UTF-8, huge and numeric-looking text, missing and
// extra fields), answers a page, never a 5xx.
func TestConsoleFormsUnderRandomInput(t *testing.T) {
	n := 300
	if v, err := strconv.Atoi(os.Getenv(formFuzzEnv)); err == nil && v > 0 {
		n = v
	}
	h := newHostile(t)
	var forms []consoleForm
	for _, f := range h.forms() {
		if f.name != "sign out" { // it would end the session the others need
			forms = append(forms, f)
		}
	}
	rng := rand.New(rand.NewPCG(20, 21)) // fixed: a failure replays
	pieces := []string{"\x00", "\x07", "\x1b[31m", "\x7f", "\u0085", "\xff\xfe", "\r\n", "\t", "{{", "}}", "%n", "%10000000d",
		"2147483648", "-1", "1e400", "NaN", "<script>", "'; DROP TABLE accounts; --", "../../etc/passwd", "ü", "🙂",
		strings.Repeat("x", 70_000), "", " ", "approve", "reject", "onboarding", "acme"}
	value := func() string {
		var b strings.Builder
		for range rng.IntN(4) + 1 {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	statuses := map[int]int{}
	for i := range n {
		f := forms[rng.IntN(len(forms))]
		fields := with(f.fields, h.token, "", "")
		for name := range f.fields {
			switch rng.IntN(4) {
			case 0:
				fields.Set(name, value())
			case 1:
				fields.Del(name)
			}
		}
		if rng.IntN(5) == 0 {
			fields.Set(value(), value()) // a field the form does not have
		}
		resp, body := h.admin.post(f.path, fields)
		statuses[resp.StatusCode]++
		require.Less(t, resp.StatusCode, 500, "post %d to %s (%s) with %q: %s", i, f.path, f.name, fields, body)
	}
	t.Logf("%d random posts to %d forms: statuses %v", n, len(forms), statuses)
}
