package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/simulate"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

type editorData struct {
	Version    store.PlaybookVersion
	Source     string
	Errors     []lineError
	ErrorLines string
	Checked    bool // the text shown was checked and holds
	Fields     []templates.Field
	// The preview: the timeline of a segment's made-up account, and a
	// simulation for a real account.
	Segments  []string
	Segment   string
	AccountID string
	Timeline  string // the picture's URL
	// AccountTimeline is the chosen account's own picture, enrolled now.
	AccountTimeline string
	Simulation      *simulation
}

type simulation struct {
	Start    time.Time
	Status   states.Run
	Outcome  string
	Entries  []simEntry
	Problem  string // why there is no simulation
	Refused  bool   // refused or stopped (the definition limits, its budget): the page is a 422
	Accounts []store.Account
}

type simEntry struct {
	simulate.Entry
	Mails []simEmail
}

type simEmail struct {
	simulate.Email
	Preview string // the sandboxed frame's URL; "" without html
}

// editorPage shows a version's text to edit, beside its preview.
func (h *Handler) editorPage(c echo.Context) error {
	return h.showEditor(c, http.StatusOK, nil, nil)
}

// showEditor renders the editor; edited is the text as sent, when it was
// refused, with its errors.
func (h *Handler) showEditor(c echo.Context, status int, edited *string, errs []lineError) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	version, err := pathVersion(c)
	if err != nil {
		return err
	}
	v, err := h.app.Playbooks.Version(ctx, key, version)
	if err != nil {
		return catalogProblem(err)
	}
	d := editorData{Version: v, Source: v.Source, Fields: templates.Fields(), Segments: segmentsOf,
		Segment: c.QueryParam("segment"), AccountID: c.QueryParam("account")}
	if d.Source == "" {
		d.Source = string(v.Definition)
	}
	if edited != nil {
		d.Source = *edited
	}
	if errs == nil && edited == nil {
		// The stored text is checked against today's rules too: a draft may
		// predate a rule, or refer to a playbook since archived.
		if errs, err = h.checkSource(c, key, d.Source); err != nil {
			return err
		}
		d.Checked = len(errs) == 0
	}
	d.Errors, d.ErrorLines = errs, errorLines(errs)
	if !slices.Contains(segmentsOf, d.Segment) {
		d.Segment = segmentsOf[0]
	}
	d.Timeline = fmt.Sprintf("%s/timeline.svg?segment=%s", editorURL(key, version), url.QueryEscape(d.Segment))
	if d.Simulation, err = h.simulateFor(ctx, key, version, d.AccountID, time.Now().UTC().Truncate(time.Minute)); err != nil {
		return err
	}
	if d.AccountID != "" && d.Simulation.Problem == "" {
		d.AccountTimeline = fmt.Sprintf("%s/timeline.svg?account=%s", editorURL(key, version), url.QueryEscape(d.AccountID))
	}
	if d.Simulation.Refused && status < http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	title := fmt.Sprintf("%s version %d", key, version)
	return h.render(c, status, "editor", page{Title: title, Nav: "playbooks", Data: d})
}

// saveDraft checks the text and stores it as the playbook's next draft,
// through the catalog as the API's POST /v1/playbooks does: a version, once
// stored, is what runs and diffs refer to. A refused text comes back with
// every error at its line.
func (h *Handler) saveDraft(c echo.Context) error {
	key := c.Param("key")
	// The draft is the playbook's next version whichever it was edited
	// from, but the address is held to the range all the same.
	if _, err := pathVersion(c); err != nil {
		return err
	}
	source := normaliseNewlines(c.FormValue("source"))
	errs, err := h.checkSource(c, key, source)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.showEditor(c, http.StatusUnprocessableEntity, &source, errs)
	}
	v, err := h.app.Playbooks.Create(c.Request().Context(), []byte(source), "yaml")
	var perrs playbook.Errors
	if errors.As(err, &perrs) { // a rule that held a moment ago may not now
		return h.showEditor(c, http.StatusUnprocessableEntity, &source, lineErrors(perrs))
	}
	if err != nil {
		return err
	}
	return h.redirect(c, editorURL(v.Key, v.Version),
		fmt.Sprintf("Saved as draft version %d of %s. Preview it here; publish it from the playbook's page.", v.Version, v.Key))
}

// previewSamples are the accounts the simulation offers to pick from.
const previewSamples = 50

