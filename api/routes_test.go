package api_test

import (
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/api"
	"github.com/playbookd/playbookd/metrics"
)

type operation struct{ method, path string }

// specOperations lists the document's operations, sorted.
func specOperations(t *testing.T) (*openapi3.T, []operation) {
	doc, err := api.Spec()
	require.NoError(t, err)
	var ops []operation
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, operation{method, path})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return doc, ops
}

// The document and the router agree: every route is documented and every
// documented operation is served.
func TestEveryRouteIsInTheSpecAndBack(t *testing.T) {
	m := metrics.New(func(error) {})
	t.Cleanup(func() { m.Close() })
	e := api.New(api.Config{Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var routes []operation
	for _, r := range e.Routes() {
		if strings.HasSuffix(r.Path, "/*") || r.Path == "/v1" || strings.Contains(r.Name, "NotFound") {
			continue // echo's catch-alls for groups
		}
		routes = append(routes, operation{r.Method, api.SpecPath(r.Path)})
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].path+routes[i].method < routes[j].path+routes[j].method })
	_, ops := specOperations(t)
	require.Equal(t, ops, routes)
}

// Every route that takes a JSON body refuses malformed JSON, unknown fields,
// wrong types, bad enum values and oversized bodies with a 4xx problem
// naming the field; every path id that is not one is a 4xx; nothing is
// ever a 500, and nothing is written.
func TestEveryRouteRefusesBadInput(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	doc, ops := specOperations(t)
	before := h.counts(t)
	type probe struct {
		name, body string
		status     []int
		field      string
	}
	tried := 0
	for _, op := range ops {
		item := doc.Paths.Value(op.path)
		o := item.GetOperation(op.method)
		path := concretePath(op.path)
		var probes []probe
		if hasUUIDParam(o) {
			probes = append(probes, probe{name: "bad id", status: []int{400}, field: "id"})
		}
		schema := jsonBodySchema(o)
		if schema != nil && schema.Type.Is("object") {
			unreadable := []int{400}
			if o.RequestBody.Value.Content.Get("application/yaml") != nil {
				unreadable = []int{422} // a playbook source: its errors are the definition's
			}
			probes = append(probes,
				probe{"malformed JSON", `{"a":`, unreadable, "body"},
				probe{"not an object", `[1]`, []int{400}, "body"},
				probe{"oversized", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, []int{413}, ""},
			)
			if ap := schema.AdditionalProperties.Has; ap != nil && !*ap {
				probes = append(probes, probe{"unknown field", `{"zz_unknown":1}`, []int{400}, "zz_unknown"})
			}
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range schema.Properties {
					if !yield(n) {
						return
					}
				}
			})
			for _, name := range names {
				prop := schema.Properties[name].Value
				probes = append(probes, probe{"wrong type of " + name, `{"` + name + `":` + wrongValue(prop) + `}`, []int{400}, name})
				if len(prop.Enum) > 0 {
					probes = append(probes, probe{"bad enum " + name, `{"` + name + `":"zz-not-one"}`, []int{422}, name})
				}
			}
		}
		for _, p := range probes {
			url := path
			if p.name == "bad id" {
				url = concretePath(strings.Replace(op.path, "{id}", "not-a-uuid", 1))
			}
			t.Run(op.method+" "+op.path+": "+p.name, func(t *testing.T) {
				tried++
				r := h.do(t, op.method, url, p.body)
				require.Contains(t, p.status, r.status, r.raw)
				require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), r.raw)
				if p.field != "" {
					require.Contains(t, fieldsOf(r.body), p.field, r.raw)
				}
			})
		}
	}
	require.Greater(t, tried, 80, "the probes cover the API")
	require.Equal(t, before, h.counts(t), "a refused request wrote something")
}

// concretePath fills path parameters with values that exist in the seed.
func concretePath(p string) string {
	p = strings.Replace(p, "/v1/accounts/{id}", "/v1/accounts/acme", 1)
	p = strings.ReplaceAll(p, "{key}", "onboarding")
	p = strings.ReplaceAll(p, "{version}", "1")
	p = strings.ReplaceAll(p, "{name}", "slack-cs-alerts")
	p = strings.ReplaceAll(p, "{email}", "casey@cs.test")
	return strings.ReplaceAll(p, "{id}", "00000000-0000-0000-0000-000000000001")
}

func hasUUIDParam(o *openapi3.Operation) bool {
	for _, p := range o.Parameters {
		if p.Value.In == "path" && p.Value.Name == "id" && p.Value.Schema.Value.Format == "uuid" {
			return true
		}
	}
	return false
}

func jsonBodySchema(o *openapi3.Operation) *openapi3.Schema {
	if o.RequestBody == nil {
		return nil
	}
	mt := o.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

func wrongValue(s *openapi3.Schema) string {
	if s.Type.Is("string") {
		return "12"
	}
	return `"zz"`
}

// Who may call each route: the document's public routes take no key, every
// other route answers 401 without one; keys routes take admin keys only;
// a csm key reads and changes only its ladder's work (decisions, tasks,
// events and notes of its accounts); ops and admin keys change the rest,
// admin keys alone deactivate members. A refused key is a 403 problem, an
// allowed one is never 401 or 403.
func TestEveryRouteDeclaresWhoMayCallIt(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	keys := map[string]string{
		"admin": adminKey,
		"ops":   h.key(t, `{"name":"cs ops","role":"ops"}`),
		"csm":   h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`),
	}
	doc, ops := specOperations(t)
	csmWrites := []string{"/v1/approvals/{id}/decision", "/v1/tasks/{id}/complete", "/v1/alerts/{id}/seen",
		// A csm closes their own loops: on their ladder's accounts and tasks.
		"/v1/accounts/{id}/events", "/v1/accounts/{id}/notes", "/v1/tasks", "/v1/tasks/{id}/reassign", "/v1/tasks/{id}/snooze"}
	checked := 0
	for _, op := range ops {
		o := doc.Paths.Value(op.path).GetOperation(op.method)
		path := concretePath(op.path)
		if o.Security != nil && len(*o.Security) == 0 {
			r := h.request(t, "", op.method, path, "", "")
			require.NotEqual(t, 401, r.status, "%s %s is public", op.method, op.path)
			continue
		}
		require.Equal(t, 401, h.request(t, "", op.method, path, "", "").status, "%s %s without a key", op.method, op.path)
		allowed := map[string]bool{"admin": true, "ops": true, "csm": op.method == "GET" || slices.Contains(csmWrites, op.path)}
		if strings.HasPrefix(op.path, "/v1/keys") {
			allowed = map[string]bool{"admin": true}
		}
		if strings.HasPrefix(op.path, "/v1/secrets") { // only admins write them; ops list their names
			allowed = map[string]bool{"admin": true, "ops": op.method == "GET"}
		}
		if strings.HasPrefix(op.path, "/v1/team/{email}/") { // deactivating hands someone's work over
			allowed = map[string]bool{"admin": true}
		}
		for _, role := range []string{"csm", "ops", "admin"} {
			t.Run(op.method+" "+op.path+" as "+role, func(t *testing.T) {
				checked++
				r := h.request(t, keys[role], op.method, path, "", "")
				if !allowed[role] {
					require.Equal(t, 403, r.status, r.raw)
					require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
					return
				}
				require.NotContains(t, []int{401, 403}, r.status, r.raw)
			})
		}
	}
	require.Greater(t, checked, 100, "every keyed route is tried with every role")
}
