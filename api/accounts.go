package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
)

type accountRequest struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	ARR            *float64         `json:"arr"`
	Segment        string           `json:"segment"`
	CSMEmail       string           `json:"csm_email"`
	Timezone       string           `json:"timezone"`
	ContractStart  string           `json:"contract_start"`
	RenewalDate    string           `json:"renewal_date"`
	LifecycleStage string           `json:"lifecycle_stage"`
	Status         string           `json:"status"`
	CustomFields   json.RawMessage  `json:"custom_fields"`
	Contacts       []contactRequest `json:"contacts"`
}

type contactRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

var accountIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// toStore validates the request and converts it, reporting every bad field.
func (r accountRequest) toStore(thresholds accounts.SegmentThresholds) (store.UpsertAccount, error) {
	var fe fieldErrors
	out := store.UpsertAccount{
		ID: r.ID, Name: strings.TrimSpace(r.Name), Segment: r.Segment, Timezone: r.Timezone,
		LifecycleStage: r.LifecycleStage, Status: r.Status,
	}
	if !accountIDPattern.MatchString(r.ID) {
		fe.add("id", "required: 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
	}
	if out.Name == "" {
		fe.add("name", "required")
	}
	switch {
	case r.ARR == nil:
		fe.add("arr", "required: annual recurring revenue in dollars")
	case *r.ARR < 0:
		fe.add("arr", "must not be negative")
	case *r.ARR > maxARR:
		fe.add("arr", "must be at most %.2f", maxARR)
	default:
		out.ARR = *r.ARR
	}
	if out.Segment == "" && r.ARR != nil {
		out.Segment = thresholds.SegmentFor(out.ARR)
	} else if out.Segment != "" && !accounts.Valid(accounts.Segments, out.Segment) {
		fe.add("segment", "must be one of %s (or leave it out to derive it from arr)", strings.Join(accounts.Segments, ", "))
	}
	out.CSMEmail = normaliseEmail(&fe, "csm_email", r.CSMEmail, true)
	if r.Timezone == "" {
		fe.add("timezone", "required: an IANA time zone such as Europe/Berlin")
	} else if _, err := time.LoadLocation(r.Timezone); err != nil || r.Timezone == "Local" {
		fe.add("timezone", "unknown time zone %q: use an IANA name such as America/New_York", r.Timezone)
	}
	out.ContractStart = timerDate(&fe, "contract_start", r.ContractStart)
	out.RenewalDate = timerDate(&fe, "renewal_date", r.RenewalDate)
	if out.LifecycleStage == "" {
		out.LifecycleStage = "onboarding"
	}
	if out.Status == "" {
		out.Status = "active"
	} else if !accounts.Valid(accounts.Statuses, out.Status) {
		fe.add("status", "must be one of %s", strings.Join(accounts.Statuses, ", "))
	}
	if len(r.CustomFields) > 0 {
		if trimmed := bytes.TrimSpace(r.CustomFields); len(trimmed) == 0 || trimmed[0] != '{' {
			fe.add("custom_fields", "must be a JSON object")
		} else if len(r.CustomFields) > maxCustomFieldsBytes {
			fe.add("custom_fields", "at most %d KiB as JSON", maxCustomFieldsBytes>>10)
		} else {
			out.CustomFields = r.CustomFields
		}
	}
	seen := map[string]bool{}
	for i, c := range r.Contacts {
		prefix := fmt.Sprintf("contacts[%d]", i)
		email := normaliseEmail(&fe, prefix+".email", c.Email, true)
		if email != "" && seen[email] {
			fe.add(prefix+".email", "listed twice")
		}
		seen[email] = true
		if !accounts.Valid(accounts.Roles, c.Role) {
			fe.add(prefix+".role", "must be one of %s", strings.Join(accounts.Roles, ", "))
		}
		out.Contacts = append(out.Contacts, store.UpsertContact{Email: email, Name: strings.TrimSpace(c.Name), Role: c.Role})
	}
	return out, fe.err()
}

func parseDate(fe *fieldErrors, field, v string) *time.Time {
	if v == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		fe.add(field, "must be a date as YYYY-MM-DD")
		return nil
	}
	if !plausible(d) {
		fe.add(field, "must be between %d and %d", minYear, maxYear)
		return nil
	}
	return &d
}

