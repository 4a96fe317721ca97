package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/text"
)

// What any request may carry, whatever the route: PostgreSQL refuses NUL in
// text, a number past a float64 cannot be stored, and deep nesting or huge
// strings only cost memory. The README's "Limits" lists these and the
// per-field limits in the OpenAPI document.
const (
	maxJSONDepth  = 16      // objects and arrays inside each other, in any JSON body
	maxJSONString = 1 << 20 // bytes of one JSON string (the body cap bounds it anyway)
	maxQueryValue = 1000    // bytes of one query parameter's value
)

// refuseUnreadableInput answers 400 for a path or query no handler should
// see: NUL and other control characters (PostgreSQL refuses NUL in text;
// internal/text holds the rule, which the console's forms follow too),
// a query that does not parse (Go drops "a=1;b" silently), oversized values.
// It runs before routing, so every route, documented or not, is covered.
func refuseUnreadableInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := c.Request().URL
		if i := text.ControlIndex(u.Path, false); i >= 0 {
			return problem(http.StatusBadRequest, "the path has a control character",
				FieldError{Field: "path", Message: fmt.Sprintf("must not contain control characters (byte %d)", i)})
		}
		if !utf8.ValidString(u.Path) { // PostgreSQL refuses it in text: no handler should see it
			return problem(http.StatusBadRequest, "the path is not UTF-8 text",
				FieldError{Field: "path", Message: "must be UTF-8 text (percent-escapes included)"})
		}
		values, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return problem(http.StatusBadRequest, "the query cannot be read",
				FieldError{Field: queryErrorField(u.RawQuery), Message: "must be name=value pairs separated by &, with ; and % escaped"})
		}
		var fe fieldErrors
		for _, name := range sortedKeys(values) {
			for _, v := range values[name] {
				switch {
				case len(v) > maxQueryValue:
					fe.add(name, "at most %d bytes", maxQueryValue)
				case text.ControlIndex(v, false) >= 0 || text.ControlIndex(name, false) >= 0 || !utf8.ValidString(v):
					fe.add(name, "must be UTF-8 text without control characters")
				default:
					continue
				}
				break
			}
		}
		if len(fe) > 0 {
			return problem(http.StatusBadRequest, "the query has invalid parameters", fe...)
		}
		return next(c)
	}
}

// queryErrorField names the first parameter of a query that does not parse.
func queryErrorField(raw string) string {
	for _, pair := range strings.Split(raw, "&") {
		if _, err := url.ParseQuery(pair); err != nil {
			name, _, _ := strings.Cut(pair, "=")
			if n, err := url.QueryUnescape(name); err == nil && text.ControlIndex(n, false) < 0 && len(n) <= 100 {
				return n
			}
			return "query"
		}
	}
	return "query"
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkJSONBody walks a JSON body once, before any handler decodes it, and
// refuses what no field may hold: NUL and other control characters but tab,
// CR and LF in any string or key, numbers past a float64, nesting deeper
// than maxJSONDepth. Each is a 400 naming the field. A body that is not
// JSON at all is left to the handler's decoder, which says where it breaks.
func checkJSONBody(raw []byte) *Problem {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var path []string // the field names and [i] of where the walk is
	var index []int   // per open array, the next element's index; -1 for objects
	var expectKey []bool
	field := func() string {
		if len(path) == 0 {
			return "body"
		}
		return jsonField(path)
	}
	// The value just read completes an element or a member: advance.
	valueDone := func() {
		if n := len(index); n > 0 {
			if index[n-1] >= 0 {
				index[n-1]++
				path[len(path)-1] = strconv.Itoa(index[n-1])
			} else {
				expectKey[n-1] = true
			}
		}
	}
	bad := func(msg string) *Problem {
		return problem(http.StatusBadRequest, "the body has a value no field may hold", FieldError{Field: field(), Message: msg})
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // not JSON: the handler's decoder reports it
		}
		n := len(index)
		inObject := n > 0 && index[n-1] < 0
		if inObject && expectKey[n-1] {
			switch k := tok.(type) {
			case string:
				if text.ControlIndex(k, true) >= 0 || !utf8.ValidString(k) {
					// Named by its object: the key itself is not fit to echo.
					return problem(http.StatusBadRequest, "the body has a field name no field may have",
						FieldError{Field: jsonField(path[:len(path)-1]) + "", Message: "field names must not contain control characters"})
				}
				path[len(path)-1] = k
				expectKey[n-1] = false
				continue
			case json.Delim: // '}' closes the object
			}
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				if len(index) >= maxJSONDepth {
					return bad(fmt.Sprintf("nests deeper than %d levels", maxJSONDepth))
				}
				if v == '{' {
					index, expectKey = append(index, -1), append(expectKey, true)
					path = append(path, "")
				} else {
					index, expectKey = append(index, 0), append(expectKey, false)
					path = append(path, "0")
				}
			case '}', ']':
				index, expectKey, path = index[:n-1], expectKey[:n-1], path[:len(path)-1]
				valueDone()
			}
		case string:
			if len(v) > maxJSONString {
				return bad(fmt.Sprintf("a string of at most %d bytes", maxJSONString))
			}
			if text.ControlIndex(v, true) >= 0 {
				return bad("must not contain control characters such as NUL (\\u0000)")
			}
			valueDone()
		case json.Number:
			if f, err := v.Float64(); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return bad("a number too large to store")
			}
			valueDone()
		default:
			valueDone()
		}
	}
}
