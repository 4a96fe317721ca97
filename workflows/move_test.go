package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/workflows"
)

const (
	// Two emails three days apart.
	nurtureV1 = `key: nurture
name: Nurture
steps:
  - id: first
    email: {template: welcome, to: [champion]}
  - id: second
    at: 3d
    email: {template: welcome, to: [champion]}
`
	// The second email changed (another template, a day earlier), a third
	// added after it and an old step added before where runs are.
	nurtureV2 = `key: nurture
name: Nurture
steps:
  - id: intro
    email: {template: welcome, to: [champion]}
  - id: first
    email: {template: welcome, to: [champion]}
  - id: second
    at: 2d
    email: {template: qbr-invite, to: [champion]}
  - id: third
    at: 4d
    task: {title: Call them, assignee: csm}
`
)

// moveAt sends the run a move to def as version 2 at offset; the answer
// lands in res and err.
func (r *recorder) moveAt(offset time.Duration, def *playbook.Definition, res *workflows.MoveResult, err *error) {
	r.at(offset, func() {
		r.env.UpdateWorkflow(workflows.MoveUpdate, "move", &testsuite.TestUpdateCallback{
			OnReject: func(e error) { *err = e },
			OnAccept: func() {},
			OnComplete: func(v any, e error) {
				if e != nil {
					*err = e
					return
				}
				*res = v.(workflows.MoveResult)
			},
		}, workflows.MoveRequest{ToVersion: 2, Definition: *def, By: "ops@cs.test"})
	})
}

// continued is the input a run continued as new with.
func continued(t *testing.T, r *recorder) workflows.RunInput {
	t.Helper()
	var next *workflow.ContinueAsNewError
	require.True(t, errors.As(r.env.GetWorkflowError(), &next), "the run continued as new: %v", r.env.GetWorkflowError())
	require.Equal(t, workflows.PlaybookRunName, next.WorkflowType.Name)
	var in workflows.RunInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(next.Input, &in))
	return in
}

// A run waiting between two emails moves to a version whose second email
// changed: the contact gets the first once and the new second once, when
// the new version says; the step the new version adds before where the run
// is does not run, the one it adds after does.
func TestAMovedRunGetsEachEmailOnce(t *testing.T) {
	old := newRecorder(t, account("smb"))
	var moved []contract.RecordRunMovedInput
	old.env.OnActivity(contract.RecordRunMoved, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordRunMovedInput) error { moved = append(moved, in); return nil })
	var (
		res workflows.MoveResult
		err error
	)
	v2 := parse(t, nurtureV2)
	old.moveAt(day, v2, &res, &err)
	old.run(parse(t, nurtureV1))
	require.NoError(t, err)
	require.Equal(t, workflows.MoveResult{FromVersion: 1, ToVersion: 2, ResumesAt: "second"}, res)
	require.Len(t, moved, 1)
	require.Equal(t, contract.RecordRunMovedInput{RunID: testRunID, FromVersion: 1, ToVersion: 2, By: "ops@cs.test",
		At: monday9am.Add(day), ResumesAt: "second"}, moved[0])
	require.Equal(t, []effect{{At: 0, Kind: "email", StepID: "first", Detail: "welcome"}}, old.effects)
	require.Nil(t, old.finished, "a run that moves does not finish")

	in := continued(t, old)
	require.Equal(t, 2, in.PlaybookVersion)
	require.Equal(t, "nurture", in.Definition.Key)
	require.Equal(t, 2, in.Carried.Next, "resumes after first, the last step it did")
	require.Equal(t, monday9am, in.Carried.EnrolledAt)
	require.Equal(t, 1, in.Carried.Moved.FromVersion)
	require.Equal(t, []string{"first"}, in.Carried.Moved.Done)

	// The new version's run, from the move on.
	now := newRecorder(t, account("smb"))
	now.env.SetStartTime(monday9am.Add(day))
	now.start = monday9am.Add(day)
	now.env.ExecuteWorkflow(workflows.PlaybookRun, in)
	require.True(t, now.env.IsWorkflowCompleted())
	require.NoError(t, now.env.GetWorkflowError())
	require.Equal(t, []effect{
		{At: day, Kind: "email", StepID: "second", Detail: "qbr-invite"}, // day 2 of the run
		{At: 3 * day, Kind: "task", StepID: "third", Detail: "csm: Call them"},
	}, now.effects)
	require.Equal(t, "completed", now.finished.Outcome)
}

// A moved wait counts from when it began, with the new version's length.
func TestAMovedWaitCountsFromWhenItBegan(t *testing.T) {
	const v1 = "key: pace\nname: Pace\nsteps:\n  - id: hello\n    email: {template: welcome, to: [champion]}\n" +
		"  - id: pause\n    wait: 5d\n  - id: nudge\n    email: {template: welcome, to: [champion]}\n"
	const v2 = "key: pace\nname: Pace\nsteps:\n  - id: hello\n    email: {template: welcome, to: [champion]}\n" +
		"  - id: pause\n    wait: 3d\n  - id: nudge\n    email: {template: qbr-invite, to: [champion]}\n"
	old := newRecorder(t, account("smb"))
	old.env.OnActivity(contract.RecordRunMoved, mock.Anything, mock.Anything).Return(nil)
	var (
		res workflows.MoveResult
		err error
	)
	old.moveAt(2*day, parse(t, v2), &res, &err)
	old.run(parse(t, v1))
	require.NoError(t, err)
	require.Equal(t, "pause", res.ResumesAt, "the wait itself resumes: it was under way")
	in := continued(t, old)
	require.Equal(t, monday9am, in.Carried.Moved.Since)

	now := newRecorder(t, account("smb"))
	now.env.SetStartTime(monday9am.Add(2 * day))
	now.start = monday9am
	now.env.ExecuteWorkflow(workflows.PlaybookRun, in)
	require.NoError(t, now.env.GetWorkflowError())
	require.Equal(t, []effect{{At: 3 * day, Kind: "email", StepID: "nudge", Detail: "qbr-invite"}}, now.effects,
		"3 days after the wait began, not after the move")
}

// A run that is not at a safe point stays, and says why; it then goes on
// as before.
func TestARunAwaitingADecisionDoesNotMove(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	var (
		res workflows.MoveResult
		err error
	)
	def := parse(t, approvalPlaybook)
	v2 := *def
	v2.Name = "Changed"
	r.moveAt(time.Hour, &v2, &res, &err)
	r.run(def)
	require.ErrorContains(t, err, "step invite (approval) is under way")
	require.NoError(t, r.env.GetWorkflowError())
	require.NotNil(t, r.finished, "the run went on on its version to its end")
	require.Equal(t, effect{At: 0, Kind: "approval", StepID: "invite", Detail: "qbr-invite"}, r.effects[0])
}

func TestResumeAt(t *testing.T) {
	v1, v2 := parse(t, nurtureV1), parse(t, nurtureV2)
	reordered := parse(t, "key: nurture\nname: N\nsteps:\n  - id: other\n    email: {template: welcome, to: [champion]}\n")
	tests := []struct {
		name     string
		from, to *playbook.Definition
		next     int
		want     int
		err      string
	}{
		{"at the first step: the new first", v1, v2, 0, 0, ""},
		{"after first: after first in the new version", v1, v2, 1, 2, ""},
		{"past the end: after the last step both have", v1, v2, 2, 3, ""},
		{"back again", v2, v1, 3, 2, ""},
		{"nothing in common", v1, reordered, 1, 0, "none of the steps this run has done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := workflows.ResumeAt(tt.from, tt.to, tt.next)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
