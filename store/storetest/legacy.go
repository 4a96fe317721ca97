package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/playbookd/playbookd/store"
)

// LegacyAlerts is a definition as it could be stored before URLs with a
// credential were refused: a Slack webhook, a token and a password, in a
// notify step's url and message and in a template. LegacyLeaks are the
// parts no read path (API answer or console page) may show.
const LegacyAlerts = `key: alerts
name: Alerts
templates:
  - name: heads-up
    subject: Heads up
    html: "<p>Open https://hooks.example.com/x?token=LEAKTOKEN</p>"
    text: "Open https://hooks.example.com/x?token=LEAKTOKEN"
steps:
  - id: tell-slack
    notify:
      url: https://hooks.slack.com/services/T0LEAK/B0LEAK/LEAKSLACKPATH
      message: "{{.Account.Name}} needs a look: https://cs:LEAKPASS@hooks.example.com/x"
  - id: mail
    email: {template: heads-up, to: [champion]}
`

// LegacyLeaks are LegacyAlerts' credentials.
var LegacyLeaks = []string{"LEAKSLACKPATH", "LEAKTOKEN", "LEAKPASS", "T0LEAK"}

// StoreLegacyAlerts stores LegacyAlerts past today's validation, as
// version 1 (published) and version 2 (a draft) of alerts.
func StoreLegacyAlerts(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	for i, src := range []string{LegacyAlerts, strings.Replace(LegacyAlerts, "needs a look", "needs a second look", 1)} {
		var doc any
		require.NoError(t, yaml.Unmarshal([]byte(src), &doc))
		def, err := json.Marshal(doc)
		require.NoError(t, err)
		_, err = st.CreatePlaybookVersion(ctx, store.NewPlaybookVersion{Key: "alerts", Name: "Alerts", Definition: def,
			Source: src, SourceFormat: "yaml"})
		require.NoError(t, err)
		if i == 0 {
			_, err = st.PublishPlaybookVersion(ctx, "alerts", 1)
			require.NoError(t, err)
		}
	}
}
