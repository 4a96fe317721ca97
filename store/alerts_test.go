package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
)

// snapshot stores a measurement of acme with a band, signals and firings.
func (f fixture) snapshot(t testing.TB, score float64, band string, signals []string, firings ...store.NewFiring) store.HealthSnapshot {
	t.Helper()
	h, err := f.st.AddHealthSnapshot(f.ctx, "acme", time.Now(), time.Hour, func([]store.HealthSnapshot) (store.NewHealthSnapshot, error) {
		return store.NewHealthSnapshot{Score: score, Band: band, Signals: signals, Inputs: json.RawMessage(`{}`), Firings: firings}, nil
	})
	require.NoError(t, err)
	return h
}

// startFiring settles acme's pending firing of a playbook with a new run.
func (f fixture) startFiring(t testing.TB, key string) uuid.UUID {
	t.Helper()
	pending, err := f.st.PendingFirings(f.ctx, "acme", 10)
	require.NoError(t, err)
	for _, p := range pending {
		if p.PlaybookKey != key {
			continue
		}
		run := uuid.New()
		_, err := f.st.RecordRunStarted(f.ctx, store.NewRun{ID: run, AccountID: "acme", PlaybookKey: key, PlaybookVersion: 1,
			WorkflowID: "playbook/" + key + "/account/acme", TemporalRunID: "r", StartedAt: time.Now()})
		require.NoError(t, err)
		require.NoError(t, f.st.SettleFiring(f.ctx, p.ID, store.FiringStarted, &run, p.Occasion))
		return run
	}
	t.Fatalf("no pending firing of %s", key)
	return uuid.Nil
}

func alertIDs(alerts []store.RiskAlert) []int64 {
	out := []int64{}
	for _, a := range alerts {
		out = append(out, a.ID)
	}
	return out
}

// A band change or a new risk signal leaves an alert; the account's CSM is
// told, and so is whoever holds the open work of the runs it started (the
// manager with the recovery's approval, the VP with its task), nobody else.
// Each marks it seen for themselves.
func TestRiskAlertsReachTheCSMAndWhoeverHoldsTheWork(t *testing.T) {
	f := newFixture(t)
	f.snapshot(t, 90, "green", nil) // a first green snapshot is no news
	f.snapshot(t, 88, "green", nil)
	alerts, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{})
	require.NoError(t, err)
	require.Empty(t, alerts)

	f.snapshot(t, 65, "yellow", []string{"usage_decline"}, store.NewFiring{PlaybookKey: "at-risk", Occasion: "band:yellow"})
	f.snapshot(t, 60, "yellow", []string{"usage_decline"}) // the same band and signal again: nothing new
	f.snapshot(t, 35, "red", []string{"usage_decline"}, store.NewFiring{PlaybookKey: "red-recovery", Occasion: "band:red"})
	recovery := f.startFiring(t, "red-recovery")
	approval, err := f.st.CreateApproval(f.ctx, store.NewApproval{RunID: recovery, StepID: "exec-outreach", AccountID: "acme",
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	task, _, err := f.st.CreateTask(f.ctx, store.NewTask{RunID: recovery, StepID: "escalate", AccountID: "acme",
		AssigneeLevel: "vp_cs", Title: "Call the sponsor", Priority: "urgent"})
	require.NoError(t, err)

	csm, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "csm@cs.test"})
	require.NoError(t, err)
	require.Len(t, csm, 2, "yellow with its signal, then red")
	red, yellow := csm[0], csm[1]
	require.Equal(t, "yellow", *red.BandFrom)
	require.Equal(t, "red", *red.BandTo)
	require.Equal(t, 35.0, *red.Score)
	require.Empty(t, red.Signals, "usage_decline is not new")
	require.True(t, red.Worse())
	require.Equal(t, "Acme", red.AccountName)
	require.Equal(t, "csm@cs.test", red.CSMEmail)
	require.Equal(t, []string{"usage_decline"}, yellow.Signals)
	require.Equal(t, "green", *yellow.BandFrom)

	require.Len(t, red.Started, 1)
	started := red.Started[0]
	require.Equal(t, "red-recovery", started.PlaybookKey)
	require.Equal(t, store.FiringStarted, started.Status)
	require.Equal(t, recovery, *started.RunID)
	require.Len(t, started.Work, 2)
	holders := map[string]store.AlertWork{}
	for _, w := range started.Work {
		holders[w.AssigneeEmail] = w
	}
	require.Equal(t, approval.ID, holders["senior@cs.test"].ID)
	require.Equal(t, store.AlertWorkApproval, holders["senior@cs.test"].Kind)
	require.Equal(t, task.ID, holders["vp@cs.test"].ID)
	require.Equal(t, "Call the sponsor", holders["vp@cs.test"].Title)
	require.Len(t, yellow.Started, 1)
	require.Equal(t, store.FiringPending, yellow.Started[0].Status, "at-risk has not started yet")

	for member, want := range map[string][]int64{
		"senior@cs.test": {red.ID}, "vp@cs.test": {red.ID}, "exec@cs.test": {}, "": {red.ID, yellow.ID},
	} {
		got, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: member})
		require.NoError(t, err)
		require.Equal(t, want, alertIDs(got), "alerts of %q", member)
	}

	// Seen by the CSM: gone from their unseen list, still the manager's.
	seen, err := f.st.MarkRiskAlertSeen(f.ctx, red.ID, "csm@cs.test")
	require.NoError(t, err)
	require.NotNil(t, seen.SeenAt)
	again, err := f.st.MarkRiskAlertSeen(f.ctx, red.ID, "csm@cs.test")
	require.NoError(t, err)
	require.Equal(t, *seen.SeenAt, *again.SeenAt, "marking again changes nothing")
	unseen, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "csm@cs.test", Unseen: true})
	require.NoError(t, err)
	require.Equal(t, []int64{yellow.ID}, alertIDs(unseen))
	unseen, err = f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "senior@cs.test", Unseen: true})
	require.NoError(t, err)
	require.Equal(t, []int64{red.ID}, alertIDs(unseen))
	_, err = f.st.MarkRiskAlertSeen(f.ctx, red.ID, "exec@cs.test")
	require.ErrorIs(t, err, store.ErrNotYourAlert)
	_, err = f.st.MarkRiskAlertSeen(f.ctx, red.ID+100, "csm@cs.test")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Once the manager has decided, the alert is no longer theirs.
	_, err = f.st.DecideApproval(f.ctx, approval.ID, store.ApprovalDecision{Status: "approved", By: "senior@cs.test"})
	require.NoError(t, err)
	got, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "senior@cs.test"})
	require.NoError(t, err)
	require.Empty(t, got)

	// A risk signal an event raised is an alert of its own.
	require.NoError(t, f.st.RecordRiskSignal(f.ctx, "acme", "champion_left", map[string]any{"event": "champion_left"}, nil))
	got, err = f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "csm@cs.test", Limit: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, []string{"champion_left"}, got[0].Signals)
	require.Nil(t, got[0].BandTo)
	require.Regexp(t, `^#event-\d+$`, got[0].Occasion)

	// Pages: newest first, each after the last id of the one before.
	page2, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "csm@cs.test", Before: got[0].ID, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []int64{red.ID}, alertIDs(page2))
}

