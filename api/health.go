package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
)

type healthRequest struct {
	health.Inputs
	// MeasuredAt back-dates a measurement taken upstream; never before the
	// account's latest snapshot, never in the future.
	MeasuredAt string `json:"measured_at"`
}

// clockSkew is how far in the future a measured_at may be.
const clockSkew = 5 * time.Minute

// snapshotView is a stored snapshot as the API shows it.
type snapshotView struct {
	ID             int64                    `json:"id"`
	AccountID      string                   `json:"account_id"`
	Score          float64                  `json:"score"`
	Band           string                   `json:"band"`
	Model          string                   `json:"model"`
	Components     []health.ComponentResult `json:"components"`
	LeftOut        []string                 `json:"left_out"`
	Renormalised   bool                     `json:"renormalised"`
	Upstream       bool                     `json:"upstream"`
	Inputs         json.RawMessage          `json:"inputs"`
	Signals        []string                 `json:"signals"`
	ExpansionReady bool                     `json:"expansion_ready"`
	MeasuredAt     time.Time                `json:"measured_at"`
}

func viewSnapshot(s store.HealthSnapshot) snapshotView {
	var r health.Result
	_ = json.Unmarshal(s.Components, &r) // a snapshot older than the model has no components: shown empty
	if r.Components == nil {
		r.Components = []health.ComponentResult{}
	}
	if r.LeftOut == nil {
		r.LeftOut = []string{}
	}
	return snapshotView{ID: s.ID, AccountID: s.AccountID, Score: s.Score, Band: s.Band, Model: s.Model,
		Components: r.Components, LeftOut: r.LeftOut, Renormalised: r.Renormalised, Upstream: r.Upstream,
		Inputs: s.Inputs, Signals: s.Signals, ExpansionReady: s.ExpansionReady, MeasuredAt: s.MeasuredAt.UTC()}
}

type recordedView struct {
	snapshotView
	NewSignals   []string     `json:"new_signals"`
	Triggered    []firingJSON `json:"triggered"`
	NotifiedRuns int          `json:"notified_runs"`
	Warning      string       `json:"warning,omitempty"`
}

func (h *handlers) recordHealth(c echo.Context) error {
	var req healthRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	for _, e := range req.Inputs.Validate() {
		field := e.Field
		if field == "" {
			field = "body"
		}
		fe.add(field, "%s", e.Message)
	}
	var at time.Time
	if req.MeasuredAt != "" {
		t, err := time.Parse(time.RFC3339, req.MeasuredAt)
		switch {
		case err != nil:
			fe.add("measured_at", "must be an RFC 3339 time such as 2026-03-01T09:00:00Z")
		case t.After(time.Now().Add(clockSkew)):
			fe.add("measured_at", "must not be in the future")
		case !plausible(t):
			fe.add("measured_at", "must be between %d and %d", minYear, maxYear)
		default:
			at = t
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	rec, err := h.app.Triggers.RecordHealth(c.Request().Context(), c.Param("id"), req.Inputs, at)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusNotFound, "account not found")
	case errors.Is(err, store.ErrStaleSnapshot):
		return unprocessable([]FieldError{{Field: "measured_at", Message: err.Error()}})
	case err != nil:
		return err
	}
	return c.JSON(http.StatusCreated, recordedView{snapshotView: viewSnapshot(rec.Snapshot), NewSignals: rec.NewSignals,
		Triggered: each(rec.Firings, firingResponse), NotifiedRuns: rec.NotifiedRuns, Warning: rec.Warning})
}

func (h *handlers) healthHistory(c echo.Context) error {
	pg, before, err := pageAfter[int64](c)
	if err != nil {
		return err
	}
	snaps, err := h.app.Accounts.HealthHistory(c.Request().Context(), c.Param("id"), before, pg.limit+1)
	if err != nil {
		return notFoundAs(err, "account")
	}
	views := make([]snapshotView, 0, len(snaps))
	for _, s := range snaps {
		views = append(views, viewSnapshot(s))
	}
	return c.JSON(http.StatusOK, pageOf(pg, views, func(v snapshotView) any { return v.ID }))
}

var _ app.Triggers = (*triggers.Service)(nil)
