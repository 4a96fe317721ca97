package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/approvals"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/tasks"
	"github.com/playbookd/playbookd/team"
	"github.com/playbookd/playbookd/templates"
)

// previewCSP lets a customer email's html show its own inline styles and
// https or data: images, and nothing else: no script, no form, no plugin;
// sandboxed (a unique origin) even when opened directly, and framed only
// by the console.
const previewCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; sandbox; frame-ancestors 'self'"

type approvalData struct {
	store.Approval
	Step     string // the step's name, or its id
	Account  store.Account
	Run      store.Run
	Drafts   []draftView
	Template string // the template the drafts were rendered from
	// SendGridTemplate is set when SendGrid renders the email: it cannot be
	// previewed or edited here.
	SendGridTemplate string
	Roles            []string // the roles the email goes to
	Overdue          bool
	// The form: the template's subject and text with their fields (or, for
	// an approval drafted before those were kept, the first recipient's
	// draft), or as last sent, with what was wrong next to each field.
	Subject, Text, Comment string
	// WithFields is set when the form holds the template with its fields:
	// an edit is filled in for each recipient.
	WithFields bool
	// Finals are every recipient's email as approving with the form's
	// edits sends it, once the person asked for a preview.
	Finals []draftView
	Errors map[string]string
	Notice string // why the decision could not be made, when no field is at fault
}

// draftView is one recipient's email as they will get it: the approved
// content once approved, the draft until then.
type draftView struct {
	To, Name, Subject, Text string
	HasHTML                 bool
	Approved                bool
	Preview                 string // the sandboxed preview's URL
}

func approvalID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, echo.ErrNotFound
	}
	return id, nil
}

// approval reads the path's approval for the signed-in person; what they
// may not see is a 403 page, what does not exist a 404.
func (h *Handler) approval(c echo.Context) (store.Approval, error) {
	id, err := approvalID(c)
	if err != nil {
		return store.Approval{}, err
	}
	a, err := h.app.Approvals.Get(c.Request().Context(), current(c).Actor, id)
	switch {
	case errors.Is(err, approvals.ErrNotFound):
		return a, echo.ErrNotFound
	case errors.Is(err, team.ErrNotInLadder):
		return a, echo.NewHTTPError(http.StatusForbidden,
			err.Error()+". Approvals open for their assignee, those above them in the escalation ladder, and ops.")
	}
	return a, err
}

// approvalPage shows an approval: who decides it by when, each recipient's
// email as it will be sent, and the decision forms. GET never acts: the
// link an assignee is sent opens this page.
func (h *Handler) approvalPage(c echo.Context) error {
	return h.showApproval(c, http.StatusOK, nil)
}

