package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/timeline"
)

// A CSM closes their own loops from the console as through the API: a new
// task on an account, a call, meeting or note logged on it, a task
// reassigned or snoozed from the inbox, the event a run waits for reported
// from the run page. Each form calls the use case the API's route calls,
// which holds a csm to their ladder.

// teamRoutes and loopRoutes mount this file's and team.go's and keys.go's
// pages on the signed-in group.
func (h *Handler) teamRoutes(signed *echo.Group) {
	signed.GET("/team", h.teamList, h.allowWith(teamAdvice, team.Operators...))
	signed.POST("/team", h.saveMember, h.allowWith(teamAdvice, team.Admins...))
	signed.GET("/team/:email", h.memberPage, h.allowWith(teamAdvice, team.Operators...))
	signed.POST("/team/:email", h.editMember, h.allowWith(teamAdvice, team.Admins...))
	signed.POST("/team/:email/deactivate", h.deactivateMember, h.allowWith(teamAdvice, team.Admins...))
	signed.POST("/team/:email/reactivate", h.reactivateMember, h.allowWith(teamAdvice, team.Admins...))
	signed.GET("/keys", h.keysList, h.allowWith(keysAdvice, team.Admins...))
	signed.POST("/keys", h.createKey, h.allowWith(keysAdvice, team.Admins...))
	signed.POST("/keys/:id/revoke", h.revokeKey, h.allowWith(keysAdvice, team.Admins...))
}

const (
	teamAdvice = "Admins keep the team; CS ops read it."
	keysAdvice = "API keys are for admins."
)

func (h *Handler) loopRoutes(signed *echo.Group) {
	signed.POST("/accounts/:id/tasks", h.newTask, h.allowWith(loopAdvice, team.Reporters...))
	signed.POST("/accounts/:id/notes", h.addNote, h.allowWith(loopAdvice, team.Reporters...))
	signed.POST("/tasks/:id/reassign", h.reassignTask, h.allowWith(loopAdvice, team.Reporters...))
	signed.POST("/tasks/:id/snooze", h.snoozeTask, h.allowWith(loopAdvice, team.Reporters...))
}

const loopAdvice = "Tasks, notes and events are for the account's team."

// taskForm is the account page's new task form, as sent and refused.
type taskForm struct {
	Title, Description, Priority, Due, Assignee string
	Errors                                      map[string]string
}

// noteForm is the account page's note form, as sent and refused.
type noteForm struct {
	Kind, Body, HappenedAt string
	Errors                 map[string]string
}

// loopsData is what the account page adds for closing loops: the forms,
// who a task may go to, the timeline and the last contact.
type loopsData struct {
	MayReport    bool // the person may post events, log notes and make tasks here
	Task         taskForm
	Note         noteForm
	Assignees    []store.TeamMember
	Timeline     []timeline.Entry
	TimelineMore bool
	LastContact  *time.Time // the latest call or meeting
	Priorities   []string
	NoteKinds    []string
}

// timelineEntries is how much of the timeline the account page shows.
const timelineEntries = 50

// accountLoops fills the account page's loops: sent is the form refused.
func (h *Handler) accountLoops(c echo.Context, acct store.Account, sent *loopsData) (loopsData, error) {
	ctx, me := c.Request().Context(), current(c).Actor
	d := loopsData{Priorities: tasks.Priorities, NoteKinds: store.NoteKinds}
	if sent != nil {
		d.Task, d.Note = sent.Task, sent.Note
	}
	if d.Task.Priority == "" {
		d.Task.Priority = "normal"
	}
	if d.Note.Kind == "" {
		d.Note.Kind = store.NoteCall
	}
	var err error
	if d.MayReport, err = h.app.MayReport(ctx, me, acct); err != nil {
		return d, err
	}
	if d.MayReport {
		if d.Assignees, err = h.assignees(ctx, me); err != nil {
			return d, err
		}
	}
	entries, err := h.app.Timeline.List(ctx, acct.ID, nil, timelineEntries+1)
	if err != nil {
		return d, err
	}
	d.Timeline, d.TimelineMore = entries, len(entries) > timelineEntries
	if d.TimelineMore {
		d.Timeline = entries[:timelineEntries]
	}
	d.LastContact, err = h.app.Timeline.LastContact(ctx, acct.ID)
	return d, err
}

