package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/api"
)

// hostileValues are what an attacker puts in a field: each must be a 4xx
// problem naming the field, never a 500, and write nothing.
func hostileValues(s *openapi3.Schema) map[string]string {
	switch {
	case s.Type.Is("string"):
		v := map[string]string{
			"NUL":         `"a\u0000b"`,
			"escape":      `"\u001b[31m"`,
			"huge string": `"` + strings.Repeat("x", 600_000) + `"`,
		}
		if s.Pattern != "" { // one-line text: a header injection attempt
			v["line break"] = `"x\r\nBcc: victim@example.com"`
		}
		return v
	case s.Type.Is("integer"):
		return map[string]string{"past int32": "2147483648", "past float64": "1e400", "negative huge": "-1e300"}
	case s.Type.Is("number"):
		return map[string]string{"huge": "1e300", "past float64": "1e400", "negative huge": "-1e300"}
	case s.Type.Is("object"):
		return map[string]string{
			"deep nesting": strings.Repeat(`{"a":`, 2000) + "1" + strings.Repeat("}", 2000),
			"NUL key":      `{"a\u0000":1}`,
			"NUL value":    `{"a":"\u0000"}`,
			"huge number":  `{"a":1e400}`,
		}
	case s.Type.Is("array"):
		return map[string]string{
			"deep nesting": strings.Repeat("[", 2000) + strings.Repeat("]", 2000),
		}
	}
	return nil
}

// Every route of the document refuses NUL, huge numbers, huge strings and
// deep nesting in every body field, NUL in every path and query parameter,
// and a query that does not parse: a 4xx problem naming the field, never a
// 500, nothing written.
func TestEveryRouteRefusesHostileInput(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	doc, ops := specOperations(t)
	before := h.counts(t)
	type probe struct{ name, path, body, field string }
	tried := 0
	for _, op := range ops {
		o := doc.Paths.Value(op.path).GetOperation(op.method)
		if !strings.HasPrefix(op.path, "/v1/") || op.path == "/v1/webhooks/sendgrid" || op.path == "/v1/unsubscribe" ||
			op.path == "/v1/surveys/respond" {
			continue // the webhook and the unsubscribe and survey links have their own tests
		}
		var probes []probe
		for _, p := range o.Parameters {
			switch p.Value.In {
			case "path":
				path := strings.Replace(op.path, "{"+p.Value.Name+"}", "x%00y", 1)
				probes = append(probes, probe{"NUL in " + p.Value.Name, concretePath(path), "", ""})
				latin1 := strings.Replace(op.path, "{"+p.Value.Name+"}", "caf%e9", 1)
				probes = append(probes, probe{"not UTF-8 in " + p.Value.Name, concretePath(latin1), "", ""})
			case "query":
				probes = append(probes,
					probe{"NUL in " + p.Value.Name, concretePath(op.path) + "?" + p.Value.Name + "=a%00b", "", p.Value.Name},
					probe{"escape in " + p.Value.Name, concretePath(op.path) + "?" + p.Value.Name + "=%1b", "", p.Value.Name},
					probe{"semicolon in " + p.Value.Name, concretePath(op.path) + "?" + p.Value.Name + "=a;x", "", p.Value.Name},
					probe{"huge " + p.Value.Name, concretePath(op.path) + "?" + p.Value.Name + "=" + strings.Repeat("a", 5000), "", p.Value.Name})
			}
		}
		if schema := jsonBodySchema(o); schema != nil && schema.Type.Is("object") {
			for name, ref := range schema.Properties {
				values := hostileValues(ref.Value)
				for _, kind := range slices.Sorted(func(yield func(string) bool) {
					for k := range values {
						if !yield(k) {
							return
						}
					}
				}) {
					probes = append(probes, probe{kind + " in " + name, concretePath(op.path),
						`{"` + name + `":` + values[kind] + `}`, name})
				}
			}
			probes = append(probes, probe{"NUL in a field name", concretePath(op.path), `{"a\u0000":1}`, ""},
				probe{"null body", concretePath(op.path), `null`, "body"})
		}
		for _, p := range probes {
			t.Run(op.method+" "+op.path+": "+p.name, func(t *testing.T) {
				tried++
				r := h.do(t, op.method, p.path, p.body)
				require.GreaterOrEqual(t, r.status, 400, r.raw)
				require.Less(t, r.status, 500, r.raw)
				require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), r.raw)
				if p.field != "" && r.status != 413 && r.status != 404 {
					require.True(t, slices.ContainsFunc(fieldsOf(r.body), func(f string) bool {
						return f == p.field || strings.HasPrefix(f, p.field+".") || strings.HasPrefix(f, p.field+"[")
					}), "no error names %s or inside it: %s", p.field, r.raw)
				}
				require.Less(t, len(r.raw), 64<<10, "an error answer stays small")
			})
		}
	}
	require.Greater(t, tried, 300, "the probes cover the API")
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}

