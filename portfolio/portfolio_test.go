package portfolio

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/playbookd/playbookd/store"
)

type fakeStore struct{ bands store.BandCounts }

func (f fakeStore) BandDistribution(context.Context) (store.BandCounts, error) { return f.bands, nil }
func (fakeStore) RetentionCohort(context.Context, time.Time, time.Time) (store.Cohort, error) {
	return store.Cohort{}, nil
}
func (fakeStore) PlaybookOutcomes(context.Context, time.Time, time.Time) ([]store.OutcomeStats, error) {
	return nil, nil
}
func (fakeStore) LiveRunCounts(context.Context) (map[string]int, error) { return map[string]int{}, nil }
func (fakeStore) PortfolioSurveys(context.Context, time.Time, time.Time) ([]store.SegmentSurveys, error) {
	return nil, nil
}

// The report counts orange, the high-risk band of four-band models, and
// always says how many are orange (0 under three bands).
func TestBuildCountsOrange(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		bands store.BandCounts
		want  string
	}{
		{"four bands", store.BandCounts{Green: 3, Yellow: 2, Orange: 4, Red: 1, Unscored: 5}, `{"green":3,"yellow":2,"orange":4,"red":1,"unscored":5}`},
		{"three bands", store.BandCounts{Green: 3, Yellow: 2, Red: 1}, `{"green":3,"yellow":2,"orange":0,"red":1,"unscored":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(context.Background(), fakeStore{tt.bands}, day, day)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(r.Bands)
			if err != nil || string(got) != tt.want {
				t.Errorf("bands %s %v, want %s", got, err, tt.want)
			}
		})
	}
}
