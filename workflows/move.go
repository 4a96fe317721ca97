package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/playbook"
)

// Moving a live run to another version of its playbook. The run moves at a
// safe point: at a top-level step that is still waiting for its time (or a
// top-level wait), with nothing of it done yet and no approval pending. It
// records the move, then continues as new on the new version from where it
// was, carrying what it did; the steps it did are not done again, and the
// outbox key (run, step, recipient) holds across the move, so no email or
// task is repeated whatever the new version says.

// errMoved unwinds the step loop so the run can continue on the new version.
var errMoved = errors.New("moving to another version")

// moving is a move the run accepted and is carrying out.
type moving struct {
	req                MoveRequest
	resume             int
	recorded, reverted bool
}

// ResumeAt is the top-level step of to at which a run of from resumes,
// when it is at from's top-level step next: right after the last step it
// finished that to has too, so steps to adds after it run and steps it adds
// before it belong to the past. A run at its first step resumes at to's
// first. It is an error when the run finished steps and to has none of them.
func ResumeAt(from, to *playbook.Definition, next int) (int, error) {
	if next <= 0 {
		return 0, nil
	}
	index := map[string]int{}
	for i, s := range to.Steps {
		index[s.ID] = i
	}
	for k := min(next, len(from.Steps)) - 1; k >= 0; k-- {
		if i, ok := index[from.Steps[k].ID]; ok {
			return i + 1, nil
		}
	}
	return 0, fmt.Errorf("the new version has none of the steps this run has done (%s)", stepIDs(from.Steps[:min(next, len(from.Steps))]))
}

func stepIDs(steps []playbook.Step) string {
	ids := make([]string, len(steps))
	for i, s := range steps {
		ids[i] = s.ID
	}
	return fmt.Sprint(ids)
}

// moveSafety says whether the run is at a safe point to move, and if not why.
func (r *interpreter) moveSafety() (bool, string) {
	switch {
	case r.exitOutcome != "":
		return false, "the run is ending (" + r.exitOutcome + ")"
	case r.moving != nil:
		return false, fmt.Sprintf("the run is already moving to version %d", r.moving.req.ToVersion)
	case r.current == nil || len(r.frames) == 0:
		return false, "the run is between steps"
	case len(r.frames) > 1:
		return false, fmt.Sprintf("the run is inside step %s (a branch or a repeat): it can move once that is over",
			r.def.Steps[r.frames[0].i].ID)
	case r.checked && r.current.Kind != playbook.KindWait:
		return false, fmt.Sprintf("step %s (%s) is under way: %s", r.current.ID, r.current.Kind, orStatus(r.current))
	}
	for _, p := range r.approvals {
		return false, "step " + p.stepID + " has an approval pending"
	}
	return true, ""
}

func orStatus(rec *StepRecord) string {
	if rec.Detail != "" {
		return rec.Detail
	}
	return rec.Status
}

// moveState answers MoveStateQuery.
func (r *interpreter) moveState() (MoveState, error) {
	safe, reason := r.moveSafety()
	carried := *r.carry().Carried
	carried.Done = r.done // every record: a preview shows them all
	st := MoveState{Version: r.in.PlaybookVersion, Safe: safe, Reason: reason, Next: r.next, Since: r.stepBegan, Carried: carried}
	if r.current != nil {
		cur := *r.current
		st.Current = &cur
	}
	return st, nil
}

func (r *interpreter) validateMove(req MoveRequest) error {
	if req.ToVersion == r.in.PlaybookVersion {
		return fmt.Errorf("the run is on version %d already", req.ToVersion)
	}
	if req.Definition.Key != r.def.Key {
		return fmt.Errorf("version %d is of playbook %q, the run's is %q", req.ToVersion, req.Definition.Key, r.def.Key)
	}
	if ok, reason := r.moveSafety(); !ok {
		return errors.New(reason)
	}
	_, err := ResumeAt(r.def, &req.Definition, r.next)
	return err
}

