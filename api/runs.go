package api

import (
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

type startRunRequest struct {
	Playbook  string `json:"playbook"`
	AccountID string `json:"account_id"`
	Version   int    `json:"version"`
}

func (h *handlers) startRun(c echo.Context) error {
	var req startRunRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	if strings.TrimSpace(req.Playbook) == "" {
		fe.add("playbook", "required: a playbook key such as onboarding")
	}
	if strings.TrimSpace(req.AccountID) == "" {
		fe.add("account_id", "required")
	}
	if req.Version < 0 || req.Version > math.MaxInt32 {
		fe.add("version", "must be a version number from 1 to 2147483647, or left out for the current one")
	}
	if err := fe.err(); err != nil {
		return err
	}
	run, err := h.app.Runs.Start(c.Request().Context(), runs.StartInput{
		PlaybookKey: req.Playbook, Version: req.Version, AccountID: req.AccountID,
	})
	var live *runs.LiveRunError
	switch {
	case errors.As(err, &live):
		p := problem(http.StatusConflict, "the account already has a live run of this playbook; cancel it or wait for it to end")
		if live.RunID != nil {
			p.RunID = live.RunID.String()
		}
		return p
	case err != nil:
		if field, msg, ok := runs.Refusal(err); ok {
			return unprocessable([]FieldError{{Field: field, Message: msg}})
		}
		return err
	}
	setRunID(c, run.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/v1/runs/"+run.ID.String())
	return c.JSON(http.StatusCreated, runResponse(run))
}

func (h *handlers) getRun(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	view, err := h.app.Runs.Get(c.Request().Context(), id)
	if err != nil {
		return notFoundAs(err, "run")
	}
	return c.JSON(http.StatusOK, runViewResponse(view))
}

func (h *handlers) listRuns(c echo.Context) error {
	pg, after, err := keysetPage(c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.RunFilter{AccountID: c.QueryParam("account_id"), PlaybookKey: c.QueryParam("playbook"),
		Status: enum(&q, "status", states.Runs), After: after, Limit: pg.limit + 1}
	if err := q.err(); err != nil {
		return err
	}
	items, err := h.app.Lists.ListRuns(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(items, runResponse), func(r runJSON) any { return keyset{At: r.StartedAt, ID: r.ID} }))
}

// controlRun pauses, resumes or cancels a run; the answer is 202 because the
// workflow applies it asynchronously.
func (h *handlers) controlRun(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathUUID(c, "id")
		if err != nil {
			return err
		}
		run, err := h.app.Runs.Control(c.Request().Context(), id, action)
		if err != nil {
			return notFoundAs(err, "run")
		}
		return c.JSON(http.StatusAccepted, map[string]string{"id": run.ID.String(), "requested": action})
	}
}
