package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
)

type keyRequest struct {
	Name            string `json:"name"`
	Role            string `json:"role"`
	TeamMemberEmail string `json:"team_member_email"`
}

// createKey makes an API key; its secret is in this answer only.
func (h *handlers) createKey(c echo.Context) error {
	var req keyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		fe.add("name", "required: what the key is for")
	}
	switch req.Role {
	case "admin", "ops":
		if req.TeamMemberEmail != "" {
			fe.add("team_member_email", "only a csm key is bound to a team member")
		}
	case "csm":
		req.TeamMemberEmail = normaliseEmail(&fe, "team_member_email", req.TeamMemberEmail, true)
	default:
		fe.add("role", "must be one of admin, ops, csm")
	}
	if err := fe.err(); err != nil {
		return err
	}
	k, secret, err := h.app.Keys.CreateAPIKey(c.Request().Context(), req.Name, req.Role, req.TeamMemberEmail)
	if errors.Is(err, store.ErrUnknownCSM) {
		return invalid([]FieldError{{Field: "team_member_email", Message: "no team member has this email"}})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"key": secret, "api_key": apiKeyResponse(k),
		"note": "store the key now: it is shown once and kept only as a hash"})
}

func (h *handlers) listKeys(c echo.Context) error {
	pg, after, err := pageAfter[*uuid.UUID](c)
	if err != nil {
		return err
	}
	keys, err := h.app.Keys.ListAPIKeys(c.Request().Context(), after, pg.limit+1)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(keys, apiKeyResponse), func(k apiKeyJSON) any { return k.ID }))
}

// revokeKey stops a key from working at once; requests with it get 401.
func (h *handlers) revokeKey(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	k, err := h.app.Keys.RevokeAPIKey(c.Request().Context(), id)
	if err != nil {
		return notFoundAs(err, "API key")
	}
	return c.JSON(http.StatusOK, apiKeyResponse(k))
}
