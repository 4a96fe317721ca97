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

// A schedule fires for the latest occasion (anchor + k·every, k ≥ 1) on its
// day or in the grace days after, once per occasion date; before the first
// occasion, or once the grace has passed, nothing is due.
func TestScheduleFiring(t *testing.T) {
	date := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	quarterly := Trigger{"qbr", playbook.Trigger{On: "schedule", Every: playbook.Duration(13 * playbook.Week)}}
	weekly := Trigger{"pulse", playbook.Trigger{On: "schedule", Every: playbook.Duration(playbook.Week), Anchor: "created"}}
	yearly := Trigger{"anniversary", playbook.Trigger{On: "schedule", Every: playbook.Duration(365 * playbook.Day)}}
	tests := []struct {
		name          string
		trigger       Trigger
		anchor, today string
		want          string // "" for no firing
	}{
		{"anchor day is no occasion", quarterly, "2026-01-05", "2026-01-05", ""},
		{"before the first occasion", quarterly, "2026-01-05", "2026-04-05", ""},
		{"first occasion, on its day", quarterly, "2026-01-05", "2026-04-06", "qbr@schedule:2026-04-06"},
		{"first occasion, six days late", quarterly, "2026-01-05", "2026-04-12", "qbr@schedule:2026-04-06"},
		{"first occasion, a week late: past its grace", quarterly, "2026-01-05", "2026-04-13", ""},
		{"between occasions", quarterly, "2026-01-05", "2026-06-01", ""},
		{"second occasion", quarterly, "2026-01-05", "2026-07-06", "qbr@schedule:2026-07-06"},
		{"years on", quarterly, "2021-03-01", "2026-02-23", "qbr@schedule:2026-02-23"}, // 2021-03-01 + 21·91 days
		{"anchor in the future", quarterly, "2027-01-01", "2026-06-01", ""},
		{"time of day does not matter", quarterly, "2026-01-05", "2026-04-06", "qbr@schedule:2026-04-06"},
		{"weekly: always one due", weekly, "2026-01-01", "2026-03-17", "pulse@schedule:2026-03-12"},
		{"weekly: due on its day", weekly, "2026-01-01", "2026-03-12", "pulse@schedule:2026-03-12"},
		{"weekly: first week has none", weekly, "2026-01-01", "2026-01-07", ""},
		// Fixed durations count days: a leap day is one more day, no month end moves an occasion.
		{"across a leap day", yearly, "2027-06-01", "2028-05-31", "anniversary@schedule:2028-05-31"},
		{"month end", Trigger{"monthly", playbook.Trigger{On: "schedule", Every: playbook.Duration(30 * playbook.Day)}}, "2026-01-31", "2026-03-02", "monthly@schedule:2026-03-02"},
		{"not a schedule", Trigger{"r", playbook.Trigger{On: "renewal_window", DaysBefore: 90}}, "2026-01-05", "2026-04-06", ""},
		{"no cadence", Trigger{"x", playbook.Trigger{On: "schedule"}}, "2026-01-05", "2026-04-06", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today := date(tt.today)
			if tt.name == "time of day does not matter" {
				today = today.Add(23*time.Hour + 59*time.Minute)
			}
			f, ok := ScheduleFiring(tt.trigger, date(tt.anchor), today)
			require.Equal(t, tt.want != "", ok)
			if ok {
				require.Equal(t, tt.want, f.PlaybookKey+"@"+f.Occasion)
			}
		})
	}

	// Day by day over two years from a leap day, a quarterly schedule fires
	// on the occasion's day and the six after, always naming that occasion:
	// eight occasions, each due for exactly ScheduleGraceDays days.
	anchor := date("2024-02-29")
	due := map[string]int{}
	for d := anchor; d.Before(anchor.AddDate(0, 0, 8*91+ScheduleGraceDays)); d = d.AddDate(0, 0, 1) {
		if f, ok := ScheduleFiring(quarterly, anchor, d); ok {
			due[f.Occasion]++
		}
	}
	require.Len(t, due, 8)
	for occasion, days := range due {
		require.Equal(t, ScheduleGraceDays, days, occasion)
	}
	require.Contains(t, due, "schedule:2024-05-30", "91 days after 29 February")
	require.Contains(t, due, "schedule:2026-02-26", "8·91 days after 29 February 2024")
}

// A survey_response trigger without a category fires on every answer, one
// with a category on that category's; event triggers naming the event fire
// too (an answer is an account event).
func TestOnSurveyResponse(t *testing.T) {
	trigs := []Trigger{
		{"any-answer", playbook.Trigger{On: "survey_response"}},
		{"champion-change", playbook.Trigger{On: "event", Event: "champion_left"}},
		{"detractor-recovery", playbook.Trigger{On: "survey_response", Category: "detractor"}},
		{"on-the-event", playbook.Trigger{On: "event", Event: "survey_response"}},
		{"promoter-referral", playbook.Trigger{On: "survey_response", Category: "promoter"}},
		{"red-recovery", playbook.Trigger{On: "health_band", To: "red"}},
	}
	tests := []struct {
		category string
		want     []string
	}{
		{"promoter", []string{"any-answer@survey_response:promoter", "promoter-referral@survey_response:promoter", "on-the-event@event:survey_response"}},
		{"passive", []string{"any-answer@survey_response:passive", "on-the-event@event:survey_response"}},
		{"detractor", []string{"any-answer@survey_response:detractor", "detractor-recovery@survey_response:detractor", "on-the-event@event:survey_response"}},
	}
	for _, tt := range tests {
		t.Run(tt.category, func(t *testing.T) {
			require.Equal(t, tt.want, keys(OnSurveyResponse(trigs, tt.category)))
		})
	}
	require.Empty(t, OnSurveyResponse(builtinTriggers, "promoter"), "no survey trigger, no firing")
}
