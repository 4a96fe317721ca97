package compose

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/templates"
)

func ptr[T any](v T) *T { return &v }

// A template sees what the latest snapshot measured, and nil, not 0, for
// what it did not.
func TestDataMetricsFromSnapshot(t *testing.T) {
	at := time.Date(2026, 5, 31, 23, 0, 0, 0, time.FixedZone("", -3*3600)) // June 1st in UTC
	snapshot := func(inputs, components string) *store.HealthSummary {
		return &store.HealthSummary{Score: 64, Band: "yellow", MeasuredAt: at,
			Inputs: json.RawMessage(inputs), Components: json.RawMessage(components)}
	}
	for _, tt := range []struct {
		name   string
		health *store.HealthSummary
		want   templates.Metrics
	}{
		{"before the first snapshot", nil, templates.Metrics{}},
		{"every measure", snapshot(`{"active_users": 42, "licensed_users": 50, "logins_per_week": 12.46, "expected_logins_per_week": 20,
			"ticket_volume": 3, "ticket_baseline": 5, "critical_tickets": 0, "total_tickets": 10, "nps": -5, "csat": 4.25, "days_since_last_contact": 6}`,
			`{"components": [{"name": "usage", "points": 24, "weight": 30}, {"name": "support", "points": 0, "weight": 20}]}`),
			templates.Metrics{MeasuredAt: "2026-06-01", ActiveUsers: ptr(42), LicensedUsers: ptr(50), SeatUtilisation: ptr(84),
				LoginsPerWeek: ptr(12.5), TicketVolume: ptr(3), TotalTickets: ptr(10), CriticalTickets: ptr(0), NPS: ptr(-5),
				CSAT: ptr(4.3), DaysSinceLastContact: ptr(6), Components: map[string]int{"usage": 80, "support": 0}}},
		{"measured zeros", snapshot(`{"active_users": 0, "licensed_users": 50, "nps": 0}`, `{}`),
			templates.Metrics{MeasuredAt: "2026-06-01", ActiveUsers: ptr(0), LicensedUsers: ptr(50), SeatUtilisation: ptr(0), NPS: ptr(0)}},
		{"more active than licensed: utilisation as the model caps it", snapshot(`{"active_users": 60, "licensed_users": 50}`, `{}`),
			templates.Metrics{MeasuredAt: "2026-06-01", ActiveUsers: ptr(60), LicensedUsers: ptr(50), SeatUtilisation: ptr(100)}},
		{"a score given upstream", snapshot(`{"score": 64}`, `{"score": 64, "upstream": true, "components": []}`),
			templates.Metrics{MeasuredAt: "2026-06-01"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Data(store.Account{ID: "acme", Health: tt.health}, store.Contact{}).Metrics
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Metrics = %+v, want %+v", got, tt.want)
			}
		})
	}
}