// Values past the documented ranges are refused before the database sees
// them (a version past int32 or an ARR of 1e12 were 500s).
func TestNumbersAndDatesOutsideTheirRanges(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	far := time.Now().AddDate(11, 0, 0).Format(time.DateOnly)
	account := func(extra string) string {
		return `{"id":"b","name":"B","csm_email":"casey@cs.test","timezone":"UTC",` + extra + `}`
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"arr of a trillion", "POST", "/v1/accounts", account(`"arr":1e12`), 422, "arr"},
		{"renewal 11 years out", "POST", "/v1/accounts", account(`"arr":1,"renewal_date":"` + far + `"`), 422, "renewal_date"},
		{"contract start 174 years out", "POST", "/v1/accounts", account(`"arr":1,"contract_start":"2200-01-01"`), 422, "contract_start"},
		{"name too long", "POST", "/v1/accounts", `{"id":"b","name":"` + strings.Repeat("n", 201) + `","arr":1,"csm_email":"casey@cs.test","timezone":"UTC"}`, 422, "name"},
		{"51 contacts", "POST", "/v1/accounts", account(`"arr":1,"contacts":[` + strings.TrimSuffix(strings.Repeat(`{"email":"c@b.test","role":"user"},`, 51), ",") + `]`), 422, "contacts"},
		{"stage of 100 KB", "POST", "/v1/accounts", account(`"arr":1,"lifecycle_stage":"` + strings.Repeat("s", 100_000) + `"`), 422, "lifecycle_stage"},
		{"custom fields over 16 KiB", "POST", "/v1/accounts", account(`"arr":1,"custom_fields":{"a":"` + strings.Repeat("x", 17<<10) + `"}`), 422, "custom_fields"},
		{"name with a line break", "POST", "/v1/team", `{"email":"a@b.test","name":"A\r\nB","level":"csm"}`, 422, "name"},
		{"event data over 16 KiB", "POST", "/v1/accounts/acme/events", `{"name":"x","data":{"a":"` + strings.Repeat("x", 17<<10) + `"}}`, 422, "data"},
		{"version past int32 in the path", "POST", "/v1/playbooks/onboarding/versions/2147483648/publish", "", 400, "version"},
		{"version past int32 in the query", "GET", "/v1/playbooks/onboarding?version=2147483648", "", 400, "version"},
		{"version past int32 to start a run", "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme","version":2147483648}`, 422, "version"},
		{"version past int32 to simulate", "POST", "/v1/playbooks/onboarding/simulate", `{"account_id":"acme","version":2147483648}`, 422, "version"},
		{"active users of 1e300", "POST", "/v1/accounts/acme/health", `{"active_users":1e300,"licensed_users":10}`, 422, "active_users"},
		{"complete a task with null", "POST", "/v1/tasks/00000000-0000-0000-0000-000000000001/complete", `null`, 400, "body"},
		{"status with a semicolon", "GET", "/v1/accounts?status=churned;x", "", 400, "status"},
	}
	before := h.counts(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(t, tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, r.status, r.raw)
			require.Contains(t, fieldsOf(r.body), tt.field, r.raw)
		})
	}
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}

// A method a path does not have is 405 with Allow, under /v1 too.
func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/runs", "GET"},
		{"PUT", "/v1/accounts/acme", "GET"},
		{"GET", "/v1/tasks/00000000-0000-0000-0000-000000000001/complete", "POST"},
		{"DELETE", "/healthz", "GET"},
	} {
		r := h.do(t, tt.method, tt.path, "")
		require.Equal(t, 405, r.status, tt.method+" "+tt.path+": "+r.raw)
		require.Contains(t, r.header.Get("Allow"), tt.allow)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	}
}

// The Bearer scheme is case-insensitive (RFC 9110).
func TestBearerSchemeIgnoresCase(t *testing.T) {
	h := newHarness(t)
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		req, err := http.NewRequest("GET", h.srv.URL+"/v1/team", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", scheme+" "+adminKey)
		require.Equal(t, 200, roundTrip(t, req).status, scheme)
	}
}

// Imports check every row against the same limits as POST /v1/accounts:
// fields imported by the file cannot bypass the body cap.
func TestImportRowsHaveTheAccountsLimits(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	csv := "id,name,arr,csm_email,timezone,lifecycle_stage\n" +
		"ok-1,Fine,10,casey@cs.test,UTC,adoption\n" +
		"long-name," + strings.Repeat("n", 300_000) + ",10,casey@cs.test,UTC,adoption\n" +
		"nul,A\x00B,10,casey@cs.test,UTC,adoption\n" +
		"big-arr,Big,2e12,casey@cs.test,UTC,adoption\n" +
		"stage,Stage,10,casey@cs.test,UTC," + strings.Repeat("s", 100) + "\n"
	r := h.request(t, adminKey, "POST", "/v1/accounts/import", "text/csv", csv)
	require.Equal(t, 202, r.status, r.raw)
	var im map[string]any
	require.Eventually(t, func() bool {
		im = h.do(t, "GET", "/v1/accounts/imports/"+r.body["id"].(string), "").body
		return im["status"] == "done"
	}, 10*time.Second, 50*time.Millisecond)
	require.EqualValues(t, 1, im["created"])
	require.EqualValues(t, 4, im["refused"])
	refused := map[string][]string{}
	for _, row := range im["errors"].([]any) {
		row := row.(map[string]any)
		refused[fmt.Sprint(row["row"])] = fieldsOf(row)
	}
	require.Contains(t, refused["2"], "name")
	require.Contains(t, refused["3"], "name")
	require.Contains(t, refused["4"], "arr")
	require.Contains(t, refused["5"], "lifecycle_stage")

	// A header of many unknown columns answers a small 400.
	r = h.request(t, adminKey, "POST", "/v1/accounts/import", "text/csv", strings.Repeat("zz,", 500_000)+"id\n")
	require.Equal(t, 400, r.status)
	require.Less(t, len(r.raw), 4<<10)

	// NUL anywhere in a JSON import refuses the file, naming the row.
	r = h.do(t, "POST", "/v1/accounts/import", `[{"id":"a","name":"A\u0000","arr":1,"csm_email":"casey@cs.test","timezone":"UTC"}]`)
	require.Equal(t, 400, r.status, r.raw)
	require.Contains(t, fieldsOf(r.body), "[0].name")
}

// A client that sends its body slowly is cut off at the read timeout
// instead of holding a connection for as long as it likes.
func TestSlowClientIsCutOff(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.ReadAll(r.Body) })
	srv := api.NewServer("", handler, api.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond,
		Write: time.Second, Idle: time.Second})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	for _, partial := range []string{
		"POST /v1/team HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{", // a body that never ends
		"POST /v1/team HTTP/1.1\r\nHost: x\r\n",                              // headers that never end
	} {
		conn, err := net.Dial("tcp", l.Addr().String())
		require.NoError(t, err)
		_, err = conn.Write([]byte(partial))
		require.NoError(t, err)
		// The server closes the connection; the client gives up after 10 s.
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err = bufio.NewReader(conn).ReadString(0)
		var netErr net.Error
		require.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the server held the connection: %v", err)
		_ = conn.Close()
	}
}

// A body's checks do not depend on its media type. A valid body of each
// route that writes, with a hostile value in one of its texts, sent without a
// Content-Type, chunked, or as another media type, is refused (4xx, never a
// 500), and nothing is stored; and every route that takes a body answers a
// body without a media type with 415.
func TestBodiesAreCheckedWhateverTheirMediaType(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	task := h.openTask(t)
	writes := []struct{ path, body string }{ // %s: the hostile text
		{"/v1/team", `{"email":"new@cs.test","name":"%s","level":"csm"}`},
		{"/v1/keys", `{"name":"%s","role":"ops"}`},
		{"/v1/accounts", `{"id":"newco","name":"%s","csm_email":"casey@cs.test","contacts":[{"email":"a@newco.test","name":"A","role":"champion"}]}`},
		{"/v1/accounts/acme/events", `{"name":"first_login","data":{"note":"%s"}}`},
		{"/v1/playbooks/onboarding/duplicate", `{"key":"copy","name":"%s"}`},
		{"/v1/playbooks/onboarding/simulate", `{"account":{"name":"%s","segment":"smb"}}`},
		{"/v1/runs", `{"playbook":"onboarding","account_id":"acme%s"}`},
		{"/v1/tasks/" + task + "/complete", `{"outcome":"done","note":"%s"}`},
	}
	hostile := map[string]string{
		"NUL":        `a\u0000b`,
		"escape":     `\u001b[31mred`,
		"line break": `x\r\nBcc: victim@example.com`,
		"huge":       strings.Repeat("n", 600_000),
		"C1 control": `\u0085`,
		"DEL":        `\u007f`,
	}
	contentTypes := []string{"", "chunked", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"}
	before := h.counts(t)
	for _, w := range writes {
		for _, kind := range slices.Sorted(maps.Keys(hostile)) {
			body := fmt.Sprintf(w.body, hostile[kind])
			for _, ct := range contentTypes {
				t.Run(fmt.Sprintf("%s: %s as %q", w.path, kind, ct), func(t *testing.T) {
					r := h.sendAs(t, "POST", w.path, ct, body)
					require.GreaterOrEqual(t, r.status, 400, r.raw)
					require.Less(t, r.status, 500, r.raw)
				})
			}
		}
	}
	require.Equal(t, before, h.counts(t), "a refused request wrote something")

	doc, ops := specOperations(t)
	tried := 0
	for _, op := range ops {
		o := doc.Paths.Value(op.path).GetOperation(op.method)
		if o.RequestBody == nil || !strings.HasPrefix(op.path, "/v1/") || op.path == "/v1/webhooks/sendgrid" ||
			op.path == "/v1/unsubscribe" || op.path == "/v1/surveys/respond" || op.path == "/v1/accounts/import" {
			continue // the webhook verifies a signature, unsubscribe and surveys take a form, the import has its own test
		}
		for _, ct := range []string{"", "chunked"} {
			t.Run(fmt.Sprintf("%s %s without a media type, %q", op.method, op.path, ct), func(t *testing.T) {
				tried++
				r := h.sendAs(t, op.method, concretePath(op.path), ct, `{"name":"x"}`)
				require.Equal(t, 415, r.status, r.raw)
				require.Contains(t, r.body["detail"], "Content-Type")
			})
		}
	}
	require.Greater(t, tried, 20, "the probes cover the API")
	r := h.sendAs(t, "POST", "/v1/accounts/import", "", `[{"id":"x\u0000"}]`)
	require.Equal(t, 415, r.status, r.raw)
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}

// openTask starts a run of onboarding for acme and gives it an open task.
func (h *harness) openTask(t *testing.T) string {
	t.Helper()
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"onboarding","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	var taskID string
	require.NoError(t, h.pool.QueryRow(context.Background(), `
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title)
		SELECT $1, 'welcome-call', 'acme', csm_id, 'Welcome call' FROM accounts WHERE id = 'acme' RETURNING id`,
		r.body["id"]).Scan(&taskID))
	return taskID
}

// sendAs sends a body as the admin: ct is its Content-Type, "" none, or
// "chunked" for a body of unknown length without one.
func (h *harness) sendAs(t *testing.T, method, path, ct, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	switch ct {
	case "":
	case "chunked":
		req.ContentLength = -1
		req.Body = io.NopCloser(strings.NewReader(body))
	default:
		req.Header.Set("Content-Type", ct)
	}
	return roundTrip(t, req)
}
