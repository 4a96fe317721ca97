package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/internal/app"
)

// Templates read the account fields the organisation declares, with a
// default for accounts that lack one; a field nobody declared is refused
// when the definition is validated, at its path and line, naming those
// that are. The fields CS ops look up list the declared ones.
func TestTemplatesReadDeclaredAccountFields(t *testing.T) {
	h := newHarnessWithDeps(t, func(d *app.Deps) {
		d.AccountFields = []accounts.Field{{Name: "plan", Type: "text"}, {Name: "region", Type: "text"}}
	})
	definition := func(field string) string {
		return `key: plan-note
name: Plan note
templates:
  - name: note
    subject: Your {{.Account.Fields.plan | default "Standard"}} plan
    text: |
      Hi {{.Contact.FirstName}},
      your ` + field + ` account.
steps:
  - id: hello
    email: {template: note, to: champion}
`
	}
	r := h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", definition(`{{.Account.Fields.plan | default "Standard"}}`))
	require.Equal(t, 200, r.status, r.raw)
	require.Equal(t, true, r.body["valid"])

	r = h.send(t, "POST", "/v1/playbooks/validate", "application/yaml", definition("{{.Account.Fields.colour}}"))
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, []any{map[string]any{"field": "templates[0].text", "line": float64(8),
		"message": `template "note", line 2 of the text: .Account.Fields.colour is not a declared account field; ` +
			`declared: feature_adoption_pct, plan, region, seats_used_pct (ACCOUNT_FIELDS declares more)`}},
		r.body["errors"])

	// Field conditions are held to the declaration too.
	r = h.send(t, "POST", "/v1/playbooks/validate", "application/yaml",
		"key: k\nname: K\nsteps:\n  - id: a\n    when: {field: {name: colour, eq: red}}\n    wait: 1d\n")
	require.Equal(t, 422, r.status, r.raw)
	require.Equal(t, []any{map[string]any{"field": "steps[0].when.field.name", "line": float64(5),
		"message": `"colour" is not a declared account field; declared: feature_adoption_pct, plan, region, seats_used_pct (ACCOUNT_FIELDS declares more)`}},
		r.body["errors"])

	r = h.do(t, "GET", "/v1/playbooks/template-fields", "")
	require.Equal(t, 200, r.status, r.raw)
	var names []string
	for _, f := range r.body["items"].([]any) {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	require.Subset(t, names, []string{".Account.Fields", ".Account.Fields.plan", ".Account.Fields.region", ".Account.Fields.seats_used_pct"})
}