// showApproval renders the approval page; a refused decision (sent) keeps
// what the person wrote, with the reasons.
func (h *Handler) showApproval(c echo.Context, status int, sent *approvalData) error {
	a, err := h.approval(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d := approvalData{Approval: a, Errors: map[string]string{}}
	if d.Account, err = h.app.Accounts.GetAccount(ctx, a.AccountID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if d.Run, err = h.app.Lists.GetRun(ctx, a.RunID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var what struct {
		Template           string   `json:"template"`
		SendGridTemplateID string   `json:"sendgrid_template_id"`
		ToRoles            []string `json:"to_roles"`
	}
	_ = json.Unmarshal(a.Draft, &what) // an older draft may say less; the page shows what it says
	d.Template, d.SendGridTemplate, d.Roles = what.Template, what.SendGridTemplateID, what.ToRoles
	for _, dr := range a.Drafts {
		v := draftView{To: dr.To, Name: dr.Name, Subject: dr.Subject, Text: dr.Text, HasHTML: dr.HTML != ""}
		if dr.Approved != nil {
			v.Subject, v.Text, v.HasHTML, v.Approved = dr.Approved.Subject, dr.Approved.Text, dr.Approved.HTML != "", true
		}
		v.Preview = fmt.Sprintf("%s/approvals/%s/preview?to=%s", Prefix, a.ID, url.QueryEscape(dr.To))
		d.Drafts = append(d.Drafts, v)
	}
	d.Subject, d.Text, d.WithFields = editBaseline(a)
	d.Overdue = a.Status == states.ApprovalPending && a.ExpiresAt.Before(time.Now())
	if sent != nil {
		d.Subject, d.Text, d.Comment, d.Errors, d.Notice = sent.Subject, sent.Text, sent.Comment, sent.Errors, sent.Notice
		d.Finals = sent.Finals
	}
	d.Step = h.newNames().step(ctx, a.RunID, a.StepID)
	title := "Approval: " + d.Step
	if d.Account.Name != "" {
		title += " for " + d.Account.Name
	}
	return h.render(c, status, "approval", page{Title: title, Nav: "inbox", Data: d})
}

// approvalPreview serves one recipient's email html on its own, for the
// sandboxed iframe of the approval page, under previewCSP.
func (h *Handler) approvalPreview(c echo.Context) error {
	a, err := h.approval(c)
	if err != nil {
		return err
	}
	to := c.QueryParam("to")
	for _, d := range a.Drafts {
		if d.To != to {
			continue
		}
		html := d.HTML
		if d.Approved != nil {
			html = d.Approved.HTML
		}
		return servePreview(c, html)
	}
	return echo.NewHTTPError(http.StatusNotFound, "This approval has no email to that address.")
}

// decideApproval approves (with the person's edits) or rejects, through
// approvals.Service as the API does; a refusal shows the page again with
// the reason next to the field.
func (h *Handler) decideApproval(c echo.Context) error {
	id, err := approvalID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	me := current(c).Actor
	sent := &approvalData{Subject: c.FormValue("subject"), Text: normaliseNewlines(c.FormValue("text")),
		Comment: normaliseNewlines(c.FormValue("comment")), Errors: map[string]string{}}
	d := approvals.Decision{ApprovalID: id, Decision: c.FormValue("decision"), Comment: sent.Comment}
	if utf8.RuneCountInString(d.Comment) > tasks.MaxNoteBytes {
		sent.Errors["comment"] = fmt.Sprintf("At most %d characters.", tasks.MaxNoteBytes)
		return h.showApproval(c, http.StatusUnprocessableEntity, sent)
	}
	if d.Decision == "preview" {
		return h.previewEdits(c, id, sent)
	}
	if d.Decision == "approve" && c.Request().PostForm.Has("subject") {
		edits, page := h.formEdits(c, id, sent)
		if page != nil {
			return page()
		}
		d.Edits = edits
	}
	decided, err := h.app.Approvals.Decide(ctx, me, d)
	if problem := h.editsRefused(c, err, sent); problem != nil {
		return problem
	}
	msg := "Rejected: nothing is sent."
	if decided.Result.Status == states.ApprovalApproved {
		msg = "Approved: the run sends the email now, or when the account's send window opens."
		if d.Edits != nil {
			msg = "Approved with your edits: each recipient gets them with their own details filled in, now or when the account's send window opens."
		}
	}
	return h.redirect(c, Prefix+"/", msg)
}

// previewEdits shows the page again with every recipient's email as
// approving with the form's edits would send it, deciding nothing.
func (h *Handler) previewEdits(c echo.Context, id uuid.UUID, sent *approvalData) error {
	edits, page := h.formEdits(c, id, sent)
	if page != nil {
		return page()
	}
	finals, err := h.app.Approvals.Preview(c.Request().Context(), current(c).Actor, id, edits)
	if problem := h.editsRefused(c, err, sent); problem != nil {
		return problem
	}
	for _, f := range finals {
		sent.Finals = append(sent.Finals, draftView{To: f.To, Name: f.Name, Subject: f.Email.Subject, Text: f.Email.Text})
	}
	return h.showApproval(c, http.StatusOK, sent)
}

// formEdits are the edits the form's subject and text make of the
// approval's draft, for approving or previewing; when they cannot be made,
// page shows the approval page again saying why.
func (h *Handler) formEdits(c echo.Context, id uuid.UUID, sent *approvalData) (*templates.Rendered, func() error) {
	a, err := h.app.Approvals.Get(c.Request().Context(), current(c).Actor, id)
	if err != nil {
		return nil, func() error { return h.showApproval(c, http.StatusOK, nil) } // the page says what is wrong
	}
	edits, problems := editsOf(a, sent.Subject, sent.Text)
	if len(problems) > 0 {
		sent.Errors = problems
		return nil, func() error { return h.showApproval(c, http.StatusUnprocessableEntity, sent) }
	}
	return edits, nil
}

// editsRefused shows the page again for a decision or preview the service
// refused, the reason next to its field; nil when err is nil.
func (h *Handler) editsRefused(c echo.Context, err error, sent *approvalData) error {
	var bad *invalid.Error
	switch {
	case errors.Is(err, approvals.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, team.ErrNotInLadder):
		return h.forbidden(c, err.Error()+".")
	case errors.As(err, &bad):
		for _, fe := range bad.Errors {
			field := formField(fe.Field)
			sent.Errors[field] = strings.TrimSpace(sent.Errors[field] + " " + sentence(fe.Message))
		}
		return h.showApproval(c, http.StatusUnprocessableEntity, sent)
	case errors.Is(err, approvals.ErrNotPending):
		sent.Notice = "Not decided: " + err.Error() + "."
		return h.showApproval(c, http.StatusConflict, sent)
	case err != nil:
		return err
	}
	return nil
}

// editBaseline is what the edit form starts from: the template's subject
// and text with their fields, so an edit is filled in for each recipient
// (withFields); for an approval drafted before those were kept, the first
// recipient's draft.
func editBaseline(a store.Approval) (subject, text string, withFields bool) {
	if subject, text, ok := approvals.EditSource(a); ok {
		return subject, text, true
	}
	if len(a.Drafts) > 0 {
		return a.Drafts[0].Subject, a.Drafts[0].Text, false
	}
	return "", "", false
}

// editsOf turns the form's subject and text into the decision's edits: only
// the parts the person changed from what the form started from, so that an
// untouched form sends each recipient their own draft. The service holds the
// edits to its rules (and fills their fields in for each recipient); the
// console only refuses an emptied field, which the API reads as "not edited".
func editsOf(a store.Approval, subject, text string) (*templates.Rendered, map[string]string) {
	problems := map[string]string{}
	if strings.TrimSpace(subject) == "" {
		problems["subject"] = "A subject is required. Reload the page to start again from the draft."
	}
	if strings.TrimSpace(text) == "" {
		problems["text"] = "The text is required. Reload the page to start again from the draft."
	}
	baseSubject, baseText, _ := editBaseline(a)
	if len(problems) > 0 || len(a.Drafts) == 0 {
		return nil, problems
	}
	var e templates.Rendered
	if subject != baseSubject {
		e.Subject = subject
	}
	if strings.TrimSpace(text) != strings.TrimSpace(baseText) {
		e.Text = text
	}
	if e == (templates.Rendered{}) {
		return nil, nil
	}
	return &e, nil
}

// formField is the form field an error of approvals.Service is about: the
// html is laid out from the text, so its errors are the text's.
func formField(apiField string) string {
	switch apiField {
	case "edits.subject":
		return "subject"
	case "edits", "edits.text", "edits.html":
		return "text"
	case "comment":
		return "comment"
	}
	return "form"
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
