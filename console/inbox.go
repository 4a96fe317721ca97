package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
)

type inboxData struct {
	Whose     string // the assignee whose work is shown; "" is everyone's
	Choices   []store.TeamMember
	Approvals []approvalItem
	Tasks     []taskItem
	// The lists are pages, most urgent first: Next* are the next pages'
	// URLs ("" on the last), Counts the whole inbox's.
	NextApprovals, NextTasks string
	Counts                   store.InboxCounts
	Overdue                  int
	Notice                   string // why a task that is no longer listed could not be completed
	// Risk is what changed on the inbox's accounts (alerts.go), shown first.
	Risk riskSection
	// Loops: each task's reassign and snooze forms, the snoozed tasks (loops.go).
	Loops inboxLoops
}

type approvalItem struct {
	store.Approval
	AccountName string
	Playbook    string
	Step        string // the step's name, or its id
	Overdue     bool
}

type taskItem struct {
	store.Task
	AccountName string
	Step        string // the run's step, by its name or id
	Overdue     bool
	// What a refused completion was sent, and why it was refused.
	Outcome, Note, Error string
}

// inbox is a csm's home: their pending approvals, most urgent first, and
// their open tasks, soonest due first. A csm may open the inbox of someone
// below them in the ladder; admin and ops see everyone's by default.
func (h *Handler) inbox(c echo.Context) error {
	return h.showInbox(c, http.StatusOK, nil)
}

func (h *Handler) showInbox(c echo.Context, status int, refused *taskItem) error {
	ctx := c.Request().Context()
	me := current(c).Actor
	whose := strings.ToLower(strings.TrimSpace(c.QueryParam("assignee")))
	if refused != nil {
		whose = strings.ToLower(strings.TrimSpace(c.FormValue("assignee")))
	}
	afterA, err := keysetQuery(c, "approvals_after")
	if err != nil {
		return err
	}
	afterT, err := keysetQuery(c, "tasks_after")
	if err != nil {
		return err
	}
	pending, nextA, err := h.pendingApprovals(ctx, me, whose, afterA)
	if errors.Is(err, team.ErrNotInLadder) {
		return h.forbidden(c, "You may open your own inbox and the inboxes of the people below you in the escalation ladder.")
	}
	if err != nil {
		return err
	}
	open, nextT, err := h.openTasks(ctx, me, whose, afterT)
	if err != nil {
		return err
	}
	d := inboxData{Whose: whose, NextApprovals: inboxPageURL(whose, "approvals_after", nextA),
		NextTasks: inboxPageURL(whose, "tasks_after", nextT)}
	if d.Counts, err = h.app.CountInbox(ctx, me, whose); err != nil {
		return err
	}
	d.Overdue = d.Counts.OverdueApprovals + d.Counts.OverdueTasks
	if d.Choices, err = h.inboxChoices(ctx, me); err != nil {
		return err
	}
	names := h.newNames()
	if d.Risk, err = h.riskSection(c, whose, names); err != nil {
		return err
	}
	if d.Loops, err = h.inboxLoops(c, whose); err != nil {
		return err
	}
	now := time.Now()
	for _, a := range pending {
		item := approvalItem{Approval: a, Overdue: a.ExpiresAt.Before(now)}
		item.AccountName = names.account(ctx, a.AccountID)
		item.Playbook = names.run(ctx, a.RunID).PlaybookKey
		item.Step = names.step(ctx, a.RunID, a.StepID)
		d.Approvals = append(d.Approvals, item)
	}
	for _, t := range open {
		item := taskItem{Task: t, Overdue: t.DueAt != nil && t.DueAt.Before(now)}
		item.AccountName = names.account(ctx, t.AccountID)
		if t.RunID != nil {
			item.Step = names.step(ctx, *t.RunID, t.StepID)
		}
		if refused != nil && refused.ID == t.ID {
			item.Outcome, item.Note, item.Error = refused.Outcome, refused.Note, refused.Error
		}
		d.Tasks = append(d.Tasks, item)
	}
	if refused != nil && !slices.ContainsFunc(d.Tasks, func(t taskItem) bool { return t.ID == refused.ID }) {
		d.Notice = refused.Error
	}
	if err := names.err; err != nil {
		return err
	}
	return h.render(c, status, "inbox", page{Title: "Inbox", Nav: "inbox", Data: d})
}

// inboxPage is how many approvals, and how many tasks, a page of the inbox
// shows.
const inboxPage = 25

// pendingApprovals is a page of the pending approvals of whose inbox, the
// soonest deadline first, and where the next page starts (nil: none).
func (h *Handler) pendingApprovals(ctx context.Context, me team.Actor, whose string, after *store.Keyset) ([]store.Approval, *store.Keyset, error) {
	out, err := h.app.Approvals.List(ctx, me, store.ApprovalFilter{AssigneeEmail: whose, Status: states.ApprovalPending,
		ByDeadline: true, After: after, Limit: inboxPage + 1})
	if err != nil || len(out) <= inboxPage {
		return out, nil, err
	}
	last := out[inboxPage-1]
	return out[:inboxPage], &store.Keyset{At: last.ExpiresAt, ID: last.ID}, nil
}

