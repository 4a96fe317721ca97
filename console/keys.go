package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
)

// The keys page is an admin's: every API key (never its secret) with its
// role, member, creation, last use and revocation; make one, whose secret
// the answer page shows once; revoke one. The same use cases as POST
// /v1/keys and POST /v1/keys/{id}/revoke.

const keysPage = 100

// keyForm is the create form, as sent and refused.
type keyForm struct {
	Name, Role, Member string
	Errors             map[string]string
}

type keysData struct {
	Keys    []store.APIKey
	Next    string
	Form    keyForm
	Members []store.TeamMember // active: who may hold a csm key
	Roles   []string
}

func (h *Handler) keysList(c echo.Context) error {
	return h.showKeys(c, http.StatusOK, keyForm{Role: "csm"})
}

func (h *Handler) showKeys(c echo.Context, status int, form keyForm) error {
	ctx := c.Request().Context()
	var after *uuid.UUID
	if v := c.QueryParam("after"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "The query parameter after is a key's id, as the Next link gives it.")
		}
		after = &id
	}
	rows, err := h.app.Keys.ListAPIKeys(ctx, after, keysPage+1)
	if err != nil {
		return err
	}
	d := keysData{Keys: rows, Form: form, Roles: app.Roles}
	if len(rows) > keysPage {
		d.Keys = rows[:keysPage]
		d.Next = Prefix + "/keys?after=" + url.QueryEscape(rows[keysPage-1].ID.String())
	}
	if d.Members, err = h.activeMembers(ctx, ""); err != nil {
		return err
	}
	return h.render(c, status, "keys", page{Title: "API keys", Nav: "keys", Data: d})
}

type keyCreatedData struct {
	Key    store.APIKey
	Secret string
}

// createKey makes a key through app.CreateKey and shows its secret on the
// answer page, this once: it is not kept (nor put in a redirect or a
// cookie), so reloading the list never shows it again.
func (h *Handler) createKey(c echo.Context) error {
	form := keyForm{Name: strings.TrimSpace(c.FormValue("name")), Role: c.FormValue("role"), Member: c.FormValue("team_member_email")}
	if form.Role != "csm" {
		form.Member = "" // the member select is only a csm key's
	}
	if !oneLine(form.Name) {
		form.Errors = map[string]string{"name": "The name is one line."}
		return h.showKeys(c, http.StatusUnprocessableEntity, form)
	}
	k, secret, err := h.app.CreateKey(c.Request().Context(), app.NewKey{Name: form.Name, Role: form.Role, TeamMemberEmail: form.Member})
	if errs, ok := refusedFields(err); ok {
		form.Errors = errs
		return h.showKeys(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	return h.render(c, http.StatusCreated, "key-created", page{Title: "Key created", Nav: "keys", Data: keyCreatedData{Key: k, Secret: secret}})
}

// revokeKey stops a key at once: requests with it get 401, console
// sessions made with it end.
func (h *Handler) revokeKey(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	k, err := h.app.Keys.RevokeAPIKey(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no key with this id.")
	}
	if err != nil {
		return err
	}
	return h.redirect(c, Prefix+"/keys", "Revoked the key "+k.Name+" ("+k.Prefix+"…): it works no more.")
}