// Dates and times outside these years are typing mistakes, and a timer to
// them would not fit a Go duration (±292 years).
const (
	minYear = 1900
	maxYear = 2200
)

func plausible(t time.Time) bool { return t.Year() >= minYear && t.Year() <= maxYear }

// timerHorizon bounds the dates runs wait for (renewal, contract start): a
// date further out is a typing mistake, and would park runs for decades.
const timerHorizon = 10

// timerDate parses a date that becomes a timer.
func timerDate(fe *fieldErrors, field, v string) *time.Time {
	d := parseDate(fe, field, v)
	if d != nil && d.After(time.Now().AddDate(timerHorizon, 0, 0)) {
		fe.add(field, "must be at most %d years from today", timerHorizon)
		return nil
	}
	return d
}

// maxARR is the largest ARR the database keeps (numeric(14, 2)).
const maxARR = 999_999_999_999.99

// maxCustomFieldsBytes bounds an account's free-form JSON.
const maxCustomFieldsBytes = 16 << 10

func (h *handlers) upsertAccount(c echo.Context) error {
	var req accountRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in, err := req.toStore(h.app.Segments)
	if err != nil {
		return err
	}
	// Saving fires triggers (account created, renewal window) and tells live
	// runs, which re-check exit rules and re-plan date anchors.
	saved, err := h.app.Triggers.SaveAccount(c.Request().Context(), in)
	if errors.Is(err, store.ErrUnknownCSM) {
		return unprocessable([]FieldError{unknownCSM})
	}
	if errors.Is(err, store.ErrInactiveMember) {
		return unprocessable([]FieldError{{Field: "csm_email", Message: "this team member is deactivated: choose an active CSM"}})
	}
	if err != nil {
		return err
	}
	return c.JSON(createdOrOK(saved.Created), savedAccountResponse(saved))
}

var unknownCSM = FieldError{Field: "csm_email", Message: "no team member has this email; add them with POST /v1/team"}

// accountBands are the band filters: every band (orange only under a
// four-band model, but snapshots keep theirs when the model changes), and
// none for accounts without a snapshot.
var accountBands = append(slices.Clone(health.BandNames), "none")

func (h *handlers) listAccounts(c echo.Context) error {
	pg, after, err := pageAfter[string](c)
	if err != nil {
		return err
	}
	q := queryFilter{c: c}
	f := store.AccountFilter{Segment: q.enum("segment", accounts.Segments), Band: q.enum("band", accountBands),
		CSMEmail: strings.ToLower(strings.TrimSpace(c.QueryParam("csm"))), Status: q.enum("status", accounts.Statuses),
		After: after, Limit: pg.limit + 1}
	if err := q.err(); err != nil {
		return err
	}
	rows, err := h.app.Accounts.ListAccounts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(rows, accountResponse), func(a accountJSON) any { return a.ID }))
}

type eventRequest struct {
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
}

// reportEvent records an event through app.ReportEvent, as the console's
// event form and run page do: a csm for the accounts of their ladder.
func (h *handlers) reportEvent(c echo.Context) error {
	var req eventRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	rep, err := h.app.ReportEvent(c.Request().Context(), actorOf(c), c.Param("id"), req.Name, req.Data)
	if errors.Is(err, runs.ErrUnknownAccount) {
		return problem(http.StatusNotFound, "account not found")
	}
	if err != nil {
		return err
	}
	body := map[string]any{"name": req.Name, "delivered_to_runs": rep.DeliveredTo}
	if rep.Signal != "" {
		body["risk_signal"] = rep.Signal
	}
	return c.JSON(http.StatusAccepted, body)
}

func (h *handlers) getAccount(c echo.Context) error {
	acct, err := h.app.Accounts.GetAccount(c.Request().Context(), c.Param("id"))
	if err != nil {
		return notFoundAs(err, "account")
	}
	return c.JSON(http.StatusOK, accountResponse(acct))
}
