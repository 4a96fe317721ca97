package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// fuzzRoutes are the routes that take a JSON body, with paths that exist in
// the seeded harness.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/team"},
	{"POST", "/v1/accounts"},
	{"POST", "/v1/accounts/acme/events"},
	{"POST", "/v1/accounts/acme/health"},
	{"POST", "/v1/accounts/import"},
	{"POST", "/v1/runs"},
	{"POST", "/v1/playbooks/validate"},
	{"POST", "/v1/playbooks/onboarding/simulate"},
	{"POST", "/v1/approvals/00000000-0000-0000-0000-000000000001/decision"},
	{"POST", "/v1/tasks/00000000-0000-0000-0000-000000000001/complete"},
	{"POST", "/v1/keys"},
}

// fuzzMediaTypes are what a fuzzed body claims to be: JSON, nothing at all,
// or another type (a body's checks must not depend on it).
var fuzzMediaTypes = []string{"application/json", "", "chunked", "text/plain", "application/x-www-form-urlencoded", "text/csv"}

// FuzzAPIBodies sends arbitrary bodies, under any media type or none, to
// every route that takes JSON: the answer is never a 5xx, always JSON or
// problem+json, and matches the OpenAPI document (the harness checks every
// response against it).
//
//	go test -run XXX -fuzz FuzzAPIBodies -fuzztime 60s ./api
func FuzzAPIBodies(f *testing.F) {
	h := newHarness(f)
	seedFuzz(f, h)
	for i, body := range []string{
		`{"email":"a@b.test","name":"A","level":"csm"}`,
		`{"id":"z","name":"Z","arr":1,"csm_email":"casey@cs.test","timezone":"UTC","contacts":[{"email":"p@z.test","role":"champion"}]}`,
		`{"name":"ticket_opened","data":{"priority":"high"}}`,
		`{"active_users":5,"licensed_users":10,"nps":20,"payment_status":"late"}`,
		`[{"id":"y","name":"Y","arr":2,"csm_email":"casey@cs.test","timezone":"UTC"}]`,
		`{"playbook":"onboarding","account_id":"acme"}`,
		`{"key":"k","name":"K","steps":[{"id":"a","wait":"1d"}]}`,
		`{"account_id":"acme","events":[{"name":"first_login","at":"2d"}]}`,
		`{"decision":"approve","edits":{"subject":"s"}}`,
		`{"outcome":"done","note":"n"}`,
		`{"name":"k","role":"ops"}`,
	} {
		for m := range fuzzMediaTypes {
			f.Add(uint8(i), uint8(m), []byte(body))
		}
	}
	f.Add(uint8(1), uint8(0), []byte(`{"id":"x","arr":1e309}`))
	f.Add(uint8(3), uint8(0), []byte(`{"score":"NaN","measured_at":"2026-02-30T00:00:00Z"}`))
	// Found by hand after fuzzing: a timer 8,000 years away failed the simulation (500).
	f.Add(uint8(7), uint8(0), []byte(`{"account":{"segment":"smb","timezone":"UTC","renewal_date":"9999-12-31"}}`))
	// Stored, unchecked, before bodies without a media type were refused.
	f.Add(uint8(0), uint8(1), []byte(`{"email":"a@b.test","name":"A\u0000","level":"csm"}`))
	f.Fuzz(func(t *testing.T, route, media uint8, body []byte) {
		h.mismatch = t.Errorf
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		resp := h.sendAs(t, r.method, r.path, fuzzMediaTypes[int(media)%len(fuzzMediaTypes)], string(body))
		if resp.status >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, resp.status, resp.raw)
		}
		if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("%s %s %q: content type %q", r.method, r.path, body, ct)
		}
		if resp.status >= 400 && resp.status != http.StatusNotFound && resp.status != http.StatusConflict && len(fieldsOf(resp.body)) == 0 &&
			resp.status != http.StatusUnsupportedMediaType && resp.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s %s %q: %d names no field: %s", r.method, r.path, body, resp.status, resp.raw)
		}
	})
}

// seedFuzz gives the fuzzed routes a team and an account to refer to.
func seedFuzz(f *testing.F, h *harness) {
	for _, c := range []struct{ path, body string }{
		{"/v1/team", `{"email":"casey@cs.test","name":"Casey","level":"csm"}`},
		{"/v1/accounts", `{"id":"acme","name":"Acme","arr":150000,"csm_email":"casey@cs.test","timezone":"UTC","lifecycle_stage":"adoption"}`},
	} {
		req, _ := http.NewRequest("POST", h.srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+adminKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			f.Fatalf("seed %s: %v %v", c.path, resp, err)
		}
		resp.Body.Close()
	}
}
