package tasks

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// Priorities are a task's, as the table's CHECK has them.
var Priorities = []string{"low", "normal", "high", "urgent"}

// Bounds of an ad-hoc task and of a snooze.
const (
	MaxTitleChars       = 200
	MaxDescriptionBytes = 10000
	// MaxSnooze is the furthest a task may be snoozed: further is a typing
	// mistake, or a task that should be closed.
	MaxSnooze = 366 * 24 * time.Hour
)

// NewTask is an ad-hoc task as a person asks for it.
type NewTask struct {
	AccountID   string
	Title       string
	Description string
	Priority    string     // "": normal
	DueAt       *time.Time // nil: none
	Assignee    string     // "": the caller's team member
}

// Create makes an ad-hoc task: no run, made by the caller. A csm makes one
// on an account of their ladder (its CSM is them or below them), for
// themselves or someone below them; admin and ops anywhere for anyone
// active. Bad input is an *invalid.Error naming each field.
func (s *Service) Create(ctx context.Context, by team.Actor, in NewTask) (store.Task, error) {
	in.Title = strings.TrimSpace(in.Title)
	in.Assignee = strings.ToLower(strings.TrimSpace(in.Assignee))
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if in.Assignee == "" {
		in.Assignee = by.Email
	}
	bad := &invalid.Error{What: "task"}
	switch {
	case in.Title == "":
		bad.Add("title", "required: what is to be done")
	case utf8.RuneCountInString(in.Title) > MaxTitleChars || strings.ContainsAny(in.Title, "\r\n"):
		bad.Add("title", "one line of at most %d characters", MaxTitleChars)
	}
	if len(in.Description) > MaxDescriptionBytes {
		bad.Add("description", "at most %d bytes", MaxDescriptionBytes)
	}
	if !slices.Contains(Priorities, in.Priority) {
		bad.Add("priority", "must be one of %s", strings.Join(Priorities, ", "))
	}
	if in.Assignee == "" {
		bad.Add("assignee", "required: this key belongs to no team member, so name who does the task")
	}
	if in.AccountID == "" {
		bad.Add("account_id", "required")
	}
	if err := bad.Err(); err != nil {
		return store.Task{}, err
	}
	acct, err := s.Store.GetAccount(ctx, in.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Task{}, invalid.One("task", "account_id", "no account with this id")
	}
	if err != nil {
		return store.Task{}, err
	}
	if err := team.MayAct(ctx, s.Store, by, acct.CSMEmail); err != nil {
		return store.Task{}, err
	}
	if err := team.MayAct(ctx, s.Store, by, in.Assignee); err != nil {
		return store.Task{}, err
	}
	task, err := s.Store.CreateAdHocTask(ctx, store.NewAdHocTask{AccountID: acct.ID, AssigneeEmail: in.Assignee, Title: in.Title,
		Description: in.Description, Priority: in.Priority, DueAt: in.DueAt, CreatedBy: by.Name()})
	if err := assigneeProblem(err); err != nil {
		return store.Task{}, err
	}
	return task, nil
}

// assigneeProblem names the assignee field when the store refused them.
func assigneeProblem(err error) error {
	switch {
	case errors.Is(err, store.ErrUnknownMember):
		return invalid.One("task", "assignee", "no team member has this email")
	case errors.Is(err, store.ErrInactiveMember):
		return invalid.One("task", "assignee", "this team member is deactivated and gets no new work")
	case errors.Is(err, store.ErrNotFound): // the account, gone meanwhile
		return invalid.One("task", "account_id", "no account with this id")
	}
	return err
}

// openTask finds a task the caller may act on, as completing one: a csm
// when its assignee is them or below them. Once found, it is returned also
// with a refusal.
func (s *Service) openTask(ctx context.Context, by team.Actor, id uuid.UUID) (store.Task, error) {
	current, err := s.Store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Task{}, ErrNotFound
	}
	if err != nil {
		return store.Task{}, err
	}
	return current, team.MayAct(ctx, s.Store, by, current.AssigneeEmail)
}

// closedOrMissing maps the store's refusals of a task that changed
// meanwhile.
func closedOrMissing(err error) error {
	switch {
	case errors.Is(err, store.ErrTaskClosed):
		return ErrClosed
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	}
	return err
}

// Reassign gives an open task to another active member. A csm reassigns
// their ladder's tasks, to themselves or someone below them.
func (s *Service) Reassign(ctx context.Context, by team.Actor, id uuid.UUID, assignee string) (store.Task, error) {
	assignee = strings.ToLower(strings.TrimSpace(assignee))
	if assignee == "" {
		return store.Task{}, invalid.One("task", "assignee", "required: who does the task now")
	}
	current, err := s.openTask(ctx, by, id)
	if err != nil {
		return current, err
	}
	if err := team.MayAct(ctx, s.Store, by, assignee); err != nil {
		return current, err
	}
	task, err := s.Store.ReassignTask(ctx, id, assignee, by.Name())
	if err := assigneeProblem(closedOrMissing(err)); err != nil {
		return current, err
	}
	return task, nil
}

// Snooze keeps an open task out of its assignee's inbox until a time to
// come, at most MaxSnooze from now; nil wakes it now.
func (s *Service) Snooze(ctx context.Context, by team.Actor, id uuid.UUID, until *time.Time) (store.Task, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if until != nil {
		switch {
		case !until.After(now):
			return store.Task{}, invalid.One("task", "until", "must be later than now")
		case until.Sub(now) > MaxSnooze:
			return store.Task{}, invalid.One("task", "until", "at most %d days from now", int(MaxSnooze/(24*time.Hour)))
		}
	}
	current, err := s.openTask(ctx, by, id)
	if err != nil {
		return current, err
	}
	task, err := s.Store.SnoozeTask(ctx, id, until, by.Name())
	if err := closedOrMissing(err); err != nil {
		return current, err
	}
	return task, nil
}
