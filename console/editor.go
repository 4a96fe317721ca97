package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
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
	// Unsaved: the preview is of the text in the text area, as posted,
	// not of the stored version (nothing was stored).
	Unsaved bool
	// The preview: the timeline of a segment's made-up account, and a
	// simulation for a real account.
	Segments  []string
	Segment   string
	AccountID string
	Timeline  string // the picture's URL
	// AccountTimeline is the chosen account's own picture, enrolled now.
	AccountTimeline string
	// The unsaved text's pictures, drawn into the page: there is no stored
	// version for the picture's route to draw ("" when it cannot be drawn).
	TimelineSVG, AccountTimelineSVG template.HTML
	// TimelineMarks are the segment picture's steps in words, under it: its
	// tooltips for screens that cannot hover, and for screen readers.
	TimelineMarks []simulate.Mark
	Simulation    *simulation
}

// editorState is the text the editor shows instead of the stored
// version's: as sent, with its errors, and whether it is previewed.
type editorState struct {
	source  string
	errs    []lineError
	def     *playbook.Definition // the text's definition, when it holds
	preview bool
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
	Preview string // the sandboxed frame's URL; "" without html or unsaved
	// Inline is the html of an unsaved text's email, shown in a sandboxed
	// frame's srcdoc: there is no stored version for a route to simulate.
	Inline string
}

// editorPage shows a version's text to edit, beside its preview.
func (h *Handler) editorPage(c echo.Context) error {
	return h.showEditor(c, http.StatusOK, nil)
}

// previewSource simulates the text in the editor as posted, without
// storing it: its errors at their lines, or its timeline and, for an
// account, its run with every email.
func (h *Handler) previewSource(c echo.Context) error {
	key := c.Param("key")
	if _, err := pathVersion(c); err != nil {
		return err
	}
	source := normaliseNewlines(c.FormValue("source"))
	def, errs, err := h.checkedDefinition(c, key, source)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	c.Response().Header().Set("Content-Security-Policy", unsavedPreviewCSP)
	return h.showEditor(c, status, &editorState{source: source, errs: errs, def: def, preview: true})
}

// unsavedPreviewCSP is pageCSP with what the unsaved text's emails need:
// they are shown in sandboxed frames' srcdoc (no stored version for a
// route to serve them from, under previewCSP), and such a frame keeps its
// page's policy; so their inline styles, and their https images as
// previewCSP allows them, are allowed here. Scripts stay the console's
// own, and the frames are sandboxed (no script, no same-origin).
const unsavedPreviewCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; " +
	"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// showEditor renders the editor: the stored version, or (edited) the text
