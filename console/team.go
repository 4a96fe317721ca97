package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/invalid"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// The team page is an admin's: add members, edit them (name, role, level,
// manager, time zone), deactivate one with the person who takes over their
// work, reactivate. CS ops read it (who is active, who manages whom: they
// assign accounts), without the forms. Every change goes through the same
// use cases as POST /v1/team and POST /v1/team/{email}/deactivate.

// teamPage is how many members the page lists at a time.
const teamPage = 200

// commonTimezones are offered as the time zone field's suggestions; any
// IANA name is accepted.
var commonTimezones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Warsaw",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "America/Toronto",
	"Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg"}

// memberForm is the add and edit form, as sent and refused.
type memberForm struct {
	Email, Name, Level, ManagerEmail, Role, Timezone string
	// Errors are each refused field's message, by the API's field name.
	Errors map[string]string
}

// memberFields is the add or edit form with its choices.
type memberFields struct {
	Form      memberForm
	Managers  []store.TeamMember // active members: who may manage someone
	Levels    []string
	Roles     []string
	Timezones []string
	New       bool // adding: the email is a field
}

type teamData struct {
	Members []store.TeamMember
	Next    string // the next page's URL
	MayEdit bool
	Add     memberFields
}

// teamList shows the team, and the add form to admins.
func (h *Handler) teamList(c echo.Context) error {
	return h.showTeam(c, http.StatusOK, memberForm{Level: "csm", Role: team.RoleCSM, Timezone: "UTC"})
}

func (h *Handler) showTeam(c echo.Context, status int, add memberForm) error {
	ctx := c.Request().Context()
	after := strings.ToLower(strings.TrimSpace(c.QueryParam("after")))
	rows, err := h.app.Team.ListTeamMembers(ctx, after, teamPage+1)
	if err != nil {
		return err
	}
	d := teamData{Members: rows, MayEdit: may(current(c).Actor, team.Admins...),
		Add: memberFields{Form: add, Levels: accounts.Levels, Roles: app.Roles, Timezones: commonTimezones, New: true}}
	if len(rows) > teamPage {
		d.Members = rows[:teamPage]
		d.Next = Prefix + "/team?after=" + url.QueryEscape(rows[teamPage-1].Email)
	}
	if d.MayEdit {
		if d.Add.Managers, err = h.activeMembers(ctx, ""); err != nil {
			return err
		}
	}
	return h.render(c, status, "team", page{Title: "Team", Nav: "team", Data: d})
}

// activeMembers lists the active members but one ("": none left out): who
// may manage someone, take over their work, or hold a key.
func (h *Handler) activeMembers(ctx context.Context, but string) ([]store.TeamMember, error) {
	var out []store.TeamMember
	after := ""
	for {
		rows, err := h.app.Team.ListTeamMembers(ctx, after, 500)
		if err != nil {
			return nil, err
		}
		for _, m := range rows {
			if m.Active() && m.Email != but {
				out = append(out, m)
			}
		}
		if len(rows) < 500 {
			return out, nil
		}
		after = rows[len(rows)-1].Email
	}
}

// formOf reads the add or edit form.
func memberFormOf(c echo.Context) memberForm {
	return memberForm{Email: strings.TrimSpace(c.FormValue("email")), Name: c.FormValue("name"), Level: c.FormValue("level"),
		ManagerEmail: c.FormValue("manager_email"), Role: c.FormValue("role"), Timezone: strings.TrimSpace(c.FormValue("timezone"))}
}

// refusedFields is an *invalid.Error as a form shows it; ok is false for
// any other error.
func refusedFields(err error) (map[string]string, bool) {
	var bad *invalid.Error
	if !errors.As(err, &bad) {
		return nil, false
	}
	out := map[string]string{}
	for _, fe := range bad.Errors {
		if out[fe.Field] == "" {
			out[fe.Field] = sentence(fe.Message)
		}
	}
	return out, true
}

