package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TeamMember is a CSM or anyone above one in the escalation ladder.
type TeamMember struct {
	ID           uuid.UUID
	Email        string
	Name         string
	Level        string
	ManagerEmail *string
	// Role is what the member may do once signed in (a key's roles);
	// Timezone is how the console shows them times.
	Role     string
	Timezone string
	// DeactivatedAt is set once the member left: they get no new work.
	DeactivatedAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Active says whether the member may still be given work.
func (m TeamMember) Active() bool { return m.DeactivatedAt == nil }

// UpsertTeamMember is the input of UpsertTeamMember; emails are lower-case.
type UpsertTeamMember struct {
	Email        string
	Name         string
	Level        string
	ManagerEmail string // empty: no manager
	// Role and Timezone: empty keeps the member's (csm and UTC for a new one).
	Role     string
	Timezone string
}

// UpsertTeamMember creates or updates a team member by email.
func (s *Store) UpsertTeamMember(ctx context.Context, in UpsertTeamMember) (TeamMember, bool, error) {
	var (
		member  TeamMember
		created bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var managerID *uuid.UUID
		if in.ManagerEmail != "" {
			id, err := activeMember(ctx, tx, in.ManagerEmail)
			switch {
			case errors.Is(err, ErrUnknownMember):
				return ErrUnknownManager
			case err != nil: // a deactivated manager is ErrInactiveMember: they get no reports
				return err
			}
			// The ladder climbs manager links; refuse a link that would make it loop.
			var loops bool
			err = tx.QueryRow(ctx, `
				WITH RECURSIVE chain(id, manager_id) AS (
					SELECT id, manager_id FROM team_members WHERE id = $1
					UNION
					SELECT t.id, t.manager_id FROM team_members t JOIN chain c ON t.id = c.manager_id
				)
				SELECT EXISTS (SELECT 1 FROM chain c JOIN team_members m ON m.id = c.id WHERE m.email = $2)`,
				id, in.Email).Scan(&loops)
			if err != nil {
				return fmt.Errorf("check manager chain: %w", err)
			}
			if loops {
				return ErrManagerCycle
			}
			managerID = &id
		}
		if in.Role != "" && in.Role != "admin" {
			if err := keepAnAdmin(ctx, tx, in.Email); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO team_members (email, name, level, manager_id, role, timezone)
			VALUES ($1, $2, $3, $4, COALESCE(NULLIF($5, ''), 'csm'), COALESCE(NULLIF($6, ''), 'UTC'))
			ON CONFLICT (email) DO UPDATE
			SET name = EXCLUDED.name, level = EXCLUDED.level, manager_id = EXCLUDED.manager_id,
			    role = COALESCE(NULLIF($5, ''), team_members.role), timezone = COALESCE(NULLIF($6, ''), team_members.timezone),
			    updated_at = now()
			RETURNING id, email, name, level, role, timezone, deactivated_at, created_at, updated_at, (xmax = 0)`,
			in.Email, in.Name, in.Level, managerID, in.Role, in.Timezone,
		).Scan(&member.ID, &member.Email, &member.Name, &member.Level, &member.Role, &member.Timezone, &member.DeactivatedAt,
			&member.CreatedAt, &member.UpdatedAt, &created)
		if err != nil {
			return fmt.Errorf("upsert team member: %w", err)
		}
		if in.ManagerEmail != "" {
			m := in.ManagerEmail
			member.ManagerEmail = &m
		}
		return nil
	})
	return member, created, err
}

// TeamMemberByEmail returns one team member.
func (s *Store) TeamMemberByEmail(ctx context.Context, email string) (TeamMember, error) {
	return rowOf[TeamMember](ctx, s.pool, memberSelect+` WHERE t.email = $1`, email)
}

// MembersBelow returns the team members whose escalation ladder email is in
// (they report to them, directly or not), by email: whose inbox they may
// open besides their own.
func (s *Store) MembersBelow(ctx context.Context, email string) ([]TeamMember, error) {
	return rowsOf[TeamMember](ctx, s.pool, `
		WITH RECURSIVE below(id, depth) AS (
			SELECT t.id, 0 FROM team_members t JOIN team_members m ON m.id = t.manager_id WHERE m.email = $1
			UNION ALL
			SELECT t.id, b.depth + 1 FROM team_members t JOIN below b ON t.manager_id = b.id
			WHERE b.depth < 32
		)
		SELECT DISTINCT t.id, t.email, t.name, t.level, mgr.email AS manager_email, t.role, t.timezone, t.deactivated_at,
		       t.created_at, t.updated_at
		FROM below b JOIN team_members t ON t.id = b.id LEFT JOIN team_members mgr ON mgr.id = t.manager_id
		WHERE t.email <> $1 ORDER BY t.email LIMIT 500`, email)
}

// ListTeamMembers returns team members by email, after the given one.
func (s *Store) ListTeamMembers(ctx context.Context, afterEmail string, n int) ([]TeamMember, error) {
	return rowsOf[TeamMember](ctx, s.pool, memberSelect+` WHERE t.email > $1 ORDER BY t.email LIMIT $2`, afterEmail, limit(n))
}

const memberSelect = `
	SELECT t.id, t.email, t.name, t.level, mgr.email AS manager_email, t.role, t.timezone, t.deactivated_at,
	       t.created_at, t.updated_at
	FROM team_members t LEFT JOIN team_members mgr ON mgr.id = t.manager_id`
