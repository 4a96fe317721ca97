package triggers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/store"
)

var builtinTriggers = []Trigger{
	{"at-risk", playbook.Trigger{On: "health_band", To: "yellow"}},
	{"champion-lost", playbook.Trigger{On: "risk_signal", Signal: "champion_left"}},
	{"expansion", playbook.Trigger{On: "expansion"}},
	{"onboarding", playbook.Trigger{On: "account_created"}},
	{"red-recovery", playbook.Trigger{On: "health_band", To: "red"}},
	{"renewal", playbook.Trigger{On: "renewal_window", DaysBefore: 120}},
}

var stageAndEventTriggers = []Trigger{
	{"adoption", playbook.Trigger{On: "stage_changed", To: "adoption"}},
	{"champion-change", playbook.Trigger{On: "event", Event: "champion_left"}},
	{"handover", playbook.Trigger{On: "stage_changed", From: "onboarding", To: "adoption"}},
	{"win-back", playbook.Trigger{On: "stage_changed", To: "churn_risk"}},
}

func keys(fs []store.NewFiring) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.PlaybookKey+"@"+f.Occasion)
	}
	return out
}

func TestOnSnapshot(t *testing.T) {
	tests := []struct {
		name   string
		change SnapshotChange
		want   []string
	}{
		{"first snapshot red", SnapshotChange{Band: "red"}, []string{"red-recovery@health_band:red"}},
		{"yellow to red", SnapshotChange{PreviousBand: "yellow", Band: "red"}, []string{"red-recovery@health_band:red"}},
		{"red again", SnapshotChange{PreviousBand: "red", Band: "red"}, []string{}},
		{"red to yellow", SnapshotChange{PreviousBand: "red", Band: "yellow"}, []string{"at-risk@health_band:yellow"}},
		{"to green", SnapshotChange{PreviousBand: "red", Band: "green"}, []string{}},
		{"new signal", SnapshotChange{PreviousBand: "green", Band: "green", NewSignals: []string{"usage_decline", "champion_left"}}, []string{"champion-lost@risk_signal:champion_left"}},
		{"expansion newly met", SnapshotChange{PreviousBand: "green", Band: "green", ExpansionReady: true}, []string{"expansion@expansion"}},
		{"expansion still met", SnapshotChange{PreviousBand: "green", Band: "green", ExpansionReady: true, PreviousExpansionReady: true}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, keys(OnSnapshot(builtinTriggers, tt.change)))
		})
	}
}

func TestOnAccountSaved(t *testing.T) {
	today := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	date := func(days int) *time.Time { d := today.AddDate(0, 0, days); return &d }
	tests := []struct {
		name           string
		facts          AccountFacts
		onCreate, also []string
	}{
		{"new in onboarding", AccountFacts{Status: "active", LifecycleStage: "onboarding"}, []string{"onboarding@account_created"}, []string{}},
		{"established", AccountFacts{Status: "active", LifecycleStage: "adoption"}, []string{}, []string{}},
		{"renewal in 120 days", AccountFacts{Status: "active", LifecycleStage: "adoption", RenewalDate: date(120)}, []string{}, []string{"renewal@renewal_window:2027-03-23"}},
		{"renewal today", AccountFacts{Status: "active", LifecycleStage: "adoption", RenewalDate: date(0)}, []string{}, []string{"renewal@renewal_window:2026-11-23"}},
		{"renewal in 121 days", AccountFacts{Status: "active", LifecycleStage: "adoption", RenewalDate: date(121)}, []string{}, []string{}},
		{"renewal passed", AccountFacts{Status: "active", LifecycleStage: "adoption", RenewalDate: date(-1)}, []string{}, []string{}},
		{"churned", AccountFacts{Status: "churned", LifecycleStage: "onboarding", RenewalDate: date(10)}, []string{}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			onCreate, also := OnAccountSaved(builtinTriggers, tt.facts, today)
			require.Equal(t, tt.onCreate, keys(onCreate))
			require.Equal(t, tt.also, keys(also))
		})
	}
}

func TestPublishedReadsTriggersInKeyOrder(t *testing.T) {
	defs := map[string]json.RawMessage{
		"b":      json.RawMessage(`{"on":"health_band","to":"red"}`),
		"a":      json.RawMessage(`{"on":"account_created"}`),
		"manual": json.RawMessage(`null`),
	}
	got, err := Published(defs)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "a", got[0].PlaybookKey)
	require.Equal(t, "red", got[1].To)
	require.Equal(t, []string{"champion-lost@risk_signal:champion_left"}, keys(OnSignal(builtinTriggers, "champion_left")))
}

func TestOnStageChanged(t *testing.T) {
	tests := []struct {
		name   string
		change store.StageChange
		want   []string
	}{
		{"onboarding ends", store.StageChange{From: "onboarding", To: "adoption", Status: "active"},
			[]string{"adoption@stage_changed:onboarding>adoption", "handover@stage_changed:onboarding>adoption"}},
		{"from elsewhere", store.StageChange{From: "renewal", To: "adoption", Status: "active"},
			[]string{"adoption@stage_changed:renewal>adoption"}},
		{"no change", store.StageChange{From: "adoption", To: "adoption", Status: "active"}, []string{}},
		{"another stage", store.StageChange{From: "adoption", To: "renewal", Status: "active"}, []string{}},
		{"churned account", store.StageChange{From: "onboarding", To: "adoption", Status: "churned"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, keys(OnStageChanged(stageAndEventTriggers, tt.change)))
		})
	}
}

func TestOnEvent(t *testing.T) {
	require.Equal(t, []string{"champion-change@event:champion_left"}, keys(OnEvent(stageAndEventTriggers, "champion_left")))
	require.Equal(t, []string{}, keys(OnEvent(stageAndEventTriggers, "first_login")))
	require.Equal(t, []string{}, keys(OnEvent(builtinTriggers, "champion_left")), "a risk_signal trigger is not an event trigger")
}
