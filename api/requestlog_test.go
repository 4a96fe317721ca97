package api_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/api"
	"github.com/playbookd/playbookd/console"
)

// The request log never holds a credential from an address: an
// unsubscribe link's token, a console form's CSRF token (which the
// console refuses there anyway), however the name is spelt, and for
// requests the edge refuses as well; the rest of the address is logged as
// sent.
func TestRequestLogKeepsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	e := api.New(api.Config{Log: slog.New(slog.NewTextHandler(&buf, nil)), Links: testLinks, AdminKey: adminKey})
	// Mounted as cmd/playbookd mounts it: the console's requests go through
	// the same log.
	_, err := console.Register(e, console.Config{Log: slog.New(slog.NewTextHandler(&buf, nil))})
	require.NoError(t, err)
	for _, tt := range []struct {
		method, target string
		logged         string // what the log line says of the address
	}{
		{"GET", "/v1/unsubscribe?token=SECRET-1", "/v1/unsubscribe?token=REDACTED"},
		{"POST", "/v1/unsubscribe?token=SECRET-2", "/v1/unsubscribe?token=REDACTED"},
		{"POST", "/console/sign-out?csrf=SECRET-3", "/console/sign-out?csrf=REDACTED"},
		{"POST", "/console/sign-in?next=%2Fconsole%2F&csrf=SECRET-4", "/console/sign-in?next=%2Fconsole%2F&csrf=REDACTED"},
		{"GET", "/v1/unsubscribe?a=1;token=SECRET-5", "/v1/unsubscribe?a=1;token=REDACTED"},
		{"GET", "/v1/unsubscribe?%74oken=SECRET-6", "/v1/unsubscribe?%74oken=REDACTED"},
		{"GET", "/v1/unsubscribe?TOKEN=SECRET-7&x=1", "/v1/unsubscribe?TOKEN=REDACTED&x=1"},
		{"GET", "/v1/unsubscribe?token=SECRET-8&token=SECRET-9", "/v1/unsubscribe?token=REDACTED&token=REDACTED"},
	} {
		buf.Reset()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, strings.NewReader("")))
		require.True(t, rec.Code >= 400 && rec.Code < 500, "%s %s: %d", tt.method, tt.target, rec.Code)
		log := buf.String()
		require.Contains(t, log, "msg=request", tt.target)
		require.Contains(t, log, `uri="`+tt.logged+`"`, tt.target)
		require.NotContains(t, log, "SECRET", tt.target)
	}

	buf.Reset()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json?tokens=kept&q=a%20b", nil))
	require.Contains(t, buf.String(), "uri=\"/v1/openapi.json?tokens=kept&q=a%20b\"", "other parameters as sent")
}
