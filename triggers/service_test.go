package triggers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/playbook"
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

// DeliverEvent records the event as the real service does; no run is live.
func (f *fakeRuns) DeliverEvent(ctx context.Context, accountID, name string, data map[string]any, firings []store.NewFiring) (int, error) {
	return 0, f.store.RecordAccountEvent(ctx, accountID, name, data, firings)
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
	_, err = catalog.Seed(ctx, st, playbook.Options{BuiltinTemplates: set.Names()})
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

// stageFixture publishes playbooks started by a stage change and by an
// event, and saves the account acme in onboarding.
func stageFixture(t *testing.T) (*triggers.Service, *fakeRuns, *store.Store, store.UpsertAccount) {
	t.Helper()
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	for key, trigger := range map[string]string{
		"adoption":        `{"on":"stage_changed","to":"adoption"}`,
		"handover":        `{"on":"stage_changed","from":"onboarding","to":"adoption"}`,
		"champion-change": `{"on":"event","event":"champion_left"}`,
	} {
		def := fmt.Sprintf(`{"key":%q,"name":%q,"trigger":%s,"steps":[{"id":"s","at":"0d","check_health":{}}]}`, key, key, trigger)
		_, _, err := st.SeedPlaybook(ctx, store.NewPlaybookVersion{Key: key, Name: key, Definition: json.RawMessage(def),
			Source: def, SourceFormat: "json"})
		require.NoError(t, err)
	}
	_, _, err := st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	fake := &fakeRuns{store: st, started: map[string]uuid.UUID{}}
	svc := &triggers.Service{Store: st, Runs: fake, Model: health.Presets[health.DefaultModel], Now: time.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	acct := store.UpsertAccount{ID: "acme", Name: "Acme", ARR: 50000, Segment: "mid_market", CSMEmail: "casey@cs.test",
		Timezone: "UTC", LifecycleStage: "onboarding", Status: "active"}
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	return svc, fake, st, acct
}

func firingsOf(t *testing.T, st *store.Store, playbook string) []store.Firing {
	t.Helper()
	all, err := st.AccountFirings(context.Background(), "acme", 100)
	require.NoError(t, err)
	var out []store.Firing
	for _, f := range all {
		if f.PlaybookKey == playbook {
			out = append(out, f)
		}
	}
	return out
}

// An account saved into adoption starts the adoption playbooks once; saving
// it again in adoption is no change; leaving and re-entering the stage is a
// new occasion (settled already_live while the first run lives).
func TestStageChangeOnSaveFiresOncePerChange(t *testing.T) {
	ctx := context.Background()
	svc, fake, st, acct := stageFixture(t)
	require.Empty(t, fake.started, "created in onboarding: no stage changed")

	acct.LifecycleStage = "adoption"
	_, err := svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	adoption := firingsOf(t, st, "adoption")
	require.Len(t, adoption, 1, "the second save does not change the stage")
	require.Equal(t, store.FiringStarted, adoption[0].Status)
	require.Regexp(t, `^stage_changed:onboarding>adoption#event-\d+$`, adoption[0].Occasion)
	require.Len(t, firingsOf(t, st, "handover"), 1, "from: onboarding matches")
	require.Contains(t, fake.started, "adoption/acme")

	acct.LifecycleStage = "renewal"
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	acct.LifecycleStage = "adoption"
	_, err = svc.SaveAccount(ctx, acct)
	require.NoError(t, err)
	adoption = firingsOf(t, st, "adoption")
	require.Len(t, adoption, 2, "a return to adoption is a new change")
	require.Equal(t, store.FiringAlreadyLive, adoption[0].Status)
	require.Len(t, firingsOf(t, st, "handover"), 1, "renewal > adoption is not from onboarding")
}

// A run's update_account step fires like a save, once: a retried activity
// finds the stage changed already.
func TestStageChangeByARunStepFiresOnce(t *testing.T) {
	ctx := context.Background()
	svc, fake, st, _ := stageFixture(t)
	fake.down = true // Temporal unreachable: the firing waits for the sweep
	run, err := st.RecordRunStarted(ctx, store.NewRun{ID: uuid.New(), AccountID: "acme", PlaybookKey: "onboarding",
		PlaybookVersion: 1, WorkflowID: "onboarding/acme", TemporalRunID: "r", StartedAt: time.Now()})
	require.NoError(t, err)
	for range 2 {
		snap, err := svc.ChangeAccount(ctx, "acme", run.ID, "to-adoption", store.AccountChange{LifecycleStage: "adoption"})
		require.NoError(t, err, "a start that fails does not fail the step")
		require.Equal(t, "adoption", snap.LifecycleStage)
	}
	pending, err := st.PendingFirings(ctx, "acme", 10)
	require.NoError(t, err)
	require.Len(t, pending, 2, "adoption and handover, once each")

	fake.down = false
	_, err = svc.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, store.FiringStarted, firingsOf(t, st, "adoption")[0].Status)
	require.Contains(t, fake.started, "adoption/acme")
}

// Each champion_left event starts the champion-change play once; other
// events start nothing.
func TestEventTriggerFiresOncePerEvent(t *testing.T) {
	ctx := context.Background()
	svc, fake, st, _ := stageFixture(t)
	_, _, err := svc.Event(ctx, "acme", "first_login", nil)
	require.NoError(t, err)
	require.Empty(t, firingsOf(t, st, "champion-change"))

	_, signal, err := svc.Event(ctx, "acme", "champion_left", map[string]any{"email": "pat@acme.test"})
	require.NoError(t, err)
	require.Equal(t, "champion_left", signal, "still a risk signal too")
	fired := firingsOf(t, st, "champion-change")
	require.Len(t, fired, 1)
	require.Equal(t, store.FiringStarted, fired[0].Status)
	require.Regexp(t, `^event:champion_left#event-\d+$`, fired[0].Occasion)
	require.Contains(t, fake.started, "champion-change/acme")

	_, _, err = svc.Event(ctx, "acme", "champion_left", nil)
	require.NoError(t, err)
	fired = firingsOf(t, st, "champion-change")
	require.Len(t, fired, 2, "a second departure is a new occasion")
	require.Equal(t, store.FiringAlreadyLive, fired[0].Status, "the first run is still live")
}

// Configured thresholds decide when the measured signals fire: two
// high-priority tickets are a spike, and a tenth off the peak a decline,
// where the seed's defaults need three tickets and a quarter.
func TestConfiguredSignalThresholds(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name       string
		thresholds health.SignalThresholds
		spikeAt    int // the ticket (1-based) that is a spike
		declined   bool
	}{
		{"defaults", health.SignalThresholds{}, 3, false},
		{"configured", health.SignalThresholds{UsageDeclinePercent: 10, UsageDeclineWindow: 30 * day,
			SupportSpikeTickets: 2, SupportSpikeWindow: 7 * day}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			svc, _, _, _ := stageFixture(t)
			svc.Signals = tt.thresholds
			for i := 1; i <= 3; i++ {
				_, signal, err := svc.Event(ctx, "acme", triggers.TicketOpened, map[string]any{"priority": "high"})
				require.NoError(t, err)
				if i == tt.spikeAt {
					require.Equal(t, health.SupportSpike, signal, "ticket %d", i)
				} else {
					require.Empty(t, signal, "ticket %d", i)
				}
			}
			users := func(n float64) health.Inputs { return health.Inputs{ActiveUsers: &n, LicensedUsers: ptr(100.0)} }
			_, err := svc.RecordHealth(ctx, "acme", users(80), time.Now().Add(-10*day))
			require.NoError(t, err)
			rec, err := svc.RecordHealth(ctx, "acme", users(72), time.Time{})
			require.NoError(t, err)
			require.Equal(t, tt.declined, slices.Contains(rec.NewSignals, health.UsageDecline), "signals %v", rec.NewSignals)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A schedule trigger fires once per occasion, however often the sweep runs
// in its grace days; the next occasion fires again (already_live while the
// last occasion's run lives); an account outside the playbook's segments,
// or without the anchor date, gets no firing.
func TestSweepFiresScheduleOncePerOccasion(t *testing.T) {
	ctx := context.Background()
	_, pool := storetest.NewDatabase(t)
	st := store.New(pool)
	def := `{"key":"qbr","name":"QBR","trigger":{"on":"schedule","every":"13w"},"segments":["mid_market"],` +
		`"steps":[{"id":"s","check_health":{}}]}`
	_, _, err := st.SeedPlaybook(ctx, store.NewPlaybookVersion{Key: "qbr", Name: "QBR", Definition: json.RawMessage(def),
		Source: def, SourceFormat: "json"})
	require.NoError(t, err)
	_, _, err = st.UpsertTeamMember(ctx, store.UpsertTeamMember{Email: "casey@cs.test", Name: "Casey", Level: "csm"})
	require.NoError(t, err)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for id, segment := range map[string]string{"acme": "mid_market", "tiny": "smb"} {
		_, _, err = st.UpsertAccount(ctx, store.UpsertAccount{ID: id, Name: id, ARR: 50000, Segment: segment,
			CSMEmail: "casey@cs.test", Timezone: "UTC", ContractStart: &start, LifecycleStage: "adoption", Status: "active"})
		require.NoError(t, err)
	}
	_, _, err = st.UpsertAccount(ctx, store.UpsertAccount{ID: "no-contract", Name: "No contract", ARR: 50000, Segment: "mid_market",
		CSMEmail: "casey@cs.test", Timezone: "UTC", LifecycleStage: "adoption", Status: "active"})
	require.NoError(t, err)

	fake := &fakeRuns{store: st, started: map[string]uuid.UUID{}}
	clock := start.AddDate(0, 0, 90).Add(15 * time.Hour) // the day before the first occasion
	svc := &triggers.Service{Store: st, Runs: fake, Model: health.Presets[health.DefaultModel],
		Now: func() time.Time { return clock }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sweep := func() int {
		t.Helper()
		res, err := svc.Sweep(ctx)
		require.NoError(t, err)
		return res.ScheduleFirings
	}

	require.Zero(t, sweep(), "the first quarter is not over")
	clock = clock.Add(10 * time.Hour) // 2026-04-06 01:00: 91 days on
	require.Equal(t, 1, sweep())
	require.Equal(t, 1, sweep(), "the occasion is still due; recorded once")
	clock = clock.AddDate(0, 0, 6)
	require.Equal(t, 1, sweep(), "six days late: still due")
	qbr := firingsOf(t, st, "qbr")
	require.Len(t, qbr, 1, "one firing per occasion, however often the sweep runs")
	require.Equal(t, "schedule:2026-04-06", qbr[0].Occasion)
	require.Equal(t, store.FiringStarted, qbr[0].Status)
	require.Equal(t, fake.started["qbr/acme"], *qbr[0].RunID)
	require.Len(t, fake.started, 1, "tiny is smb; no-contract has no contract start")
	for _, id := range []string{"tiny", "no-contract"} {
		fired, err := st.AccountFirings(ctx, id, 10)
		require.NoError(t, err)
		require.Empty(t, fired, id)
	}
	clock = clock.AddDate(0, 0, 1)
	require.Zero(t, sweep(), "past the grace days")

	clock = time.Date(2026, 7, 6, 8, 0, 0, 0, time.UTC) // 182 days on
	require.Equal(t, 1, sweep())
	sweep()
	qbr = firingsOf(t, st, "qbr")
	require.Len(t, qbr, 2, "the next quarter is a new occasion")
	require.Equal(t, "schedule:2026-07-06", qbr[0].Occasion)
	require.Equal(t, store.FiringAlreadyLive, qbr[0].Status, "last quarter's run is still live")
	require.Equal(t, fake.started["qbr/acme"], *qbr[0].RunID)
}
