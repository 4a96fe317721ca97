package tasks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
)

var (
	casey = team.Actor{Role: team.RoleCSM, Email: storetest.CSM}
	lead  = team.Actor{Role: team.RoleCSM, Email: storetest.Manager}
	other = team.Actor{Role: team.RoleCSM, Email: storetest.Outside}
	ops   = team.Actor{Role: team.RoleOps}
)

// A csm makes tasks on the accounts of their ladder, for themselves or
// those below them; ops anywhere, naming who. Bad input names its field.
func TestCreateAdHocTask(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	s := &tasks.Service{Store: l.Store, Runs: &fakeRuns{}}
	tests := []struct {
		name     string
		by       team.Actor
		in       tasks.NewTask
		assignee string // the task's, when made
		field    string // refused: the field named
		want     error  // refused otherwise
	}{
		{name: "for themselves by default", by: casey, in: tasks.NewTask{Title: "Send the deck"}, assignee: storetest.CSM},
		{name: "a manager for their report", by: lead, in: tasks.NewTask{Title: "Call", Assignee: "CASEY@cs.test"}, assignee: storetest.CSM},
		{name: "ops for anyone", by: ops, in: tasks.NewTask{Title: "Call", Assignee: storetest.Outside}, assignee: storetest.Outside},
		{name: "outside the account's ladder", by: other, in: tasks.NewTask{Title: "Call"}, want: team.ErrNotInLadder},
		{name: "for someone above them", by: casey, in: tasks.NewTask{Title: "Call", Assignee: storetest.Manager}, want: team.ErrNotInLadder},
		{name: "ops without naming who", by: ops, in: tasks.NewTask{Title: "Call"}, field: "assignee"},
		{name: "no title", by: casey, in: tasks.NewTask{Title: "  "}, field: "title"},
		{name: "a title of two lines", by: casey, in: tasks.NewTask{Title: "a\nb"}, field: "title"},
		{name: "a title too long", by: casey, in: tasks.NewTask{Title: strings.Repeat("x", tasks.MaxTitleChars+1)}, field: "title"},
		{name: "a bad priority", by: casey, in: tasks.NewTask{Title: "Call", Priority: "asap"}, field: "priority"},
		{name: "an unknown account", by: ops, in: tasks.NewTask{AccountID: "ghost", Title: "Call", Assignee: storetest.CSM}, field: "account_id"},
		{name: "an unknown assignee", by: ops, in: tasks.NewTask{Title: "Call", Assignee: "ghost@cs.test"}, field: "assignee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.AccountID == "" {
				tt.in.AccountID = l.AccountID
			}
			task, err := s.Create(ctx, tt.by, tt.in)
			switch {
			case tt.field != "":
				var bad *invalid.Error
				require.ErrorAs(t, err, &bad)
				require.Equal(t, tt.field, bad.Errors[0].Field)
			case tt.want != nil:
				require.ErrorIs(t, err, tt.want)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.assignee, task.AssigneeEmail)
				require.Nil(t, task.RunID)
				require.Equal(t, tt.by.Name(), *task.CreatedBy)
				require.Equal(t, "normal", task.Priority)
			}
		})
	}
}

// Completing an ad-hoc task tells no run; reassigning and snoozing follow
// the ladder as completing does.
func TestAdHocCompleteReassignSnooze(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	r := &fakeRuns{}
	now := time.Now()
	s := &tasks.Service{Store: l.Store, Runs: r, Now: func() time.Time { return now }}
	task, err := s.Create(ctx, casey, tasks.NewTask{AccountID: l.AccountID, Title: "Call"})
	require.NoError(t, err)

	later := now.Add(48 * time.Hour)
	_, err = s.Snooze(ctx, other, task.ID, &later)
	require.ErrorIs(t, err, team.ErrNotInLadder)
	for _, until := range []time.Time{now.Add(-time.Minute), now.Add(tasks.MaxSnooze + time.Hour)} {
		_, err = s.Snooze(ctx, casey, task.ID, &until)
		var bad *invalid.Error
		require.ErrorAs(t, err, &bad)
		require.Equal(t, "until", bad.Errors[0].Field)
	}
	snoozed, err := s.Snooze(ctx, lead, task.ID, &later)
	require.NoError(t, err)
	require.True(t, snoozed.Snoozed(now))

	_, err = s.Reassign(ctx, other, task.ID, storetest.Outside)
	require.ErrorIs(t, err, team.ErrNotInLadder)
	_, err = s.Reassign(ctx, casey, task.ID, storetest.Manager)
	require.ErrorIs(t, err, team.ErrNotInLadder, "a csm gives work only down the ladder")
	_, err = s.Reassign(ctx, ops, task.ID, "ghost@cs.test")
	var bad *invalid.Error
	require.ErrorAs(t, err, &bad)
	moved, err := s.Reassign(ctx, ops, task.ID, storetest.Manager)
	require.NoError(t, err)
	require.Equal(t, storetest.Manager, moved.AssigneeEmail)
	_, err = s.Reassign(ctx, casey, task.ID, storetest.CSM)
	require.ErrorIs(t, err, team.ErrNotInLadder, "lead's task now: casey is below them")
	_, err = s.Reassign(ctx, lead, task.ID, storetest.CSM)
	require.NoError(t, err)

	done, err := s.Complete(ctx, casey, task.ID, "done", "")
	require.NoError(t, err)
	require.EqualValues(t, "completed", done.Status)
	require.Empty(t, r.told, "an ad-hoc task has no run to tell")
	_, err = s.Reassign(ctx, casey, task.ID, storetest.CSM)
	require.ErrorIs(t, err, tasks.ErrClosed)
	_, err = s.Snooze(ctx, casey, task.ID, &later)
	require.ErrorIs(t, err, tasks.ErrClosed)
	_, err = s.Snooze(ctx, casey, uuid.New(), nil)
	require.ErrorIs(t, err, tasks.ErrNotFound)
}

var _ tasks.Store = (*store.Store)(nil)
