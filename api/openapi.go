package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// The OpenAPI document is written by hand next to the handlers (spec
// first); tests check that every route is in it and every response the
// suite sees matches it, and requests are validated against it here.
//
//go:embed openapi.yaml
var openapiYAML []byte

// Spec parses and validates the embedded OpenAPI document.
func Spec() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	return doc, nil
}

func init() {
	// Responses that are not JSON are checked for their content type only.
	for _, ct := range []string{"image/svg+xml", "text/html"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// SpecPath turns an echo route ("/v1/runs/:id") into its OpenAPI path
// ("/v1/runs/{id}").
func SpecPath(echoPath string) string { return echoParam.ReplaceAllString(echoPath, "{$1}") }

// specRoute finds the operation of a matched echo route; nil when the spec
// does not describe it.
func specRoute(doc *openapi3.T, c echo.Context) *routers.Route {
	path := SpecPath(c.Path())
	item := doc.Paths.Value(path)
	if item == nil {
		return nil
	}
	method := c.Request().Method
	op := item.GetOperation(method)
	if op == nil {
		return nil
	}
	return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
}

// unknownQueryParameters refuses a query parameter the route does not
// document: a misspelt or unsupported filter silently ignored would answer
// a question that was not asked (every account's approvals for one account).
func unknownQueryParameters(route *routers.Route, query url.Values) *Problem {
	if len(query) == 0 {
		return nil
	}
	var known []string
	for _, params := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				known = append(known, p.Value.Name)
			}
		}
	}
	slices.Sort(known)
	var fe fieldErrors
	for _, name := range sortedKeys(query) {
		if slices.Contains(known, name) {
			continue
		}
		if len(known) == 0 {
			fe.add(name, "unknown query parameter; this route takes none")
		} else {
			fe.add(name, "unknown query parameter; this route takes %s", strings.Join(known, ", "))
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return problem(http.StatusBadRequest, "the query has invalid parameters", fe...)
}

// takesBody says whether the route's operation documents a request body.
func takesBody(route *routers.Route) bool {
	return route.Operation.RequestBody != nil && route.Operation.RequestBody.Value != nil &&
		len(route.Operation.RequestBody.Value.Content) > 0
}

// bodyMediaTypes are the media types the route's body may have, sorted.
func bodyMediaTypes(route *routers.Route) []string {
	types := make([]string, 0, len(route.Operation.RequestBody.Value.Content))
	for mt := range route.Operation.RequestBody.Value.Content {
		types = append(types, mt)
	}
	sort.Strings(types)
	return types
}

func pathParams(c echo.Context) map[string]string {
	out := map[string]string{}
	for i, name := range c.ParamNames() {
		out[name] = c.ParamValues()[i]
	}
	return out
}

// authenticated: keys are checked by each route's access (routes.go); the
// spec only documents them.
func authenticated(context.Context, *openapi3filter.AuthenticationInput) error { return nil }

// validateRequests checks parameters and JSON bodies against the spec; a
// route whose handler checks its own body (ownBody) has its parameters
// checked only.
// Schema violations become problems naming each field: wrong types and
// unknown fields 400, other invalid values 422. What the spec cannot judge
// (unreadable JSON, other content types) is left to the handler, which
// answers it in the same style.
func validateRequests(doc *openapi3.T, ownBody bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := specRoute(doc, c)
			if route == nil {
				return next(c)
			}
			req := c.Request()
			if p := unknownQueryParameters(route, c.QueryParams()); p != nil {
				return p
			}
			ct := req.Header.Get(echo.HeaderContentType)
			// A body's checks must not depend on what its sender calls it: a
			// body without a media type is refused, not decoded unchecked
			// (ContentLength is -1 for a chunked body).
			if !ownBody && req.ContentLength != 0 && ct == "" && takesBody(route) {
				return problem(http.StatusUnsupportedMediaType,
					"the body has no Content-Type: send "+strings.Join(bodyMediaTypes(route), " or "))
			}
			mt, _, _ := mime.ParseMediaType(ct)
			skipBody := ownBody || mt != echo.MIMEApplicationJSON || req.ContentLength == 0
			if !skipBody {
				// Read within the body limit first, so an oversized body is a 413.
				raw, err := io.ReadAll(req.Body)
				if err != nil {
					return decodeProblem(err)
				}
				req.Body = io.NopCloser(bytes.NewReader(raw))
				if !json.Valid(raw) {
					return next(c) // decodeJSON reports where it breaks
				}
				if p := checkJSONBody(raw); p != nil {
					return p
				}
			}
			err := openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: pathParams(c), Route: route,
				// Query parameters are checked by the handlers, which report every
				// bad one at once (the validator stops at the first).
				Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: authenticated, ExcludeRequestBody: skipBody,
					ExcludeRequestQueryParams: true},
			})
			if err == nil {
				return next(c)
			}
			if p := specProblem(err); p != nil {
				return p
			}
			return next(c)
		}
	}
}

