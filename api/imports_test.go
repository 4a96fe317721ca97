package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waitImport polls an import until it is done.
func (h *harness) waitImport(t *testing.T, location string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := h.do(t, "GET", location, "")
		require.Equal(t, 200, r.status, r.raw)
		if r.body["status"] != "running" {
			return r.body
		}
		require.True(t, time.Now().Before(deadline), "import still running: %v", r.body)
		time.Sleep(100 * time.Millisecond)
	}
}

func refusedRows(report map[string]any) map[int][]string {
	out := map[int][]string{}
	for _, e := range report["errors"].([]any) {
		row := int(e.(map[string]any)["row"].(float64))
		for _, fe := range e.(map[string]any)["errors"].([]any) {
			out[row] = append(out[row], fe.(map[string]any)["field"].(string))
		}
	}
	return out
}

func TestImportFiveThousandAccountsReportsEachBadRow(t *testing.T) {
	t.Parallel() // the longest test of the package: let the others run meanwhile
	h := newHarness(t)
	h.seed(t)
	const n = 5000
	bad := map[int]string{ // 1-based row → what is wrong with it
		7:    `{"id":"bad 7","name":"","arr":-1,"csm_email":"casey@cs.test","timezone":"UTC"}`,
		100:  `{"id":"row-100","name":"X","arr":1000,"csm_email":"nobody@cs.test","timezone":"UTC"}`,
		2500: `{"id":"row-2500","name":"X","arr":"lots","csm_email":"casey@cs.test","timezone":"UTC"}`,
		4000: `{"id":"row-4000","name":"X","arr":1000,"csm_email":"casey@cs.test","timezone":"Mars/Base","colour":"red"}`,
		4999: `{"id":"row-0001","name":"Again","arr":1000,"csm_email":"casey@cs.test","timezone":"UTC"}`,
	}
	rows := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		if b, ok := bad[i]; ok {
			rows = append(rows, b)
			continue
		}
		rows = append(rows, fmt.Sprintf(`{"id":"row-%04d","name":"Row %d","arr":%d,"csm_email":"casey@cs.test","timezone":"Europe/Paris","lifecycle_stage":"adoption",
			"contacts":[{"email":"c%d@row.test","role":"champion"}]}`, i, i, 1000*i, i))
	}
	started := time.Now()
	r := h.do(t, "POST", "/v1/accounts/import", "["+strings.Join(rows, ",")+"]")
	require.Equal(t, 202, r.status, r.raw)
	t.Logf("POST took %s", time.Since(started))
	require.EqualValues(t, n, r.body["total"])
	location := r.header.Get("Location")
	require.True(t, strings.HasPrefix(location, "/v1/accounts/imports/"), location)

	report := h.waitImport(t, location)
	t.Logf("imported %d rows in %s", n, time.Since(started).Round(time.Millisecond))
	require.Equal(t, "done", report["status"])
	require.EqualValues(t, n, report["processed"])
	require.EqualValues(t, n-len(bad), report["created"])
	require.EqualValues(t, len(bad), report["refused"])
	refused := refusedRows(report)
	require.ElementsMatch(t, []string{"id", "name", "arr"}, refused[7])
	require.Equal(t, []string{"csm_email"}, refused[100])
	require.Equal(t, []string{"arr"}, refused[2500])
	require.Equal(t, []string{"colour"}, refused[4000])
	require.Equal(t, []string{"id"}, refused[4999], "a second row for row-0001")
	require.Len(t, refused, len(bad))

	counts := h.counts(t)
	require.Equal(t, 1+n-len(bad), counts["accounts"], "acme plus every good row")
	require.Equal(t, 1+n-len(bad), counts["contacts"])
	r = h.do(t, "GET", "/v1/accounts/row-4321", "")
	require.Equal(t, 200, r.status)
	require.Equal(t, "enterprise", r.body["segment"], "4.321M ARR")
	require.Empty(t, h.temporal.startedInputs(), "established accounts, no renewal date: nothing starts")
}

func TestImportCSV(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	csv := "id,name,arr,csm_email,timezone,renewal_date,lifecycle_stage,contacts\n" +
		"csv-1,One,\"12,000\",casey@cs.test,UTC,,,champion:one@csv.test:Ona;user:u@csv.test\n" +
		"csv-2,Two,many,casey@cs.test,UTC,,adoption,\n" +
		"csv-3,Three,30000,casey@cs.test,UTC,2027-02-30,adoption,boss@csv.test\n" +
		"acme,Acme Renamed,150000,casey@cs.test,America/New_York,,adoption,\n"
	r := h.send(t, "POST", "/v1/accounts/import", "text/csv", csv)
	require.Equal(t, 202, r.status, r.raw)
	report := h.waitImport(t, r.header.Get("Location"))
	require.EqualValues(t, 1, report["created"])
	require.EqualValues(t, 1, report["updated"])
	require.EqualValues(t, 2, report["refused"])
	refused := refusedRows(report)
	require.Equal(t, []string{"arr"}, refused[2], "unreadable, not also missing")
	require.ElementsMatch(t, []string{"contacts[0]", "renewal_date"}, refused[3])

	r = h.do(t, "GET", "/v1/accounts/csv-1", "")
	require.EqualValues(t, 12000, r.body["arr"])
	require.Len(t, r.body["contacts"], 2)
	require.Equal(t, []string{"onboarding"}, h.started("csv-1"), "created in onboarding: onboarded")
	require.Equal(t, "Acme Renamed", h.do(t, "GET", "/v1/accounts/acme", "").body["name"])

	// Problems with the file as a whole are refused before anything is written.
	before := h.counts(t)
	for _, tc := range []struct {
		contentType, body string
		status            int
		field             string
	}{
		{"text/csv", "id,name,colour\nx,y,z\n", 400, "header[2]"},
		{"text/csv", "", 400, "body"},
		{"application/json", `[]`, 400, "body"},
		{"application/json", `{"id":"x"}`, 400, "body"},
		{"application/json", `[{"id":"x"}`, 400, "body"},
		{"text/plain", "x", 415, ""},
	} {
		r := h.send(t, "POST", "/v1/accounts/import", tc.contentType, tc.body)
		require.Equal(t, tc.status, r.status, "%s %q: %s", tc.contentType, tc.body, r.raw)
		if tc.field != "" {
			require.Contains(t, fieldsOf(r.body), tc.field, r.raw)
		}
	}
	require.Equal(t, before, h.counts(t))
	require.Equal(t, 404, h.do(t, "GET", "/v1/accounts/imports/"+"00000000-0000-0000-0000-000000000000", "").status)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(h.do(t, "GET", "/v1/accounts/imports/nope", "").raw), &p))
	require.Equal(t, []string{"id"}, fieldsOf(p))
}

// A refused row is reported whatever its id holds: a NUL in it (which
// PostgreSQL's jsonb cannot store) once stopped the whole import.
func TestImportReportsARefusedIDWithANUL(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	r := h.send(t, "POST", "/v1/accounts/import", "text/csv", "id,name,arr,csm_email,timezone\n"+
		"bad\x00id,Bad,10,casey@cs.test,UTC\n"+
		"good,Good,10,casey@cs.test,UTC\n")
	require.Equal(t, 202, r.status, r.raw)
	report := h.waitImport(t, r.header.Get("Location"))
	require.Equal(t, "done", report["status"])
	require.EqualValues(t, 1, report["created"])
	require.Equal(t, map[int][]string{1: {"id"}}, refusedRows(report))
	require.Equal(t, "bad\uFFFDid", report["errors"].([]any)[0].(map[string]any)["id"])
}
