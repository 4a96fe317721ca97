package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
)

// Run statuses as recorded in PostgreSQL.
const ()

// maxCarriedDone bounds the step records carried across continue-as-new.
const maxCarriedDone = 200

// errContinueAsNew unwinds the step loop so the run can start a new history.
var errContinueAsNew = errors.New("continue as new")

// PlaybookRun runs one account through one playbook definition.
func PlaybookRun(ctx workflow.Context, in RunInput) (RunResult, error) {
	r, err := newInterpreter(ctx, in)
	if err != nil {
		return RunResult{}, err
	}
	return r.run(ctx)
}

type interpreter struct {
	in         RunInput
	def        *playbook.Definition
	templates  map[string]playbook.Template
	enrolledAt time.Time
	account    accounts.Snapshot
	events     []Event
	paused     bool
	next       int
	done       []StepRecord
	current    *StepRecord
	// checked is set once the current step's condition held: it is being
	// performed, not waiting for its time.
	checked bool
	// bound is the latest the current step's wait can last (a wait_for's
	// deadline, the end of an approval's ladder); zero when unknown.
	bound time.Time
	// frames are the step lists the run is in, outermost first; the
	// progress query plans what follows from them.
	frames []*frame
	// ctx is the workflow's context, for the time in queries.
	ctx workflow.Context

	anchorMoves int    // bumped when the anchor date changes, so timers re-plan
	exitOutcome string // set when an exit rule (or on_reject: end_run) ends the run
	cancelSteps workflow.CancelFunc

	approvals map[string]*pendingApproval

	// moving is a move to another version the run accepted; stepBegan is
	// when the current top-level step began (a moved wait counts from it);
	// sinceUsed is set once a moved run's resumed step has taken it.
	moving       *moving
	stepBegan    time.Time
	sinceUsed    bool
	resumedSince time.Time // the current step's, when it is the one a moved run resumed at
}

type pendingApproval struct {
	stepID   string
	decision *Decision
	// first is set for an approval the run registered before creating it
	// (registerFirstChange); creating while it is being created: a decision
	// waits for it. failed: it could not be.
	first, creating, failed bool
	// deciding is set while a decision is being recorded; expiring while
	// the run records that nobody decided in time.
	deciding, expiring bool
}

func newInterpreter(ctx workflow.Context, in RunInput) (*interpreter, error) {
	r := &interpreter{in: in, def: &in.Definition, templates: map[string]playbook.Template{},
		approvals: map[string]*pendingApproval{}, ctx: ctx}
	if in.Definition.Key == "" || len(in.Definition.Steps) == 0 {
		return nil, temporal.NewNonRetryableApplicationError("the run input carries no playbook definition",
			contract.ErrInvalidInput, nil)
	}
	for _, t := range in.Definition.Templates {
		r.templates[t.Name] = t
	}
	if c := in.Carried; c != nil {
		r.enrolledAt, r.next, r.account, r.events, r.done, r.paused = c.EnrolledAt, c.Next, c.Account, c.Events, c.Done, c.Paused
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, r.progress); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, DecideUpdate, r.decide,
		workflow.UpdateHandlerOptions{Validator: r.validateDecision}); err != nil {
		return nil, err
	}
	if err := workflow.SetQueryHandler(ctx, MoveStateQuery, r.moveState); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, MoveUpdate, r.move,
		workflow.UpdateHandlerOptions{Validator: r.validateMove}); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *interpreter) run(ctx workflow.Context) (RunResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if r.in.Carried == nil {
		r.enrolledAt = workflow.Now(ctx)
		info := workflow.GetInfo(ctx)
		err := workflow.ExecuteActivity(ctx, contract.BeginRun, contract.BeginRunInput{
			RunID: r.in.RunID, WorkflowID: info.WorkflowExecution.ID, TemporalRunID: info.WorkflowExecution.RunID,
			AccountID: r.in.AccountID, PlaybookKey: r.in.PlaybookKey, PlaybookVersion: r.in.PlaybookVersion,
			StartedAt: r.enrolledAt,
		}).Get(ctx, &r.account)
		if err != nil {
			return r.finish(ctx, err)
		}
	}
	r.listen(ctx)

	stepsCtx, cancel := workflow.WithCancel(ctx)
	r.cancelSteps = cancel
	r.checkExit()
	err := r.runTopLevel(stepsCtx)
	if errors.Is(err, errMoved) {
		return r.moveOn(ctx)
	}
	if errors.Is(err, errContinueAsNew) {
		return RunResult{}, workflow.NewContinueAsNewError(ctx, PlaybookRunName, r.carry())
	}
	return r.finish(ctx, err)
}