// specProblem turns validation errors into one problem: every bad
// parameter, or every wrong type and unknown field of the body (400), or
// else every value past a limit the document sets (422: lengths, ranges,
// list sizes, one-line text: what protects the server). Other invalid
// values (enums, ranges, patterns) are left to the handler (nil), which
// reports every one at once as a 422.
func specProblem(err error) *Problem {
	var params, body, limits []FieldError
	var walk func(error, string)
	walk = func(err error, param string) {
		var (
			multi  openapi3.MultiError
			reqErr *openapi3filter.RequestError
			schErr *openapi3.SchemaError
		)
		switch {
		case param == "" && errors.As(err, &reqErr) && reqErr.Parameter != nil:
			if reqErr.Err == nil {
				params = append(params, FieldError{Field: reqErr.Parameter.Name, Message: reqErr.Reason})
				return
			}
			walk(reqErr.Err, reqErr.Parameter.Name)
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e, param)
			}
		case errors.As(err, &schErr):
			if param != "" {
				params = append(params, FieldError{Field: param, Message: schemaMessage(schErr)})
				return
			}
			field := jsonField(schErr.JSONPointer())
			if name := unsupportedProperty(schErr.Reason); name != "" {
				// The pointer names the object; the reason names the property.
				field = strings.TrimPrefix(field+"."+name, ".")
			} else if schErr.SchemaField != "type" {
				if limit := limitError(schErr); limit != nil {
					limits = append(limits, *limit)
				}
				return
			}
			if field == "" {
				field = "body"
			}
			body = append(body, FieldError{Field: field, Message: schemaMessage(schErr)})
		case param != "":
			params = append(params, FieldError{Field: param, Message: err.Error()})
		}
	}
	walk(err, "")
	switch {
	case len(params) > 0:
		return problem(http.StatusBadRequest, "the request has invalid parameters", params...)
	case len(body) > 0:
		return problem(http.StatusBadRequest, "the body does not match the API's schema", body...)
	case len(limits) > 0:
		return unprocessable(limits)
	}
	return nil
}

// singleLinePattern is the document's pattern of one-line text.
const singleLinePattern = `^[^\x00-\x1f\x7f]*$`

// limitError is the field error of a value past one of the document's
// limits, nil for other schema violations.
func limitError(e *openapi3.SchemaError) *FieldError {
	field := jsonField(e.JSONPointer())
	if field == "" {
		field = "body"
	}
	switch e.SchemaField {
	case "maxLength", "maxItems", "maxProperties":
		return &FieldError{Field: field, Message: e.Reason}
	case "pattern":
		if e.Schema.Pattern == singleLinePattern {
			return &FieldError{Field: field, Message: "must be one line, without control characters"}
		}
	}
	return nil
}

// limitErrors lists the values of v past the limits of a schema: imports
// check each row against the document as a single account is checked.
func limitErrors(schema *openapi3.Schema, v any) []FieldError {
	err := schema.VisitJSON(v, openapi3.MultiErrors())
	var out []FieldError
	var walk func(error)
	walk = func(err error) {
		var multi openapi3.MultiError
		var schErr *openapi3.SchemaError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e)
			}
		case errors.As(err, &schErr):
			if limit := limitError(schErr); limit != nil {
				out = append(out, *limit)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// jsonField writes a JSON pointer as the API names fields: contacts[0].role.
func jsonField(pointer []string) string {
	var b strings.Builder
	for _, seg := range pointer {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

var unsupported = regexp.MustCompile(`property "([^"]+)" is unsupported`)

func unsupportedProperty(reason string) string {
	if m := unsupported.FindStringSubmatch(reason); m != nil {
		return m[1]
	}
	return ""
}

func schemaMessage(e *openapi3.SchemaError) string {
	if unsupportedProperty(e.Reason) != "" {
		return "unknown field"
	}
	switch e.SchemaField {
	case "enum":
		var allowed []string
		for _, v := range e.Schema.Enum {
			allowed = append(allowed, fmt.Sprint(v))
		}
		return "must be one of " + strings.Join(allowed, ", ")
	case "type":
		return "must be " + article(e.Schema.Type.Slice())
	}
	return e.Reason
}

func article(types []string) string {
	if len(types) == 0 {
		return "another type"
	}
	switch t := types[0]; t {
	case "integer":
		return "a whole number"
	case "boolean":
		return "true or false"
	case "array", "object":
		return "an " + t
	default:
		return "a " + t
	}
}

// serveSpec answers the document as JSON.
func serveSpec(doc *openapi3.T) echo.HandlerFunc {
	raw, err := json.Marshal(doc)
	return func(c echo.Context) error {
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, raw)
	}
}

// ResponseCheck receives every response that does not match the spec; tests
// set it so the whole suite doubles as a contract test.
type ResponseCheck func(err error)

// checkResponses validates each response against the spec (tests only: it
// buffers responses).
func checkResponses(doc *openapi3.T, report ResponseCheck) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			rec := &recorder{ResponseWriter: c.Response().Writer}
			c.Response().Writer = rec
			if err := next(c); err != nil {
				c.Error(err) // write it now, so its problem+json is checked too
			}
			route := specRoute(doc, c)
			if route == nil {
				// The console's pages (and the "/" redirect to them) are
				// not the API's: the document does not describe them.
				if c.Path() != "" && c.Path() != "/" && !strings.HasPrefix(c.Path(), "/console") &&
					c.Response().Status != http.StatusNotFound && c.Response().Status != http.StatusMethodNotAllowed {
					report(fmt.Errorf("%s %s: route not in openapi.yaml", c.Request().Method, c.Path()))
				}
				return nil
			}
			err := openapi3filter.ValidateResponse(c.Request().Context(), &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: c.Request(), PathParams: pathParams(c), Route: route},
				Status:                 c.Response().Status, Header: c.Response().Header(),
				Body:    io.NopCloser(bytes.NewReader(rec.body.Bytes())),
				Options: &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: authenticated},
			})
			if err != nil {
				report(fmt.Errorf("%s %s → %d: %w\n%s", c.Request().Method, c.Path(), c.Response().Status, err, truncate(rec.body.String())))
			}
			return nil
		}
	}
}

type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}
