package triggers

import (
	"testing"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/health"
)

// The fields the health sweep writes are those accounts.MeasuredFields
// declares always, numbers both: templates and conditions may read them
// whatever ACCOUNT_FIELDS says.
func TestMeasuredFieldsAreDeclared(t *testing.T) {
	one := 1.0
	written := measureFields(health.Inputs{ActiveUsers: &one, LicensedUsers: &one, FeaturesUsed: &one, TotalFeatures: &one})
	if len(written) != len(accounts.MeasuredFields) {
		t.Fatalf("the sweep writes %v, MeasuredFields declares %v", written, accounts.MeasuredFields)
	}
	for _, f := range accounts.MeasuredFields {
		if _, ok := written[f.Name].(float64); !ok || f.Type != "number" {
			t.Errorf("%s: written %v, declared %s", f.Name, written[f.Name], f.Type)
		}
	}
}
