package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/simulate"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/triggers"
)

type simulateRequest struct {
	Version   int                 `json:"version"`
	AccountID string              `json:"account_id"`
	Account   *simulatedAccount   `json:"account"`
	Start     string              `json:"start"` // RFC 3339; default now
	Events    []simulate.Event    `json:"events"`
	Decisions []simulate.Decision `json:"decisions"`
}

// simulatedAccount describes a made-up account, so CS ops can preview a
// playbook without real data.
type simulatedAccount struct {
	Segment        string           `json:"segment"`
	Status         string           `json:"status"`
	LifecycleStage string           `json:"lifecycle_stage"`
	Timezone       string           `json:"timezone"`
	RenewalDate    string           `json:"renewal_date"`
	ContractStart  string           `json:"contract_start"`
	HealthScore    *float64         `json:"health_score"`
	HealthBand     string           `json:"health_band"`
	Fields         map[string]any   `json:"fields"`
	Name           string           `json:"name"`
	CSMEmail       string           `json:"csm_email"`
	CSMName        string           `json:"csm_name"`
	Contacts       []contactRequest `json:"contacts"`
}

func (h *handlers) simulatePlaybook(c echo.Context) error {
	var req simulateRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	start := time.Now().UTC().Truncate(time.Minute)
	if req.Start != "" {
		t, err := time.Parse(time.RFC3339, req.Start)
		switch {
		case err != nil:
			fe.add("start", "must be an RFC 3339 time such as 2026-01-05T09:00:00Z")
		case !plausible(t):
			fe.add("start", "must be between %d and %d", minYear, maxYear)
		default:
			start = t.UTC()
		}
	}
	if (req.AccountID == "") == (req.Account == nil) {
		fe.add("account_id", "give either account_id (a stored account) or account (a made-up one)")
	}
	if req.Version < 0 || req.Version > math.MaxInt32 {
		fe.add("version", "must be a version number from 1 to 2147483647, or left out")
	}
	for i, e := range req.Events {
		if !triggers.EventName.MatchString(e.Name) {
			fe.add(fmt.Sprintf("events[%d].name", i), "required: an event name such as first_login")
		}
	}
	for i, d := range req.Decisions {
		if d.Decision != "approve" && d.Decision != "reject" {
			fe.add(fmt.Sprintf("decisions[%d].decision", i), "must be approve or reject")
		}
		if d.StepID == "" {
			fe.add(fmt.Sprintf("decisions[%d].step_id", i), "required: the approval step's id")
		}
	}
	in := h.app.Simulation(nil, start)
	in.Events, in.Decisions = req.Events, req.Decisions
	if req.Account != nil {
		req.Account.toInput(&fe, start, &in)
	}
	if err := fe.err(); err != nil {
		return err
	}
	def, version, err := h.app.Playbooks.Definition(c.Request().Context(), c.Param("key"), req.Version)
	if err != nil {
		return err
	}
	in.Definition = def
	for i, d := range req.Decisions {
		if s := def.FindStep(d.StepID); s == nil || s.Approval == nil {
			fe.add(fmt.Sprintf("decisions[%d].step_id", i), "version %d has no approval step %q", version, d.StepID)
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	if req.AccountID != "" {
		stored, err := h.storedAccount(c, def, req.AccountID, start)
		if err != nil {
			return err
		}
		stored.Events, stored.Decisions = in.Events, in.Decisions
		in = stored
	}
	res, err := simulate.RunContext(c.Request().Context(), in)
	if err != nil {
		return simulationProblem(err, version)
	}
	return c.JSON(http.StatusOK, map[string]any{"playbook": def.Key, "version": version, "start": start,
		"status": res.Status, "outcome": res.Outcome, "timeline": res.Timeline})
}

// playbookTimelineSVG draws a playbook's simulated run: for a made-up
// account of a segment (enrolled on a fixed Monday, so the picture is
// stable), or for a stored account enrolled now, with its own segment,
// contacts, health and dates.
func (h *handlers) playbookTimelineSVG(c echo.Context) error {
	q := queryFilter{c: c}
	q.only("segment", "version", "account_id")
	segment := q.enum("segment", accounts.Segments)
	accountID := c.QueryParam("account_id")
	if segment != "" && accountID != "" {
		q.fe.add("segment", "leave it out with account_id: the account's own segment is drawn")
	}
	if err := q.err(); err != nil {
		return err
	}
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	def, v, err := h.app.Playbooks.Definition(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return err
	}
	if accountID == "" {
		if segment == "" {
			segment = "enterprise"
		}
		start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC) // a Monday: a stable picture
		title := fmt.Sprintf("%s (v%d) — %s, day 0 = enrolment", def.Name, v, segment)
		return h.drawTimeline(c, title, simulate.Sample(def, segment, start), v, simulate.AxisDays)
	}
	acct, err := h.app.Accounts.GetAccount(c.Request().Context(), accountID)
	if err != nil {
		return notFoundAs(err, "account")
	}
	in, err := h.storedAccount(c, def, accountID, time.Now().UTC().Truncate(time.Minute))
	if err != nil {
		return err
	}
	if missing := simulate.MissingAnchor(def, in.Account); missing != "" {
		return unprocessable([]FieldError{{Field: "account_id", Message: fmt.Sprintf("the account has no %s, which this playbook counts from", missing)}})
	}
	title := fmt.Sprintf("%s (v%d) — %s (%s, %s) if enrolled now", def.Name, v, acct.Name, acct.ID, in.Account.Segment)
	return h.drawTimeline(c, title, in, v, simulate.AxisDates)
}

func (h *handlers) drawTimeline(c echo.Context, title string, in simulate.Input, version int, axis simulate.Axis) error {
	res, err := simulate.RunContext(c.Request().Context(), in)
	if err != nil {
		return simulationProblem(err, version)
	}
	return c.Blob(http.StatusOK, "image/svg+xml", []byte(simulate.SVG(title, in, res, axis)))
}

// simulationProblem is the 422 of a simulation refused or stopped: a
// version over the definition limits (stored before a limit existed) at
// the request's version, or a spent budget saying which bound. Any other
// error stays itself (a client gone away is no one's answer).
func simulationProblem(err error, version int) error {
	switch {
	case errors.Is(err, simulate.ErrOverLimits):
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "simulate: "), "\n", "; ")
		return unprocessable([]FieldError{{Field: "version", Message: fmt.Sprintf("version %d cannot be simulated: %s; no run can start from it either", version, msg)}})
	case errors.Is(err, simulate.ErrBudget):
		return problem(http.StatusUnprocessableEntity, err.Error())
	}
	return err
}

