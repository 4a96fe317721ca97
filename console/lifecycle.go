package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
)

// A playbook's life in the console beyond its versions: started from
// nothing or from a built-in, retired (no new enrolments, its live runs
// go on) and taken back. For team.Designers, as the other design pages.

type newPlaybookData struct {
	Key, Name, From string
	Builtins        []store.PlaybookSummary
	Error           string
}

// newPlaybookPage offers a blank start or a copy of any built-in.
func (h *Handler) newPlaybookPage(c echo.Context) error {
	return h.showNewPlaybook(c, http.StatusOK, newPlaybookData{From: c.QueryParam("from")})
}

func (h *Handler) showNewPlaybook(c echo.Context, status int, d newPlaybookData) error {
	ctx := c.Request().Context()
	after := ""
	for { // every built-in: a few dozen, among the playbooks
		page, err := h.app.Playbooks.List(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, p := range page {
			if p.Builtin && p.PublishedVersion != nil {
				d.Builtins = append(d.Builtins, p)
			}
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].Key
	}
	return h.render(c, status, "new-playbook", page{Title: "New playbook", Nav: "playbooks", Data: d})
}

// createPlaybook stores version 1, a draft, of a new playbook (blank, or a
// copy of a built-in's published version) and opens it in the editor.
func (h *Handler) createPlaybook(c echo.Context) error {
	d := newPlaybookData{Key: strings.TrimSpace(c.FormValue("key")), Name: strings.TrimSpace(c.FormValue("name")),
		From: c.FormValue("from")}
	if d.Key == "" || d.Name == "" {
		d.Error = "Give the new playbook a key and a name."
		return h.showNewPlaybook(c, http.StatusUnprocessableEntity, d)
	}
	v, err := h.app.Playbooks.New(c.Request().Context(), d.Key, d.Name, d.From)
	var perrs playbook.Errors
	switch {
	case errors.Is(err, catalog.ErrKeyTaken):
		d.Error = "A playbook with the key " + d.Key + " exists already: choose another key."
		return h.showNewPlaybook(c, http.StatusConflict, d)
	case errors.Is(err, catalog.ErrNotFound):
		d.Error = "There is no playbook " + d.From + " to start from: choose one of the list."
		return h.showNewPlaybook(c, http.StatusUnprocessableEntity, d)
	case errors.As(err, &perrs):
		msgs := make([]string, len(perrs))
		for i, e := range perrs {
			msgs[i] = e.String()
		}
		d.Error = "Not started: " + strings.Join(msgs, "; ")
		return h.showNewPlaybook(c, http.StatusUnprocessableEntity, d)
	case err != nil:
		return err
	}
	from := "a blank start"
	if d.From != "" {
		from = "a copy of " + d.From
	}
	return h.redirect(c, editorURL(v.Key, v.Version), fmt.Sprintf(
		"Started %s from %s, draft version 1: write it here, preview it, publish it from its page when it is ready.", v.Key, from))
}

type retireData struct {
	Key, Name string
	Live      int
	RetiredAt *time.Time
}

// retirePage asks before retiring: what stops and what goes on.
func (h *Handler) retirePage(c echo.Context) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	vs, err := h.app.VersionsWithRuns(ctx, key)
	if err != nil {
		return catalogProblem(err)
	}
	d := retireData{Key: key, Name: vs[0].Name}
	for _, v := range vs {
		d.Live += v.Live
	}
	if d.RetiredAt, err = h.app.Playbooks.RetiredAt(ctx, key); err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "retire", page{Title: "Retire " + key, Nav: "playbooks", Data: d})
}

// retirePlaybook stops new enrolments; live runs go on.
func (h *Handler) retirePlaybook(c echo.Context) error {
	key := c.Param("key")
	if _, err := h.app.Playbooks.Retire(c.Request().Context(), key); err != nil {
		return catalogProblem(err)
	}
	return h.redirect(c, Prefix+"/playbooks/"+url.PathEscape(key), fmt.Sprintf(
		"Retired %s: it enrols no account from now on (its trigger fires no more, starts are refused); its live runs go on to their end.", key))
}

// unretirePlaybook takes a retired playbook back; back to the list or the
// playbook's page, whichever asked.
func (h *Handler) unretirePlaybook(c echo.Context) error {
	key := c.Param("key")
	if err := h.app.Playbooks.Unretire(c.Request().Context(), key); err != nil {
		return catalogProblem(err)
	}
	to := Prefix + "/playbooks/" + url.PathEscape(key)
	if c.FormValue("back") == "list" {
		to = Prefix + "/playbooks"
	}
	return h.redirect(c, to, fmt.Sprintf("%s takes new enrolments again: its published version starts runs, by its trigger or by hand.", key))
}
