package api

import (
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
)

// definitionBody reads a YAML or JSON definition and says which it is.
func definitionBody(c echo.Context) ([]byte, string, error) {
	format, err := definitionFormat(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, "", err
	}
	raw, err := io.ReadAll(c.Request().Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, "", problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit))
	}
	if err != nil {
		return nil, "", problem(http.StatusBadRequest, "the body could not be read")
	}
	return raw, format, nil
}

func definitionFormat(contentType string) (string, error) {
	if contentType == "" {
		// Named, so the edge checks of its kind apply (a JSON definition sent
		// as nothing would otherwise be read as YAML).
		return "", problem(http.StatusUnsupportedMediaType,
			"the definition has no Content-Type: send application/yaml or application/json")
	}
	mt, _, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
	case mt == echo.MIMEApplicationJSON:
		return "json", nil
	case mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml" || mt == "text/x-yaml" || mt == "text/plain":
		return "yaml", nil
	}
	return "", problem(http.StatusUnsupportedMediaType,
		fmt.Sprintf("send the definition as application/yaml or application/json, not %q", contentType))
}

// definitionProblem lists a definition's errors, with their lines.
func definitionProblem(errs playbook.Errors) *Problem {
	out := make([]FieldError, len(errs))
	for i, e := range errs {
		field := e.Path
		if field == "" {
			field = "body"
		}
		out[i] = FieldError{Field: field, Line: e.Line, Message: e.Message}
	}
	p := unprocessable(out)
	p.Detail = fmt.Sprintf("the playbook definition has %d error(s)", len(out))
	if p.ErrorCount > 0 {
		p.Detail += fmt.Sprintf("; the first %d are listed", len(p.Errors))
	}
	return p
}

func (h *handlers) validatePlaybook(c echo.Context) error {
	raw, _, err := definitionBody(c)
	if err != nil {
		return err
	}
	def, err := h.app.Playbooks.Validate(c.Request().Context(), raw)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "key": def.Key, "steps": len(def.Steps)})
}

func (h *handlers) createPlaybook(c echo.Context) error {
	raw, format, err := definitionBody(c)
	if err != nil {
		return err
	}
	v, err := h.app.Playbooks.Create(c.Request().Context(), raw, format)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/playbooks/%s?version=%d", v.Key, v.Version))
	return c.JSON(http.StatusCreated, playbookVersionResponse(v))
}

func (h *handlers) listPlaybooks(c echo.Context) error {
	pg, after, err := pageAfter[string](c)
	if err != nil {
		return err
	}
	summaries, err := h.app.Playbooks.List(c.Request().Context(), after, pg.limit+1)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, each(summaries, playbookSummaryResponse), func(p playbookSummaryJSON) any { return p.Key }))
}

func (h *handlers) getPlaybook(c echo.Context) error {
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	v, err := h.app.Playbooks.Version(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, playbookVersionResponse(v))
}

func (h *handlers) publishPlaybook(c echo.Context) error {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil || version < 1 || version > math.MaxInt32 {
		return problem(http.StatusBadRequest, "the path has an invalid version",
			FieldError{Field: "version", Message: "must be a whole number from 1 to 2147483647"})
	}
	ctx := c.Request().Context()
	published, err := h.app.Publish(ctx, c.Param("key"), version)
	if err != nil {
		return err
	}
	out := publishAnswer{playbookVersionJSON: playbookVersionResponse(published.Version), Warnings: []publishWarning{}}
	for _, w := range published.Warnings {
		out.Warnings = append(out.Warnings, publishWarning{Code: w.Code, Message: w.Message, Playbooks: w.Playbooks})
	}
	return c.JSON(http.StatusOK, out)
}

// publishAnswer is the published version with what publishing it does
// beyond itself (the console's publish page shows the same warnings).
type publishAnswer struct {
	playbookVersionJSON
	Warnings []publishWarning `json:"warnings"`
}

type publishWarning struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	Playbooks []string `json:"playbooks,omitempty"`
}

func (h *handlers) playbookSchema(c echo.Context) error {
	return c.JSON(http.StatusOK, playbook.Schema())
}

func (h *handlers) templateFields(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"items": h.app.TemplateFields()})
}

