package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// and turns every decoding failure into a problem naming what is wrong.
func decodeJSON(c echo.Context, v any) error {
	req := c.Request()
	ct := req.Header.Get(echo.HeaderContentType)
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != echo.MIMEApplicationJSON {
			return problem(http.StatusUnsupportedMediaType, fmt.Sprintf("send application/json, not %q", ct))
		}
	}
	raw, err := io.ReadAll(req.Body)
	if err != nil {
		return decodeProblem(err)
	}
	if ct == "" && len(bytes.TrimSpace(raw)) > 0 {
		return problem(http.StatusUnsupportedMediaType, "the body has no Content-Type: send application/json")
	}
	// The edge checks again, whatever route or middleware brought the body
	// here: one walk, and no handler decodes what they would refuse.
	if p := checkJSONBody(raw); p != nil {
		return p
	}
	// null (or any non-object) would decode into the zero request silently.
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] != '{' {
		return problem(http.StatusBadRequest, "the body must be a JSON object",
			FieldError{Field: "body", Message: "must be an object"})
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem(http.StatusBadRequest, "the body must hold a single JSON object",
			FieldError{Field: "body", Message: "unexpected data after the JSON object"})
	}
	return nil
}

func decodeProblem(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, "the body is empty", FieldError{Field: "body", Message: "a JSON object is required"})
	case errors.As(err, &maxErr):
		return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxErr.Limit))
	case errors.As(err, &syntaxErr):
		return problem(http.StatusBadRequest, fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err),
			FieldError{Field: "body", Message: "malformed JSON"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "malformed JSON: the body ends too early",
			FieldError{Field: "body", Message: "malformed JSON"})
	case errors.As(err, &typeErr):
		field := jsonPath(typeErr.Field)
		return problem(http.StatusBadRequest, "a field has the wrong type",
			FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem(http.StatusBadRequest, "the body has a field this endpoint does not take",
			FieldError{Field: field, Message: "unknown field"})
	default:
		return problem(http.StatusBadRequest, "the body could not be read: "+err.Error(),
			FieldError{Field: "body", Message: "unreadable"})
	}
}

// jsonPath drops the Go names of embedded structs ("Inputs.nps" → "nps"):
// every JSON name of the API is lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	for len(parts) > 0 && parts[0] != "" && unicode.IsUpper(rune(parts[0][0])) {
		parts = parts[1:]
	}
	if len(parts) == 0 || parts[0] == "" {
		return "body"
	}
	return strings.Join(parts, ".")
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "float64", "float32", "int", "int64", "int32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	default:
		return "a " + goKind
	}
}

// pathUUID parses a UUID path parameter or answers 400 naming it.
func pathUUID(c echo.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, problem(http.StatusBadRequest, "the path has an invalid id",
			FieldError{Field: name, Message: "must be a UUID"})
	}
	return id, nil
}
