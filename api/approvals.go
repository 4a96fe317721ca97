package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/message"
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
	var edits templates.Rendered
	if e := req.Edits; e != nil {
		edits = templates.Rendered{Subject: e.Subject, HTML: e.HTML, Text: e.Text}
		if err := templates.CheckEdits(edits); err != nil {
			field, _ := editsField(err)
			fe.add(field, "%s", err)
		}
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
	if req.Edits != nil {
		if err := editable(approval, edits); err != nil {
			return err
		}
	}
	d := workflows.Decision{ApprovalID: id.String(), Decision: req.Decision, By: by(c), Comment: req.Comment}
	if req.Edits != nil {
		d.Edits = &message.Content{Subject: req.Edits.Subject, HTML: req.Edits.HTML, Text: req.Edits.Text}
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

// editsField names the part of the edits an error of templates.CheckEdits or
// Rendered.Edited is about.
func editsField(err error) (string, bool) {
	var tooLarge *templates.TooLargeError
	var bad *templates.EditError
	switch {
	case errors.As(err, &tooLarge):
		return "edits." + tooLarge.Part, true
	case errors.As(err, &bad):
		return "edits." + bad.Part, true
	}
	return "", false
}

// editable refuses edits that cannot be sent as approved: of a SendGrid
// dynamic template (SendGrid renders it), or that take a recipient's email
// over the bounds (the layout of an edited text can outgrow the html bound).
func editable(approval store.Approval, edits templates.Rendered) error {
	var d struct {
		SendGridTemplateID string `json:"sendgrid_template_id"`
	}
	if json.Unmarshal(approval.Draft, &d) == nil && d.SendGridTemplateID != "" {
		return invalid([]FieldError{{Field: "edits", Message: "the email is the SendGrid template " + d.SendGridTemplateID +
			": SendGrid renders it, so it cannot be edited here"}})
	}
	for _, draft := range approval.Drafts {
		_, err := templates.Rendered(draft.Content).Edited(edits)
		if field, ok := editsField(err); ok {
			return invalid([]FieldError{{Field: field, Message: fmt.Sprintf("the email to %s: %v", draft.To, err)}})
		}
	}
	return nil
}
