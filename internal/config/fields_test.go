package config

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/playbookd/playbookd/accounts"
)

// ACCOUNT_FIELDS declares the accounts' custom fields; every mistake in it
// is said at start-up, naming the variable and the entry.
func TestAccountFields(t *testing.T) {
	good := []struct {
		name, spec string
		want       []accounts.Field
	}{
		{"unset", "", nil},
		{"the issue's example", "plan:text,region:text,seats_used_pct:number,renewed:bool",
			[]accounts.Field{{Name: "plan", Type: "text"}, {Name: "region", Type: "text"}, {Name: "seats_used_pct", Type: "number"}, {Name: "renewed", Type: "bool"}}},
		{"spaces around", " plan : text , arr_band:number ", []accounts.Field{{Name: "plan", Type: "text"}, {Name: "arr_band", Type: "number"}}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadFrom(map[string]string{"ACCOUNT_FIELDS": tt.spec})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AccountFields(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("AccountFields() = %v, want %v", got, tt.want)
			}
		})
	}
	bad := []struct {
		name, spec string
		want       []string
	}{
		{"no type", "plan", []string{`ACCOUNT_FIELDS: "plan" has no type: write plan:text, plan:number or plan:bool`}},
		{"unknown type", "plan:string", []string{`plan: type "string" is not text, number or bool`}},
		{"upper case", "Plan:text", []string{`"Plan": a field's name is lower-case letters, digits and '_'`}},
		{"dotted", "plan.tier:text", []string{`"plan.tier": a field's name`}},
		{"starts with a digit", "1plan:text", []string{`"1plan"`}},
		{"twice", "plan:text,plan:number", []string{"plan is declared twice"}},
		{"empty entry", "plan:text,,region:text", []string{"entry 2 is empty"}},
		{"a measured field with another type", "seats_used_pct:text", []string{"seats_used_pct is written by the health sweep as a number: declare it seats_used_pct:number"}},
		{"every problem at once", "Plan:text,region", []string{`"Plan"`, `"region" has no type`}},
		{"too many", manyFields(accounts.MaxFields + 1), []string{"101 fields declared; at most 100"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom(map[string]string{"ACCOUNT_FIELDS": tt.spec})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range append(tt.want, "ACCOUNT_FIELDS: ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func manyFields(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "f" + strconv.Itoa(i) + ":text"
	}
	return strings.Join(parts, ",")
}
