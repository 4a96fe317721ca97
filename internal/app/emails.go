package app

import (
	"context"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// ListEmails lists outbox rows as the caller may read them: customer
// emails as every reader does (accounts and runs are everyone's to read),
// and of the team's emails (approval notices and escalations) a csm reads
// only those addressed to their own member, never a peer's or a manager's.
func (a *App) ListEmails(ctx context.Context, by team.Actor, f store.EmailFilter) ([]store.Email, error) {
	if by.Role == team.RoleCSM {
		me := by.Email // a csm key always has a member; "" would read no team email
		f.TeamTo = &me
	}
	return a.Lists.ListEmails(ctx, f)
}
