package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Offline validation holds templates to the fields ACCOUNT_FIELDS
// declares, as the API does; a bad declaration is a usage error.
func TestValidateFilesWithDeclaredFields(t *testing.T) {
	dir := t.TempDir()
	file := func(name, field string) string {
		p := filepath.Join(dir, name)
		src := "key: hello\nname: Hello\ntemplates:\n  - name: note\n    subject: Hi\n    text: 'Your {{.Account.Fields." + field +
			" | default \"Standard\"}} plan'\nsteps: [{id: a, email: {template: note, to: champion}}]\n"
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
		return p
	}
	plan, colour := file("plan.yaml", "plan"), file("colour.yaml", "colour")

	t.Setenv("ACCOUNT_FIELDS", "plan:text")
	var out bytes.Buffer
	require.Equal(t, 0, validateFiles([]string{plan}, &out), out.String())
	out.Reset()
	require.Equal(t, 1, validateFiles([]string{colour}, &out))
	require.Contains(t, out.String(), "colour.yaml: templates[0].text (line 6): template \"note\", line 1 of the text: "+
		".Account.Fields.colour is not a declared account field; declared: feature_adoption_pct, plan, seats_used_pct")

	t.Setenv("ACCOUNT_FIELDS", "plan")
	out.Reset()
	require.Equal(t, 2, validateFiles([]string{plan}, &out))
	require.Contains(t, out.String(), `ACCOUNT_FIELDS: "plan" has no type`)
}
