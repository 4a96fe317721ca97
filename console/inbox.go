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

// maxInboxItems bounds each list of the inbox: more pending work than this
// is a team problem the page cannot solve, and it says so.
const maxInboxItems = 500

type inboxData struct {
	Whose     string // the assignee whose work is shown; "" is everyone's
	Choices   []store.TeamMember
	Approvals []approvalItem
	Tasks     []taskItem
	Cut       bool // a list stopped at maxInboxItems
	Overdue   int
	Notice    string // why a task that is no longer listed could not be completed
}

type approvalItem struct {
	store.Approval
	AccountName string
	Playbook    string
	Overdue     bool
}

type taskItem struct {
	store.Task
	AccountName string
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
	pending, cutA, err := h.pendingApprovals(ctx, me, whose)
	if errors.Is(err, team.ErrNotInLadder) {
		return h.forbidden(c, "You may open your own inbox and the inboxes of the people below you in the escalation ladder.")
	}
	if err != nil {
		return err
	}
	open, cutT, err := h.openTasks(ctx, me, whose)
	if err != nil {
		return err
	}
	d := inboxData{Whose: whose, Cut: cutA || cutT}
	if d.Choices, err = h.inboxChoices(ctx, me); err != nil {
		return err
	}
	names := h.newNames()
	now := time.Now()
	for _, a := range pending {
		item := approvalItem{Approval: a, Overdue: a.ExpiresAt.Before(now)}
		item.AccountName = names.account(ctx, a.AccountID)
		item.Playbook = names.run(ctx, a.RunID).PlaybookKey
		d.Approvals = append(d.Approvals, item)
	}
	for _, t := range open {
		item := taskItem{Task: t, Overdue: t.DueAt != nil && t.DueAt.Before(now)}
		item.AccountName = names.account(ctx, t.AccountID)
		if refused != nil && refused.ID == t.ID {
			item.Outcome, item.Note, item.Error = refused.Outcome, refused.Note, refused.Error
		}
		d.Tasks = append(d.Tasks, item)
	}
	if refused != nil && !slices.ContainsFunc(d.Tasks, func(t taskItem) bool { return t.ID == refused.ID }) {
		d.Notice = refused.Error
	}
	for _, a := range d.Approvals {
		if a.Overdue {
			d.Overdue++
		}
	}
	for _, t := range d.Tasks {
		if t.Overdue {
			d.Overdue++
		}
	}
	if err := names.err; err != nil {
		return err
	}
	return h.render(c, status, "inbox", page{Title: "Inbox", Nav: "inbox", Data: d})
}

// pendingApprovals lists the pending approvals of whose inbox, the soonest
// deadline first.
func (h *Handler) pendingApprovals(ctx context.Context, me team.Actor, whose string) ([]store.Approval, bool, error) {
	out, cut, err := allPages(func(after *store.Keyset) ([]store.Approval, error) {
		return h.app.Approvals.List(ctx, me, store.ApprovalFilter{AssigneeEmail: whose, Status: states.ApprovalPending, After: after, Limit: inboxPage})
	}, func(a store.Approval) store.Keyset { return store.Keyset{At: a.CreatedAt, ID: a.ID} })
	slices.SortStableFunc(out, func(a, b store.Approval) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return out, cut, err
}

// openTasks lists the open tasks of whose inbox, the soonest due first
// (tasks without a due date last).
func (h *Handler) openTasks(ctx context.Context, me team.Actor, whose string) ([]store.Task, bool, error) {
	out, cut, err := allPages(func(after *store.Keyset) ([]store.Task, error) {
		return h.app.Tasks.List(ctx, me, store.TaskFilter{AssigneeEmail: whose, Status: states.TaskOpen, After: after, Limit: inboxPage})
	}, func(t store.Task) store.Keyset { return store.Keyset{At: t.CreatedAt, ID: t.ID} })
	slices.SortStableFunc(out, func(a, b store.Task) int {
		switch {
		case a.DueAt == nil && b.DueAt == nil:
			return 0
		case a.DueAt == nil:
			return 1
		case b.DueAt == nil:
			return -1
		}
		return a.DueAt.Compare(*b.DueAt)
	})
	return out, cut, err
}

const inboxPage = 200

// allPages reads a keyset-paged list to its end, or to maxInboxItems (and
// says it stopped there).
func allPages[T any](list func(after *store.Keyset) ([]T, error), key func(T) store.Keyset) ([]T, bool, error) {
	var (
		out   []T
		after *store.Keyset
	)
	for {
		page, err := list(after)
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if len(out) > maxInboxItems {
			return out[:maxInboxItems], true, nil
		}
		if len(page) < inboxPage {
			return out, false, nil
		}
		k := key(page[len(page)-1])
		after = &k
	}
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
