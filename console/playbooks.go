package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

// The CS ops pages: the playbooks, a version's editor with its preview,
// the diff between two versions, publishing and duplicating. They are for
// team.Designers, as writing playbooks is in the API; a CSM runs playbooks
// and reads a run's steps on its run page, so the design pages are not
// theirs (a 403 page, and no menu entry).
const designAdvice = "The playbook pages are for CS ops and admins: they design, preview and publish playbooks."

// listed is how many playbooks a page of the list shows.
const listed = 50

type playbookListData struct {
	Playbooks []app.PlaybookRuns
	Next      string // the next page's URL ("": the last page)
}

// playbookList lists the playbooks: published version, drafts, live runs
// and how ended runs came out.
func (h *Handler) playbookList(c echo.Context) error {
	rows, err := h.app.PlaybooksWithRuns(c.Request().Context(), c.QueryParam("after"), listed+1)
	if err != nil {
		return err
	}
	d := playbookListData{Playbooks: rows}
	if len(rows) > listed {
		d.Playbooks = rows[:listed]
		d.Next = Prefix + "/playbooks?" + url.Values{"after": {rows[listed-1].Key}}.Encode()
	}
	return h.render(c, http.StatusOK, "playbooks", page{Title: "Playbooks", Nav: "playbooks", Data: d})
}

type playbookData struct {
	Key, Name   string
	Versions    []app.VersionRuns
	Published   int // 0 when none is
	From, To    int // the diff form's defaults
	Duplicate   duplicateForm
	AnalyticsAt string
	RetiredAt   *time.Time // nil: it takes new enrolments
	// MoveHere is the move page of the published version, when other
	// versions have live runs ("": none has).
	MoveHere string
}

type duplicateForm struct {
	Key, Name, Error string
}

// playbookPage shows a playbook's versions with their runs, and what ops
// do with them: edit, compare, publish, duplicate.
func (h *Handler) playbookPage(c echo.Context) error {
	return h.showPlaybook(c, http.StatusOK, duplicateForm{})
}

func (h *Handler) showPlaybook(c echo.Context, status int, dup duplicateForm) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	vs, err := h.app.VersionsWithRuns(ctx, key)
	if err != nil {
		return catalogProblem(err)
	}
	d := playbookData{Key: key, Name: vs[0].Name, Duplicate: dup, Versions: vs,
		AnalyticsAt: Prefix + "/playbooks/" + url.PathEscape(key) + "/analytics"}
	live := false
	for _, v := range vs {
		if v.Status == states.VersionPublished {
			d.Published = v.Version
		} else if v.Live > 0 {
			live = true
		}
	}
	if live && d.Published != 0 {
		d.MoveHere = moveURL(key, d.Published, 0)
	}
	if d.RetiredAt, err = h.app.Playbooks.RetiredAt(ctx, key); err != nil {
		return err
	}
	d.To = vs[0].Version
	d.From = d.To
	if len(vs) > 1 {
		d.From = vs[1].Version
	}
	if d.Duplicate.Key == "" {
		d.Duplicate.Key, d.Duplicate.Name = key+"-copy", "Copy of "+d.Name
	}
	return h.render(c, status, "playbook", page{Title: "Playbook " + key, Nav: "playbooks", Data: d})
}

// catalogProblem turns what the catalog did not find into a 404 page.
func catalogProblem(err error) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such playbook or version. The playbook list has them all.")
	}
	return err
}

// pathVersion reads the :version of the path.
func pathVersion(c echo.Context) (int, error) {
	return versionFrom("The path parameter", "version", c.Param("version"))
}

