package api

import (
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
	p := invalid(out)
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
	def, err := h.playbooks.Validate(c.Request().Context(), raw)
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
	v, err := h.playbooks.Create(c.Request().Context(), raw, format)
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
	summaries, err := h.playbooks.List(c.Request().Context(), after, pg.limit+1)
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
	v, err := h.playbooks.Version(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *handlers) publishPlaybook(c echo.Context) error {
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil || version < 1 || version > math.MaxInt32 {
		return problem(http.StatusBadRequest, "the path has an invalid version",
			FieldError{Field: "version", Message: "must be a whole number from 1 to 2147483647"})
	}
	v, err := h.playbooks.Publish(c.Request().Context(), c.Param("key"), version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h *handlers) playbookSchema(c echo.Context) error {
	return c.JSON(http.StatusOK, playbook.Schema())
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
