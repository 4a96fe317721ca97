package analytics

import (
	"testing"

	"github.com/playbookd/playbookd/store"
)

// Orange, the high-risk band of four-band models, is counted in its own
// column and ranks between yellow and red when runs are judged.
func TestHealthCountsOrange(t *testing.T) {
	tests := []struct {
		before, after string
		want          Health
	}{
		{"yellow", "orange", Health{Runs: 1, Before: Bands{Yellow: 1}, After: Bands{Orange: 1}, Worsened: 1}},
		{"orange", "red", Health{Runs: 1, Before: Bands{Orange: 1}, After: Bands{Red: 1}, Worsened: 1}},
		{"red", "orange", Health{Runs: 1, Before: Bands{Red: 1}, After: Bands{Orange: 1}, Improved: 1}},
		{"orange", "yellow", Health{Runs: 1, Before: Bands{Orange: 1}, After: Bands{Yellow: 1}, Improved: 1}},
		{"orange", "orange", Health{Runs: 1, Before: Bands{Orange: 1}, After: Bands{Orange: 1}, Unchanged: 1}},
		{"", "orange", Health{Runs: 1, Before: Bands{Unscored: 1}, After: Bands{Orange: 1}, Unknown: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.before+" to "+tt.after, func(t *testing.T) {
			var h Health
			var ret Retention
			addHealth(&h, &ret, store.HealthOutcome{Before: tt.before, After: tt.after, AccountStatus: "active", Runs: 1})
			if h != tt.want {
				t.Errorf("health %+v, want %+v", h, tt.want)
			}
		})
	}
}