// as sent, refused with its errors or previewed.
func (h *Handler) showEditor(c echo.Context, status int, edited *editorState) error {
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
	d := editorData{Version: v, Source: v.Source, Fields: h.app.TemplateFields(), Segments: segmentsOf,
		Segment: c.FormValue("segment"), AccountID: c.FormValue("account")}
	if d.Source == "" {
		d.Source = string(v.Definition)
	}
	var errs []lineError
	if edited != nil {
		d.Source, errs, d.Unsaved = edited.source, edited.errs, edited.preview
		d.Checked = edited.preview && len(errs) == 0
	} else {
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
	start := time.Now().UTC().Truncate(time.Minute)
	switch {
	case edited != nil && !edited.preview:
		// A refused save: the text is not what is stored, so no preview of it.
		d.Simulation = &simulation{Start: start}
		if d.Simulation.Accounts, err = h.previewAccounts(ctx); err != nil {
			return err
		}
	case edited != nil && edited.def == nil:
		d.Simulation = &simulation{Start: start, Problem: "Fix the errors to preview this text."}
		if d.Simulation.Accounts, err = h.previewAccounts(ctx); err != nil {
			return err
		}
	case edited != nil:
		if d.Simulation, err = h.simulateDef(ctx, edited.def, d.AccountID, start, nil); err != nil {
			return err
		}
		if d.TimelineSVG, d.TimelineMarks, err = inlineTimeline(ctx, edited.def.Name+" (unsaved) — "+d.Segment+", day 0 = enrolment",
			simulate.Sample(edited.def, d.Segment, timelineStart), simulate.AxisDays); err != nil {
			return err
		}
		if d.AccountID != "" && d.Simulation.Problem == "" {
			in, err := h.app.SimulationFor(ctx, edited.def, d.AccountID, start)
			if err != nil {
				return err
			}
			title := fmt.Sprintf("%s (unsaved) — %s (%s, %s) if enrolled now", edited.def.Name, in.AccountName, d.AccountID, in.Account.Segment)
			if d.AccountTimelineSVG, _, err = inlineTimeline(ctx, title, in, simulate.AxisDates); err != nil {
				return err
			}
		}
	default:
		d.Timeline = fmt.Sprintf("%s/timeline.svg?segment=%s", editorURL(key, version), url.QueryEscape(d.Segment))
		if d.Simulation, err = h.simulateFor(ctx, key, version, d.AccountID, start); err != nil {
			return err
		}
		if d.TimelineMarks, err = h.segmentMarks(ctx, key, version, d.Segment); err != nil {
			return err
		}
		if d.AccountID != "" && d.Simulation.Problem == "" {
			d.AccountTimeline = fmt.Sprintf("%s/timeline.svg?account=%s", editorURL(key, version), url.QueryEscape(d.AccountID))
		}
	}
	if d.Simulation.Refused && status < http.StatusBadRequest {
		status = http.StatusUnprocessableEntity
	}
	title := fmt.Sprintf("%s version %d", key, version)
	if d.Unsaved {
		title = fmt.Sprintf("%s version %d: preview of unsaved text", key, version)
	}
	return h.render(c, status, "editor", page{Title: title, Nav: "playbooks", Data: d})
}

// timelineStart is the made-up account's enrolment: a fixed Monday, so the
// picture is stable.
var timelineStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// inlineTimeline draws an unsaved text's timeline into the page: nothing
// is stored for the picture's route to draw. simulate.SVG escapes every
// text it writes and styles with attributes only (the page's policy allows
// no inline style); inline, its marks' titles show on hover. "" when the
// simulation is refused (the page says why).
func inlineTimeline(ctx context.Context, title string, in simulate.Input, axis simulate.Axis) (template.HTML, []simulate.Mark, error) {
	res, err := simulate.RunContext(ctx, in)
	if simulationRefused(err) != nil {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	return template.HTML(simulate.SVG(title, in, res, axis)), simulate.Marks(in, res, axis), nil //nolint:gosec // generated and escaped by simulate.SVG
}

// segmentMarks are the stored version's segment picture in words: the same
// simulation as its timeline.svg, listed (nil when it is refused; the
// picture says why).
func (h *Handler) segmentMarks(ctx context.Context, key string, version int, segment string) ([]simulate.Mark, error) {
	def, _, err := h.app.Playbooks.Definition(ctx, key, version)
	if err != nil {
		return nil, catalogProblem(err)
	}
	in := simulate.Sample(def, segment, timelineStart)
	res, err := simulate.RunContext(ctx, in)
	if simulationRefused(err) != nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return simulate.Marks(in, res, simulate.AxisDays), nil
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
		return h.showEditor(c, http.StatusUnprocessableEntity, &editorState{source: source, errs: errs})
	}
	v, replaced, err := h.app.Playbooks.SaveDraft(c.Request().Context(), []byte(source), "yaml")
	var perrs playbook.Errors
	if errors.As(err, &perrs) { // a rule that held a moment ago may not now
		return h.showEditor(c, http.StatusUnprocessableEntity, &editorState{source: source, errs: lineErrors(perrs)})
	}
	if err != nil {
		return err
	}
	saved := fmt.Sprintf("Saved as draft version %d of %s.", v.Version, v.Key)
	if replaced {
		saved = fmt.Sprintf("Saved draft version %d of %s (your saves replace the latest draft until it is published).", v.Version, v.Key)
	}
	to := editorURL(v.Key, v.Version)
	if q := previewQuery(c); q != "" {
		to += "?" + q
	}
	return h.redirect(c, to, saved+" Publish it from the playbook's page.")
}

// previewQuery keeps the preview's segment and account across a save.
func previewQuery(c echo.Context) string {
	q := url.Values{}
	for _, name := range []string{"segment", "account"} {
		if v := c.FormValue(name); v != "" {
			q.Set(name, v)
		}
	}
	return q.Encode()
}

// previewSamples are the accounts the simulation offers to pick from.
const previewSamples = 50

// simulateFor simulates the version for a stored account enrolled at
// start, as POST /v1/playbooks/{key}/simulate does; without an account it
// only lists some to choose from.
func (h *Handler) simulateFor(ctx context.Context, key string, version int, accountID string, start time.Time) (*simulation, error) {
	if accountID == "" {
		return h.simulateDef(ctx, nil, "", start, nil)
	}
	def, _, err := h.app.Playbooks.Definition(ctx, key, version)
	if err != nil {
		return nil, catalogProblem(err)
	}
	return h.simulateDef(ctx, def, accountID, start, func(i int, to string) string {
		return fmt.Sprintf("%s/email?account=%s&start=%s&entry=%d&to=%s", editorURL(key, version),
			url.QueryEscape(accountID), url.QueryEscape(start.Format(time.RFC3339)), i, url.QueryEscape(to))
	})
}

func (h *Handler) previewAccounts(ctx context.Context) ([]store.Account, error) {
	return h.app.Accounts.ListAccounts(ctx, store.AccountFilter{Limit: previewSamples})
}

// simulateDef simulates a definition for a stored account; emailURL is
// where the stored version's route serves an email (nil: the unsaved
// text's emails travel in the page, for a frame's srcdoc).
func (h *Handler) simulateDef(ctx context.Context, def *playbook.Definition, accountID string, start time.Time,
	emailURL func(entry int, to string) string) (*simulation, error) {
	sim := &simulation{Start: start}
	var err error
	if sim.Accounts, err = h.previewAccounts(ctx); err != nil {
		return nil, err
	}
	if accountID == "" {
		return sim, nil
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
			switch {
			case m.HTML == "":
			case emailURL != nil:
				mail.Preview = emailURL(i, m.To)
			default:
				mail.Inline = m.HTML
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
	in := simulate.Sample(def, segment, timelineStart)
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