// listen turns signals into state changes for the lifetime of the run.
func (r *interpreter) listen(ctx workflow.Context) {
	events := workflow.GetSignalChannel(ctx, EventSignal)
	changes := workflow.GetSignalChannel(ctx, AccountChangedSignal)
	pause := workflow.GetSignalChannel(ctx, PauseSignal)
	resume := workflow.GetSignalChannel(ctx, ResumeSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var e Event
			events.Receive(ctx, &e)
			if e.At.IsZero() {
				e.At = workflow.Now(ctx)
			}
			r.events = append(r.events, e)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var snap accounts.Snapshot
			changes.Receive(ctx, &snap)
			r.setAccount(snap)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(pause, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); r.setPaused(ctx, true) })
			sel.AddReceive(resume, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); r.setPaused(ctx, false) })
			sel.Select(ctx)
		}
	})
}

func (r *interpreter) setPaused(ctx workflow.Context, paused bool) {
	if r.paused == paused {
		return
	}
	r.paused = paused
	status := states.RunRunning
	if paused {
		status = states.RunPaused
	}
	err := workflow.ExecuteActivity(ctx, contract.RecordRunStatus,
		contract.RecordRunStatusInput{RunID: r.in.RunID, Status: status}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("record run status", "status", status, "error", err)
	}
}

// setAccount takes a fresher view of the account: anchors may have moved and
// an exit rule may now hold.
func (r *interpreter) setAccount(snap accounts.Snapshot) {
	before := r.anchor()
	r.account = snap
	if !r.anchor().Equal(before) {
		r.anchorMoves++
	}
	r.checkExit()
}

func (r *interpreter) checkExit() {
	if r.exitOutcome != "" {
		return
	}
	facts := r.facts()
	for _, rule := range r.def.Exit {
		if rule.When.Holds(facts) {
			r.endRun(rule.Outcome)
			return
		}
	}
}

func (r *interpreter) endRun(outcome string) {
	r.exitOutcome = outcome
	if r.cancelSteps != nil {
		r.cancelSteps()
	}
}

func (r *interpreter) facts() playbook.Facts {
	return playbook.Facts{
		Segment: r.account.Segment, AccountStatus: r.account.Status, LifecycleStage: r.account.LifecycleStage,
		HealthScore: r.account.HealthScore, HealthBand: r.account.HealthBand, Fields: r.account.Fields,
		EventReceived: r.received,
	}
}

func (r *interpreter) received(name string) bool {
	for _, e := range r.events {
		if e.Name == name {
			return true
		}
	}
	return false
}

// anchor is the instant top-level `at` offsets count from; zero when the
// account lacks the date.
func (r *interpreter) anchor() time.Time {
	switch r.def.Anchor {
	case playbook.AnchorRenewalDate:
		if r.account.RenewalAt != nil {
			return *r.account.RenewalAt
		}
		return time.Time{}
	case playbook.AnchorContractStart:
		if r.account.ContractStartAt != nil {
			return *r.account.ContractStartAt
		}
		return time.Time{}
	default:
		return r.enrolledAt
	}
}