// openTasks is a page of the open tasks of whose inbox (those snoozed until
// later left out), the soonest due first and tasks without a due date last,
// and where the next page starts (nil: none).
func (h *Handler) openTasks(ctx context.Context, me team.Actor, whose string, after *store.Keyset) ([]store.Task, *store.Keyset, error) {
	out, err := h.app.Tasks.List(ctx, me, store.TaskFilter{AssigneeEmail: whose, Status: states.TaskOpen,
		Snoozed: store.SnoozedAwake, ByDue: true, After: after, Limit: inboxPage + 1})
	if err != nil || len(out) <= inboxPage {
		return out, nil, err
	}
	last := out[inboxPage-1]
	next := store.Keyset{At: store.NoDue, ID: last.ID}
	if last.DueAt != nil {
		next.At = *last.DueAt
	}
	return out[:inboxPage], &next, nil
}

// keysetQuery reads where a page starts from a query parameter ("": the
// first page); anything but what a Next link gave out is a 400 naming it.
func keysetQuery(c echo.Context, name string) (*store.Keyset, error) {
	v := c.QueryParam(name)
	if v == "" {
		return nil, nil
	}
	at, id, _ := strings.Cut(v, "~")
	t, err := time.Parse(time.RFC3339Nano, at)
	u, uerr := uuid.Parse(id)
	if err != nil || uerr != nil || t.Year() < 1900 || t.Year() > 9999 {
		return nil, echo.NewHTTPError(http.StatusBadRequest,
			"The query parameter "+name+" is not a page this list gave out: start again without it.")
	}
	return &store.Keyset{At: t, ID: u}, nil
}

// inboxPageURL is the inbox of whose with one list on its next page; ""
// when there is none.
func inboxPageURL(whose, param string, next *store.Keyset) string {
	if next == nil {
		return ""
	}
	q := url.Values{param: {next.At.UTC().Format(time.RFC3339Nano) + "~" + next.ID.String()}}
	if whose != "" {
		q.Set("assignee", whose)
	}
	return Prefix + "/?" + q.Encode()
}

// inboxChoices are the inboxes the person may open besides their own: for
// a csm, those below them in the ladder; for admin and ops, everyone's.
func (h *Handler) inboxChoices(ctx context.Context, me team.Actor) ([]store.TeamMember, error) {
	if me.Role == team.RoleCSM {
		return h.app.Team.MembersBelow(ctx, me.Email)
	}
	return h.app.Team.ListTeamMembers(ctx, "", 500)
}

// completeTask closes a task with its outcome, through tasks.Service as
// the API does.
func (h *Handler) completeTask(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	outcome, note := strings.TrimSpace(c.FormValue("outcome")), normaliseNewlines(c.FormValue("note"))
	refuse := func(status int, msg string) error {
		return h.showInbox(c, status, &taskItem{Task: store.Task{ID: id}, Outcome: outcome, Note: note, Error: msg})
	}
	if !oneLine(outcome) || utf8.RuneCountInString(outcome) > 200 {
		return refuse(http.StatusUnprocessableEntity, "The outcome is one line of at most 200 characters.")
	}
	task, err := h.app.Tasks.Complete(c.Request().Context(), current(c).Actor, id, outcome, note)
	switch {
	case errors.Is(err, tasks.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, team.ErrNotInLadder):
		return h.forbidden(c, err.Error()+".")
	case errors.Is(err, tasks.ErrTooLong):
		return refuse(http.StatusUnprocessableEntity, "The "+err.Error()+".")
	case errors.Is(err, tasks.ErrClosed):
		return refuse(http.StatusConflict, "This task is no longer open: it was completed or cancelled meanwhile.")
	case err != nil:
		return err
	}
	return h.redirect(c, inboxURL(c.FormValue("assignee")), "Completed “"+task.Title+"” ("+task.Outcome+").")
}

// inboxURL is the inbox of an assignee ("" the signed-in person's own).
func inboxURL(assignee string) string {
	if assignee == "" {
		return Prefix + "/"
	}
	return Prefix + "/?assignee=" + url.QueryEscape(assignee)
}

// oneLine: no line breaks or other control characters, as the API's
// one-line fields (the OpenAPI document's Line) require.
func oneLine(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0
}

// normaliseNewlines turns a browser's CRLF line ends into the LF the API's
// clients send and the templates render.
func normaliseNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// names looks up the accounts and runs a page mentions, once each; the
// first error is kept for the handler to return.
type names struct {
	h        *Handler
	accounts map[string]string
	runs     map[uuid.UUID]store.Run
	err      error
}

func (h *Handler) newNames() *names {
	return &names{h: h, accounts: map[string]string{}, runs: map[uuid.UUID]store.Run{}}
}

func (n *names) account(ctx context.Context, id string) string {
	if name, ok := n.accounts[id]; ok {
		return name
	}
	a, err := n.h.app.Accounts.GetAccount(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) && n.err == nil {
		n.err = err
	}
	name := a.Name
	if name == "" {
		name = id
	}
	n.accounts[id] = name
	return name
}

func (n *names) run(ctx context.Context, id uuid.UUID) store.Run {
	if r, ok := n.runs[id]; ok {
		return r
	}
	r, err := n.h.app.Lists.GetRun(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) && n.err == nil {
		n.err = err
	}
	n.runs[id] = r
	return r
}
