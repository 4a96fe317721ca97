package triggers_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/triggers"
)

// The latest call or meeting logged on an account is its last contact: a
// measurement that does not say the days since it is given them, and the
// default model (seed 003, whose engagement weighs contact recency) scores
// them. A measurement that says them, or an upstream score, is kept as
// sent; a model without contact recency scores as before.
func TestHealthReadsTheLastContactFromNotes(t *testing.T) {
	l := storetest.NewLadder(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	svc := func(model string) *triggers.Service {
		return &triggers.Service{Store: l.Store, Runs: &fakeRuns{store: l.Store, started: map[string]uuid.UUID{}},
			Model: health.Presets[model], Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	}
	rate := func(v float64) *float64 { return &v }
	measured := health.Inputs{EmailResponseRate: rate(0.5)}
	inputsOf := func(r triggers.Recorded) health.Inputs {
		var in health.Inputs
		require.NoError(t, json.Unmarshal(r.Snapshot.Inputs, &in))
		return in
	}

	before, err := svc("seed-003").RecordHealth(ctx, l.AccountID, measured, now.Add(-3*time.Hour))
	require.NoError(t, err)
	require.Nil(t, inputsOf(before).DaysSinceLastContact, "no call logged: nothing to read")

	_, err = l.Store.AddNote(ctx, store.NewNote{AccountID: l.AccountID, Kind: store.NoteNote, Body: "a note is no contact",
		AuthorEmail: storetest.CSM, HappenedAt: now.Add(-time.Hour)})
	require.NoError(t, err)
	_, err = l.Store.AddNote(ctx, store.NewNote{AccountID: l.AccountID, Kind: store.NoteCall, Body: "Kickoff",
		AuthorEmail: storetest.CSM, HappenedAt: now.Add(-36 * time.Hour)})
	require.NoError(t, err)

	rec, err := svc("seed-003").RecordHealth(ctx, l.AccountID, measured, now.Add(-2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1.4, *inputsOf(rec).DaysSinceLastContact, "34 hours, in tenths of a day")
	require.NotContains(t, rec.Result.LeftOut, "engagement.contact_recency")
	require.Equal(t, 1.0, findTerm(rec.Result, "engagement", "contact_recency"), "full up to 7 days")
	require.NotEqual(t, before.Result.Score, rec.Result.Score, "engagement now reads it")

	said := measured
	said.DaysSinceLastContact = rate(40)
	rec, err = svc("seed-003").RecordHealth(ctx, l.AccountID, said, now.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 40.0, *inputsOf(rec).DaysSinceLastContact, "what the measurement says wins")

	upstream := health.Inputs{Score: rate(72)}
	rec, err = svc("seed-003").RecordHealth(ctx, l.AccountID, upstream, now.Add(-30*time.Minute))
	require.NoError(t, err)
	require.Nil(t, inputsOf(rec).DaysSinceLastContact, "an upstream score stays alone")
	require.Equal(t, 72, rec.Result.Score)

	seats := health.Inputs{ActiveUsers: rate(40), LicensedUsers: rate(50)}
	rec, err = svc("seed-000").RecordHealth(ctx, l.AccountID, seats, now)
	require.NoError(t, err)
	require.Equal(t, health.Presets["seed-000"].Score(seats).Score, rec.Result.Score, "seed 000 weighs no contact: unchanged")
}

func findTerm(r health.Result, component, measure string) float64 {
	for _, c := range r.Components {
		if c.Name == component {
			return c.Terms[measure]
		}
	}
	return -1
}