// queryVersion reads ?version=, 0 when absent.
func queryVersion(c echo.Context) (int, error) {
	v := c.QueryParam("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return 0, problem(http.StatusBadRequest, "the query has invalid parameters",
			FieldError{Field: "version", Message: "must be a whole number from 1 to 2147483647"})
	}
	return n, nil
}

// playbookVersionRuns is a version as the versions list shows it: without
// its definition, with its runs counted.
type playbookVersionRuns struct {
	Version     int               `json:"version"`
	Name        string            `json:"name"`
	Status      states.Version    `json:"status"`
	Builtin     bool              `json:"builtin"`
	CreatedAt   time.Time         `json:"created_at"`
	PublishedAt *time.Time        `json:"published_at"`
	Runs        []versionRunCount `json:"runs"`
}

type versionRunCount struct {
	Status  states.Run `json:"status"`
	Outcome string     `json:"outcome"`
	Runs    int        `json:"runs"`
}

// listPlaybookVersions pages a playbook's versions, newest first; the
// cursor is the last version of the page before.
func (h *handlers) listPlaybookVersions(c echo.Context) error {
	pg, before, err := pageAfter[int](c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	vs, err := h.app.VersionsWithRuns(ctx, c.Param("key"))
	if err != nil {
		return err
	}
	items := make([]playbookVersionRuns, 0, len(vs))
	for _, v := range vs {
		if before > 0 && v.Version >= before {
			continue
		}
		item := playbookVersionRuns{Version: v.Version, Name: v.Name, Status: v.Status, Builtin: v.Builtin,
			CreatedAt: v.CreatedAt, PublishedAt: v.PublishedAt, Runs: []versionRunCount{}}
		for _, rc := range v.Counts {
			item.Runs = append(item.Runs, versionRunCount{Status: rc.Status, Outcome: rc.Outcome, Runs: rc.Runs})
		}
		if items = append(items, item); len(items) > pg.limit {
			break
		}
	}
	return c.JSON(http.StatusOK, pageOf(pg, items, func(v playbookVersionRuns) any { return v.Version }))
}

func (h *handlers) diffPlaybookVersions(c echo.Context) error {
	q := queryFilter{c: c}
	q.only("from", "to")
	versions := map[string]int{}
	for _, name := range []string{"from", "to"} {
		n, err := strconv.Atoi(c.QueryParam(name))
		if err != nil || n < 1 || n > math.MaxInt32 {
			q.fe.add(name, "required: a version number from 1 to 2147483647")
		}
		versions[name] = n
	}
	if err := q.err(); err != nil {
		return err
	}
	d, err := h.app.Playbooks.Diff(c.Request().Context(), c.Param("key"), versions["from"], versions["to"])
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *handlers) duplicatePlaybook(c echo.Context) error {
	var req struct {
		Key     string `json:"key"`
		Name    string `json:"name"`
		Version int    `json:"version"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var fe fieldErrors
	if req.Key == "" {
		fe.add("key", "required: the new playbook's key")
	}
	if strings.TrimSpace(req.Name) == "" {
		fe.add("name", "required: the new playbook's name")
	}
	if req.Version < 0 || req.Version > math.MaxInt32 {
		fe.add("version", "must be a version number from 1 to 2147483647, or left out")
	}
	if err := fe.err(); err != nil {
		return err
	}
	v, err := h.app.Playbooks.Duplicate(c.Request().Context(), c.Param("key"), req.Version, req.Key, req.Name)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/playbooks/%s?version=%d", v.Key, v.Version))
	return c.JSON(http.StatusCreated, playbookVersionResponse(v))
}

// retirement is a playbook's answer to retiring and taking it back.
type retirement struct {
	Key       string     `json:"key"`
	RetiredAt *time.Time `json:"retired_at"`
}

// retirePlaybook stops new enrolments in a playbook; its live runs go on.
// Retiring a retired playbook again is a no-op that keeps its time.
func (h *handlers) retirePlaybook(c echo.Context) error {
	key := c.Param("key")
	at, err := h.app.Playbooks.Retire(c.Request().Context(), key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, retirement{Key: key, RetiredAt: &at})
}

// unretirePlaybook lets a retired playbook take new enrolments again.
func (h *handlers) unretirePlaybook(c echo.Context) error {
	key := c.Param("key")
	if err := h.app.Playbooks.Unretire(c.Request().Context(), key); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, retirement{Key: key})
}
