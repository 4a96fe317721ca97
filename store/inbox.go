package store

import (
	"context"
	"fmt"
	"time"
)

// InboxCounts is how much work an inbox holds, for the line above its
// pages: pending approvals and open tasks (those snoozed until later left
// out), and how many of each are past their deadline or due time.
type InboxCounts struct {
	Approvals, OverdueApprovals int
	Tasks, OverdueTasks         int
}

// CountInbox counts the work of an assignee ("": everyone's) at now.
func (s *Store) CountInbox(ctx context.Context, assigneeEmail string, now time.Time) (InboxCounts, error) {
	var c InboxCounts
	err := s.pool.QueryRow(ctx, `
		WITH who AS (SELECT id FROM team_members WHERE email = $1)
		SELECT
			(SELECT count(*) FROM approvals a WHERE a.status = 'pending'
			   AND ($1 = '' OR a.assignee_id = (SELECT id FROM who))),
			(SELECT count(*) FROM approvals a WHERE a.status = 'pending' AND a.expires_at < $2
			   AND ($1 = '' OR a.assignee_id = (SELECT id FROM who))),
			(SELECT count(*) FROM tasks k WHERE k.status = 'open' AND (k.snoozed_until IS NULL OR k.snoozed_until <= $2)
			   AND ($1 = '' OR k.assignee_id = (SELECT id FROM who))),
			(SELECT count(*) FROM tasks k WHERE k.status = 'open' AND (k.snoozed_until IS NULL OR k.snoozed_until <= $2)
			   AND k.due_at < $2 AND ($1 = '' OR k.assignee_id = (SELECT id FROM who)))`,
		assigneeEmail, now).Scan(&c.Approvals, &c.OverdueApprovals, &c.Tasks, &c.OverdueTasks)
	if err != nil {
		return InboxCounts{}, fmt.Errorf("count inbox: %w", err)
	}
	return c, nil
}
