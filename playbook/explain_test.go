package playbook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExplainNamesTheDecidingClauses(t *testing.T) {
	score := 42.0
	received := func(name string) bool { return name == "first_login" }
	facts := Facts{Segment: "smb", AccountStatus: "active", LifecycleStage: "adoption", HealthScore: &score,
		HealthBand: "red", Fields: map[string]any{"plan": "pro", "seats": 3}, EventReceived: received}
	sixty, ten := 60.0, 10.0
	yes := true
	tests := []struct {
		name string
		cond Condition
		want string
	}{
		{"segment", Condition{Segment: []string{"enterprise", "mid_market"}}, "segment is smb, not enterprise or mid_market"},
		{"segment holds", Condition{Segment: []string{"smb"}}, "segment is smb"},
		{"band", Condition{HealthBand: []string{"green"}}, "health band is red, not green"},
		{"score", Condition{HealthScore: &Compare{Gte: &sixty}}, "health score is 42, not at least 60"},
		{"score holds", Condition{HealthScore: &Compare{Lt: &sixty}}, "health score is 42, below 60"},
		{"field eq", Condition{Field: &FieldCondition{Name: "plan", Eq: "enterprise"}}, "field plan is pro, not enterprise"},
		{"field unset", Condition{Field: &FieldCondition{Name: "owner", Exists: &yes}}, "field owner is not set, wanted set"},
		{"field compare", Condition{Field: &FieldCondition{Name: "seats", Compare: Compare{Gte: &ten}}}, "field seats is 3, not at least 10"},
		{"event missing", Condition{EventReceived: "kickoff_completed"}, "no kickoff_completed event received"},
		{"not event", Condition{Not: &Condition{EventReceived: "first_login"}}, "first_login event received"},
		{"status", Condition{AccountStatus: "churned"}, "account status is active, not churned"},
		{"stage", Condition{LifecycleStage: "onboarding"}, "lifecycle stage is adoption, not onboarding"},
		{"several", Condition{Segment: []string{"enterprise"}, LifecycleStage: "onboarding"},
			"segment is smb, not enterprise; lifecycle stage is adoption, not onboarding"},
		{"any", Condition{Any: []Condition{{Segment: []string{"enterprise"}}, {HealthBand: []string{"green"}}}},
			"none of the alternatives holds: segment is smb, not enterprise; health band is red, not green"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.cond.Explain(facts))
		})
	}
}

func TestSettledKnowsWhatMayStillChange(t *testing.T) {
	facts := Facts{Segment: "smb", HealthBand: "red", EventReceived: func(name string) bool { return name == "first_login" }}
	tests := []struct {
		name         string
		cond         *Condition
		healthDue    bool
		holds, known bool
		dependsOn    string
	}{
		{"no condition", nil, false, true, true, ""},
		{"segment is known", &Condition{Segment: []string{"enterprise"}}, false, false, true, ""},
		{"an event may still arrive", &Condition{EventReceived: "kickoff_completed"}, false, false, false, "the kickoff_completed event"},
		{"not of a missing event", &Condition{Not: &Condition{EventReceived: "kickoff_completed"}}, false, false, false, "the kickoff_completed event"},
		{"a received event stays", &Condition{EventReceived: "first_login"}, false, true, true, ""},
		{"false whatever the event", &Condition{Segment: []string{"enterprise"}, EventReceived: "kickoff_completed"}, false, false, true, ""},
		{"any with one true", &Condition{Any: []Condition{{EventReceived: "x"}, {Segment: []string{"smb"}}}}, false, true, true, ""},
		{"health before a check", &Condition{HealthBand: []string{"red"}}, true, false, false, "the health check"},
		{"health without a check", &Condition{HealthBand: []string{"red"}}, false, true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holds, known := tt.cond.Settled(facts, tt.healthDue)
			require.Equal(t, tt.known, known)
			if known {
				require.Equal(t, tt.holds, holds)
				require.Equal(t, tt.cond.Holds(facts), holds, "a settled answer is the answer")
			} else {
				require.Equal(t, tt.dependsOn, tt.cond.DependsOn(facts, tt.healthDue))
			}
		})
	}
}

func TestSendWindowString(t *testing.T) {
	require.Equal(t, "mon-fri 09:00-17:00", (&SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}).String())
	require.Equal(t, "mon,wed 08:00-12:00", (&SendWindow{Days: []string{"mon", "wed"}, Start: "08:00", End: "12:00"}).String())
	require.Equal(t, "every day 09:00-17:00", (&SendWindow{Start: "09:00", End: "17:00"}).String())
}