// simulateFor simulates the version for a stored account enrolled at
// start, as POST /v1/playbooks/{key}/simulate does; without an account it
// only lists some to choose from.
func (h *Handler) simulateFor(ctx context.Context, key string, version int, accountID string, start time.Time) (*simulation, error) {
	sim := &simulation{Start: start}
	var err error
	if sim.Accounts, err = h.app.Accounts.ListAccounts(ctx, store.AccountFilter{Limit: previewSamples}); err != nil {
		return nil, err
	}
	if accountID == "" {
		return sim, nil
	}
	def, _, err := h.app.Playbooks.Definition(ctx, key, version)
	if err != nil {
		return nil, catalogProblem(err)
	}
	in, err := h.app.SimulationFor(ctx, def, accountID, start)
	if errors.Is(err, store.ErrNotFound) {
		sim.Problem = "There is no account " + accountID + "."
		return sim, nil
	}
	if err != nil {
		return nil, err
	}
	if missing := simulate.MissingAnchor(def, in.Account); missing != "" {
		sim.Problem = fmt.Sprintf("%s has no %s, which this playbook counts from: set it on the account to simulate.", accountID, missing)
		return sim, nil
	}
	res, err := simulate.RunContext(ctx, in)
	if refused := simulationRefused(err); refused != nil {
		sim.Problem, sim.Refused = refused.Message.(string), true
		return sim, nil
	}
	if err != nil && ctx.Err() != nil {
		return nil, err // the client went away
	}
	if err != nil {
		sim.Problem = "The simulation could not run: " + err.Error() + "."
		return sim, nil
	}
	sim.Status, sim.Outcome = res.Status, res.Outcome
	for i, e := range simulate.WithWaits(start, res) {
		entry := simEntry{Entry: e}
		for _, m := range e.Emails {
			mail := simEmail{Email: m}
			if m.HTML != "" {
				mail.Preview = fmt.Sprintf("%s/email?account=%s&start=%s&entry=%d&to=%s", editorURL(key, version),
					url.QueryEscape(accountID), url.QueryEscape(start.Format(time.RFC3339)), i, url.QueryEscape(m.To))
			}
			entry.Mails = append(entry.Mails, mail)
		}
		sim.Entries = append(sim.Entries, entry)
	}
	return sim, nil
}

// simulatedEmail serves one simulated email's html for the editor's
// sandboxed frame, under previewCSP: the simulation runs again with the
// same start, so it is the email the page listed.
func (h *Handler) simulatedEmail(c echo.Context) error {
	ctx := c.Request().Context()
	version, err := pathVersion(c)
	if err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, c.QueryParam("start"))
	entry, errEntry := strconv.Atoi(c.QueryParam("entry"))
	if err != nil || errEntry != nil {
		return echo.ErrNotFound
	}
	def, _, err := h.app.Playbooks.Definition(ctx, c.Param("key"), version)
	if err != nil {
		return catalogProblem(err)
	}
	in, err := h.app.SimulationFor(ctx, def, c.QueryParam("account"), start)
	if errors.Is(err, store.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	res, err := simulate.RunContext(ctx, in)
	if refused := simulationRefused(err); refused != nil {
		return refused
	}
	if err != nil {
		return echo.ErrNotFound
	}
	timeline := simulate.WithWaits(start, res)
	if entry < 0 || entry >= len(timeline) {
		return echo.ErrNotFound
	}
	for _, m := range timeline[entry].Emails {
		if m.To == c.QueryParam("to") {
			return servePreview(c, m.HTML)
		}
	}
	return echo.ErrNotFound
}

// simulationRefused is the 422 of a simulation refused (a version over the
// definition limits, stored before a limit existed) or stopped (its
// budget spent), saying why; nil for any other error.
func simulationRefused(err error) *echo.HTTPError {
	switch {
	case errors.Is(err, simulate.ErrOverLimits):
		msg := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "simulate: "), "\n", "; ")
		return echo.NewHTTPError(http.StatusUnprocessableEntity,
			"This version cannot be simulated, and no run can start from it: "+msg+". Save a version within the limits.")
	case errors.Is(err, simulate.ErrBudget):
		msg := err.Error()
		return echo.NewHTTPError(http.StatusUnprocessableEntity, strings.ToUpper(msg[:1])+msg[1:]+".")
	}
	return nil
}

// servePreview serves an email's html on its own, for a sandboxed iframe.
func servePreview(c echo.Context, html string) error {
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", previewCSP)
	hdr.Set("Referrer-Policy", "no-referrer")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", []byte(html))
}

// timelineSVG draws the version's simulated run for a made-up account of
// the segment, enrolled on a fixed Monday so the picture is stable, as
// GET /v1/playbooks/{key}/timeline.svg does.
func (h *Handler) timelineSVG(c echo.Context) error {
	version, err := pathVersion(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	def, v, err := h.app.Playbooks.Definition(ctx, c.Param("key"), version)
	if err != nil {
		return catalogProblem(err)
	}
	if id := c.QueryParam("account"); id != "" {
		// The account's own timeline, enrolled now, on its calendar.
		in, err := h.app.SimulationFor(ctx, def, id, time.Now().UTC().Truncate(time.Minute))
		if errors.Is(err, store.ErrNotFound) {
			return echo.ErrNotFound
		}
		if err != nil {
			return err
		}
		if missing := simulate.MissingAnchor(def, in.Account); missing != "" {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "The account has no "+missing+", which this playbook counts from.")
		}
		title := fmt.Sprintf("%s (v%d) — %s (%s, %s) if enrolled now", def.Name, v, in.AccountName, id, in.Account.Segment)
		return drawTimeline(c, title, in, simulate.AxisDates)
	}
	segment := c.QueryParam("segment")
	if !slices.Contains(segmentsOf, segment) {
		segment = segmentsOf[0]
	}
	in := simulate.Sample(def, segment, time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	return drawTimeline(c, fmt.Sprintf("%s (v%d) — %s, day 0 = enrolment", def.Name, v, segment), in, simulate.AxisDays)
}

func drawTimeline(c echo.Context, title string, in simulate.Input, axis simulate.Axis) error {
	res, err := simulate.RunContext(c.Request().Context(), in)
	if refused := simulationRefused(err); refused != nil {
		return refused
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/svg+xml", []byte(simulate.SVG(title, in, res, axis)))
}
