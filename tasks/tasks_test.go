package tasks_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
)

// fakeRuns records the tasks runs are told of; fail makes telling fail
// (Temporal unreachable).
type fakeRuns struct {
	told []store.Task
	fail bool
}

func (f *fakeRuns) TaskCompleted(_ context.Context, t store.Task) error {
	if f.fail {
		return errors.New("temporal unreachable")
	}
	f.told = append(f.told, t)
	return nil
}

func TestComplete(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	casey := team.Actor{Role: team.RoleCSM, Email: storetest.CSM}
	tests := []struct {
		name           string
		by             team.Actor
		outcome, note  string
		completedAs    string // "": open before
		runUnreachable bool
		want           error
		wantOutcome    string // stored; "": not completed by this call
	}{
		{name: "the assignee completes", by: casey, outcome: " reached them ", wantOutcome: "reached them"},
		{name: "no outcome is done", by: casey, wantOutcome: "done"},
		{name: "their manager completes", by: team.Actor{Role: team.RoleCSM, Email: storetest.Manager}, wantOutcome: "done"},
		{name: "ops complete anyone's", by: team.Actor{Role: team.RoleOps}, outcome: "handled", wantOutcome: "handled"},
		{name: "a csm outside the ladder is refused", by: team.Actor{Role: team.RoleCSM, Email: storetest.Outside}, want: team.ErrNotInLadder},
		{name: "a closed task is refused", by: casey, outcome: "again", completedAs: "done", want: tasks.ErrClosed},
		{name: "completing again as before is no change", by: casey, outcome: "done", completedAs: "done", wantOutcome: "done"},
		{name: "an outcome too long", by: casey, outcome: strings.Repeat("x", tasks.MaxOutcomeBytes+1), want: tasks.ErrTooLong},
		{name: "a note too long", by: casey, note: strings.Repeat("x", tasks.MaxNoteBytes+1), want: tasks.ErrTooLong},
		{name: "the run cannot be told: completed all the same", by: casey, runUnreachable: true, wantOutcome: "done"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, _, err := l.Store.CreateTask(ctx, store.NewTask{RunID: l.RunID, StepID: "call-" + string(rune('a'+i)),
				AccountID: l.AccountID, AssigneeLevel: "csm", Title: "Call", Priority: "normal"})
			require.NoError(t, err)
			if tt.completedAs != "" {
				_, err := l.Store.CompleteTask(ctx, task.ID, tt.completedAs, "")
				require.NoError(t, err)
			}
			r := &fakeRuns{fail: tt.runUnreachable}
			s := &tasks.Service{Store: l.Store, Runs: r}
			got, err := s.Complete(ctx, tt.by, task.ID, tt.outcome, tt.note)
			switch {
			case tt.want != nil:
				require.ErrorIs(t, err, tt.want)
				require.Empty(t, r.told)
			case tt.runUnreachable:
				require.ErrorContains(t, err, "task completed, but its run was not told")
			default:
				require.NoError(t, err)
				require.Len(t, r.told, 1, "the run is told")
				require.Equal(t, &l.RunID, got.RunID)
			}
			stored, err := l.Store.GetTask(ctx, task.ID)
			require.NoError(t, err)
			if tt.wantOutcome == "" && tt.completedAs == "" {
				require.EqualValues(t, "open", stored.Status, "a refusal changes nothing")
				return
			}
			if tt.wantOutcome != "" {
				require.Equal(t, tt.wantOutcome, stored.Outcome)
			}
		})
	}
	t.Run("an unknown task", func(t *testing.T) {
		_, err := (&tasks.Service{Store: l.Store, Runs: &fakeRuns{}}).Complete(ctx, casey, uuid.New(), "", "")
		require.ErrorIs(t, err, tasks.ErrNotFound)
	})
}
