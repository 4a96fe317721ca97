package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

var approvalStatuses = []string{"pending", "approved", "rejected", "expired", "cancelled"}

func (h *handlers) listApprovals(c echo.Context) error {
	pg, after, err := keysetPage(c)
	if err != nil {
		return err
	}
	assignee, err := h.inbox(c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.ApprovalFilter{AssigneeEmail: assignee, Status: q.enum("status", approvalStatuses),
		After: after, Limit: pg.limit + 1}
	if err := q.err(); err != nil {
		return err
	}
	items, err := h.store.ListApprovals(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, items, func(a store.Approval) any { return store.Keyset{At: a.CreatedAt, ID: a.ID} }))
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
	var fe fieldErrors
	if req.Decision != "approve" && req.Decision != "reject" {
		fe.add("decision", "required: approve or reject")
	}
	if req.Edits != nil && req.Decision == "reject" {
		fe.add("edits", "only an approval carries edits")
	}
	var tooLarge *templates.TooLargeError
	if e := req.Edits; e != nil && errors.As(templates.Rendered{Subject: e.Subject, HTML: e.HTML, Text: e.Text}.Check(), &tooLarge) {
		fe.add("edits."+tooLarge.Part, "%s", tooLarge.Error())
	}
	if err := fe.err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	approval, err := h.store.GetApproval(ctx, id)
	if err != nil {
		return notFoundAs(err, "approval")
	}
	c.Set(runIDKey, approval.RunID.String())
	if err := h.mayAct(c, approval.AssigneeEmail); err != nil {
		return err
	}
	if approval.Status != "pending" {
		return problem(http.StatusConflict, "the approval is already "+approval.Status)
	}
	d := workflows.Decision{ApprovalID: id.String(), Decision: req.Decision, By: by(c), Comment: req.Comment}
	if req.Edits != nil {
		d.Edits = &contract.EmailContent{Subject: req.Edits.Subject, HTML: req.Edits.HTML, Text: req.Edits.Text}
	}
	res, err := h.runs.Decide(ctx, approval.WorkflowID, d)
	if errors.Is(err, runs.ErrDecisionRefused) {
		return problem(http.StatusConflict, err.Error())
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}
