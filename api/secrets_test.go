package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
)

func requireNoLeak(t *testing.T, r response, what string) {
	t.Helper()
	for _, leak := range storetest.LegacyLeaks {
		require.NotContains(t, r.raw, leak, "%s shows a credential", what)
	}
}

// No key reads a URL's credential from any route that shows a definition
// (or anything else): every GET of the document, with each role, and the
// routes that answer with a definition's content (simulate) or its errors
// (publish, duplicate, validate). Runs still post where the stored version
// says.
func TestNoRouteShowsASecretURL(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	storetest.StoreLegacyAlerts(t, store.New(h.pool))
	keys := map[string]string{
		"admin": adminKey,
		"ops":   h.key(t, `{"name":"cs ops","role":"ops"}`),
		"csm":   h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`),
	}
	r := h.do(t, "POST", "/v1/runs", `{"playbook":"alerts","account_id":"acme"}`)
	require.Equal(t, 201, r.status, r.raw)
	runID := r.body["id"].(string)
	started := h.temporal.startedInputs()
	require.Len(t, started, 1)
	require.Contains(t, started[0].Definition.Steps[0].Notify.URL, "LEAKSLACKPATH", "a run posts where the stored version says")

	doc, ops := specOperations(t)
	var paths []string
	for _, op := range ops {
		if op.method != http.MethodGet || (op.path == "/metrics") {
			continue
		}
		p := concretePath(strings.ReplaceAll(strings.Replace(op.path, "/v1/runs/{id}", "/v1/runs/"+runID, 1), "{key}", "alerts"))
		paths = append(paths, p)
		if doc.Paths.Value(op.path).Get.Parameters.GetByInAndName("query", "version") != nil {
			paths = append(paths, p+"?version=1", p+"?version=2")
		}
	}
	paths = append(paths, "/v1/playbooks/alerts/diff?from=1&to=2", "/v1/playbooks?limit=500")
	for _, path := range paths {
		for role, key := range keys {
			t.Run("GET "+path+" as "+role, func(t *testing.T) {
				r := h.request(t, key, "GET", path, "", "")
				require.Less(t, r.status, 500, r.raw)
				requireNoLeak(t, r, path)
			})
		}
	}
	r = h.request(t, keys["csm"], "GET", "/v1/playbooks/alerts?version=1", "", "")
	require.Equal(t, 200, r.status)
	require.Contains(t, r.body["source"], "url: https://hooks.slack.com/"+playbook.Redacted, "shown cut to its host")
	require.Contains(t, string(mustJSON(t, r.body["definition"])), "https://hooks.slack.com/"+playbook.Redacted)

	writes := []struct{ method, path, contentType, body string }{
		{"POST", "/v1/playbooks/alerts/simulate", "application/json", `{"account_id":"acme","start":"2026-01-05T09:00:00Z"}`},
		{"POST", "/v1/playbooks/alerts/simulate", "application/json", `{"account_id":"acme","version":2}`},
		{"POST", "/v1/playbooks/alerts/versions/2/publish", "", ""},
		{"POST", "/v1/playbooks/alerts/duplicate", "application/json", `{"key":"alerts-copy","name":"Copy","version":1}`},
		{"POST", "/v1/playbooks/validate", "application/yaml", storetest.LegacyAlerts},
		{"POST", "/v1/playbooks", "application/yaml", storetest.LegacyAlerts},
	}
	before := h.counts(t)
	for _, w := range writes {
		for _, role := range []string{"ops", "admin"} {
			t.Run(w.method+" "+w.path+" as "+role, func(t *testing.T) {
				r := h.request(t, keys[role], w.method, w.path, w.contentType, w.body)
				require.Less(t, r.status, 500, r.raw)
				requireNoLeak(t, r, w.path)
				if !strings.HasSuffix(w.path, "/simulate") {
					require.Equal(t, 422, r.status, r.raw)
					require.Contains(t, r.raw, "named secret")
				}
			})
		}
	}
	require.Equal(t, before, h.counts(t), "a version with a credential was stored or published")
}

func mustJSON(t *testing.T, v any) []byte {
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

// Only admin keys write secrets; nobody reads a value back; a refused
// write changes nothing, whoever sends it and whatever it holds.
func TestOnlyAdminsWriteSecrets(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	ops := h.key(t, `{"name":"cs ops","role":"ops"}`)
	csm := h.key(t, `{"name":"casey","role":"csm","team_member_email":"casey@cs.test"}`)
	const stored = "https://hooks.slack.com/services/T0/B0/LEAKSLACKPATH"
	r := h.do(t, "PUT", "/v1/secrets/slack-cs-alerts", `{"value":"`+stored+`"}`)
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, "slack-cs-alerts", r.body["name"])
	require.Equal(t, "PLAYBOOKD_ADMIN_KEY", r.body["created_by"])
	requireNoLeak(t, r, "PUT")

	rows := func() string {
		var out string
		require.NoError(t, h.pool.QueryRow(context.Background(),
			`SELECT coalesce(string_agg(name || ' ' || value || ' ' || updated_by || ' ' || updated_at, ', ' ORDER BY name), '') FROM secrets`).Scan(&out))
		return out
	}
	before, counts := rows(), h.counts(t)
	put := func(value string) string { return `{"value":` + string(mustJSON(t, value)) + `}` }
	tests := []struct {
		name, key, method, path, body string
		status                        int
	}{
		{"csm replaces", csm, "PUT", "/v1/secrets/slack-cs-alerts", put("https://evil.example/x"), 403},
		{"ops replaces", ops, "PUT", "/v1/secrets/slack-cs-alerts", put("https://evil.example/x"), 403},
		{"ops adds", ops, "PUT", "/v1/secrets/other", put("https://evil.example/x"), 403},
		{"csm deletes", csm, "DELETE", "/v1/secrets/slack-cs-alerts", "", 403},
		{"ops deletes", ops, "DELETE", "/v1/secrets/slack-cs-alerts", "", 403},
		{"csm lists", csm, "GET", "/v1/secrets", "", 403},
		{"no key", "", "PUT", "/v1/secrets/slack-cs-alerts", put("https://evil.example/x"), 401},
		{"unknown key", "pbk_not-a-key", "DELETE", "/v1/secrets/slack-cs-alerts", "", 401},
		{"admin key and more", adminKey + "x", "PUT", "/v1/secrets/slack-cs-alerts", put("https://evil.example/x"), 401},
		// An admin's mistakes.
		{"plain http", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("http://hooks.slack.com/services/T/B/x"), 422},
		{"loopback", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://127.0.0.1:8080/v1/keys"), 422},
		{"metadata", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://169.254.169.254/latest/meta-data/"), 422},
		{"private", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://10.0.0.7/hook"), 422},
		{"user and password", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://u:LEAKPASS@hooks.example.com/x"), 422},
		{"not a URL", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("LEAKTOKEN"), 422},
		{"empty", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put(""), 422},
		{"too long", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://hooks.example.com/" + strings.Repeat("x", 2048)), 422},
		{"control character", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", put("https://hooks.example.com/\x07"), 400},
		{"not a string", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", `{"value":7}`, 400},
		{"unknown field", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", `{"value":"https://hooks.example.com/x","owner":"me"}`, 400},
		{"no body", adminKey, "PUT", "/v1/secrets/slack-cs-alerts", "", 400},
		{"capital letters", adminKey, "PUT", "/v1/secrets/Slack", put("https://hooks.example.com/x"), 400},
		{"underscore", adminKey, "PUT", "/v1/secrets/slack_alerts", put("https://hooks.example.com/x"), 400},
		{"leading dash", adminKey, "PUT", "/v1/secrets/-slack", put("https://hooks.example.com/x"), 400},
		{"name too long", adminKey, "PUT", "/v1/secrets/" + strings.Repeat("a", 64), put("https://hooks.example.com/x"), 400},
		{"dot segments", adminKey, "PUT", "/v1/secrets/%2e%2e", put("https://hooks.example.com/x"), 400},
		{"escaped slash", adminKey, "PUT", "/v1/secrets/a%2Fb", put("https://hooks.example.com/x"), 400},
		{"unknown secret", adminKey, "DELETE", "/v1/secrets/nope", "", 404},
		{"read a value", adminKey, "GET", "/v1/secrets/slack-cs-alerts", "", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contentType := ""
			if tt.body != "" {
				contentType = "application/json"
			}
			r := h.request(t, tt.key, tt.method, tt.path, contentType, tt.body)
			require.Equal(t, tt.status, r.status, r.raw)
			require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
			requireNoLeak(t, r, tt.name)
		})
	}
	require.Equal(t, before, rows(), "a refused write changed a secret")
	require.Equal(t, counts, h.counts(t))

	// Admins and ops list the names, never the values.
	for _, key := range []string{adminKey, ops} {
		r = h.request(t, key, "GET", "/v1/secrets", "", "")
		require.Equal(t, 200, r.status, r.raw)
		require.Len(t, r.body["items"], 1)
		requireNoLeak(t, r, "GET /v1/secrets")
	}
	r = h.do(t, "PUT", "/v1/secrets/slack-cs-alerts", `{"value":"https://hooks.slack.com/services/T0/B0/rotated"}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, 204, h.do(t, "DELETE", "/v1/secrets/slack-cs-alerts", "").status)
	require.Empty(t, rows())
}

