package console

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// maxVersion is the largest playbook version: the column is PostgreSQL's
// integer (int4). A larger number is refused here with the API's range,
// not by the database as a 500.
const maxVersion = math.MaxInt32

// versionFrom reads a playbook version a request sends (where: "The form
// field", "The query parameter", "The path parameter"; name: the
// parameter's): a whole number from 1 to maxVersion, as the API's version
// parameters are. Anything else is a 400 page naming the parameter.
func versionFrom(where, name, v string) (int, error) {
	n, ok := versionNumber(v)
	if !ok {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s %s must be a version number from 1 to %d.", where, name, maxVersion))
	}
	return n, nil
}

// versionNumber reads a version number in its range.
func versionNumber(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= maxVersion
}
