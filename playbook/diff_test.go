package playbook_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
)

// ops writes each diff line as op, old line, new line, text.
func ops(lines []playbook.DiffLine) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Join([]string{l.Op, itoa(l.Old), itoa(l.New), l.Text}, " ")
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "."
	}
	return string(rune('0' + n))
}

func TestDiffSource(t *testing.T) {
	for _, c := range []struct {
		name, old, new string
		want           []string
	}{
		{"same", "a\nb\n", "a\nb", []string{"= 1 1 a", "= 2 2 b"}},
		{"changed middle", "a\nb\nc\n", "a\nx\nc\n", []string{"= 1 1 a", "- 2 . b", "+ . 2 x", "= 3 3 c"}},
		{"added at the end", "a\n", "a\nb\n", []string{"= 1 1 a", "+ . 2 b"}},
		{"removed at the start", "a\nb\n", "b\n", []string{"- 1 . a", "= 2 1 b"}},
		{"moved", "a\nb\nc\nd\n", "a\nc\nb\nd\n", []string{"= 1 1 a", "- 2 . b", "= 3 2 c", "+ . 3 b", "= 4 4 d"}},
		{"from nothing", "", "a\r\nb\r\n", []string{"+ . 1 a", "+ . 2 b"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, ops(playbook.DiffSource(c.old, c.new)))
		})
	}
}

// A very large rewrite is still a true diff: all of the old out, all of
// the new in, without quadratic work.
func TestDiffSourceLargeRewrite(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 3000; i++ {
		a.WriteString("old line\n")
		b.WriteString("new line\n")
	}
	lines := playbook.DiffSource(a.String(), b.String())
	require.Len(t, lines, 6000)
	require.Equal(t, "-", lines[0].Op)
	require.Equal(t, "+", lines[5999].Op)
}

func TestDiffSteps(t *testing.T) {
	parse := func(src string) *playbook.Definition {
		def, err := playbook.Parse([]byte(src), playbook.Options{})
		require.NoError(t, err)
		return def
	}
	before := parse(`key: k
name: K
steps:
  - id: check
    if: {segment: [smb]}
    then:
      - id: nudge
        wait: 1d
  - id: gone
    wait: 2d
`)
	after := parse(`key: k
name: K
steps:
  - id: check
    if: {segment: [smb]}
    then:
      - id: nudge
        wait: 3d
      - id: extra
        wait: 1d
  - id: new-end
    wait: 1d
`)
	c := playbook.DiffSteps(before, after)
	require.Equal(t, []string{"gone"}, c.Removed)
	require.Equal(t, []string{"extra", "new-end"}, c.Added)
	require.Equal(t, []string{"nudge"}, c.Changed, "the if's own fields did not change, its nested step did")
	same := playbook.DiffSteps(before, before)
	require.Empty(t, same.Added)
	require.Empty(t, same.Removed)
	require.Empty(t, same.Changed)
}