// assignees are who the person may give a task to: a csm themselves and
// those below them; admin and ops any active member.
func (h *Handler) assignees(ctx context.Context, me team.Actor) ([]store.TeamMember, error) {
	if me.Role != team.RoleCSM {
		return h.activeMembers(ctx, "")
	}
	out := []store.TeamMember{}
	if self, err := h.app.Team.TeamMemberByEmail(ctx, me.Email); err == nil {
		out = append(out, self)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	below, err := h.app.Team.MembersBelow(ctx, me.Email)
	if err != nil {
		return nil, err
	}
	for _, m := range below {
		if m.Active() {
			out = append(out, m)
		}
	}
	return out, nil
}

// localTime reads a datetime-local field ("2026-03-01T09:00") in the
// person's time zone; "" is nil.
func (h *Handler) localTime(c echo.Context, v string) (*time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, h.zone(c)); err == nil && t.Year() >= 1900 && t.Year() <= 2200 {
			t = t.UTC()
			return &t, true
		}
	}
	return nil, false
}

// newTask makes an ad-hoc task on the account (tasks.Service.Create, as
// POST /v1/tasks).
func (h *Handler) newTask(c echo.Context) error {
	form := taskForm{Title: c.FormValue("title"), Description: normaliseNewlines(c.FormValue("description")),
		Priority: c.FormValue("priority"), Due: c.FormValue("due_at"), Assignee: c.FormValue("assignee")}
	refuse := func(status int, errs map[string]string) error {
		form.Errors = errs
		return h.showAccountLoops(c, status, &loopsData{Task: form})
	}
	if !oneLine(form.Title) || utf8.RuneCountInString(form.Title) > tasks.MaxTitleChars {
		return refuse(http.StatusUnprocessableEntity, map[string]string{"title": fmt.Sprintf("One line of at most %d characters.", tasks.MaxTitleChars)})
	}
	due, ok := h.localTime(c, form.Due)
	if !ok {
		return refuse(http.StatusUnprocessableEntity, map[string]string{"due_at": "A date and time, such as 2026-03-01 09:00."})
	}
	task, err := h.app.Tasks.Create(c.Request().Context(), current(c).Actor, tasks.NewTask{AccountID: c.Param("id"),
		Title: form.Title, Description: form.Description, Priority: form.Priority, DueAt: due, Assignee: form.Assignee})
	if errs, ok := refusedFields(err); ok {
		if errs["account_id"] != "" {
			return echo.NewHTTPError(http.StatusNotFound, "There is no account with this id.")
		}
		return refuse(http.StatusUnprocessableEntity, errs)
	}
	if errors.Is(err, team.ErrNotInLadder) {
		return h.forbidden(c, sentence(err.Error()))
	}
	if err != nil {
		return err
	}
	return h.redirect(c, accountURL(task.AccountID), "New task “"+task.Title+"” for "+task.AssigneeEmail+".")
}

func accountURL(id string) string { return Prefix + "/accounts/" + url.PathEscape(id) }

// addNote logs a call, meeting or note (timeline.Service.AddNote, as POST
// /v1/accounts/{id}/notes).
func (h *Handler) addNote(c echo.Context) error {
	form := noteForm{Kind: c.FormValue("kind"), Body: normaliseNewlines(c.FormValue("body")), HappenedAt: c.FormValue("happened_at")}
	refuse := func(errs map[string]string) error {
		form.Errors = errs
		return h.showAccountLoops(c, http.StatusUnprocessableEntity, &loopsData{Note: form})
	}
	happened, ok := h.localTime(c, form.HappenedAt)
	if !ok {
		return refuse(map[string]string{"happened_at": "A date and time, such as 2026-03-01 09:00, or nothing for now."})
	}
	n, err := h.app.Timeline.AddNote(c.Request().Context(), current(c).Actor, c.Param("id"),
		timeline.NewNote{Kind: form.Kind, Body: form.Body, HappenedAt: happened})
	if errs, ok := refusedFields(err); ok {
		return refuse(errs)
	}
	switch {
	case errors.Is(err, timeline.ErrUnknownAccount):
		return echo.NewHTTPError(http.StatusNotFound, "There is no account with this id.")
	case errors.Is(err, team.ErrNotInLadder):
		return h.forbidden(c, sentence(err.Error()))
	case err != nil:
		return err
	}
	words := map[string]string{store.NoteCall: "Logged the call", store.NoteMeeting: "Logged the meeting"}[n.Kind]
	if words == "" {
		words = "Added the note"
	}
	return h.redirect(c, accountURL(n.AccountID), words+".")
}

// backTo is where a task's form returns: the page it was sent from (the
// inbox it was in, an account), or the inbox.
func backTo(c echo.Context) string {
	return safeNext(c.FormValue("back"))
}

// taskChange answers a reassignment or a snooze that could not be made.
func (h *Handler) taskChange(c echo.Context, err error) error {
	if errs, ok := refusedFields(err); ok {
		msgs := make([]string, 0, len(errs))
		for _, m := range errs {
			msgs = append(msgs, m)
		}
		slices.Sort(msgs)
		return h.redirect(c, backTo(c), "Nothing done: "+strings.Join(msgs, " "))
	}
	switch {
	case errors.Is(err, tasks.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, team.ErrNotInLadder):
		return h.forbidden(c, sentence(err.Error()))
	case errors.Is(err, tasks.ErrClosed):
		return h.redirect(c, backTo(c), "Nothing done: this task is no longer open.")
	}
	return err
}

