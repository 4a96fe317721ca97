package playbook

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Bounds of how often a run goes through its steps. Each repeat is held to
// maxRepeats, but repeats nest: 1,000 iterations inside 1,000 passed that
// rule and ran to 5 GB in a simulation. A run's history, its simulation
// and the console's preview all grow with every step run.
const (
	// MaxRepeatIterations bounds the product of nested repeats'
	// iterations: how often the innermost runs its steps in one run.
	MaxRepeatIterations = 10_000
	// MaxStepRuns bounds the steps one run goes through, each step counted
	// once per iteration of every repeat around it.
	MaxStepRuns = 10_000
)

// iterations is how many times a repeat runs its steps, as the
// interpreter counts them: times, or the iterations that start before
// until (at 0, every, 2×every...), whichever is fewer. A repeat bounded by
// neither is refused by the validator; it counts once here.
func (r *Repeat) iterations() int {
	n := r.Times
	if r.Until != nil && r.Every != nil && *r.Every > 0 && *r.Until > 0 {
		byUntil := int(*r.Until / *r.Every)
		if *r.Until%*r.Every != 0 {
			byUntil++
		}
		if n <= 0 || byUntil < n {
			n = byUntil
		}
	}
	return max(n, 1)
}

// runLimits holds the definition to MaxRepeatIterations, at the repeat
// whose nesting goes over, and to MaxStepRuns, naming the repeat that runs
// the most steps.
func (v *validator) runLimits() {
	w := runWalk{v: v}
	total := w.steps("steps", v.def.Steps, 1, 1, nil)
	// Without a repeat, MaxSteps is the bound, and its own error says so.
	if w.overNested || total <= MaxStepRuns || w.busiest == "" {
		return
	}
	v.add("steps", "a run would go through %s steps (%s runs %s of them), each step counted once per iteration of the repeats around it; the limit is %d steps per run",
		count(total), w.busiest, count(w.busiestRuns), MaxStepRuns)
}

type runWalk struct {
	v           *validator
	overNested  bool
	busiest     string // the repeat that runs the most steps
	busiestRuns int
}

// steps counts the step runs of a list its parent runs `times` times per
// run; outer describes the repeats around it, nearest last. Lists deeper
// than MaxStepDepth are reported by stepLimits and not visited.
func (w *runWalk) steps(path string, steps []Step, depth, times int, outer []string) int {
	if depth > MaxStepDepth {
		return 0
	}
	runs := mulSat(len(steps), times)
	for i := range steps {
		s := &steps[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		runs = addSat(runs, w.steps(p+".on_timeout", s.OnTimeout, depth+1, times, outer))
		runs = addSat(runs, w.steps(p+".then", s.Then, depth+1, times, outer))
		runs = addSat(runs, w.steps(p+".else", s.Else, depth+1, times, outer))
		if s.Repeat == nil {
			continue
		}
		rp := p + ".repeat"
		n := s.Repeat.iterations()
		inner := mulSat(times, n)
		if len(outer) > 0 && inner > MaxRepeatIterations {
			// The repeats inside would say the same: this one is where
			// the nesting goes over.
			w.overNested = true
			around := slices.Clone(outer)
			slices.Reverse(around)
			w.v.add(rp, "runs %s iterations in a run: its %d, %s; nested repeats may run at most %d iterations in a run",
				count(inner), n, strings.Join(around, ", "), MaxRepeatIterations)
			continue
		}
		body := w.steps(rp+".steps", s.Repeat.Steps, depth+1, inner, append(slices.Clip(outer), fmt.Sprintf("each of the %d of %s", n, rp)))
		runs = addSat(runs, body)
		if body >= w.busiestRuns { // after the repeats inside: on a tie, the outer one
			w.busiest, w.busiestRuns = rp, body
		}
	}
	return runs
}

// count writes a count, which saturates at the largest int.
func count(n int) string {
	if n == math.MaxInt {
		return "more than 10^18"
	}
	return fmt.Sprint(n)
}

func mulSat(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}

func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}
