package console

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
)

// accountListPage is how many runs, and how many emails, an account's page
// shows before a "Next" link.
const accountListPage = 20

// pageOn cuts a list read with one row more than a page (accountListPage+1)
// and makes the URL of the next page: this page's address with param set
// to where the next starts (a keyset, as the API's cursors are). "" when
// this is the last page.
func pageOn[T any](c echo.Context, rows []T, param string, key func(T) store.Keyset) ([]T, string) {
	if len(rows) <= accountListPage {
		return rows, ""
	}
	rows = rows[:accountListPage]
	k := key(rows[len(rows)-1])
	u := *c.Request().URL
	q := u.Query()
	q.Set(param, k.At.UTC().Format(time.RFC3339Nano)+"~"+k.ID.String())
	u.RawQuery = q.Encode()
	return rows, u.RequestURI()
}
