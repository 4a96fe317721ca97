package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Refusals of the team's changes.
var (
	// ErrInactiveMember refuses giving work (an account, a task, a key, a
	// report) to a deactivated team member.
	ErrInactiveMember = errors.New("the team member is deactivated")
	// ErrUnknownMember: no team member has the email.
	ErrUnknownMember = errors.New("no team member with that email")
	// ErrLastAdmin refuses deactivating or demoting the last active admin.
	ErrLastAdmin = errors.New("the last active admin member cannot be deactivated or lose the admin role")
	// ErrAlreadyDeactivated refuses deactivating a member twice.
	ErrAlreadyDeactivated = errors.New("the team member is already deactivated")
	// ErrSuccessorIsMember: a member cannot take over their own work.
	ErrSuccessorIsMember = errors.New("the successor is the member being deactivated")
)

// keepAnAdmin refuses, inside a transaction, what would leave no active
// admin member when email is one: it locks the active admins' rows, so two
// deactivations at once cannot each leave the other as the last.
func keepAnAdmin(ctx context.Context, tx pgx.Tx, email string) error {
	rows, _ := tx.Query(ctx, `
		SELECT email FROM team_members WHERE role = 'admin' AND deactivated_at IS NULL ORDER BY id FOR UPDATE`)
	admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("lock admins: %w", err)
	}
	if len(admins) == 1 && admins[0] == email {
		return ErrLastAdmin
	}
	return nil
}

// activeMember finds an active member's id by email, locking the row
// against a deactivation at the same time (FOR SHARE).
func activeMember(ctx context.Context, q querier, email string) (uuid.UUID, error) {
	var (
		id     uuid.UUID
		active bool
	)
	err := q.QueryRow(ctx, `SELECT id, deactivated_at IS NULL FROM team_members WHERE email = $1 FOR SHARE`, email).Scan(&id, &active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, ErrUnknownMember
	case err != nil:
		return uuid.Nil, fmt.Errorf("look up team member: %w", err)
	case !active:
		return uuid.Nil, ErrInactiveMember
	}
	return id, nil
}

// lockActive says whether a member is active, locking the row as
// activeMember does.
func lockActive(ctx context.Context, q querier, id uuid.UUID) (bool, error) {
	var active bool
	err := q.QueryRow(ctx, `SELECT deactivated_at IS NULL FROM team_members WHERE id = $1 FOR SHARE`, id).Scan(&active)
	if err != nil {
		return false, fmt.Errorf("lock team member: %w", err)
	}
	return active, nil
}

// Deactivation is what deactivating a member moved to their successor.
type Deactivation struct {
	Member    TeamMember
	Successor string
	// Accounts are the ids of the accounts the successor is now the CSM of.
	Accounts []string
	// Approvals and Tasks count the pending approvals and open tasks moved.
	Approvals int
	Tasks     int
	// Reports count the direct reports who now report to the member's
	// manager (or to nobody, when the member had none).
	Reports int
	// KeysRevoked counts the member's API keys that stopped working.
	KeysRevoked int
}

