package playbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// secretURLs are webhook URLs that are credentials, or carry one: no
// definition may hold them, and no read path may show them.
var secretURLs = []struct{ url, why string }{
	{"https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XXXXXXXXXXXXXXXXXXXXXXXX", "hooks.slack.com webhook"},
	{"https://HOOKS.SLACK.COM./services/T0/B0/x", "hooks.slack.com webhook"},
	{"https://hooks.slack.com/workflows/T0/A0/1/x", "hooks.slack.com webhook"},
	{"https://discord.com/api/webhooks/123/abcdef", "discord.com webhook"},
	{"https://acme.webhook.office.com/webhookb2/x@y/IncomingWebhook/z", "acme.webhook.office.com webhook"},
	{"https://chat.googleapis.com/v1/spaces/AAA/messages?key=AIza&token=xyz", `"key"`},
	{"https://hooks.example.com/x?access_token=abc", `"access_token"`},
	{"https://hooks.example.com/x?API_KEY=abc", `"api_key"`},
	{"https://hooks.example.com/x?sig=abc&se=2030", `"sig"`},
	{"https://fn.azurewebsites.net/api/hook?code=abc", `"code"`},
	{"https://hooks.example.com/x#secret=abc", `"secret"`},
	{"https://hooks.example.com/x?%74oken=abc", `"token"`},
	{"https://hooks.slack.com/" + Redacted, "redacted"},
}

func TestNotifyURLsThatAreCredentialsAreRefused(t *testing.T) {
	for _, tt := range secretURLs {
		t.Run(tt.url, func(t *testing.T) {
			require.Contains(t, SecretInURL(tt.url), tt.why)
			src := fmt.Sprintf("key: k\nname: K\nsteps:\n  - id: a\n    notify: {url: %q, message: hi}\n", tt.url)
			_, err := Parse([]byte(src), opts)
			var errs Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			require.Len(t, errs, 1)
			require.Equal(t, "steps[0].notify.url", errs[0].Path)
			require.Contains(t, errs[0].Message, "store")
			require.Contains(t, errs[0].Message, "secret: <name>")
			require.NotContains(t, errs[0].Message, tt.url[8:], "the URL is never quoted back")
		})
	}
	for _, ok := range []string{"https://hooks.example.com/services/x", "https://hooks.example.com/x?channel=cs&format=json",
		"https://slack.com/api/x", "https://discord.com/channels/1"} {
		require.Empty(t, SecretInURL(ok), ok)
	}
}

func TestNotifyBySecret(t *testing.T) {
	notify := func(fields string) string {
		return "key: k\nname: K\nsteps:\n  - id: a\n    notify: {" + fields + "}\n"
	}
	tests := []struct {
		name, src, path, message string // path "": valid
	}{
		{name: "by secret", src: notify("secret: slack-cs-alerts, message: hi")},
		{name: "by url", src: notify("url: 'https://hooks.example.com/x', message: hi")},
		{name: "both", src: notify("url: 'https://hooks.example.com/x', secret: slack-cs-alerts, message: hi"),
			path: "steps[0].notify.secret", message: "not both"},
		{name: "neither", src: notify("message: hi"), path: "steps[0].notify.url", message: "required"},
		{name: "bad name", src: notify("secret: Slack Alerts, message: hi"), path: "steps[0].notify.secret", message: "lower-case"},
		{name: "a URL as the name", src: notify("secret: 'https://hooks.slack.com/services/T/B/x', message: hi"),
			path: "steps[0].notify.secret", message: "lower-case"},
	}
	sch := servedSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src), opts)
			schemaErr := sch.Validate(instance(t, []byte(tt.src)))
			if tt.path == "" {
				require.NoError(t, err)
				require.NoError(t, schemaErr, "the schema agrees")
				return
			}
			requireErrorAt(t, tt.src, tt.path, tt.message)
			require.Error(t, schemaErr, "the schema agrees")
		})
	}
}

func TestCheckSecretsNamesTheMissingOnes(t *testing.T) {
	src := "key: k\nname: K\nsteps:\n  - id: a\n    notify: {secret: there, message: hi}\n" +
		"  - id: b\n    if: {health_band: red}\n    then:\n      - id: c\n        notify: {secret: gone, message: hi}\n"
	def, err := Parse([]byte(src), opts)
	require.NoError(t, err)
	require.Equal(t, []string{"there", "gone"}, def.SecretNames())
	require.NoError(t, CheckSecrets(def, nil))
	err = CheckSecrets(def, []string{"gone"})
	var errs Errors
	require.True(t, errors.As(err, &errs))
	errs = Locate([]byte(src), errs)
	require.Len(t, errs, 1)
	require.Equal(t, "steps[1].then[0].notify.secret", errs[0].Path)
	require.Equal(t, 10, errs[0].Line)
	require.Contains(t, errs[0].Message, `no secret is named "gone"`)
}

// Every read path shows a definition through RedactSecrets: no URL that
// carries a credential survives, in YAML or in JSON (as Go writes it, with
// & as \u0026), and the JSON stays JSON.
func TestRedactSecrets(t *testing.T) {
	for _, tt := range secretURLs {
		if strings.Contains(tt.url, Redacted) {
			continue // shown as it is
		}
		t.Run(tt.url, func(t *testing.T) {
			yamlSrc := "steps:\n  - notify:\n      url: " + tt.url + "\n      message: see " + tt.url + " now\n"
			got := RedactSecrets(yamlSrc)
			secretPart := tt.url[strings.Index(tt.url, "://")+3:]
			require.NotContains(t, got, secretPart)
			require.Contains(t, got, Redacted)

			raw, err := json.Marshal(map[string]any{"notify": map[string]string{"url": tt.url, "message": `"` + tt.url + `"` + "\n<" + tt.url + ">"}})
			require.NoError(t, err)
			got = RedactSecrets(string(raw))
			require.True(t, json.Valid([]byte(got)), got)
			require.NotContains(t, got, secretPart)
			var back map[string]map[string]string
			require.NoError(t, json.Unmarshal([]byte(got), &back))
			require.NotEmpty(t, SecretInURL(back["notify"]["url"]), "a redacted URL is refused if saved back")
		})
	}
	require.Equal(t, "https://hooks.slack.com/"+Redacted, RedactSecrets("https://hooks.slack.com/services/T/B/x"))
	for _, plain := range []string{"url: https://hooks.example.com/x?channel=cs\n", `{"url":"https://a.example/b?x=1\u0026y=2"}`, "no URL here"} {
		require.Equal(t, plain, RedactSecrets(plain))
	}
}