// A notify step names a secret; publishing a version whose secret nobody
// stored is refused at the step, and accepted once an admin stores it.
func TestPublishNeedsTheSecretsANotifyStepNames(t *testing.T) {
	h := newHarness(t)
	h.seed(t)
	src := "key: alerts\nname: Alerts\nsteps:\n  - id: wait\n    wait: 1d\n  - id: tell-slack\n    notify: {secret: slack-cs-alerts, message: '{{.Account.Name}} is red'}\n"
	r := h.send(t, "POST", "/v1/playbooks", "application/yaml", src)
	require.Equal(t, 201, r.status, r.raw)
	require.Contains(t, r.body["source"], "secret: slack-cs-alerts")
	r = h.do(t, "POST", "/v1/playbooks/alerts/simulate", `{"account_id":"acme","version":1}`)
	require.Equal(t, 200, r.status, r.raw)
	require.Contains(t, r.raw, `"secret slack-cs-alerts"`, "the simulation says where the step posts")

	r = h.do(t, "POST", "/v1/playbooks/alerts/versions/1/publish", "")
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, []string{"steps[1].notify.secret"}, fieldsOf(r.body))
	require.Contains(t, r.raw, `no secret is named \"slack-cs-alerts\"`)
	require.EqualValues(t, 7, r.body["errors"].([]any)[0].(map[string]any)["line"])

	require.Equal(t, 201, h.do(t, "PUT", "/v1/secrets/slack-cs-alerts", `{"value":"https://hooks.slack.com/services/T/B/x"}`).status)
	r = h.do(t, "POST", "/v1/playbooks/alerts/versions/1/publish", "")
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, "published", r.body["status"])

	// In use, it stays: the published version's runs would fail at the step.
	r = h.do(t, "DELETE", "/v1/secrets/slack-cs-alerts", "")
	require.Equal(t, 409, r.status, r.raw)
	require.Contains(t, r.body["detail"], "alerts v1")
	r = h.send(t, "POST", "/v1/playbooks", "application/yaml", "key: alerts\nname: Alerts\nsteps:\n  - id: wait\n    wait: 1d\n")
	require.Equal(t, 201, r.status, r.raw)
	require.Equal(t, 200, h.do(t, "POST", "/v1/playbooks/alerts/versions/2/publish", "").status)
	require.Equal(t, 204, h.do(t, "DELETE", "/v1/secrets/slack-cs-alerts", "").status, "version 1 is archived, with no live run")
}

