package app

import (
	"context"
	"time"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// inboxStore says how much work an inbox holds.
type inboxStore interface {
	CountInbox(ctx context.Context, assigneeEmail string, now time.Time) (store.InboxCounts, error)
}

// CountInbox says how much work the inbox by asks for holds, as the lists
// of approvals and tasks read it (team.Inbox): the line above the inbox's
// pages.
func (a *App) CountInbox(ctx context.Context, by team.Actor, asked string) (store.InboxCounts, error) {
	whose, err := team.Inbox(ctx, a.ladder, by, asked)
	if err != nil {
		return store.InboxCounts{}, err
	}
	return a.inboxes.CountInbox(ctx, whose, a.Now())
}