// duplicatePlaybook copies a version as the first draft of a new playbook,
// through the catalog's rules, and opens it in the editor.
func (h *Handler) duplicatePlaybook(c echo.Context) error {
	form := duplicateForm{Key: strings.TrimSpace(c.FormValue("new_key")), Name: strings.TrimSpace(c.FormValue("new_name"))}
	// The form's list always sends one; the API's "left out" is not offered.
	version, err := versionFrom("The form field", "version", c.FormValue("version"))
	if err != nil {
		return err
	}
	if form.Key == "" || form.Name == "" {
		form.Error = "Give the new playbook a key and a name."
		return h.showPlaybook(c, http.StatusUnprocessableEntity, form)
	}
	v, err := h.app.Playbooks.Duplicate(c.Request().Context(), c.Param("key"), version, form.Key, form.Name)
	var perrs playbook.Errors
	switch {
	case errors.Is(err, catalog.ErrKeyTaken):
		form.Error = "A playbook with the key " + form.Key + " exists already: choose another key."
		return h.showPlaybook(c, http.StatusConflict, form)
	case errors.As(err, &perrs):
		msgs := make([]string, len(perrs))
		for i, e := range perrs {
			msgs[i] = e.String()
		}
		form.Error = "The copy is not a valid playbook: " + strings.Join(msgs, "; ")
		return h.showPlaybook(c, http.StatusUnprocessableEntity, form)
	case err != nil:
		return catalogProblem(err)
	}
	return h.redirect(c, editorURL(v.Key, v.Version),
		fmt.Sprintf("Duplicated %s as %s, draft version %d: edit it, preview it, publish it when it is ready.", c.Param("key"), v.Key, v.Version))
}

func editorURL(key string, version int) string {
	return fmt.Sprintf("%s/playbooks/%s/versions/%d", Prefix, url.PathEscape(key), version)
}

type diffData struct {
	catalog.Diff
	Versions []int
	Added    int
	Removed  int
}

// playbookDiff compares two versions: the steps added, removed and
// changed, and the text line by line.
func (h *Handler) playbookDiff(c echo.Context) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	var versions [2]int
	for i, name := range []string{"from", "to"} {
		n, ok := versionNumber(c.QueryParam(name))
		if !ok {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
				"The query parameter %s must be a version number from 1 to %d: choose two versions to compare on the playbook's page.", name, maxVersion))
		}
		versions[i] = n
	}
	from, to := versions[0], versions[1]
	diff, err := h.app.Playbooks.Diff(ctx, key, from, to)
	if err != nil {
		return catalogProblem(err)
	}
	vs, err := h.app.Playbooks.Versions(ctx, key)
	if err != nil {
		return catalogProblem(err)
	}
	d := diffData{Diff: diff}
	for _, v := range vs {
		d.Versions = append(d.Versions, v.Version)
	}
	for _, l := range diff.Lines {
		switch l.Op {
		case "+":
			d.Added++
		case "-":
			d.Removed++
		}
	}
	title := fmt.Sprintf("%s: version %d against %d", key, to, from)
	return h.render(c, http.StatusOK, "diff", page{Title: title, Nav: "playbooks", Data: d})
}

type publishData struct {
	Version   store.PlaybookVersion
	Published int // the version it replaces; 0 when none
	Staying   int // live runs that keep their versions
	ByVersion []versionLive
	// SharedTrigger are the published playbooks its trigger also starts.
	SharedTrigger []string
	Error         string
}

type versionLive struct{ Version, Live int }

// publishPage asks before publishing: how many live runs stay on the
// versions they started with, and that new runs take this one.
func (h *Handler) publishPage(c echo.Context) error {
	return h.showPublish(c, http.StatusOK, "")
}

func (h *Handler) showPublish(c echo.Context, status int, problem string) error {
	ctx := c.Request().Context()
	key := c.Param("key")
	version, err := pathVersion(c)
	if err != nil {
		return err
	}
	vs, err := h.app.VersionsWithRuns(ctx, key)
	if err != nil {
		return catalogProblem(err)
	}
	d := publishData{Error: problem}
	found := false
	for _, v := range vs {
		if v.Version == version {
			d.Version, found = v.PlaybookVersion, true
		}
		if v.Status == states.VersionPublished {
			d.Published = v.Version
		}
		if v.Live > 0 {
			d.Staying += v.Live
			d.ByVersion = append(d.ByVersion, versionLive{Version: v.Version, Live: v.Live})
		}
	}
	if !found {
		return catalogProblem(catalog.ErrNotFound)
	}
	warnings, err := h.app.Playbooks.PublishWarnings(ctx, key, version)
	if err != nil {
		return err
	}
	for _, w := range warnings { // the API's publish answer carries the same
		if w.Code == catalog.WarningSharedTrigger {
			d.SharedTrigger = w.Playbooks
		}
	}
	title := fmt.Sprintf("Publish %s version %d", key, version)
	return h.render(c, status, "publish", page{Title: title, Nav: "playbooks", Data: d})
}

