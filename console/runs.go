package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// runActions are the controls of a live run, as POST /v1/runs/{id}/...
var runActions = []string{"pause", "resume", "cancel"}

type runData struct {
	runs.View
	AccountName string
	Done        []runs.StepRecord
	Current     *runs.StepRecord
	Upcoming    []runs.StepRecord
	Live        bool
	MayControl  bool
	// Awaited are the events the run waits for now (its current wait_for
	// step's) that the person may report: the page offers a button each.
	Awaited []string
}

// runPage shows a run: what happened and why, what comes next and when,
// the audit trail, and the run in the Temporal UI.
func (h *Handler) runPage(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	view, err := h.app.Runs.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no run with this id.")
	}
	if err != nil {
		return err
	}
	d := runData{View: view, Live: live(view.Run), MayControl: may(current(c).Actor, team.Operators...)}
	names := h.newNames()
	d.AccountName = names.account(ctx, view.AccountID)
	if names.err != nil {
		return names.err
	}
	if p := view.Progress; p != nil {
		d.Done, d.Current, d.Upcoming = p.Done, p.Current, p.Upcoming
	}
	if d.Awaited, err = h.awaited(c, d); err != nil {
		return err
	}
	title := fmt.Sprintf("%s for %s", view.PlaybookKey, d.AccountName)
	return h.render(c, http.StatusOK, "run", page{Title: title, Nav: "accounts", Data: d})
}

// controlRun pauses, resumes or cancels a run through runs.Service, as the
// API does; the run applies it asynchronously.
func (h *Handler) controlRun(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return echo.ErrNotFound
		}
		back := safeNext(c.FormValue("back"))
		if back == Prefix+"/" {
			back = fmt.Sprintf("%s/runs/%s", Prefix, id)
		}
		run, err := h.app.Runs.Control(c.Request().Context(), id, action)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return echo.NewHTTPError(http.StatusNotFound, "There is no run with this id.")
		case errors.Is(err, runs.ErrNotLive):
			return h.redirect(c, back, "Nothing done: "+err.Error()+".")
		case err != nil:
			return err
		}
		words := map[string]string{
			"pause":  "Pause requested: the run holds before its next step.",
			"resume": "Resume requested: the run goes on from where it held.",
			"cancel": "Cancel requested: the run stops, its open tasks and approvals close.",
		}[action]
		return h.redirect(c, back, strings.TrimSpace(run.PlaybookKey+" for "+run.AccountID+": "+words))
	}
}
