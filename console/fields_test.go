package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// The editor's field list shows the account fields the organisation
// declares, and its check refuses one it does not, naming those it does.
func TestEditorKnowsTheDeclaredAccountFields(t *testing.T) {
	l := storetest.NewLadder(t)
	set, err := templates.Builtin()
	require.NoError(t, err)
	a, _ := app.Build(app.Deps{Store: l.Store, Engine: startingEngine{&fakeTemporal{}, l.Store}, Templates: set,
		AccountFields: []accounts.Field{{Name: "plan", Type: "text"}}})
	ops := signedIn(t, serve(t, console.Config{App: a, AdminKey: adminKey}), adminKey)
	draftOf(t, l.Store, helloDraft)

	_, editor := ops.get("/console/playbooks/hello/versions/1")
	require.Contains(t, editor, "<code>{{.Account.Fields.plan}}</code>")
	require.Contains(t, editor, "<code>{{.Account.Fields.seats_used_pct}}</code>")

	source := func(field string) string {
		return strings.Replace(helloDraft, "steps:", "templates:\n  - name: note\n    subject: Hi\n    text: Your {{.Account.Fields."+field+
			` | default "Standard"}} plan`+"\nsteps:", 1)
	}
	_, body := ops.post("/console/playbooks/hello/validate", url.Values{"csrf": {csrfOf(t, editor)}, "source": {source("plan")}})
	require.Contains(t, body, `"valid":true`)
	_, body = ops.post("/console/playbooks/hello/validate", url.Values{"csrf": {csrfOf(t, editor)}, "source": {source("colour")}})
	require.Contains(t, body, `.Account.Fields.colour is not a declared account field; declared: feature_adoption_pct, plan, seats_used_pct`)
}