// publishVersion publishes through the catalog, which holds the version to
// today's rules first.
func (h *Handler) publishVersion(c echo.Context) error {
	key := c.Param("key")
	version, err := pathVersion(c)
	if err != nil {
		return err
	}
	published, err := h.app.Publish(c.Request().Context(), key, version)
	var perrs playbook.Errors
	switch {
	case errors.Is(err, catalog.ErrArchived):
		return h.showPublish(c, http.StatusConflict, "Not published: "+err.Error()+".")
	case errors.As(err, &perrs):
		return h.showPublish(c, http.StatusUnprocessableEntity,
			fmt.Sprintf("Not published: the version breaks %d rule(s) of the language; open it in the editor to see them at their lines.", len(perrs)))
	case err != nil:
		return catalogProblem(err)
	}
	flash := fmt.Sprintf("Published %s version %d: new runs take it; live runs keep the version they started with.",
		published.Version.Key, published.Version.Version)
	for _, w := range published.Warnings {
		flash += " Note: " + w.Message + "."
	}
	return h.redirect(c, Prefix+"/playbooks/"+url.PathEscape(key), flash)
}

// lineError is a definition error where the editor shows it.
type lineError struct {
	Line          int
	Path, Message string
}

func lineErrors(errs playbook.Errors) []lineError {
	out := make([]lineError, len(errs))
	for i, e := range errs {
		out[i] = lineError{Line: e.Line, Path: e.Path, Message: e.Message}
	}
	return out
}

// errorLines lists the lines with errors, for the editor's gutter.
func errorLines(errs []lineError) string {
	var lines []string
	for _, e := range errs {
		if e.Line > 0 {
			lines = append(lines, strconv.Itoa(e.Line))
		}
	}
	return strings.Join(lines, " ")
}

// checkSource validates a definition for the editor of key: every error of
// the language at its line, and a key other than the page's (the editor
// saves drafts of its own playbook; a new one starts as a duplicate).
func (h *Handler) checkSource(c echo.Context, key string, source string) ([]lineError, error) {
	_, errs, err := h.checkedDefinition(c, key, source)
	return errs, err
}

// checkedDefinition is checkSource with the definition, when it holds.
func (h *Handler) checkedDefinition(c echo.Context, key string, source string) (*playbook.Definition, []lineError, error) {
	def, err := h.app.Playbooks.Validate(c.Request().Context(), []byte(source))
	var perrs playbook.Errors
	if errors.As(err, &perrs) {
		return nil, lineErrors(perrs), nil
	}
	if err != nil {
		return nil, nil, err
	}
	if def.Key != key {
		msg := fmt.Sprintf("this editor saves drafts of %s; to start another playbook, use New playbook or duplicate this one from its page", key)
		return nil, lineErrors(playbook.Locate([]byte(source), playbook.Errors{{Path: "key", Message: msg}})), nil
	}
	return def, nil, nil
}

// validateSource answers the editor's as-you-type check: the errors with
// their lines, as JSON (the page works without it: saving checks too).
func (h *Handler) validateSource(c echo.Context) error {
	errs, err := h.checkSource(c, c.Param("key"), normaliseNewlines(c.FormValue("source")))
	if err != nil {
		return err
	}
	type jsonError struct {
		Line    int    `json:"line"`
		Path    string `json:"path"`
		Message string `json:"message"`
		// The language reference's entry the error is about, and its name.
		Reference      string `json:"reference"`
		ReferenceTitle string `json:"reference_title"`
	}
	out := make([]jsonError, len(errs))
	for i, e := range errs {
		ref := errorReference(e.Path)
		out[i] = jsonError{Line: e.Line, Path: e.Path, Message: e.Message, Reference: ref.URL, ReferenceTitle: ref.Title}
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": len(errs) == 0, "errors": out})
}

// segmentsOf are the segments a timeline may be drawn for.
var segmentsOf = accounts.Segments
