package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

var (
	emailKinds = []string{store.EmailToCustomer, store.EmailToTeam, "all"}
)

// queryFilter reads and checks list query parameters, collecting errors.
type queryFilter struct {
	c  echo.Context
	fe fieldErrors
}

func (q *queryFilter) enum(name string, allowed []string) string {
	return enum(q, name, allowed)
}

// enum reads a query parameter that must be one of allowed (a typed state
// such as states.Run, or plain words); "" when it is left out.
func enum[T ~string](q *queryFilter, name string, allowed []T) T {
	v := T(q.c.QueryParam(name))
	if v != "" && !slices.Contains(allowed, v) {
		words := make([]string, len(allowed))
		for i, a := range allowed {
			words[i] = string(a)
		}
		q.fe.add(name, "must be one of %s", strings.Join(words, ", "))
	}
	return v
}

// assignee is whose inbox a list asks for ("": nobody in particular).
func (q *queryFilter) assignee() string {
	return strings.ToLower(strings.TrimSpace(q.c.QueryParam("assignee")))
}

func (q *queryFilter) uuid(name string) *uuid.UUID {
	v := q.c.QueryParam(name)
	if v == "" {
		return nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		q.fe.add(name, "must be a UUID")
		return nil
	}
	return &id
}

// only refuses query parameters other than the named ones: a misspelt or
// misplaced parameter would otherwise be ignored without a word.
func (q *queryFilter) only(names ...string) {
	unknown := make([]string, 0, len(q.c.QueryParams()))
	for name := range q.c.QueryParams() {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		q.fe.add(name, "unknown query parameter; this route takes %s", strings.Join(names, ", "))
	}
}

func (q *queryFilter) err() error {
	if len(q.fe) == 0 {
		return nil
	}
	return problem(http.StatusBadRequest, "the query has invalid parameters", q.fe...)
}

func (h *handlers) listEmails(c echo.Context) error {
	pg, after, err := keysetPage(c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.EmailFilter{AccountID: c.QueryParam("account_id"), RunID: q.uuid("run_id"), Status: enum(&q, "status", states.Emails),
		Kind: q.enum("kind", emailKinds), After: after, Limit: pg.limit + 1}
	// Unasked, the list is of what customers were sent: approval notices to
	// the team are kind=team, or kind=all.
	switch f.Kind {
	case "":
		f.Kind = store.EmailToCustomer
	case "all":
		f.Kind = ""
	}
	if err := q.err(); err != nil {
		return err
	}
	emails, err := h.app.ListEmails(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(emails, emailResponse), func(e emailJSON) any { return keyset{At: e.CreatedAt, ID: e.ID} }))
}

func (h *handlers) listTasks(c echo.Context) error {
	pg, after, err := keysetPage(c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.TaskFilter{
		AssigneeEmail: q.assignee(), AccountID: c.QueryParam("account_id"),
		RunID: q.uuid("run_id"), Status: enum(&q, "status", states.Tasks),
		Snoozed: q.enum("snoozed", []string{store.SnoozedAwake, store.SnoozedOnly}), After: after, Limit: pg.limit + 1,
	}
	if err := q.err(); err != nil {
		return err
	}
	tasks, err := h.app.Tasks.List(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(tasks, taskResponse), func(t taskJSON) any { return keyset{At: t.CreatedAt, ID: t.ID} }))
}

type completeTaskRequest struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (h *handlers) completeTask(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req completeTaskRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	task, err := h.app.Tasks.Complete(c.Request().Context(), actorOf(c), id, req.Outcome, req.Note)
	if task.RunID != nil {
		setRunID(c, *task.RunID)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskResponse(task))
}
