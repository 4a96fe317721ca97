package simulate

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/templates"
)

// A simulated email is the email as sent, in the brand's layout with its
// footer, but for the unsubscribe link, which only a send has (the
// footer says so).
func TestSimulatedEmailsShowTheBrandLayout(t *testing.T) {
	set, err := templates.Builtin()
	require.NoError(t, err)
	def, err := playbook.Parse([]byte(`key: k
name: K
templates:
  - name: day-1
    subject: Hi
    text: "Read [the guide](https://docs.example.com/start)."
steps:
  - id: day-1
    email: {template: day-1, to: [champion]}
`), playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	in := sampleInput(def, "smb")
	in.Templates = set.WithBrand(templates.Brand{Name: "Acme Success", Color: "#aa3300", PostalAddress: "1 Main St, Springfield"})
	res, err := Run(in)
	require.NoError(t, err)
	email := find(res, "day-1", "email").Emails[0]
	for _, want := range []string{">Acme Success</span>", "border-top:4px solid #aa3300", `<a href="https://docs.example.com/start"`,
		"1 Main St, Springfield", "The unsubscribe link is added when the email is sent."} {
		require.Contains(t, email.HTML, want)
	}
	// The text is the approval page's: the send adds its footer.
	require.Equal(t, "Read the guide (https://docs.example.com/start).\n", email.Text)
}
