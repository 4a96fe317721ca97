package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
)

// Lists are pages: ?limit= (1-500, default 100) and ?cursor= (opaque, from
// the previous page's next_cursor). A keyset cursor, so pages stay right
// while rows are added.
const (
	defaultPageSize = 100
	maxPageSize     = 500
)

type page struct {
	limit int
	raw   string
}

// list is the envelope of every list answer; next_cursor is absent on the
// last page.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func readPage(c echo.Context) (page, error) {
	p := page{limit: defaultPageSize, raw: c.QueryParam("cursor")}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return page{}, problem(http.StatusBadRequest, "the query has invalid parameters",
				FieldError{Field: "limit", Message: "must be a whole number from 1 to 500"})
		}
		p.limit = n
	}
	return p, nil
}

// cursor decodes the cursor into v; no cursor leaves v as it is.
func (p page) cursor(v any) error {
	if p.raw == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(p.raw)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return problem(http.StatusBadRequest, "the query has invalid parameters",
			FieldError{Field: "cursor", Message: "not a cursor this list gave out; start again without it"})
	}
	return nil
}

// pageOf cuts the one extra row fetched (limit+1) and makes the cursor of the
// next page from the last row shown.
func pageOf[T any](p page, rows []T, key func(T) any) list[T] {
	if rows == nil {
		rows = []T{}
	}
	if len(rows) <= p.limit {
		return list[T]{Items: rows}
	}
	rows = rows[:p.limit]
	raw, _ := json.Marshal(key(rows[len(rows)-1]))
	return list[T]{Items: rows, NextCursor: base64.RawURLEncoding.EncodeToString(raw)}
}

// pageAfter reads a list's page parameters and decodes its cursor: the key
// of the last row of the previous page (the zero value on the first page).
func pageAfter[K any](c echo.Context) (page, K, error) {
	var after K
	pg, err := readPage(c)
	if err == nil {
		err = pg.cursor(&after)
	}
	return pg, after, err
}

// keyset is the cursor of a list ordered by (time, id). Its JSON is the
// cursor's format: these names are what cursors already given out carry.
type keyset struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

// keysetPage reads the page parameters of a list ordered by (time, id).
func keysetPage(c echo.Context) (page, *store.Keyset, error) {
	pg, after, err := pageAfter[*keyset](c)
	if err != nil || after == nil {
		return pg, nil, err
	}
	return pg, &store.Keyset{At: after.At, ID: after.ID}, nil
}
