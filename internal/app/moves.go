package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/simulate"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/workflows"
)

// Moving live runs to another version of their playbook (issue 28): a dry
// run first, run by run, then the move of the runs chosen. A run moves at a
// safe point only (workflows.ResumeAt, the move Update); one that cannot is
// named with the reason and stays.

// Moves asks live runs about moving and moves them (runs.Service).
type Moves interface {
	MoveState(ctx context.Context, workflowID string) (workflows.MoveState, error)
	Move(ctx context.Context, workflowID string, req workflows.MoveRequest) (workflows.MoveResult, error)
}

// MoveRuns lists the live runs of a playbook version and reads the version
// they move to as stored (the catalog's views redact credentials in URLs,
// which the moved runs' notify steps need).
type MoveRuns interface {
	LiveRunsOfVersion(ctx context.Context, key string, version int, segment string, accountIDs []string) ([]store.LiveVersionRun, error)
	GetPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
}

// ErrSameVersion: a move from a version to itself.
var ErrSameVersion = errors.New("the runs are on that version already")

// ErrDraftTarget: runs move to published or archived versions only; a
// draft can still be rewritten under them.
var ErrDraftTarget = errors.New("the version is a draft: publish it before moving runs to it")

// ErrMovesUnavailable: the engine cannot move runs (a test's stand-in).
var ErrMovesUnavailable = errors.New("moving runs is not available here")

// MaxMoveAccounts bounds the accounts one move names: past it, choosing by
// segment (or the whole version) says it better, and the preview stays a
// page. The API and the console refuse more.
const MaxMoveAccounts = 1000

// MoveScope chooses the live runs of one version to move to another: of one
// segment ("": every one), of the accounts named (none: every account).
type MoveScope struct {
	Key        string
	From, To   int
	Segment    string
	AccountIDs []string
}

// MovePlan is what moving the runs in scope does, run by run: a dry run's
// preview, or the move's outcome.
type MovePlan struct {
	Playbook string    `json:"playbook"`
	From     int       `json:"from_version"`
	To       int       `json:"to_version"`
	DryRun   bool      `json:"dry_run"`
	At       time.Time `json:"at"`
	Runs     []RunMove `json:"runs"`
	// Counts: runs that can move (a dry run) or moved, and those that stay.
	Movable int `json:"movable"`
	Moved   int `json:"moved"`
	Staying int `json:"staying"`
}

// RunMove is one run's part of a move.
type RunMove struct {
	RunID       uuid.UUID `json:"run_id"`
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name"`
	Segment     string    `json:"segment"`
	// At is the step the run is at, with what it is doing.
	At string `json:"at"`
	// CanMove says whether the run is at a safe point now; Reason says
	// why not (or, after a move, why it stayed).
	CanMove   bool         `json:"can_move"`
	Reason    string       `json:"reason,omitempty"`
	ResumesAt string       `json:"resumes_at,omitempty"`
	Moved     bool         `json:"moved"`
	Changes   []StepChange `json:"changes"`
}

