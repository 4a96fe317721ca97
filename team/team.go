// Package team holds who may act on whose work: the roles of API keys and
// the escalation ladder rule a csm key is held to. It reads the ladder
// through the small interface it declares.
package team

import (
	"context"
	"errors"
	"fmt"
)

// Roles of API keys: an admin manages keys and everything else, ops run
// the playbooks, a csm reads and acts on their own ladder's work.
const (
	RoleAdmin = "admin"
	RoleOps   = "ops"
	RoleCSM   = "csm"
)

// Who may do what, by role: every edge (the API's routes, the console's
// pages) holds its actions to these lists, so that a role cannot do through
// one edge what another refuses it. A csm's own checks (their ladder's work
// only) are in the services.
var (
	// Readers read everything: accounts, runs, playbooks, reports.
	Readers = []string{RoleAdmin, RoleOps, RoleCSM}
	// Deciders decide approvals and complete tasks (a csm: their ladder's).
	Deciders = []string{RoleAdmin, RoleOps, RoleCSM}
	// Operators run the playbooks: start, pause, resume and cancel runs,
	// save accounts and their health, import books, keep the team (adding
	// and editing members; an admin role only an admin gives).
	Operators = []string{RoleAdmin, RoleOps}
	// Reporters close their own loops on an account: report the events a
	// run waits for, log calls, meetings and notes, make, reassign and
	// snooze tasks (a csm: on the accounts and tasks of their ladder).
	Reporters = []string{RoleAdmin, RoleOps, RoleCSM}
	// Designers write, simulate, publish and duplicate playbooks.
	Designers = []string{RoleAdmin, RoleOps}
	// Admins manage API keys, write secrets, and deactivate team members
	// (handing their work to someone named).
	Admins = []string{RoleAdmin}
	// SecretListers see the names of the secrets (ops write definitions that
	// name them); nobody reads a value back.
	SecretListers = []string{RoleAdmin, RoleOps}
)

// Actor is who is calling: a role, and for a csm key the team member.
type Actor struct {
	Role  string
	Email string // the team member of a csm key
}

// Name names the actor in decisions and audit events: the team member, or
// else the role.
func (a Actor) Name() string {
	if a.Email != "" {
		return a.Email
	}
	return a.Role
}

// Ladder answers whether member is assignee or above them in the
// escalation ladder (their manager, the manager's manager, ...).
type Ladder interface {
	InLadderOf(ctx context.Context, member, assignee string) (bool, error)
}

// ErrNotInLadder refuses a csm acting on, or reading, the work of someone
// who is neither them nor below them in the ladder.
var ErrNotInLadder = errors.New("not in the assignee's escalation ladder")

// NotInLadderError names the assignee whose work was refused.
type NotInLadderError struct{ Assignee string }

func (e *NotInLadderError) Error() string {
	return "this is assigned to " + e.Assignee + ", and you are not above them in the escalation ladder"
}

// Is makes errors.Is(err, ErrNotInLadder) hold.
func (e *NotInLadderError) Is(target error) bool { return target == ErrNotInLadder }

// MayAct says whether a may act on work assigned to assignee: an admin or
// ops key may; a csm may when they are the assignee or above them in the
// ladder.
func MayAct(ctx context.Context, l Ladder, a Actor, assignee string) error {
	if a.Role != RoleCSM {
		return nil
	}
	ok, err := l.InLadderOf(ctx, a.Email, assignee)
	if err != nil {
		return fmt.Errorf("check the escalation ladder: %w", err)
	}
	if !ok {
		return &NotInLadderError{Assignee: assignee}
	}
	return nil
}

// Inbox is whose work a list shows when a asks for asked's ("": nobody in
// particular): anyone's for an admin or ops key; for a csm their own unless
// they ask for someone below them in the ladder.
func Inbox(ctx context.Context, l Ladder, a Actor, asked string) (string, error) {
	if a.Role != RoleCSM {
		return asked, nil
	}
	if asked == "" {
		return a.Email, nil
	}
	return asked, MayAct(ctx, l, a, asked)
}