// The daily digest tells each member of the risk on their accounts since
// their last digest (the last day for a first one), leaving out what they
// marked seen; a member with nothing else waiting gets one for it.
func TestDigestsListRiskSinceTheLastDigest(t *testing.T) {
	f := newFixture(t)
	f.snapshot(t, 65, "yellow", nil)
	f.snapshot(t, 35, "red", nil, store.NewFiring{PlaybookKey: "red-recovery", Occasion: "band:red"})
	recovery := f.startFiring(t, "red-recovery")
	_, err := f.st.CreateApproval(f.ctx, store.NewApproval{RunID: recovery, StepID: "exec-outreach", AccountID: "acme",
		AssigneeLevel: "senior_csm", Draft: []byte(`{}`), ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	csm, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: "csm@cs.test"})
	require.NoError(t, err)
	require.Len(t, csm, 2)
	_, err = f.st.MarkRiskAlertSeen(f.ctx, csm[1].ID, "csm@cs.test") // the yellow one

	require.NoError(t, err)
	digests, err := f.st.Digests(f.ctx, time.Now())
	require.NoError(t, err)
	risks := map[string][]int64{}
	for _, d := range digests {
		risks[d.Email] = alertIDs(d.Risks)
		require.Equal(t, "UTC", d.Timezone)
	}
	require.Equal(t, map[string][]int64{"csm@cs.test": {csm[0].ID}, "senior@cs.test": {csm[0].ID}}, risks)
	for _, d := range digests {
		if d.Email == "senior@cs.test" {
			require.Len(t, d.Approvals, 1, "the recovery's approval")
			require.Equal(t, "red-recovery", d.Risks[0].Started[0].PlaybookKey)
		}
	}

	// A digest sent yesterday moves "since" to when it was made.
	_, err = f.pool.Exec(f.ctx, `INSERT INTO digests (member_id, day, status, created_at)
		SELECT id, current_date - 1, 'sent', now() + interval '1 minute' FROM team_members WHERE email = 'csm@cs.test'`)
	require.NoError(t, err)
	digests, err = f.st.Digests(f.ctx, time.Now())
	require.NoError(t, err)
	for _, d := range digests {
		require.NotEqual(t, "csm@cs.test", d.Email, "nothing new since the last digest, and nothing else waiting")
	}
}

// Under a four-band model an account can enter orange, between yellow and
// red: the snapshot is stored, the alert says so (worse than yellow, better
// than red), the portfolio counts it and the account list filters on it.
func TestOrangeBandIsStoredAlertedAndCounted(t *testing.T) {
	f := newFixture(t)
	f.snapshot(t, 75, "yellow", nil)
	h := f.snapshot(t, 55, "orange", nil)
	require.Equal(t, "orange", h.Band)

	bands, err := f.st.BandDistribution(f.ctx)
	require.NoError(t, err)
	require.Equal(t, store.BandCounts{Orange: 1}, bands)
	listed, err := f.st.ListAccounts(f.ctx, store.AccountFilter{Band: "orange"})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	require.Equal(t, "orange", listed[0].Health.Band)

	f.snapshot(t, 40, "red", nil)
	f.snapshot(t, 60, "orange", nil)
	alerts, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{})
	require.NoError(t, err)
	require.Len(t, alerts, 4, "first yellow, then orange, red and orange again")
	tests := []struct {
		from, to, headline string
		worse              bool
	}{
		{"red", "orange", "Health rose from red to orange (score 60)", false},
		{"orange", "red", "Health fell from orange to red (score 40)", true},
		{"yellow", "orange", "Health fell from yellow to orange (score 55)", true},
	}
	for i, tt := range tests {
		a := alerts[i]
		require.Equal(t, tt.from, *a.BandFrom)
		require.Equal(t, tt.to, *a.BandTo)
		require.Equal(t, tt.headline, a.Headline())
		require.Equal(t, tt.worse, a.Worse(), tt.headline)
	}
	first := "orange"
	require.True(t, store.RiskAlert{BandTo: &first}.Worse(), "a first snapshot in orange is bad news")
}