func (r *interpreter) runTopLevel(ctx workflow.Context) error {
	if len(r.def.Segments) > 0 && !slices.Contains(r.def.Segments, r.account.Segment) {
		r.exitOutcome = "not_eligible"
		return nil
	}
	if r.anchor().IsZero() {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the account has no %s, which this playbook counts from", r.def.Anchor), contract.ErrInvalidInput, nil)
	}
	top := r.enter(r.def.Steps, "")
	for ; r.next < len(r.def.Steps); r.next++ {
		top.i = r.next
		if err := r.execStep(ctx, &r.def.Steps[r.next], ""); err != nil {
			return err
		}
		if r.exitOutcome != "" {
			return nil
		}
		info := workflow.GetInfo(ctx)
		if info.GetContinueAsNewSuggested() && r.next+1 < len(r.def.Steps) && workflow.AllHandlersFinished(ctx) {
			r.next++
			return errContinueAsNew
		}
	}
	return nil
}

func (r *interpreter) carry() RunInput {
	in := r.in
	done := r.done
	if len(done) > maxCarriedDone {
		done = done[len(done)-maxCarriedDone:]
	}
	in.Carried = &CarriedState{EnrolledAt: r.enrolledAt, Next: r.next, Account: r.account, Events: r.events,
		Done: done, Paused: r.paused}
	if prev := r.in.Carried; prev != nil && prev.Moved != nil {
		moved := *prev.Moved
		if r.sinceUsed {
			moved.Since = time.Time{}
		}
		in.Carried.Moved = &moved
	}
	return in
}

// waitUntil sleeps until due() and re-plans whenever the anchor moves; a due
// time already past returns at once (catch-up). A cancelled context returns
// its error: a timer made on it is ready at once (cancelled), so without the
// check the loop would spin without yielding.
func (r *interpreter) waitUntil(ctx workflow.Context, due func() time.Time) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := due().Sub(workflow.Now(ctx))
		if wait <= 0 {
			return nil
		}
		r.setCurrentAt(due(), StepWaiting)
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(timerCtx, wait)
		moves := r.anchorMoves
		err := workflow.Await(ctx, func() bool { return timer.IsReady() || r.anchorMoves != moves || r.isMoving() })
		if !timer.IsReady() {
			cancelTimer()
		}
		if err != nil {
			return err
		}
		if err := r.errIfMoving(); err != nil {
			return err
		}
	}
}

// whenRunning blocks while the run is paused.
func (r *interpreter) whenRunning(ctx workflow.Context) error {
	if !r.paused {
		return nil
	}
	r.setCurrentAt(workflow.Now(ctx), StepPaused)
	if err := workflow.Await(ctx, func() bool { return !r.paused || r.isMoving() }); err != nil {
		return err
	}
	return r.errIfMoving()
}

func (r *interpreter) setCurrentAt(at time.Time, status string) {
	if r.current != nil {
		r.current.At, r.current.Status = Stamp(at), status
	}
}

// finish records how the run ended. A cancelled workflow context cannot run
// activities, so the record is written from a disconnected one.
func (r *interpreter) finish(ctx workflow.Context, runErr error) (RunResult, error) {
	result := RunResult{Status: states.RunCompleted, Outcome: "completed"}
	switch {
	case r.exitOutcome != "":
		result.Outcome = r.exitOutcome
		runErr = nil
	case temporal.IsCanceledError(runErr):
		result = RunResult{Status: states.RunCancelled, Outcome: "cancelled"}
	case runErr != nil:
		result = RunResult{Status: states.RunFailed, Outcome: "failed"}
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	err := workflow.ExecuteActivity(ctx, contract.RecordRunFinished, contract.RecordRunFinishedInput{
		RunID: r.in.RunID, Status: result.Status, Outcome: result.Outcome,
		// Cancelling or exiting a run closes its open tasks; completing does not.
		CloseTasks: result.Status == states.RunCancelled || r.exitOutcome != "",
	}).Get(ctx, nil)
	if runErr != nil {
		// The run's own failure is what callers must see; a failed record of
		// it is only logged.
		if err != nil {
			workflow.GetLogger(ctx).Error("record run finished", "error", err)
		}
		return result, runErr
	}
	return result, err
}

// activityOptions retry infrastructure errors forever with backoff; business
// failures are non-retryable application errors.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: contract.NonRetryable,
	},
}
