package api

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/store"
)

type teamMemberRequest struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Level        string `json:"level"`
	ManagerEmail string `json:"manager_email"`
}

func (r *teamMemberRequest) normalise() error {
	var fe fieldErrors
	r.Email = normaliseEmail(&fe, "email", r.Email, true)
	r.ManagerEmail = normaliseEmail(&fe, "manager_email", r.ManagerEmail, false)
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		fe.add("name", "required")
	}
	if !accounts.Valid(accounts.Levels, r.Level) {
		fe.add("level", "must be one of %s", strings.Join(accounts.Levels, ", "))
	}
	if r.ManagerEmail != "" && r.ManagerEmail == r.Email {
		fe.add("manager_email", "a team member cannot manage themselves")
	}
	return fe.err()
}

// normaliseEmail lower-cases and checks an address, recording a field error.
func normaliseEmail(fe *fieldErrors, field, v string, required bool) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" {
		if required {
			fe.add(field, "required")
		}
		return ""
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		fe.add(field, "must be a plain email address such as name@example.com")
	}
	return v
}

func (h *handlers) upsertTeamMember(c echo.Context) error {
	var req teamMemberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.normalise(); err != nil {
		return err
	}
	member, created, err := h.app.Team.UpsertTeamMember(c.Request().Context(), store.UpsertTeamMember{
		Email: req.Email, Name: req.Name, Level: req.Level, ManagerEmail: req.ManagerEmail,
	})
	switch {
	case errors.Is(err, store.ErrUnknownManager):
		return invalid([]FieldError{{Field: "manager_email", Message: "no team member has this email; add the manager first"}})
	case errors.Is(err, store.ErrManagerCycle):
		return invalid([]FieldError{{Field: "manager_email", Message: "this manager is already below the member in the chain"}})
	case err != nil:
		return err
	}
	return c.JSON(createdOrOK(created), teamMemberResponse(member))
}

func (h *handlers) listTeam(c echo.Context) error {
	pg, after, err := pageAfter[string](c)
	if err != nil {
		return err
	}
	members, err := h.app.Team.ListTeamMembers(c.Request().Context(), after, pg.limit+1)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(members, teamMemberResponse), func(m teamMemberJSON) any { return m.Email }))
}

func createdOrOK(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
