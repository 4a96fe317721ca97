package team_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/team"
)

// ladder says who is at or above whom: casey reports to lead.
type ladder map[[2]string]bool

func (l ladder) InLadderOf(_ context.Context, member, assignee string) (bool, error) {
	if member == "broken@cs.test" {
		return false, errors.New("connection reset")
	}
	return l[[2]string{member, assignee}], nil
}

var l = ladder{{"casey@cs.test", "casey@cs.test"}: true, {"lead@cs.test", "casey@cs.test"}: true, {"lead@cs.test", "lead@cs.test"}: true}

func csm(email string) team.Actor { return team.Actor{Role: team.RoleCSM, Email: email} }

func TestMayAct(t *testing.T) {
	for _, tt := range []struct {
		name     string
		by       team.Actor
		assignee string
		want     error
	}{
		{"admin", team.Actor{Role: team.RoleAdmin}, "casey@cs.test", nil},
		{"ops", team.Actor{Role: team.RoleOps}, "casey@cs.test", nil},
		{"the assignee", csm("casey@cs.test"), "casey@cs.test", nil},
		{"the assignee's manager", csm("lead@cs.test"), "casey@cs.test", nil},
		{"below the assignee", csm("casey@cs.test"), "lead@cs.test", team.ErrNotInLadder},
		{"outside the ladder", csm("other@cs.test"), "casey@cs.test", team.ErrNotInLadder},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, team.MayAct(context.Background(), l, tt.by, tt.assignee), tt.want)
		})
	}
	err := team.MayAct(context.Background(), l, csm("broken@cs.test"), "casey@cs.test")
	require.Error(t, err)
	require.NotErrorIs(t, err, team.ErrNotInLadder, "a failing read is not a refusal")
}

func TestInbox(t *testing.T) {
	for _, tt := range []struct {
		name, asked, want string
		by                team.Actor
		err               error
	}{
		{name: "ops see everyone's", by: team.Actor{Role: team.RoleOps}, want: ""},
		{name: "ops ask for one", by: team.Actor{Role: team.RoleOps}, asked: "casey@cs.test", want: "casey@cs.test"},
		{name: "a csm sees their own", by: csm("casey@cs.test"), want: "casey@cs.test"},
		{name: "a manager asks for a report's", by: csm("lead@cs.test"), asked: "casey@cs.test", want: "casey@cs.test"},
		{name: "a csm asks for their manager's", by: csm("casey@cs.test"), asked: "lead@cs.test", want: "lead@cs.test", err: team.ErrNotInLadder},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := team.Inbox(context.Background(), l, tt.by, tt.asked)
			require.ErrorIs(t, err, tt.err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestActorName(t *testing.T) {
	require.Equal(t, "casey@cs.test", csm("casey@cs.test").Name())
	require.Equal(t, "ops", team.Actor{Role: team.RoleOps}.Name())
}
