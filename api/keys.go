package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
)

type keyRequest struct {
	Name            string `json:"name"`
	Role            string `json:"role"`
	TeamMemberEmail string `json:"team_member_email"`
}

// createKey makes an API key through app.CreateKey, as the console's keys
// page does; its secret is in this answer only.
func (h *handlers) createKey(c echo.Context) error {
	var req keyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	k, secret, err := h.app.CreateKey(c.Request().Context(), app.NewKey{Name: req.Name, Role: req.Role, TeamMemberEmail: req.TeamMemberEmail})
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
