package activities_test

import (
	"html"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/unsubscribe"
)

// A definition's own template with subject and text alone is sent in the
// brand's layout, its Markdown-light made html and kept readable in the
// text, with the footer (postal address, the recipient's unsubscribe link)
// in both parts.
func TestTextOnlyOwnTemplateIsSentInTheBrandLayout(t *testing.T) {
	f := newFixture(t, false)
	f.acts.Links = unsubscribe.New("test-signing-key-of-at-least-32-chars", "https://cs.example")
	f.acts.Templates = f.acts.Templates.WithBrand(templates.Brand{Name: "Acme Success", Color: "#aa3300",
		LogoURL: "https://cdn.acme.example/logo.png", PostalAddress: "Acme Inc., 1 Main St, Springfield"})
	res, err := exec[contract.SendEmailResult](t, f, contract.SendEmail, contract.SendEmailInput{
		RunID: f.runID, StepID: "own", AccountID: "acme", Template: "hello", ToRoles: []string{"champion"},
		OwnTemplate: &contract.TemplateSource{Name: "hello", Subject: "Hello {{.Account.Name}}",
			Text: "Hi **{{.Contact.FirstName}}**,\n\n- read [the guide](https://docs.acme.example/start)\n- invite your team"},
	})
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	msg := f.sender.last
	link := strings.Trim(msg.Headers["List-Unsubscribe"], "<>")
	require.NotEmpty(t, link)

	for _, want := range []string{`<img src="https://cdn.acme.example/logo.png" alt="Acme Success"`, "border-top:4px solid #aa3300",
		"<strong>Pat</strong>", `<a href="https://docs.acme.example/start"`, "Acme Inc., 1 Main St, Springfield",
		`<a href="` + html.EscapeString(link) + `">Unsubscribe</a>`} {
		require.Contains(t, msg.HTML, want)
	}
	require.Equal(t, 1, strings.Count(msg.HTML, ">Unsubscribe</a>"))
	require.NotContains(t, msg.HTML, "added when the email is sent")
	require.Equal(t, "Hi **Pat**,\n\n- read the guide (https://docs.acme.example/start)\n- invite your team\n\n"+
		"--\nAcme Success · Acme Inc., 1 Main St, Springfield\nUnsubscribe: "+link+"\n", msg.Text)
	// The outbox keeps what was sent.
	emails := f.emails(t)
	require.Equal(t, msg.HTML, emails[len(emails)-1].HTML)
}
