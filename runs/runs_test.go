package runs

import "testing"

func TestTaskCompletedEvent(t *testing.T) {
	for step, want := range map[string]string{
		"welcome-call":                "welcome_call_completed",
		"daily-checkin#3":             "daily_checkin_completed",
		"qbr-invitation/escalated-L2": "qbr_invitation_completed",
	} {
		if got := TaskCompletedEvent(step); got != want {
			t.Errorf("TaskCompletedEvent(%q) = %q, want %q", step, got, want)
		}
	}
}
