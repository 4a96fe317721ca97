package templates

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An edit made once for several recipients keeps each one's own greeting:
// its fields are filled in for each, and parts left alone stay each one's
// draft.
func TestComposeKeepsEachRecipientsPersonalisation(t *testing.T) {
	set, err := Builtin()
	require.NoError(t, err)
	people := []Data{
		{Account: Account{Name: "Acme"}, Contact: Person{Name: "Dana Diaz", Email: "dana@acme.test"}, CSM: Person{Name: "Casey"}},
		{Account: Account{Name: "Acme"}, Contact: Person{Name: "Lee Chen", Email: "ceo@acme.test"}, CSM: Person{Name: "Casey"}},
	}
	edits := &Rendered{Text: "Hi {{.Contact.FirstName}},\n\nA shorter note from {{.CSM.Name}}."}
	for _, d := range people {
		draft, err := set.Render("qbr-invite", d)
		require.NoError(t, err)
		got, err := Compose(draft, edits, d)
		require.NoError(t, err)
		first := strings.Fields(d.Contact.Name)[0]
		require.Equal(t, "Hi "+first+",\n\nA shorter note from Casey.", got.Text)
		require.Contains(t, got.HTML, "Hi "+first+",", "the html is laid out from the edited text")
		require.Equal(t, draft.Subject, got.Subject, "the subject was not edited: each keeps their own")

		same, err := Compose(draft, nil, d)
		require.NoError(t, err)
		require.Equal(t, draft, same, "no edits: the draft")
		literal, err := Compose(draft, &Rendered{Subject: "QBR next week?"}, d)
		require.NoError(t, err)
		require.Equal(t, "QBR next week?", literal.Subject, "an edit without fields is sent as written")
	}
}

func TestComposeRefusesEditsThatCannotBeFilledIn(t *testing.T) {
	d := Data{Contact: Person{Name: "Dana"}}
	draft := Rendered{Subject: "S", Text: "T\n", HTML: Layout("S", "T\n")}
	tests := []struct {
		name  string
		edits Rendered
		part  string
	}{
		{"unknown field", Rendered{Text: "Hi {{.Contact.Nickname}}"}, "text"},
		{"unclosed action", Rendered{Subject: "Hi {{.Contact.Name"}, "subject"},
		{"formatting bomb", Rendered{Text: `{{printf "%10000000d" 1}}`}, "text"},
		{"empty once filled", Rendered{Text: "{{if false}}x{{end}}"}, "text"},
		{"html without text", Rendered{HTML: "<p>Hi</p>"}, "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compose(draft, &tt.edits, d)
			require.Error(t, err)
			var edit *EditError
			if errors.As(err, &edit) {
				require.Equal(t, tt.part, edit.Part, "%v", err)
			}
		})
	}
}

func TestSourceShowsTheFieldsOfAPart(t *testing.T) {
	set, err := Builtin()
	require.NoError(t, err)
	subject, text, ok := set.Source("qbr-invite")
	require.True(t, ok)
	require.Contains(t, subject+text, "{{", "the fields stay fields")
	_, _, ok = set.Source("nope")
	require.False(t, ok)
}
