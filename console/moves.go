package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// Moving live runs to another version (issue 28): the page previews the
// move run by run (app.PreviewMove, a dry run: nothing changes on GET) and
// its form moves the runs at a safe point (app.MoveRunsTo); the others are
// named with the reason and stay. For team.Designers, under /playbooks.

func (h *Handler) moveRoutes(design *echo.Group) {
	design.GET("/:key/versions/:version/move", h.movePage)
	design.POST("/:key/versions/:version/move", h.moveRuns)
}

type moveData struct {
	Key, Name string
	To        int
	From      int // 0: no version has live runs to move
	// Sources are the versions with live runs other than To: the from list.
	Sources  []app.VersionRuns
	Segment  string
	Segments []string
	Accounts string // as typed: ids separated by commas
	// Plan is the preview, or after the form the outcome (Done).
	Plan *app.MovePlan
	Runs []moveRunView
	Done bool
}

// moveRunView is one run's part of the move, its step changes in words.
type moveRunView struct {
	app.RunMove
	Rows []changeRow
	// Unchanged counts the steps the move leaves as they were.
	Unchanged int
}

type changeRow struct {
	Step, Name string
	Words      string // what the move does to the step
	Detail     string // what the step does, when it says more
}

// moveScope is the move a request asks for, read from get (the query on
// the page, the form on the move), and the page's data so far.
func (h *Handler) moveScope(c echo.Context, where string, get func(string) string) (app.MoveScope, moveData, error) {
	key := c.Param("key")
	to, err := pathVersion(c)
	if err != nil {
		return app.MoveScope{}, moveData{}, err
	}
	vs, err := h.app.VersionsWithRuns(c.Request().Context(), key)
	if err != nil {
		return app.MoveScope{}, moveData{}, catalogProblem(err)
	}
	d := moveData{Key: key, Name: vs[0].Name, To: to, Segments: segmentsOf}
	target := slices.IndexFunc(vs, func(v app.VersionRuns) bool { return v.Version == to })
	if target < 0 {
		return app.MoveScope{}, d, catalogProblem(catalog.ErrNotFound)
	}
	if vs[target].Status == states.VersionDraft {
		return app.MoveScope{}, d, echo.NewHTTPError(http.StatusConflict, fmt.Sprintf(
			"Version %d of %s is a draft: runs move only to a published or archived version. Publish it first, then move runs to it.", to, key))
	}
	for _, v := range vs {
		if v.Version != to && v.Live > 0 {
			d.Sources = append(d.Sources, v)
		}
	}
	if raw := get("from"); raw != "" || where == "form field" {
		if d.From, err = versionFrom("The "+where, "from", raw); err != nil {
			return app.MoveScope{}, d, err
		}
		if !slices.ContainsFunc(vs, func(v app.VersionRuns) bool { return v.Version == d.From }) {
			return app.MoveScope{}, d, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf(
				"%s has no version %d: choose a version with live runs from the list.", key, d.From))
		}
	} else {
		d.From = defaultMoveSource(d.Sources, to)
	}
	d.Segment = strings.TrimSpace(get("segment"))
	if d.Segment != "" && !slices.Contains(accounts.Segments, d.Segment) {
		return app.MoveScope{}, d, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
			"The %s segment must be one of %s, or left empty for every segment.", where, strings.Join(accounts.Segments, ", ")))
	}
	d.Accounts = strings.TrimSpace(get("accounts"))
	ids, err := accountIDs(where, d.Accounts)
	if err != nil {
		return app.MoveScope{}, d, err
	}
	return app.MoveScope{Key: key, From: d.From, To: to, Segment: d.Segment, AccountIDs: ids}, d, nil
}

// defaultMoveSource is the version whose runs the page offers to move
// first: the newest published or archived one before to with live runs,
// else the newest with live runs (0: none has).
func defaultMoveSource(sources []app.VersionRuns, to int) int {
	for _, v := range sources { // newest first
		if v.Version < to && v.Status != states.VersionDraft {
			return v.Version
		}
	}
	if len(sources) > 0 {
		return sources[0].Version
	}
	return 0
}

// accountIDs reads the accounts field: ids separated by commas (or
// spaces), each once.
func accountIDs(where, raw string) ([]string, error) {
	var ids []string
	for _, id := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > app.MaxMoveAccounts {
		return nil, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
			"The %s accounts names %d accounts; a move takes at most %d: choose by segment instead, or move them in parts.",
			where, len(ids), app.MaxMoveAccounts))
	}
	return ids, nil
}

// movePage previews the move: run by run, whether it can move now and
// what the move changes for its steps. It changes nothing.
func (h *Handler) movePage(c echo.Context) error {
	sc, d, err := h.moveScope(c, "query parameter", c.QueryParam)
	if err != nil {
		return err
	}
	if d.From == 0 {
		return h.showMove(c, d)
	}
	plan, err := h.app.PreviewMove(c.Request().Context(), sc)
	if err != nil {
		return moveProblem(err)
	}
	return h.showMove(c, h.withPlan(c, d, plan))
}

