package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/timeline"
)

// A CSM closes their own loops: ad-hoc tasks, reassigning and snoozing a
// task, notes of calls and meetings, and the account's timeline. Each
// handler calls one use case of tasks.Service or timeline.Service, which
// hold a csm to their ladder, as the console does.

// loopsProblem answers the refusals of the tasks' and the timeline's use
// cases; nil for any other error.
func loopsProblem(err error) *Problem {
	if errors.Is(err, timeline.ErrUnknownAccount) {
		return problem(http.StatusNotFound, "account not found")
	}
	return nil
}

// instant reads an optional RFC 3339 time of a body ("": nil), recording a
// field error.
func instant(fe *fieldErrors, field, v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	switch {
	case err != nil:
		fe.add(field, "must be an RFC 3339 time such as 2026-03-01T09:00:00Z")
	case !plausible(t):
		fe.add(field, "must be between %d and %d", minYear, maxYear)
	default:
		t = t.UTC()
		return &t
	}
	return nil
}

type newTaskRequest struct {
	AccountID   string `json:"account_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	DueAt       string `json:"due_at"`
	Priority    string `json:"priority"`
	Assignee    string `json:"assignee"`
}

// createTask makes an ad-hoc task: no run, assigned to the caller's team
// member unless another is named.
func (h *handlers) createTask(c echo.Context) error {
	var req newTaskRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	due := instant(&fe, "due_at", req.DueAt)
	if err := fe.err(); err != nil {
		return err
	}
	task, err := h.app.Tasks.Create(c.Request().Context(), actorOf(c), tasks.NewTask{AccountID: req.AccountID, Title: req.Title,
		Description: req.Description, Priority: req.Priority, DueAt: due, Assignee: req.Assignee})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, taskResponse(task))
}

type reassignRequest struct {
	Assignee string `json:"assignee"`
}

// reassignTask gives an open task to another active member.
func (h *handlers) reassignTask(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req reassignRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	task, err := h.app.Tasks.Reassign(c.Request().Context(), actorOf(c), id, req.Assignee)
	if task.RunID != nil {
		setRunID(c, *task.RunID)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskResponse(task))
}

type snoozeRequest struct {
	// Until is when the task comes back to the inbox; null wakes it now
	// (raw: left out and null are not the same).
	Until json.RawMessage `json:"until"`
}

// snoozeTask keeps an open task out of its assignee's inbox until a time.
func (h *handlers) snoozeTask(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req snoozeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var (
		fe    fieldErrors
		until *time.Time
		at    string
	)
	switch {
	case len(req.Until) == 0:
		fe.add("until", "required: an RFC 3339 time, or null to wake the task now")
	case string(req.Until) == "null":
	case json.Unmarshal(req.Until, &at) != nil || at == "":
		fe.add("until", "an RFC 3339 time, or null to wake the task now")
	default:
		until = instant(&fe, "until", at)
	}
	if err := fe.err(); err != nil {
		return err
	}
	task, err := h.app.Tasks.Snooze(c.Request().Context(), actorOf(c), id, until)
	if task.RunID != nil {
		setRunID(c, *task.RunID)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskResponse(task))
}

type noteRequest struct {
	Kind       string `json:"kind"`
	Body       string `json:"body"`
	HappenedAt string `json:"happened_at"`
}

// addNote logs a call, a meeting or a note on the account's timeline.
func (h *handlers) addNote(c echo.Context) error {
	var req noteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	happened := instant(&fe, "happened_at", req.HappenedAt)
	if err := fe.err(); err != nil {
		return err
	}
	n, err := h.app.Timeline.AddNote(c.Request().Context(), actorOf(c), c.Param("id"),
		timeline.NewNote{Kind: req.Kind, Body: req.Body, HappenedAt: happened})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, noteResponse(n))
}

// timelineCursor is the cursor of a timeline page: where its last entry
// stands. Its JSON is the cursor's format.
type timelineCursor struct {
	At     time.Time `json:"t"`
	Source string    `json:"s"`
	ID     string    `json:"id"`
}

// accountTimeline pages through an account's notes and audit events,
// newest first.
func (h *handlers) accountTimeline(c echo.Context) error {
	pg, after, err := pageAfter[*timelineCursor](c)
	if err != nil {
		return err
	}
	var key *store.TimelineKey
	if after != nil {
		key = &store.TimelineKey{At: after.At, Source: after.Source, ID: after.ID}
	}
	entries, err := h.app.Timeline.List(c.Request().Context(), c.Param("id"), key, pg.limit+1)
	if err != nil {
		return err
	}
	items := each(entries, timelineEntryResponse)
	return c.JSON(http.StatusOK, pageOf(pg, items, func(e timelineEntryJSON) any {
		return timelineCursor{At: e.key.At, Source: e.key.Source, ID: e.key.ID}
	}))
}
