package compose

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

// A template reads the account's custom fields as text: numbers in
// decimals, bools as true or false; nulls and unreadable JSON are absent.
func TestDataFillsCustomFields(t *testing.T) {
	for _, tt := range []struct {
		name, raw string
		want      templates.CustomFields
	}{
		{"none stored", "", templates.CustomFields{}},
		{"every kind", `{"plan": "Enterprise", "seats_used_pct": 87, "arr_uplift": 1000000, "ratio": 0.125, "renewed": true, "exp": 1.5e3, "gone": null}`,
			templates.CustomFields{"plan": "Enterprise", "seats_used_pct": "87", "arr_uplift": "1000000", "ratio": "0.125",
				"renewed": "true", "exp": "1500"}},
		{"not an object", `[1, 2]`, templates.CustomFields{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Data(store.Account{ID: "acme", CustomFields: json.RawMessage(tt.raw)}, store.Contact{}).Account.Fields
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Fields = %v, want %v", got, tt.want)
			}
		})
	}
}

// What the health sweep writes (seats_used_pct: math.Round of a percent,
// stored as JSON) prints as a whole number in an email.
func TestMeasuredFieldPrintsWhole(t *testing.T) {
	set, err := templates.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	own, err := set.WithSource("seats", "Seats", "<p>{{.Account.Fields.seats_used_pct}}% of seats</p>", `{{.Account.Fields.plan | default "Standard"}} plan`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := own.Render("seats", Data(store.Account{ID: "acme", CustomFields: json.RawMessage(`{"seats_used_pct": 92}`)}, store.Contact{}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Standard plan\n" {
		t.Errorf("text = %q", r.Text)
	}
	if want := "<p>92% of seats</p>"; !strings.Contains(r.HTML, want) {
		t.Errorf("html = %q, want %q in it", r.HTML, want)
	}
}
