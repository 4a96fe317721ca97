package api

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
)

type teamMemberRequest struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Level        string `json:"level"`
	ManagerEmail string `json:"manager_email"`
	Role         string `json:"role"`
	Timezone     string `json:"timezone"`
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

// upsertTeamMember adds or edits a member through app.SaveMember, as the
// console's team page does.
func (h *handlers) upsertTeamMember(c echo.Context) error {
	var req teamMemberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	member, created, err := h.app.SaveMember(c.Request().Context(), actorOf(c), app.Member{
		Email: req.Email, Name: req.Name, Level: req.Level, ManagerEmail: req.ManagerEmail, Role: req.Role, Timezone: req.Timezone,
	})
	if err != nil {
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

type deactivateRequest struct {
	Successor string `json:"successor"`
}

// deactivateMember hands a member's work to a successor and deactivates
// them (app.DeactivateMember, as the console's team page does).
func (h *handlers) deactivateMember(c echo.Context) error {
	var req deactivateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	d, err := h.app.DeactivateMember(c.Request().Context(), c.Param("email"), req.Successor)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deactivationResponse(d))
}

// reactivateMember lets a deactivated member be given work again.
func (h *handlers) reactivateMember(c echo.Context) error {
	m, err := h.app.ReactivateMember(c.Request().Context(), c.Param("email"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, teamMemberResponse(m))
}

// peopleProblem answers the refusals of the team's, tasks' and
// timeline's use cases; nil for any other error.
func peopleProblem(err error) *Problem {
	switch {
	case errors.Is(err, app.ErrUnknownMember):
		return problem(http.StatusNotFound, err.Error())
	case errors.Is(err, app.ErrAdminOnly):
		return problem(http.StatusForbidden, err.Error())
	case errors.Is(err, store.ErrLastAdmin), errors.Is(err, store.ErrAlreadyDeactivated):
		return problem(http.StatusConflict, err.Error())
	}
	return loopsProblem(err)
}

func createdOrOK(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
