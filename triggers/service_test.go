package triggers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/runs"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/triggers"
)

// fakeRuns records runs as the real service does, without Temporal; down
// makes starts fail as if Temporal were unreachable.
type fakeRuns struct {
	store   *store.Store
	down    bool
	started map[string]uuid.UUID // playbook/account → run
}

func (f *fakeRuns) Start(ctx context.Context, in runs.StartInput) (store.Run, error) {
	if f.down {
		return store.Run{}, errors.New("connection refused")
	}
	key := in.PlaybookKey + "/" + in.AccountID
	if id, ok := f.started[key]; ok {
		return store.Run{}, &runs.LiveRunError{RunID: &id}
	}
	run, err := f.store.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey,
		PlaybookVersion: 1, WorkflowID: key, TemporalRunID: "r", StartedAt: time.Now()})
	f.started[key] = run.ID
	return run, err
}

func (f *fakeRuns) AccountChanged(context.Context, string) (int, error) { return 0, nil }

func (f *fakeRuns) DeliverEvent(context.Context, string, string, map[string]any) (int, error) {
	return 0, nil
}

// A renewal window reached by the passing of time is found by the sweep; a
// start that fails stays pending and the next sweep does it; sweeping again
// starts nothing twice.
func TestSweepStartsRenewalsOnceAndRetriesPendingStarts(t *testing.T) {
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	set, err := templates.Builtin()
	require.NoError(t, err)
	_, err = playbooks.Seed(ctx, st, playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	_, _, err = st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	now := time.Now()
	renewal := now.AddDate(0, 0, 150)
	// Saved when its renewal was 150 days away: no firing then.
	_, _, err = st.UpsertAccount(ctx, store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 50000, Segment: "mid_market",
		CSMEmail: "casey@cs.test", Timezone: "UTC", RenewalDate: &renewal, LifecycleStage: "adoption", Status: "active"})
	require.NoError(t, err)

	fake := &fakeRuns{store: st, started: map[string]uuid.UUID{}, down: true}
	clock := now
	svc := &triggers.Service{Store: st, Runs: fake, Model: health.Presets[health.DefaultModel],
		Now: func() time.Time { return clock }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	res, err := svc.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, res.RenewalFirings, "150 days away")

	clock = now.AddDate(0, 0, 31) // 119 days before the renewal
	_, err = svc.Sweep(ctx)
	require.ErrorContains(t, err, "connection refused")
	pending, err := st.PendingFirings(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, pending, 1, "the firing waits for the next sweep")

	fake.down = false
	res, err = svc.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.RenewalFirings)
	require.Len(t, fake.started, 1)
	for range 2 {
		_, err = svc.Sweep(ctx)
		require.NoError(t, err)
	}
	firings, err := st.AccountFirings(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, firings, 1, "one firing per renewal date, however often the sweep runs")
	require.Equal(t, store.FiringStarted, firings[0].Status)
	require.Equal(t, fake.started["renewal/acme"], *firings[0].RunID)
}
