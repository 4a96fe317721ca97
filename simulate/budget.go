package simulate

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Budget bounds one simulation. A definition within the limits of
// validation stays well within it; one stored before a limit, or a
// combination no limit foresaw, is stopped as it spends it rather than
// when the process runs out of memory: nested repeats once ran a single
// simulation to 5 GB.
type Budget struct {
	// Entries bounds the timeline's lines, the reasons (skip, branch...)
	// included.
	Entries int
	// EmailBytes bounds the rendered emails kept: subject, text and html of
	// each recipient's email.
	EmailBytes int
	// Time bounds the wall-clock time of the run.
	Time time.Duration
}

// DefaultBudget is a simulation's budget where Input.Budget leaves a bound
// at zero. A built-in playbook simulates in well under 100 ms with fewer
// than 100 entries; a run of playbook.MaxStepRuns steps takes a few
// seconds.
var DefaultBudget = Budget{Entries: 20_000, EmailBytes: 32 << 20, Time: 10 * time.Second}

func (b Budget) orDefault() Budget {
	if b.Entries <= 0 {
		b.Entries = DefaultBudget.Entries
	}
	if b.EmailBytes <= 0 {
		b.EmailBytes = DefaultBudget.EmailBytes
	}
	if b.Time <= 0 {
		b.Time = DefaultBudget.Time
	}
	return b
}

var (
	// ErrBudget is what a simulation stopped for spending its budget
	// matches (a *BudgetError says which bound): the caller's 422.
	ErrBudget = errors.New("the simulation went over its budget")
	// ErrOverLimits is a definition over the limits runs are held to
	// (playbook's CheckLimits): no run could start from it, so it is not
	// simulated either. The caller's 422.
	ErrOverLimits = errors.New("the playbook version is over the definition limits")
)

// BudgetError says which bound of its Budget a simulation ran into.
type BudgetError struct {
	Spent string // what the simulation had done when it was stopped
}

func (e *BudgetError) Error() string {
	return "the simulation was stopped: " + e.Spent + "; simulate a shorter playbook, or fewer repeats"
}

func (e *BudgetError) Unwrap() error { return ErrBudget }

// bytesIn writes a size in MiB when it is a whole number of them.
func bytesIn(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// halt stops the simulation for err (the first reason wins): the run is
// cancelled, and what the recorder is told from then on is dropped.
// Safe from any goroutine: the test environment takes the cancellation on
// its own loop.
func (r *recorder) halt(err error) {
	r.mu.Lock()
	first := r.stopped == nil
	if first {
		r.stopped = err
	}
	r.mu.Unlock()
	if first {
		r.env.CancelWorkflow()
	}
}

// stopErr is why the simulation was halted; nil when it was not.
func (r *recorder) stopErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// overEntries is the error of a timeline past its bound; callers hold mu.
func (r *recorder) overEntries() error {
	if len(r.entries) <= r.budget.Entries {
		return nil
	}
	return &BudgetError{Spent: fmt.Sprintf("the timeline reached %d entries, the most a simulation shows", r.budget.Entries)}
}

// watch halts the simulation when the caller goes away (ctx) or the time
// budget is spent, until the returned function is called.
func (r *recorder) watch(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		timer := time.NewTimer(r.budget.Time)
		defer timer.Stop()
		select {
		case <-done:
		case <-ctx.Done():
			r.halt(fmt.Errorf("simulate: %w", context.Cause(ctx)))
		case <-timer.C:
			r.halt(&BudgetError{Spent: fmt.Sprintf("it ran for %s, the longest a simulation may run", r.budget.Time)})
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}
