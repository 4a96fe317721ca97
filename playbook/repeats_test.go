package playbook

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repeatOf writes a repeat step of id running the steps.
func repeatOf(id, every, bound string, steps ...string) string {
	return fmt.Sprintf("{id: %s, repeat: {every: %s, %s, steps: [%s]}}", id, every, bound, strings.Join(steps, ", "))
}

// Nested repeats multiply: each is within maxRepeats, their product is not.
// Validation refuses the product past MaxRepeatIterations at the repeat
// where the nesting goes over, and a run's steps past MaxStepRuns.
func TestNestedRepeatsAreBoundedPerRun(t *testing.T) {
	wait := "{id: w, wait: 1h}"
	tests := []struct {
		name, steps, path, message string
	}{
		{"1000 × 1000", repeatOf("outer", "1d", "times: 1000", repeatOf("inner", "1m", "times: 1000", wait)),
			"steps[0].repeat.steps[0].repeat", "runs 1000000 iterations in a run: its 1000, each of the 1000 of steps[0].repeat; nested repeats may run at most 10000 iterations in a run"},
		{"counted from until and every", repeatOf("outer", "1d", "until: 20d", repeatOf("inner", "1s", "until: 1000s", wait)),
			"steps[0].repeat.steps[0].repeat", "runs 20000 iterations in a run: its 1000, each of the 20 of steps[0].repeat"},
		{"until not a whole number of every", repeatOf("outer", "1d", "until: 10d12h", repeatOf("inner", "1s", "until: 1000s", wait)),
			"steps[0].repeat.steps[0].repeat", "runs 11000 iterations in a run: its 1000, each of the 11 of steps[0].repeat"},
		{"the fewer of times and until", repeatOf("outer", "1d", "times: 1000, until: 30d", repeatOf("inner", "1s", "times: 500", wait)),
			"steps[0].repeat.steps[0].repeat", "runs 15000 iterations in a run: its 500, each of the 30 of steps[0].repeat"},
		{"three levels", repeatOf("a", "30d", "times: 10", repeatOf("b", "1d", "times: 100", repeatOf("c", "1h", "times: 11", wait))),
			"steps[0].repeat.steps[0].repeat.steps[0].repeat",
			"runs 11000 iterations in a run: its 11, each of the 100 of steps[0].repeat.steps[0].repeat, each of the 10 of steps[0].repeat"},
		{"inside a branch", "{id: b, if: {segment: [smb]}, then: [" + repeatOf("outer", "1d", "times: 200", repeatOf("inner", "1h", "times: 60", wait)) + "]}",
			"steps[0].then[0].repeat.steps[0].repeat", "runs 12000 iterations in a run: its 60, each of the 200 of steps[0].then[0].repeat"},
		{"many steps in one repeat", repeatOf("r", "1d", "times: 1000", "{id: a, wait: 1h}", "{id: b, wait: 1h}", "{id: c, wait: 1h}",
			"{id: d, wait: 1h}", "{id: e, wait: 1h}", "{id: f, wait: 1h}", "{id: g, wait: 1h}", "{id: h, wait: 1h}", "{id: i, wait: 1h}",
			"{id: j, wait: 1h}", "{id: k, wait: 1h}"),
			"steps", "a run would go through 11001 steps (steps[0].repeat runs 11000 of them), each step counted once per iteration of the repeats around it; the limit is 10000 steps per run"},
		{"repeats side by side", repeatOf("r1", "1d", "times: 1000", "{id: a, wait: 1h}", "{id: b, wait: 1h}", "{id: c, wait: 1h}", "{id: d, wait: 1h}", "{id: e, wait: 1h}") +
			", " + repeatOf("r2", "1d", "times: 1000", "{id: f, wait: 1h}", "{id: g, wait: 1h}", "{id: h, wait: 1h}", "{id: i, wait: 1h}", "{id: j, wait: 1h}", "{id: k, wait: 1h}"),
			"steps", "a run would go through 11002 steps (steps[1].repeat runs 6000 of them)"},
		{"one repeat past maxRepeats by rounding", repeatOf("r", "1d", "until: 1000d12h", wait), "steps[0].repeat", "would repeat more than 1000 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + "steps: [" + tt.steps + "]\n"
			_, err := Parse([]byte(src), Options{})
			var errs Errors
			require.True(t, errors.As(err, &errs), "accepted")
			require.Len(t, errs, 1, "%v", errs)
			require.Equal(t, tt.path, errs[0].Path)
			require.Contains(t, errs[0].Message, tt.message)
			require.Positive(t, errs[0].Line, "the error is at its line")
		})
	}
	within := []string{
		repeatOf("outer", "1d", "times: 100", repeatOf("inner", "1h", "times: 98", wait)), // 1 + 100 + 9,800 step runs
		repeatOf("outer", "7d", "until: 52w", repeatOf("inner", "1d", "times: 5", wait, "{id: v, wait: 1h}")),
		repeatOf("r", "1d", "until: 1000d", wait),
	}
	for _, steps := range within {
		_, err := Parse([]byte(head+"steps: ["+steps+"]\n"), Options{})
		require.NoError(t, err, steps)
	}
}

// A definition stored before the rule reaches no run: runs check the limits
// of what they load.
func TestCheckLimitsRefusesNestedRepeats(t *testing.T) {
	every, wait := Duration(Day), Duration(Day)
	inner := Step{ID: "inner", Repeat: &Repeat{Every: &every, Times: 1000, Steps: []Step{{ID: "w", Wait: &wait}}}}
	def := Definition{Key: "legacy", Name: "Legacy", Steps: []Step{{ID: "outer", Repeat: &Repeat{Every: &every, Times: 1000, Steps: []Step{inner}}}}}
	err := def.CheckLimits()
	var errs Errors
	require.True(t, errors.As(err, &errs))
	require.Equal(t, "steps[0].repeat.steps[0].repeat", errs[0].Path)
	require.Contains(t, errs[0].Message, "runs 1000000 iterations in a run")
}
