package app

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
)

func TestReportPeriodFillsInWhatIsLeftOut(t *testing.T) {
	a := &App{Now: func() time.Time { return time.Date(2026, 12, 6, 15, 4, 0, 0, time.UTC) }}
	day := func(s string) *time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return &d
	}
	tests := []struct {
		name     string
		from, to *time.Time
		want     string // from..to
		err      error
	}{
		{"nothing given: the year to today", nil, nil, "2025-12-07..2026-12-06", nil},
		{"an end: the year to it", nil, day("2026-06-30"), "2025-07-01..2026-06-30", nil},
		{"a start: from it to today", day("2026-11-01"), nil, "2026-11-01..2026-12-06", nil},
		{"both", day("2026-01-01"), day("2026-03-31"), "2026-01-01..2026-03-31", nil},
		{"one day", day("2026-01-01"), day("2026-01-01"), "2026-01-01..2026-01-01", nil},
		{"reversed: the default, and why", day("2026-03-31"), day("2026-01-01"), "2025-12-07..2026-12-06", ErrPeriodReversed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.ReportPeriod(tc.from, tc.to)
			require.True(t, errors.Is(err, tc.err), "error %v, want %v", err, tc.err)
			require.Equal(t, tc.want, p.From.Format(time.DateOnly)+".."+p.To.Format(time.DateOnly))
		})
	}
}

func TestTallyCountsLiveRunsAndOutcomesOfOneVersionOrAll(t *testing.T) {
	counts := []store.RunCount{
		{Key: "onboarding", Version: 1, Status: states.RunCompleted, Outcome: "activated", Runs: 4},
		{Key: "onboarding", Version: 1, Status: states.RunRunning, Runs: 2},
		{Key: "onboarding", Version: 2, Status: states.RunPaused, Runs: 1},
		{Key: "onboarding", Version: 2, Status: states.RunCompleted, Outcome: "activated", Runs: 3},
		{Key: "onboarding", Version: 2, Status: states.RunCancelled, Runs: 3},
		{Key: "renewal", Version: 1, Status: states.RunRunning, Runs: 9},
	}
	all := tally(counts, "onboarding", 0)
	require.Equal(t, 3, all.Live)
	require.Equal(t, []OutcomeCount{{"activated", 7}, {"cancelled", 3}}, all.Outcomes)
	require.Len(t, all.Counts, 5)
	v2 := tally(counts, "onboarding", 2)
	require.Equal(t, 1, v2.Live)
	require.Equal(t, []OutcomeCount{{"activated", 3}, {"cancelled", 3}}, v2.Outcomes, "ties by name")
	none := tally(counts, "expansion", 0)
	require.Zero(t, none.Live)
	require.Empty(t, none.Outcomes)
}
