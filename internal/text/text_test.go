package text_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/text"
)

func TestControlIndexAndProblem(t *testing.T) {
	for _, tt := range []struct {
		name      string
		in        string
		multiline bool
		index     int
		problem   string
	}{
		{"plain", "Hello, wörld", false, -1, ""},
		{"tab on one line", "a\tb", false, -1, ""},
		{"line break on one line", "a\nb", false, 1, "has the control character U+000A at byte 1: it holds no control characters but tab"},
		{"CR on one line", "a\rb", false, 1, "has the control character U+000D at byte 1: it holds no control characters but tab"},
		{"line breaks in multiline text", "a\r\nb\n\tc", true, -1, ""},
		{"NUL", "a\x00b", true, 1, "has the control character U+0000 at byte 1: it holds no control characters but tab and line breaks"},
		{"bell", "\x07", true, 0, "has the control character U+0007 at byte 0: it holds no control characters but tab and line breaks"},
		{"escape", "é\x1b[31m", false, 2, "has the control character U+001B at byte 2: it holds no control characters but tab"},
		{"delete", "x\x7f", false, 1, "has the control character U+007F at byte 1: it holds no control characters but tab"},
		{"C1 next line", "x\u0085y", true, 1, "has the control character U+0085 at byte 1: it holds no control characters but tab and line breaks"},
		{"not UTF-8", "a\xffb", false, -1, "is not UTF-8 text"},
		{"empty", "", false, -1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.index, text.ControlIndex(tt.in, tt.multiline))
			require.Equal(t, tt.problem, text.Problem(tt.in, tt.multiline))
		})
	}
}
