package simulate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
)

// measured runs f and reports what it allocated and how long it took.
func measured(t *testing.T, what string, f func()) time.Duration {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	t.Logf("%s: %v, %d KiB allocated, heap in use after %d MiB", what, took,
		(after.TotalAlloc-before.TotalAlloc)>>10, after.HeapInuse>>20)
	return took
}

// repeating is a valid definition whose one repeat runs n times a task
// and an email to the champion.
func repeating(t *testing.T, n int) *playbook.Definition {
	def, err := playbook.Parse([]byte(fmt.Sprintf(`key: k
name: K
steps:
  - id: r
    repeat:
      every: 1h
      times: %d
      steps:
        - {id: call, task: {title: Call, assignee: csm}}
        - {id: note, email: {template: welcome, to: [champion]}}
`, n)), playbook.Options{BuiltinTemplates: []string{"welcome"}})
	require.NoError(t, err)
	return def
}

// nested is 1,000 iterations inside 1,000, which validation now refuses: a
// version stored before the rule.
func nested() *playbook.Definition {
	every, wait := playbook.Duration(time.Minute), playbook.Duration(time.Second)
	inner := playbook.Step{ID: "inner", Repeat: &playbook.Repeat{Every: &every, Times: 1000,
		Steps: []playbook.Step{{ID: "w", Wait: &wait}, {ID: "t", Task: &playbook.TaskAction{Title: "T", Assignee: "csm"}}}}}
	return &playbook.Definition{Key: "legacy", Name: "Legacy",
		Steps: []playbook.Step{{ID: "outer", Repeat: &playbook.Repeat{Every: &every, Times: 1000, Steps: []playbook.Step{inner}}}}}
}

// Every simulation runs under a budget: a definition no run may start from
// is refused at once; one that spends its entries, its emails' bytes or its
// time is stopped where it is, with ErrBudget, not at the end of its run.
func TestSimulationsStopWhenTheirBudgetIsSpent(t *testing.T) {
	tests := []struct {
		name   string
		def    *playbook.Definition
		budget Budget
		want   error
		says   string
		within time.Duration
	}{
		{"nested repeats stored before the limit", nested(), Budget{}, ErrOverLimits,
			"steps[0].repeat.steps[0].repeat: runs 1000000 iterations in a run", time.Second},
		{"timeline entries", repeating(t, 500), Budget{Entries: 100}, ErrBudget,
			"the simulation was stopped: the timeline reached 100 entries, the most a simulation shows", 5 * time.Second},
		{"emails' bytes", repeating(t, 500), Budget{EmailBytes: 20_000}, ErrBudget,
			"its emails reached 20000 bytes, the most a simulation renders", 5 * time.Second},
		{"time", repeating(t, 1000), Budget{Time: 100 * time.Millisecond}, ErrBudget,
			"it ran for 100ms, the longest a simulation may run", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sampleInput(tt.def, "smb")
			in.Budget = tt.budget
			var err error
			took := measured(t, "refused", func() { _, err = RunContext(context.Background(), in) })
			require.ErrorIs(t, err, tt.want)
			require.Contains(t, err.Error(), tt.says)
			require.Less(t, took, tt.within)
		})
	}
}

// A simulation stops when its caller goes away, before or while it runs.
func TestSimulationStopsWhenTheCallerGoesAway(t *testing.T) {
	in := sampleInput(repeating(t, 1000), "smb")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := RunContext(ctx, in)
	require.ErrorIs(t, err, context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var res Result
	took := measured(t, "cancelled", func() { res, err = RunContext(ctx, in) })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, ErrBudget, "the caller's own deadline is not the simulation's budget")
	require.Empty(t, res.Timeline)
	require.Less(t, took, 5*time.Second)
}

// Within its budget, a simulation is what it always was.
func TestSimulationWithinItsBudget(t *testing.T) {
	res, err := RunContext(context.Background(), sampleInput(repeating(t, 20), "smb"))
	require.NoError(t, err)
	var emails int
	for _, e := range res.Timeline {
		if e.Action == "email" {
			emails++
			require.True(t, strings.HasPrefix(e.StepID, "note#"), e.StepID)
		}
	}
	require.Equal(t, 20, emails)
	require.Equal(t, "completed", res.Outcome)
}