// moveRuns moves the runs in the form's scope that are at a safe point and
// shows what became of each.
func (h *Handler) moveRuns(c echo.Context) error {
	sc, d, err := h.moveScope(c, "form field", c.FormValue)
	if err != nil {
		return err
	}
	plan, err := h.app.MoveRunsTo(c.Request().Context(), sc, current(c).Actor.Name())
	if err != nil {
		return moveProblem(err)
	}
	d = h.withPlan(c, d, plan)
	d.Done = true
	return h.showMove(c, d)
}

func (h *Handler) showMove(c echo.Context, d moveData) error {
	title := fmt.Sprintf("Move live runs of %s to version %d", d.Name, d.To)
	if d.From != 0 {
		title = fmt.Sprintf("Move live runs of %s from version %d to version %d", d.Name, d.From, d.To)
	}
	return h.render(c, http.StatusOK, "move", page{Title: title, Nav: "playbooks", Data: d})
}

// moveProblem turns what the application refuses into a 4xx page.
func moveProblem(err error) error {
	switch {
	case errors.Is(err, app.ErrSameVersion):
		return echo.NewHTTPError(http.StatusBadRequest, "The runs are on that version already: choose another version to move them from.")
	case errors.Is(err, app.ErrMovesUnavailable):
		return echo.NewHTTPError(http.StatusConflict, "Moving runs is not available here: this server cannot reach the runs' workflows.")
	case errors.Is(err, app.ErrDraftTarget):
		return echo.NewHTTPError(http.StatusConflict, "That version is a draft: publish it before moving runs to it.")
	}
	return catalogProblem(err)
}

// withPlan puts the plan on the page, each run's changes in words, with
// times in the viewer's zone.
func (h *Handler) withPlan(c echo.Context, d moveData, plan app.MovePlan) moveData {
	when := timeFuncs(h.zone(c))["datetime"].(func(time.Time) string)
	d.Plan = &plan
	d.Runs = make([]moveRunView, len(plan.Runs))
	for i, r := range plan.Runs {
		v := moveRunView{RunMove: r}
		for _, ch := range r.Changes {
			if ch.Change == app.ChangeUnchanged && ch.Step != "" {
				v.Unchanged++
				continue
			}
			words, detail := changeWords(ch, when)
			v.Rows = append(v.Rows, changeRow{Step: ch.Step, Name: ch.Name, Words: words, Detail: detail})
		}
		d.Runs[i] = v
	}
	return d
}

// changeWords says what a move does to a step, for people: what was done
// is not sent again, what the new version adds before the run's place
// does not run, and when what is left runs now.
func changeWords(ch app.StepChange, when func(time.Time) string) (words, detail string) {
	at := func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return when(*t)
	}
	switch ch.Change {
	case app.ChangeDone:
		words = "Done — not sent again"
		if ch.Was != nil {
			words = "Done on " + at(ch.Was) + " — not sent again"
		}
		if d := strings.TrimPrefix(ch.Detail, "done: "); d != "not done again" {
			detail = d
		}
		return words, detail
	case app.ChangeNotRun:
		return "Added before where this run is — will not run", ""
	case app.ChangeRuns:
		return "Will now run on " + at(ch.Will), ch.Detail
	case app.ChangeNoLonger:
		return "Will no longer run (was " + at(ch.Was) + ")", ch.Detail
	case app.ChangeMoves:
		return "Moves from " + at(ch.Was) + " to " + at(ch.Will), ch.Detail
	case app.ChangeChanges:
		return "Changes: " + ch.Detail, ""
	case app.ChangeBoth:
		return "Moves from " + at(ch.Was) + " to " + at(ch.Will) + " and changes: " + ch.Detail, ""
	case app.ChangeUnchanged:
		if ch.Step == "" { // the rest of the run could not be simulated
			return "Not known: " + ch.Detail, ""
		}
		return "Unchanged", ch.Detail
	}
	return strings.ReplaceAll(ch.Change, "_", " "), ch.Detail
}

// moveURL is the move page of a version, with its scope.
func moveURL(key string, to, from int) string {
	u := fmt.Sprintf("%s/playbooks/%s/versions/%d/move", Prefix, url.PathEscape(key), to)
	if from != 0 {
		u += "?from=" + strconv.Itoa(from)
	}
	return u
}

// movedEvent is a run_moved audit event in words' parts.
type movedEvent struct {
	From, To, By, ResumesAt string
	At                      time.Time
}

// moveEventOf reads a run_moved event's data (store.RecordRunMoved); the
// time is the event's own when the data has none.
func moveEventOf(e store.Event) movedEvent {
	m := movedEvent{From: dataText(e.Data["from_version"]), To: dataText(e.Data["to_version"]),
		By: dataText(e.Data["by"]), ResumesAt: dataText(e.Data["resumes_at"]), At: e.CreatedAt}
	if s, ok := e.Data["at"].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			m.At = t
		}
	}
	if m.By == "" {
		m.By = "someone"
	}
	return m
}

func dataText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