// DeactivateMember deactivates a member in one transaction: their accounts
// (as CSM), pending approvals and open tasks go to the successor, who must
// be active; their direct reports report to the member's own manager (the
// ladder closes over the gap, and cannot loop); their API keys are revoked
// and their console sessions end. Each moved account, approval and task
// gets an audit event. It refuses deactivating the last active admin.
func (s *Store) DeactivateMember(ctx context.Context, email, successor string) (Deactivation, error) {
	out := Deactivation{Successor: successor, Accounts: []string{}}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			memberID  uuid.UUID
			role      string
			inactive  bool
			managerID *uuid.UUID
		)
		err := tx.QueryRow(ctx, `SELECT id, role, deactivated_at IS NOT NULL, manager_id FROM team_members WHERE email = $1 FOR UPDATE`,
			email).Scan(&memberID, &role, &inactive, &managerID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return fmt.Errorf("look up team member: %w", err)
		case inactive:
			return ErrAlreadyDeactivated
		case email == successor:
			return ErrSuccessorIsMember
		}
		successorID, err := activeMember(ctx, tx, successor)
		if err != nil {
			return err
		}
		if role == "admin" {
			if err := keepAnAdmin(ctx, tx, email); err != nil {
				return err
			}
		}
		moved := map[string]any{"from": email, "to": successor, "reason": "deactivated"}
		rows, _ := tx.Query(ctx, `UPDATE accounts SET csm_id = $2, updated_at = now() WHERE csm_id = $1 RETURNING id`, memberID, successorID)
		if out.Accounts, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return fmt.Errorf("move accounts: %w", err)
		}
		slices.Sort(out.Accounts)
		for _, id := range out.Accounts {
			if err := appendEvent(ctx, tx, id, nil, "csm_changed", moved); err != nil {
				return err
			}
		}
		type work struct {
			ID        uuid.UUID
			AccountID string
			RunID     *uuid.UUID
		}
		rows, _ = tx.Query(ctx, `
			UPDATE approvals SET assignee_id = $2 WHERE assignee_id = $1 AND status = 'pending'
			RETURNING id, account_id, run_id`, memberID, successorID)
		approvals, err := pgx.CollectRows(rows, pgx.RowToStructByName[work])
		if err != nil {
			return fmt.Errorf("move approvals: %w", err)
		}
		for _, a := range approvals {
			if err := appendEvent(ctx, tx, a.AccountID, a.RunID, "approval_reassigned",
				map[string]any{"approval_id": a.ID, "from": email, "to": successor, "reason": "deactivated"}); err != nil {
				return err
			}
		}
		rows, _ = tx.Query(ctx, `
			UPDATE tasks SET assignee_id = $2 WHERE assignee_id = $1 AND status = 'open'
			RETURNING id, account_id, run_id`, memberID, successorID)
		tasks, err := pgx.CollectRows(rows, pgx.RowToStructByName[work])
		if err != nil {
			return fmt.Errorf("move tasks: %w", err)
		}
		for _, k := range tasks {
			if err := appendEvent(ctx, tx, k.AccountID, k.RunID, "task_reassigned",
				map[string]any{"task_id": k.ID, "from": email, "to": successor, "reason": "deactivated"}); err != nil {
				return err
			}
		}
		out.Approvals, out.Tasks = len(approvals), len(tasks)
		tag, err := tx.Exec(ctx, `UPDATE team_members SET manager_id = $2, updated_at = now() WHERE manager_id = $1`, memberID, managerID)
		if err != nil {
			return fmt.Errorf("move reports: %w", err)
		}
		out.Reports = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now() WHERE team_member_id = $1 AND revoked_at IS NULL`, memberID); err != nil {
			return fmt.Errorf("revoke keys: %w", err)
		}
		out.KeysRevoked = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `UPDATE console_sessions SET ended_at = now() WHERE member_id = $1 AND ended_at IS NULL`, memberID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE team_members SET deactivated_at = now(), updated_at = now() WHERE id = $1`, memberID); err != nil {
			return fmt.Errorf("deactivate: %w", err)
		}
		out.Member, err = rowOf[TeamMember](ctx, tx, memberSelect+` WHERE t.id = $1`, memberID)
		return err
	})
	return out, err
}

// ReactivateMember lets a deactivated member be given work again. What
// deactivation moved stays where it went, and their revoked keys stay
// revoked; reactivating an active member changes nothing.
func (s *Store) ReactivateMember(ctx context.Context, email string) (TeamMember, error) {
	if _, err := s.pool.Exec(ctx, `
		UPDATE team_members SET deactivated_at = NULL, updated_at = now() WHERE email = $1 AND deactivated_at IS NOT NULL`,
		email); err != nil {
		return TeamMember{}, fmt.Errorf("reactivate: %w", err)
	}
	return s.TeamMemberByEmail(ctx, email)
}

// MemberWork counts what a member has that deactivating them would move:
// the console's deactivation form says it before anyone confirms.
type MemberWork struct {
	Accounts, Approvals, Tasks, Reports, Keys int
}

// WorkOf counts a member's accounts, pending approvals, open tasks, direct
// reports and live API keys.
func (s *Store) WorkOf(ctx context.Context, email string) (MemberWork, error) {
	var w MemberWork
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM accounts WHERE csm_id = t.id),
		       (SELECT count(*) FROM approvals WHERE assignee_id = t.id AND status = 'pending'),
		       (SELECT count(*) FROM tasks WHERE assignee_id = t.id AND status = 'open'),
		       (SELECT count(*) FROM team_members WHERE manager_id = t.id),
		       (SELECT count(*) FROM api_keys WHERE team_member_id = t.id AND revoked_at IS NULL)
		FROM team_members t WHERE t.email = $1`, email).Scan(&w.Accounts, &w.Approvals, &w.Tasks, &w.Reports, &w.Keys)
	return w, notFound(err)
}