// StepChange is what the move changes for one step of one run.
type StepChange struct {
	Step string `json:"step"`
	Name string `json:"name,omitempty"`
	// Change is done (the run did it: it is not done again), not_run (the
	// new version adds it before where the run is), runs (it would now
	// run), no_longer (it would no longer run), moves (it runs at another
	// time), changes (it runs with other content: an email's subject or
	// text, a task's title), moves_and_changes, or unchanged.
	Change string     `json:"change"`
	Was    *time.Time `json:"was,omitempty"`
	Will   *time.Time `json:"will,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

// Step changes.
const (
	ChangeDone      = "done"
	ChangeNotRun    = "not_run"
	ChangeRuns      = "runs"
	ChangeNoLonger  = "no_longer"
	ChangeMoves     = "moves"
	ChangeChanges   = "changes"
	ChangeBoth      = "moves_and_changes"
	ChangeUnchanged = "unchanged"
)

// previewConcurrency bounds the runs simulated at once.
const previewConcurrency = 4

// PreviewMove is a dry run: for each live run in scope, what it did (from
// its own history: its steps, events and decisions), replayed into the new
// version in simulation from now, against the rest of its own version.
// Nothing is changed.
func (a *App) PreviewMove(ctx context.Context, sc MoveScope) (MovePlan, error) {
	return a.planMove(ctx, sc, "")
}

// MoveRunsTo moves the live runs in scope that are at a safe point; the
// others are named with the reason and stay. by is who moved them.
func (a *App) MoveRunsTo(ctx context.Context, sc MoveScope, by string) (MovePlan, error) {
	return a.planMove(ctx, sc, by)
}

func (a *App) planMove(ctx context.Context, sc MoveScope, by string) (MovePlan, error) {
	if sc.From == sc.To {
		return MovePlan{}, ErrSameVersion
	}
	if a.Moves == nil {
		return MovePlan{}, ErrMovesUnavailable
	}
	from, _, err := a.Playbooks.Definition(ctx, sc.Key, sc.From)
	if err != nil {
		return MovePlan{}, err
	}
	if _, _, err := a.Playbooks.Definition(ctx, sc.Key, sc.To); err != nil {
		return MovePlan{}, err
	}
	stored, err := a.moveRuns.GetPlaybookVersion(ctx, sc.Key, sc.To)
	if err != nil {
		return MovePlan{}, err
	}
	if stored.Status == states.VersionDraft {
		return MovePlan{}, ErrDraftTarget
	}
	to, err := catalog.Decode(sc.Key, stored.Version, stored.Definition)
	if err != nil {
		return MovePlan{}, err
	}
	live, err := a.moveRuns.LiveRunsOfVersion(ctx, sc.Key, sc.From, sc.Segment, sc.AccountIDs)
	if err != nil {
		return MovePlan{}, err
	}
	plan := MovePlan{Playbook: sc.Key, From: sc.From, To: sc.To, DryRun: by == "", At: a.Now().UTC().Truncate(time.Second),
		Runs: make([]RunMove, len(live))}
	versions := movedVersions{from: sc.From, to: sc.To}
	var wg sync.WaitGroup
	sem := make(chan struct{}, previewConcurrency)
	for i, run := range live {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			plan.Runs[i] = a.moveOne(ctx, run, from, to, versions, plan.At, by)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return MovePlan{}, err
	}
	for _, r := range plan.Runs {
		switch {
		case r.Moved:
			plan.Moved++
		case r.CanMove && plan.DryRun:
			plan.Movable++
		default:
			plan.Staying++
		}
	}
	return plan, nil
}

// movedVersions are a move's version numbers.
type movedVersions struct{ from, to int }

// moveOne previews one run's move and, unless it is a dry run, moves it.
func (a *App) moveOne(ctx context.Context, run store.LiveVersionRun, from, to *playbook.Definition, v movedVersions,
	now time.Time, by string) RunMove {
	m := RunMove{RunID: run.ID, AccountID: run.AccountID, AccountName: run.AccountName, Segment: run.Segment, Changes: []StepChange{}}
	st, err := a.Moves.MoveState(ctx, run.WorkflowID)
	if err != nil {
		m.Reason = "its state could not be read: " + err.Error()
		return m
	}
	if st.Current != nil {
		m.At = st.Current.ID + " (" + orDash(st.Current.Detail, st.Current.Status) + ")"
	}
	if st.Version != v.from && st.Version != 0 {
		m.Reason = fmt.Sprintf("the run is on version %d now", st.Version)
		return m
	}
	m.CanMove, m.Reason = st.Safe, st.Reason
	resume, err := workflows.ResumeAt(from, to, st.Next)
	if err != nil {
		m.CanMove, m.Reason = false, err.Error()
	}
	if !m.CanMove {
		// Where it would resume and what would change depend on where it
		// is when it can move: only what it did is known now.
		m.Changes = doneSteps(st, to, v)
		return m
	}
	if resume < len(to.Steps) {
		m.ResumesAt = to.Steps[resume].ID
	}
	m.Changes = a.changes(ctx, run, st, from, to, v, resume, now)
	if by == "" {
		return m
	}
	res, err := a.Moves.Move(ctx, run.WorkflowID, workflows.MoveRequest{ToVersion: v.to, Definition: *to, By: by})
	if err != nil {
		m.CanMove, m.Reason = false, err.Error()
		return m
	}
	m.Moved, m.ResumesAt = true, res.ResumesAt
	return m
}

func orDash(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

// changes lists, step by step, what the move changes for a run: what it did
// (kept, not done again), what the new version adds before where it is (not
// run), and the rest of the run in simulation on each version from now.
func (a *App) changes(ctx context.Context, run store.LiveVersionRun, st workflows.MoveState, from, to *playbook.Definition,
	v movedVersions, resume int, now time.Time) []StepChange {
	names := to.StepNames()
	out := doneSteps(st, to, v)
	done := map[string]bool{}
	for _, c := range out {
		done[c.Step] = true
	}
	for _, s := range to.Steps[:min(resume, len(to.Steps))] {
		if !done[s.ID] && !playbook.HasStep(from.Steps[:min(st.Next, len(from.Steps))], s.ID) {
			out = append(out, StepChange{Step: s.ID, Name: playbook.StepTitle(names, s.ID), Change: ChangeNotRun,
				Detail: "not run: it comes before where the run is"})
		}
	}

	stay := st.Carried
	moved := st.Carried
	moved.Next = resume
	movedDone := []string{}
	for id := range done {
		movedDone = append(movedDone, id)
	}
	slices.Sort(movedDone)
	moved.Moved = &workflows.Moved{FromVersion: v.from, At: now, Done: movedDone}
	if resume < len(to.Steps) && st.Next < len(from.Steps) && to.Steps[resume].ID == from.Steps[st.Next].ID {
		moved.Moved.Since = st.Since
	}
	// The account is read once; each simulation takes its own definition.
	in, err := a.SimulationFor(ctx, from, run.AccountID, now)
	if err != nil {
		return append(out, StepChange{Change: ChangeUnchanged, Detail: "the rest of the run could not be simulated: " + err.Error()})
	}
	before, errB := remainder(ctx, in, from, v.from, &stay, now)
	after, errA := remainder(ctx, in, to, v.to, &moved, now)
	if err := errors.Join(errB, errA); err != nil {
		return append(out, StepChange{Change: ChangeUnchanged, Detail: "the rest of the run could not be simulated: " + err.Error()})
	}
	for _, step := range stepOrder(before, after) {
		b, inB := before[step]
		f, inA := after[step]
		c := StepChange{Step: step, Name: playbook.StepTitle(names, step)}
		switch {
		case !inB:
			c.Change, c.Will, c.Detail = ChangeRuns, &f.At, f.describe()
		case !inA:
			c.Change, c.Was, c.Detail = ChangeNoLonger, &b.At, b.describe()
		default:
			moves := b.At.Sub(f.At).Abs() >= time.Minute
			differs := b.compared != f.compared
			c.Was, c.Will, c.Detail = &b.At, &f.At, f.describe()
			switch {
			case moves && differs:
				c.Change = ChangeBoth
				c.Detail = "was " + b.describe() + "; now " + f.describe()
			case moves:
				c.Change = ChangeMoves
			case differs:
				c.Change = ChangeChanges
				c.Detail = "was " + b.describe() + "; now " + f.describe()
			default:
				c.Change = ChangeUnchanged
			}
		}
		out = append(out, c)
	}
	return out
}

// doneSteps are the steps a run did: kept, and not done again.
func doneSteps(st workflows.MoveState, to *playbook.Definition, v movedVersions) []StepChange {
	names := to.StepNames()
	out := []StepChange{}
	for _, d := range st.Carried.Done {
		if d.Status != workflows.StepDone {
			continue
		}
		c := StepChange{Step: d.ID, Name: playbook.StepTitle(names, d.ID), Change: ChangeDone, Was: d.At, Detail: "done: not done again"}
		if !playbook.HasStep(to.Steps, playbook.BaseStepID(d.ID)) {
			c.Detail = fmt.Sprintf("done: not in version %d", v.to)
		}
		out = append(out, c)
	}
	return out
}

// planned is what a simulation says a step does next.
type planned struct {
	At     time.Time
	action string
	shown  string // what the step sends or asks, in a line
	// compared is all of it (an email's subject and text to each
	// recipient): two versions' steps differ when it does.
	compared string
}

func (p planned) describe() string {
	if p.shown == "" {
		return p.action
	}
	return p.action + ": " + p.shown
}

// remainder simulates the rest of a run on def from now (in: its account
// as SimulationFor reads it), carrying its state: what each step would do,
// by step, first occurrence.
func remainder(ctx context.Context, in simulate.Input, def *playbook.Definition, version int,
	carried *workflows.CarriedState, now time.Time) (map[string]planned, error) {
	in.Definition = def
	c := *carried
	// A paused run is shown as if resumed now: paused, the simulation would
	// wait for a resume that never comes, until its deadline.
	c.Paused = false
	in.Carried, in.Version = &c, version
	res, err := simulate.RunContext(ctx, in)
	if err != nil {
		return nil, err
	}
	out := map[string]planned{}
	for _, e := range res.Timeline {
		if e.StepID == "" || e.At.Before(now) {
			continue
		}
		switch e.Action {
		case "email", "task", "approval", "update_account", "start_playbook", "notify":
		default:
			continue
		}
		if _, seen := out[e.StepID]; seen {
			continue
		}
		shown, compared := content(e)
		out[e.StepID] = planned{At: e.At, action: e.Action, shown: shown, compared: compared}
	}
	return out, nil
}

// content is what an entry sends or asks: in a line, and all of it.
func content(e simulate.Entry) (shown, compared string) {
	if len(e.Emails) == 0 {
		return e.Detail, e.Detail
	}
	var line, all strings.Builder
	for i, m := range e.Emails {
		if i > 0 {
			line.WriteString("; ")
		}
		fmt.Fprintf(&line, "%q to %s", m.Subject, m.To)
		fmt.Fprintf(&all, "%s\x00%s\x00%s\x00", m.To, m.Subject, m.Text)
	}
	return line.String(), all.String()
}

// stepOrder is the steps of both simulations by when they come first.
func stepOrder(before, after map[string]planned) []string {
	at := map[string]time.Time{}
	for id, p := range before {
		at[id] = p.At
	}
	for id, p := range after {
		if t, ok := at[id]; !ok || p.At.Before(t) {
			at[id] = p.At
		}
	}
	ids := make([]string, 0, len(at))
	for id := range at {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y string) int {
		if c := at[x].Compare(at[y]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	return ids
}
