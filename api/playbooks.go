package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// definitionFromBody reads a YAML or JSON definition, parses and validates it,
// and checks its start_playbook references against the published playbooks.
func (h *handlers) definitionFromBody(c echo.Context) (*playbook.Definition, string, string, error) {
	format, err := definitionFormat(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil {
		return nil, "", "", err
	}
	raw, err := io.ReadAll(c.Request().Body)
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, "", "", problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit))
	}
	if err != nil {
		return nil, "", "", problem(http.StatusBadRequest, "the body could not be read")
	}
	def, err := playbook.Parse(raw, h.playbookOptions)
	var perrs playbook.Errors
	if errors.As(err, &perrs) {
		return nil, "", "", definitionProblem(perrs)
	}
	if err != nil {
		return nil, "", "", err
	}
	starts, err := h.publishedStarts(c)
	if err != nil {
		return nil, "", "", err
	}
	if err := playbook.CheckStarts(def, starts); errors.As(err, &perrs) {
		return nil, "", "", definitionProblem(playbook.Locate(raw, perrs))
	}
	return def, string(raw), format, nil
}

func definitionFormat(contentType string) (string, error) {
	if contentType == "" {
		return "yaml", nil
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

func definitionProblem(errs playbook.Errors) *Problem {
	out := make([]FieldError, len(errs))
	for i, e := range errs {
		field := e.Path
		if field == "" {
			field = "body"
		}
		out[i] = FieldError{Field: field, Line: e.Line, Message: e.Message}
	}
	p := invalid(out)
	p.Detail = fmt.Sprintf("the playbook definition has %d error(s)", len(out))
	if p.ErrorCount > 0 {
		p.Detail += fmt.Sprintf("; the first %d are listed", len(p.Errors))
	}
	return p
}

func (h *handlers) publishedStarts(c echo.Context) (map[string][]string, error) {
	defs, err := h.store.PublishedDefinitions(c.Request().Context())
	if err != nil {
		return nil, err
	}
	starts := make(map[string][]string, len(defs))
	for key, raw := range defs {
		var d playbook.Definition
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("decode published playbook %s: %w", key, err)
		}
		starts[key] = d.StartedKeys()
	}
	return starts, nil
}

func (h *handlers) validatePlaybook(c echo.Context) error {
	def, _, _, err := h.definitionFromBody(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "key": def.Key, "steps": len(def.Steps)})
}

func (h *handlers) createPlaybook(c echo.Context) error {
	def, source, format, err := h.definitionFromBody(c)
	if err != nil {
		return err
	}
	canonical, err := json.Marshal(def)
	if err != nil {
		return err
	}
	v, err := h.store.CreatePlaybookVersion(c.Request().Context(), store.NewPlaybookVersion{
		Key: def.Key, Name: def.Name, Definition: canonical, Source: source, SourceFormat: format,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/v1/playbooks/%s?version=%d", v.Key, v.Version))
	return c.JSON(http.StatusCreated, v)
}

func (h *handlers) listPlaybooks(c echo.Context) error {
	pg, after, err := pageAfter[string](c)
	if err != nil {
		return err
	}
	summaries, err := h.store.ListPlaybooks(c.Request().Context(), after, pg.limit+1)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pageOf(pg, summaries, func(p store.PlaybookSummary) any { return p.Key }))
}

func (h *handlers) getPlaybook(c echo.Context) error {
	version, err := queryVersion(c)
	if err != nil {
		return err
	}
	v, err := h.store.GetPlaybookVersion(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return notFoundAs(err, "playbook version")
	}
	return c.JSON(http.StatusOK, v)
}

func (h *handlers) publishPlaybook(c echo.Context) error {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil || version < 1 || version > math.MaxInt32 {
		return problem(http.StatusBadRequest, "the path has an invalid version",
			FieldError{Field: "version", Message: "must be a whole number from 1 to 2147483647"})
	}
	if err := h.stillValid(c, version); err != nil {
		return err
	}
	v, err := h.store.PublishPlaybookVersion(c.Request().Context(), c.Param("key"), version)
	if errors.Is(err, store.ErrArchived) {
		return problem(http.StatusConflict, "version "+strconv.Itoa(version)+" is archived; publish a newer version instead")
	}
	if err != nil {
		return notFoundAs(err, "playbook version")
	}
	return c.JSON(http.StatusOK, v)
}

// stillValid refuses to publish a version stored before a rule of the
// language existed (the definition limits, the templates' type-check) and
// breaking it: its runs would be refused, or fail at the step.
func (h *handlers) stillValid(c echo.Context, version int) error {
	v, err := h.store.GetPlaybookVersion(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return notFoundAs(err, "playbook version")
	}
	var def playbook.Definition
	if err := json.Unmarshal(v.Definition, &def); err != nil {
		return fmt.Errorf("decode playbook %s v%d: %w", v.Key, v.Version, err)
	}
	err = def.Validate(h.playbookOptions)
	if err != nil && v.Source != "" {
		// Its source says where each error is, to the line in a template.
		if _, perr := playbook.Parse([]byte(v.Source), h.playbookOptions); perr != nil {
			err = perr
		}
	}
	var perrs playbook.Errors
	if errors.As(err, &perrs) {
		return definitionProblem(perrs)
	}
	return err
}

func (h *handlers) templateFields(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"items": templates.Fields()})
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
