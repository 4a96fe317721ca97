package timeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/timeline"
)

// A csm logs notes on the accounts of their ladder; a note is held to its
// kinds, a body, and a time that is neither ahead nor years back.
func TestAddNote(t *testing.T) {
	l := storetest.NewLadder(t)
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	s := &timeline.Service{Store: l.Store, Now: func() time.Time { return now }}
	casey := team.Actor{Role: team.RoleCSM, Email: storetest.CSM}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name  string
		by    team.Actor
		in    timeline.NewNote
		field string
		want  error
	}{
		{name: "the CSM logs a call", by: casey, in: timeline.NewNote{Kind: "call", Body: "Kickoff went well"}},
		{name: "their manager a meeting of yesterday", by: team.Actor{Role: team.RoleCSM, Email: storetest.Manager},
			in: timeline.NewNote{Kind: "meeting", Body: "QBR", HappenedAt: at(-24 * time.Hour)}},
		{name: "ops a note", by: team.Actor{Role: team.RoleOps}, in: timeline.NewNote{Kind: "note", Body: "Renewal owner changed"}},
		{name: "someone outside the ladder", by: team.Actor{Role: team.RoleCSM, Email: storetest.Outside},
			in: timeline.NewNote{Kind: "call", Body: "x"}, want: team.ErrNotInLadder},
		{name: "an unknown kind", by: casey, in: timeline.NewNote{Kind: "email", Body: "x"}, field: "kind"},
		{name: "no body", by: casey, in: timeline.NewNote{Kind: "call", Body: " \n"}, field: "body"},
		{name: "a body too long", by: casey, in: timeline.NewNote{Kind: "call", Body: strings.Repeat("x", timeline.MaxBodyBytes+1)}, field: "body"},
		{name: "in the future", by: casey, in: timeline.NewNote{Kind: "call", Body: "x", HappenedAt: at(time.Hour)}, field: "happened_at"},
		{name: "years back", by: casey, in: timeline.NewNote{Kind: "call", Body: "x", HappenedAt: at(-timeline.MaxBackdate - time.Hour)}, field: "happened_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := s.AddNote(context.Background(), tt.by, l.AccountID, tt.in)
			switch {
			case tt.field != "":
				var bad *invalid.Error
				require.ErrorAs(t, err, &bad)
				require.Equal(t, tt.field, bad.Errors[0].Field)
			case tt.want != nil:
				require.ErrorIs(t, err, tt.want)
			default:
				require.NoError(t, err)
				require.Equal(t, tt.by.Name(), n.AuthorEmail)
				require.Equal(t, strings.TrimSpace(tt.in.Body), n.Body)
			}
		})
	}
	_, err := s.AddNote(context.Background(), casey, "ghost", timeline.NewNote{Kind: "call", Body: "x"})
	require.ErrorIs(t, err, timeline.ErrUnknownAccount)
}

// The timeline says each entry in words, sorted into kinds, with links.
func TestTimelineEntries(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	s := &timeline.Service{Store: l.Store, Now: time.Now}
	ops := team.Actor{Role: team.RoleOps}
	_, err := s.AddNote(ctx, ops, l.AccountID, timeline.NewNote{Kind: "call", Body: "Talked  renewal\nterms"})
	require.NoError(t, err)
	task, _, err := l.Store.CreateTask(ctx, store.NewTask{RunID: l.RunID, StepID: "welcome-call", AccountID: l.AccountID,
		AssigneeLevel: "csm", Title: "Welcome call", Priority: "normal"})
	require.NoError(t, err)

	entries, err := s.List(ctx, l.AccountID, nil, 10)
	require.NoError(t, err)
	byType := map[string]timeline.Entry{}
	for _, e := range entries {
		byType[e.Type] = e
		require.Contains(t, timeline.Kinds, e.Kind)
	}
	call := byType["call"]
	require.Equal(t, "call", call.Kind)
	require.Equal(t, "Call logged by ops: Talked renewal terms", call.Summary)
	require.NotNil(t, call.NoteID)
	created := byType["task_created"]
	require.Equal(t, "task", created.Kind)
	require.Equal(t, "Task “Welcome call” for casey@cs.test.", created.Summary)
	require.Equal(t, task.ID, *created.TaskID)
	require.Equal(t, l.RunID, *created.RunID)
	started := byType["run_started"]
	require.Equal(t, "run", started.Kind)
	require.Equal(t, "Playbook onboarding started (version 1).", started.Summary)
	require.NotNil(t, started.EventID)

	_, err = s.List(ctx, "ghost", nil, 10)
	require.ErrorIs(t, err, timeline.ErrUnknownAccount)
	last, err := s.LastContact(ctx, l.AccountID)
	require.NoError(t, err)
	require.NotNil(t, last)
}