// storedAccount is the simulation of a stored account enrolled at start
// (app.SimulationFor); no such account is a field error.
func (h *handlers) storedAccount(c echo.Context, def *playbook.Definition, id string, start time.Time) (simulate.Input, error) {
	in, err := h.app.SimulationFor(c.Request().Context(), def, id, start)
	if errors.Is(err, store.ErrNotFound) {
		return in, unprocessable([]FieldError{{Field: "account_id", Message: "no account with this id"}})
	}
	return in, err
}

// toInput fills in the simulation's made-up account, reporting bad fields.
func (a *simulatedAccount) toInput(fe *fieldErrors, start time.Time, in *simulate.Input) {
	snap := accounts.Snapshot{ID: "simulated", Segment: a.Segment, Status: a.Status, LifecycleStage: a.LifecycleStage,
		Timezone: a.Timezone, HealthScore: a.HealthScore, HealthBand: a.HealthBand, Fields: a.Fields}
	if !slices.Contains(accounts.Segments, snap.Segment) {
		fe.add("account.segment", "required: one of %s", strings.Join(accounts.Segments, ", "))
	}
	if snap.Status == "" {
		snap.Status = "active"
	}
	if snap.LifecycleStage == "" {
		snap.LifecycleStage = "onboarding"
	}
	if snap.Timezone == "" {
		snap.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(snap.Timezone)
	if err != nil {
		fe.add("account.timezone", "unknown time zone %q", snap.Timezone)
		loc = time.UTC
	}
	if snap.HealthScore != nil && (*snap.HealthScore < 0 || *snap.HealthScore > 100) {
		fe.add("account.health_score", "must be between 0 and 100")
	}
	if snap.HealthBand != "" && !slices.Contains(playbook.HealthBands, snap.HealthBand) {
		fe.add("account.health_band", "must be one of %s", strings.Join(playbook.HealthBands, ", "))
	}
	snap.RenewalAt = accounts.AnchorInstant(parseDate(fe, "account.renewal_date", a.RenewalDate), loc)
	snap.ContractStartAt = accounts.AnchorInstant(parseDate(fe, "account.contract_start", a.ContractStart), loc)
	if snap.Fields == nil {
		snap.Fields = map[string]any{}
	}
	in.Account, in.AccountName, in.CSM, in.CSMName = snap, a.Name, a.CSMEmail, a.CSMName
	// Templates address people by name: placeholders say what is missing.
	if in.AccountName == "" {
		in.AccountName = "[account name]"
	}
	if in.CSMName == "" {
		in.CSMName = "[CSM name]"
	}
	for i, ct := range a.Contacts {
		if !slices.Contains(accounts.Roles, ct.Role) {
			fe.add(fmt.Sprintf("account.contacts[%d].role", i), "must be one of %s", strings.Join(accounts.Roles, ", "))
		}
		in.Contacts = append(in.Contacts, simulate.Contact{Email: ct.Email, Name: ct.Name, Role: ct.Role})
	}
}
