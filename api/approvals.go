package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

func (h *handlers) listApprovals(c echo.Context) error {
	pg, after, err := keysetPage(c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.ApprovalFilter{AssigneeEmail: q.assignee(), Status: enum(&q, "status", states.Approvals),
		AccountID: c.QueryParam("account_id"), RunID: q.uuid("run_id"), After: after, Limit: pg.limit + 1}
	if err := q.err(); err != nil {
		return err
	}
	items, err := h.app.Approvals.List(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(items, approvalResponse), func(a approvalJSON) any { return keyset{At: a.CreatedAt, ID: a.ID} }))
}

type emailEdits struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

func (h *handlers) decideApproval(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req struct {
		Decision string      `json:"decision"`
		Comment  string      `json:"comment"`
		Edits    *emailEdits `json:"edits"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	d := approvals.Decision{ApprovalID: id, Decision: req.Decision, Comment: req.Comment}
	if e := req.Edits; e != nil {
		d.Edits = &templates.Rendered{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
	}
	decided, err := h.app.Approvals.Decide(c.Request().Context(), actorOf(c), d)
	setRunID(c, decided.RunID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, decided.Result)
}