// reassignTask gives a task to someone else (tasks.Service.Reassign, as
// POST /v1/tasks/{id}/reassign).
func (h *Handler) reassignTask(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	assignee := strings.TrimSpace(c.FormValue("assignee"))
	if !oneLine(assignee) {
		return h.redirect(c, backTo(c), "Nothing done: choose who takes the task from the list.")
	}
	task, err := h.app.Tasks.Reassign(c.Request().Context(), current(c).Actor, id, assignee)
	if err != nil {
		return h.taskChange(c, err)
	}
	return h.redirect(c, backTo(c), "“"+task.Title+"” is now "+task.AssigneeEmail+"’s.")
}

// snoozes are how long each of the snooze form's choices lasts.
var snoozes = map[string]time.Duration{"1d": 24 * time.Hour, "3d": 72 * time.Hour, "7d": 7 * 24 * time.Hour, "14d": 14 * 24 * time.Hour}

// snoozeTask keeps a task out of the inbox for a while, or brings it back
// ("wake"), through tasks.Service.Snooze as POST /v1/tasks/{id}/snooze.
func (h *Handler) snoozeTask(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	var until *time.Time
	choice := c.FormValue("for")
	if choice != "wake" {
		d, ok := snoozes[choice]
		if !ok {
			return h.redirect(c, backTo(c), "Nothing done: choose how long to snooze the task for.")
		}
		t := time.Now().Add(d).UTC().Truncate(time.Minute)
		until = &t
	}
	task, err := h.app.Tasks.Snooze(c.Request().Context(), current(c).Actor, id, until)
	if err != nil {
		return h.taskChange(c, err)
	}
	if until == nil {
		return h.redirect(c, backTo(c), "“"+task.Title+"” is back in the inbox.")
	}
	return h.redirect(c, backTo(c), "Snoozed “"+task.Title+"” until "+until.In(h.zone(c)).Format("2 Jan 2006 15:04 MST")+".")
}

// awaited are the events a live run's current wait_for step waits for,
// when the person may report them for its account (app.MayReport).
func (h *Handler) awaited(c echo.Context, d runData) ([]string, error) {
	cur := d.Current
	// "awaiting" is workflows.StepAwaiting: the step waits for its event.
	if !d.Live || cur == nil || cur.Kind != playbook.KindWaitFor || cur.Status != "awaiting" || cur.Event == "" {
		return nil, nil
	}
	acct, err := h.app.Accounts.GetAccount(c.Request().Context(), d.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ok, err := h.app.MayReport(c.Request().Context(), current(c).Actor, acct)
	if err != nil || !ok {
		return nil, err
	}
	return []string{cur.Event}, nil
}

// inboxLoops is what the inbox adds for closing loops: who its tasks may
// be given to, and its tasks snoozed until later.
type inboxLoops struct {
	Assignees []store.TeamMember
	Snoozed   []store.Task
	Snoozes   []snoozeChoice
	Back      string // the inbox the forms return to
	CSRF      string
}

type snoozeChoice struct{ Value, Words string }

// snoozeChoices are the snooze form's options, shortest first.
var snoozeChoices = []snoozeChoice{{"1d", "1 day"}, {"3d", "3 days"}, {"7d", "1 week"}, {"14d", "2 weeks"}}

// maxSnoozedShown bounds the inbox's list of snoozed tasks.
const maxSnoozedShown = 100

// inboxLoops fills the inbox's loops for whose inbox ("": the person's own,
// or everyone's for admin and ops).
func (h *Handler) inboxLoops(c echo.Context, whose string) (inboxLoops, error) {
	ctx, me := c.Request().Context(), current(c).Actor
	l := inboxLoops{Snoozes: snoozeChoices, Back: inboxURL(whose), CSRF: current(c).CSRF}
	if !may(me, team.Reporters...) {
		return l, nil
	}
	var err error
	if l.Assignees, err = h.assignees(ctx, me); err != nil {
		return l, err
	}
	l.Snoozed, err = h.app.Tasks.List(ctx, me, store.TaskFilter{AssigneeEmail: whose, Status: states.TaskOpen, Snoozed: store.SnoozedOnly,
		Limit: maxSnoozedShown})
	return l, err
}

// taskLoopsView is one task's reassign and snooze forms.
type taskLoopsView struct {
	inboxLoops
	Task store.Task
}

func taskLoopsOf(l inboxLoops, t store.Task) taskLoopsView {
	return taskLoopsView{inboxLoops: l, Task: t}
}
