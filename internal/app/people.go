package app

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// Refusals of the team's use cases.
var (
	// ErrUnknownMember: no team member has the email (a 404 of the path).
	ErrUnknownMember = errors.New("team member not found")
	// ErrAdminOnly refuses a non-admin giving the admin role, or taking it
	// from someone: an ops member could otherwise make themselves admin.
	ErrAdminOnly = errors.New("only an admin gives or takes the admin role")
)

// Roles are a member's (and a key's) roles.
var Roles = []string{team.RoleAdmin, team.RoleOps, team.RoleCSM}

// Member is a team member as a person adds or edits them.
type Member struct {
	Email        string
	Name         string
	Level        string
	ManagerEmail string // "": no manager
	Role         string // "": csm for a new member, unchanged for one that exists
	Timezone     string // "": UTC for a new member, unchanged for one that exists
}

// normaliseEmail lower-cases and checks an address, recording a field
// error; the API's rule for every address.
func normaliseEmail(bad *invalid.Error, field, v string, required bool) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		if required {
			bad.Add(field, "required")
		}
		return ""
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
		bad.Add(field, "must be a plain email address such as name@example.com")
	}
	return v
}

// ValidTimezone says whether tz names an IANA time zone ("Local" is this
// machine's, not one).
func ValidTimezone(tz string) bool {
	if tz == "" || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// SaveMember adds a team member or edits one (by email): checked here for
// both edges, then stored (the store refuses unknown and deactivated
// managers, loops, and demoting the last active admin).
func (a *App) SaveMember(ctx context.Context, by team.Actor, in Member) (store.TeamMember, bool, error) {
	bad := &invalid.Error{What: "request"}
	in.Email = normaliseEmail(bad, "email", in.Email, true)
	in.ManagerEmail = normaliseEmail(bad, "manager_email", in.ManagerEmail, false)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		bad.Add("name", "required")
	case strings.ContainsAny(in.Name, "\r\n\t"):
		bad.Add("name", "one line")
	}
	if !accounts.Valid(accounts.Levels, in.Level) {
		bad.Add("level", "must be one of %s", strings.Join(accounts.Levels, ", "))
	}
	if in.ManagerEmail != "" && in.ManagerEmail == in.Email {
		bad.Add("manager_email", "a team member cannot manage themselves")
	}
	if in.Role != "" && !slices.Contains(Roles, in.Role) {
		bad.Add("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	if in.Timezone != "" && !ValidTimezone(in.Timezone) {
		bad.Add("timezone", "unknown time zone %q: use an IANA name such as Europe/Berlin", in.Timezone)
	}
	if err := bad.Err(); err != nil {
		return store.TeamMember{}, false, err
	}
	if by.Role != team.RoleAdmin && in.Role != "" {
		current, err := a.Team.TeamMemberByEmail(ctx, in.Email)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.TeamMember{}, false, err
		}
		if in.Role == team.RoleAdmin && current.Role != team.RoleAdmin || current.Role == team.RoleAdmin && in.Role != team.RoleAdmin {
			return store.TeamMember{}, false, ErrAdminOnly
		}
	}
	m, created, err := a.Team.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: in.Email, Name: in.Name, Level: in.Level,
		ManagerEmail: in.ManagerEmail, Role: in.Role, Timezone: in.Timezone})
	switch {
	case errors.Is(err, store.ErrUnknownManager):
		return m, false, invalid.One("request", "manager_email", "no team member has this email; add the manager first")
	case errors.Is(err, store.ErrInactiveMember):
		return m, false, invalid.One("request", "manager_email", "this team member is deactivated; choose an active manager")
	case errors.Is(err, store.ErrManagerCycle):
		return m, false, invalid.One("request", "manager_email", "this manager is already below the member in the chain")
	case errors.Is(err, store.ErrLastAdmin):
		return m, false, invalid.One("request", "role", "this is the last active admin member: make someone else admin first")
	}
	return m, created, err
}

// DeactivateMember hands a member's accounts, pending approvals and open
// tasks to their successor (an active member) and deactivates them, all
// at once (store.DeactivateMember says what else moves). Refused: an
// unknown member (ErrUnknownMember), one already deactivated
// (store.ErrAlreadyDeactivated), the last active admin
// (store.ErrLastAdmin), a successor who is not an active member other than
// them (*invalid.Error on successor).
func (a *App) DeactivateMember(ctx context.Context, email, successor string) (store.Deactivation, error) {
	bad := &invalid.Error{What: "request"}
	email = strings.ToLower(strings.TrimSpace(email))
	successor = normaliseEmail(bad, "successor", successor, true)
	if err := bad.Err(); err != nil {
		return store.Deactivation{}, err
	}
	d, err := a.Team.DeactivateMember(ctx, email, successor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return d, ErrUnknownMember
	case errors.Is(err, store.ErrSuccessorIsMember):
		return d, invalid.One("request", "successor", "someone other than the member being deactivated takes over their work")
	case errors.Is(err, store.ErrUnknownMember):
		return d, invalid.One("request", "successor", "no team member has this email")
	case errors.Is(err, store.ErrInactiveMember):
		return d, invalid.One("request", "successor", "this team member is deactivated too; choose an active one")
	}
	return d, err
}

// ReactivateMember lets a deactivated member be given work again (what
// deactivating them moved stays where it went).
func (a *App) ReactivateMember(ctx context.Context, email string) (store.TeamMember, error) {
	m, err := a.Team.ReactivateMember(ctx, strings.ToLower(strings.TrimSpace(email)))
	if errors.Is(err, store.ErrNotFound) {
		return m, ErrUnknownMember
	}
	return m, err
}

// NewKey is an API key as an admin asks for it.
type NewKey struct {
	Name            string
	Role            string
	TeamMemberEmail string // a csm key's member; none for admin and ops keys
}

// CreateKey makes an API key and returns its secret, which is shown this
// once and kept only as a hash.
func (a *App) CreateKey(ctx context.Context, in NewKey) (store.APIKey, string, error) {
	bad := &invalid.Error{What: "request"}
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		bad.Add("name", "required: what the key is for")
	case strings.ContainsAny(in.Name, "\r\n\t"):
		bad.Add("name", "one line")
	}
	switch in.Role {
	case team.RoleAdmin, team.RoleOps:
		if strings.TrimSpace(in.TeamMemberEmail) != "" {
			bad.Add("team_member_email", "only a csm key is bound to a team member")
		}
		in.TeamMemberEmail = ""
	case team.RoleCSM:
		in.TeamMemberEmail = normaliseEmail(bad, "team_member_email", in.TeamMemberEmail, true)
	default:
		bad.Add("role", "must be one of %s", strings.Join(Roles, ", "))
	}
	if err := bad.Err(); err != nil {
		return store.APIKey{}, "", err
	}
	k, secret, err := a.Keys.CreateAPIKey(ctx, in.Name, in.Role, in.TeamMemberEmail)
	switch {
	case errors.Is(err, store.ErrUnknownCSM):
		return k, "", invalid.One("request", "team_member_email", "no team member has this email")
	case errors.Is(err, store.ErrInactiveMember):
		return k, "", invalid.One("request", "team_member_email", "this team member is deactivated and gets no key")
	}
	return k, secret, err
}