// saveMember adds a member (POST /console/team) through app.SaveMember.
func (h *Handler) saveMember(c echo.Context) error {
	form := memberFormOf(c)
	if !oneLine(form.Email) || !oneLine(form.Name) || !oneLine(form.Timezone) {
		form.Errors = map[string]string{"name": "The email, name and time zone are one line each."}
		return h.showTeam(c, http.StatusUnprocessableEntity, form)
	}
	m, created, err := h.app.SaveMember(c.Request().Context(), current(c).Actor, app.Member{Email: form.Email, Name: form.Name,
		Level: form.Level, ManagerEmail: form.ManagerEmail, Role: form.Role, Timezone: form.Timezone})
	if errs, ok := refusedFields(err); ok {
		form.Errors = errs
		return h.showTeam(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	verb := "Saved"
	if created {
		verb = "Added"
	}
	return h.redirect(c, Prefix+"/team", fmt.Sprintf("%s %s (%s, %s).", verb, m.Name, m.Email, m.Role))
}

type memberData struct {
	Member     store.TeamMember
	MayEdit    bool
	Edit       memberFields
	Work       store.MemberWork
	Active     []store.TeamMember // who may take over their work
	Successor  string
	Deactivate string // why the deactivation was refused
}

// memberPage shows a member: the edit form, and the deactivation form that
// says what will move and to whom.
func (h *Handler) memberPage(c echo.Context) error {
	return h.showMember(c, http.StatusOK, nil, "", "")
}

func (h *Handler) showMember(c echo.Context, status int, edit *memberForm, successor, refused string) error {
	ctx := c.Request().Context()
	m, err := h.app.Team.TeamMemberByEmail(ctx, strings.ToLower(c.Param("email")))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no team member with this email.")
	}
	if err != nil {
		return err
	}
	d := memberData{Member: m, MayEdit: may(current(c).Actor, team.Admins...), Successor: successor, Deactivate: refused,
		Edit: memberFields{Levels: accounts.Levels, Roles: app.Roles, Timezones: commonTimezones}}
	if edit != nil {
		d.Edit.Form = *edit
	} else {
		d.Edit.Form = memberForm{Email: m.Email, Name: m.Name, Level: m.Level, Role: m.Role, Timezone: m.Timezone}
		if m.ManagerEmail != nil {
			d.Edit.Form.ManagerEmail = *m.ManagerEmail
		}
	}
	if d.Work, err = h.app.Team.WorkOf(ctx, m.Email); err != nil {
		return err
	}
	if d.MayEdit {
		if d.Active, err = h.activeMembers(ctx, m.Email); err != nil {
			return err
		}
		d.Edit.Managers = d.Active
	}
	return h.render(c, status, "member", page{Title: m.Name, Nav: "team", Data: d})
}

// memberURL is a member's page.
func memberURL(email string) string { return Prefix + "/team/" + url.PathEscape(email) }

// editMember saves the member's form (POST /console/team/{email}): the
// email is the path's.
func (h *Handler) editMember(c echo.Context) error {
	form := memberFormOf(c)
	form.Email = strings.ToLower(c.Param("email"))
	if !oneLine(form.Name) || !oneLine(form.Timezone) {
		form.Errors = map[string]string{"name": "The name and time zone are one line each."}
		return h.showMember(c, http.StatusUnprocessableEntity, &form, "", "")
	}
	if _, err := h.app.Team.TeamMemberByEmail(c.Request().Context(), form.Email); errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no team member with this email.")
	}
	m, _, err := h.app.SaveMember(c.Request().Context(), current(c).Actor, app.Member{Email: form.Email, Name: form.Name,
		Level: form.Level, ManagerEmail: form.ManagerEmail, Role: form.Role, Timezone: form.Timezone})
	if errs, ok := refusedFields(err); ok {
		form.Errors = errs
		return h.showMember(c, http.StatusUnprocessableEntity, &form, "", "")
	}
	if err != nil {
		return err
	}
	return h.redirect(c, memberURL(m.Email), "Saved "+m.Name+".")
}

// deactivateMember hands the member's work to the successor and
// deactivates them, through app.DeactivateMember as the API does.
func (h *Handler) deactivateMember(c echo.Context) error {
	email, successor := strings.ToLower(c.Param("email")), strings.TrimSpace(c.FormValue("successor"))
	if !oneLine(successor) {
		return h.showMember(c, http.StatusUnprocessableEntity, nil, "", "Choose who takes over from the list.")
	}
	d, err := h.app.DeactivateMember(c.Request().Context(), email, successor)
	errs, invalid := refusedFields(err)
	switch {
	case invalid:
		return h.showMember(c, http.StatusUnprocessableEntity, nil, successor, errs["successor"])
	case errors.Is(err, app.ErrUnknownMember):
		return echo.NewHTTPError(http.StatusNotFound, "There is no team member with this email.")
	case errors.Is(err, store.ErrAlreadyDeactivated):
		return h.redirect(c, memberURL(email), "Nothing done: this member was already deactivated.")
	case errors.Is(err, store.ErrLastAdmin):
		return h.showMember(c, http.StatusConflict, nil, successor,
			"This is the last active admin member: make someone else admin first, then deactivate them.")
	case err != nil:
		return err
	}
	return h.redirect(c, Prefix+"/team", fmt.Sprintf("Deactivated %s. %s now has their %d account(s), %d approval(s) and %d task(s).",
		d.Member.Name, d.Successor, len(d.Accounts), d.Approvals, d.Tasks))
}

// reactivateMember lets a deactivated member be given work again.
func (h *Handler) reactivateMember(c echo.Context) error {
	m, err := h.app.ReactivateMember(c.Request().Context(), c.Param("email"))
	if errors.Is(err, app.ErrUnknownMember) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no team member with this email.")
	}
	if err != nil {
		return err
	}
	return h.redirect(c, memberURL(m.Email), "Reactivated "+m.Name+": they can be given work again.")
}
