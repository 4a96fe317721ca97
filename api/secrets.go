package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
)

type secretRequest struct {
	Value string `json:"value"`
}

// putSecret stores a webhook URL under a name notify steps give as
// `secret:`; the answer, like every other, never holds the value. The
// document holds the name to its pattern, the database too.
func (h *handlers) putSecret(c echo.Context) error {
	var req secretRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	// Checked now, as notify steps' URLs are at validation, so that a
	// mistake shows here and not when a run posts. Never quoted back.
	if err := h.app.Webhooks.CheckURL(req.Value); err != nil {
		return unprocessable([]FieldError{{Field: "value", Message: "want a webhook's https URL on a public host: " + err.Error()}})
	}
	s, created, err := h.app.Secrets.PutSecret(c.Request().Context(), c.Param("name"), req.Value, callerOf(c))
	if err != nil {
		return err
	}
	if created {
		return c.JSON(http.StatusCreated, secretResponse(s))
	}
	return c.JSON(http.StatusOK, secretResponse(s))
}

// deleteSecret forgets a secret no version in use names; drafts naming it
// cannot be published after.
func (h *handlers) deleteSecret(c echo.Context) error {
	err := h.app.Secrets.DeleteSecret(c.Request().Context(), c.Param("name"))
	switch {
	case errors.Is(err, store.ErrUnknownSecret):
		return problem(http.StatusNotFound, "secret not found")
	case errors.Is(err, store.ErrSecretInUse):
		return problem(http.StatusConflict, err.Error()+"; publish versions without it first, and let their runs end")
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// listSecrets lists the secrets' names and who wrote them, never values.
func (h *handlers) listSecrets(c echo.Context) error {
	pg, after, err := pageAfter[string](c)
	if err != nil {
		return err
	}
	secrets, err := h.app.Secrets.ListSecrets(c.Request().Context(), after, pg.limit+1)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(secrets, secretResponse), func(s secretJSON) any { return s.Name }))
}