// Every route that takes a definition refuses one whose notify URL carries
// a credential, telling the author to store it as a named secret and
// quoting none of it; nothing is stored.
func TestDefinitionsWithSecretURLsAreRefused(t *testing.T) {
	h := newHarness(t)
	before := h.counts(t)
	urls := []string{
		"https://hooks.slack.com/services/T0LEAK/B0LEAK/LEAKSLACKPATH",
		"https://hooks.example.com/x?token=LEAKTOKEN",
		"https://hooks.example.com/x?api_key=LEAKTOKEN&channel=cs",
		"https://cs:LEAKPASS@hooks.example.com/x",
		"https://discord.com/api/webhooks/1/LEAKTOKEN",
	}
	for _, u := range urls {
		yamlSrc := fmt.Sprintf("key: alerts\nname: Alerts\nsteps:\n  - id: a\n    notify: {url: %q, message: hi}\n", u)
		jsonSrc := fmt.Sprintf(`{"key":"alerts","name":"Alerts","steps":[{"id":"a","notify":{"url":%q,"message":"hi"}}]}`, u)
		for _, path := range []string{"/v1/playbooks", "/v1/playbooks/validate"} {
			for contentType, src := range map[string]string{"application/yaml": yamlSrc, "application/json": jsonSrc} {
				t.Run(path+" "+contentType+" "+u, func(t *testing.T) {
					r := h.send(t, "POST", path, contentType, src)
					require.Equal(t, 422, r.status, r.raw)
					require.Equal(t, []string{"steps[0].notify.url"}, fieldsOf(r.body))
					requireNoLeak(t, r, path)
				})
			}
		}
	}
	require.Equal(t, before, h.counts(t))
}