// move accepts a move: the step loop unwinds at once (the run is waiting),
// the run records the move and continues as new; the answer comes once the
// move is recorded.
func (r *interpreter) move(ctx workflow.Context, req MoveRequest) (MoveResult, error) {
	resume, err := ResumeAt(r.def, &req.Definition, r.next)
	if err != nil {
		return MoveResult{}, err
	}
	m := &moving{req: req, resume: resume}
	r.moving = m
	if err := workflow.Await(ctx, func() bool { return m.recorded || m.reverted }); err != nil {
		return MoveResult{}, err
	}
	if m.reverted {
		return MoveResult{}, errors.New("the move could not be recorded: the run stays on its version")
	}
	res := MoveResult{FromVersion: r.in.PlaybookVersion, ToVersion: req.ToVersion}
	if resume < len(req.Definition.Steps) {
		res.ResumesAt = req.Definition.Steps[resume].ID
	}
	return res, nil
}

// moveOn records the accepted move and continues as new on the new
// version. Should the record fail for good, the run continues as new on its
// own version from the same step instead: it stays, as the caller is told.
func (r *interpreter) moveOn(ctx workflow.Context) (RunResult, error) {
	m := r.moving
	now := workflow.Now(ctx)
	next := RunInput{RunID: r.in.RunID, AccountID: r.in.AccountID, PlaybookKey: r.in.PlaybookKey,
		PlaybookVersion: m.req.ToVersion, Definition: m.req.Definition,
		EscalationSLA: r.in.EscalationSLA, DefaultSendWindow: r.in.DefaultSendWindow}
	carried := r.carry().Carried
	carried.Next = m.resume
	moved := &Moved{FromVersion: r.in.PlaybookVersion, By: m.req.By, At: now}
	if prev := r.in.Carried; prev != nil && prev.Moved != nil {
		moved.Done = slices.Clone(prev.Moved.Done) // moved before: those stay done too
	}
	for _, d := range r.done {
		if d.Status == StepDone && !slices.Contains(moved.Done, d.ID) {
			moved.Done = append(moved.Done, d.ID)
		}
	}
	if m.resume < len(m.req.Definition.Steps) && r.next < len(r.def.Steps) &&
		m.req.Definition.Steps[m.resume].ID == r.def.Steps[r.next].ID {
		moved.Since = r.stepBegan
	}
	carried.Moved = moved
	next.Carried = carried
	resumesAt := ""
	if m.resume < len(m.req.Definition.Steps) {
		resumesAt = m.req.Definition.Steps[m.resume].ID
	}
	err := workflow.ExecuteActivity(ctx, contract.RecordRunMoved, contract.RecordRunMovedInput{
		RunID: r.in.RunID, FromVersion: r.in.PlaybookVersion, ToVersion: m.req.ToVersion, By: m.req.By, At: now,
		ResumesAt: resumesAt,
	}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("record run moved: the run stays on its version", "error", err)
		m.reverted = true
		next = r.carry()
	} else {
		m.recorded = true
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return RunResult{}, err
	}
	return RunResult{}, workflow.NewContinueAsNewError(ctx, PlaybookRunName, next)
}

// movedDone says whether a moved run did step id before it moved.
func (r *interpreter) movedDone(id string) bool {
	c := r.in.Carried
	return c != nil && c.Moved != nil && slices.Contains(c.Moved.Done, id)
}

// movedSince is when the step a moved run resumes at began, the first time
// it is asked; zero after.
func (r *interpreter) movedSince() time.Time {
	c := r.in.Carried
	if c == nil || c.Moved == nil || r.sinceUsed {
		return time.Time{}
	}
	r.sinceUsed = true
	return c.Moved.Since
}

// isMoving reports an accepted move: waits end at once.
func (r *interpreter) isMoving() bool {
	return r.moving != nil && !r.moving.recorded && !r.moving.reverted
}

// errIfMoving is the error a wait returns when a move interrupted it.
func (r *interpreter) errIfMoving() error {
	if r.isMoving() {
		return errMoved
	}
	return nil
}
