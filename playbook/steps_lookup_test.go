package playbook_test

import (
	"testing"

	"github.com/playbookd/playbookd/playbook"
)

func TestBaseStepIDAndHasStep(t *testing.T) {
	for id, want := range map[string]string{"call": "call", "pulse#3": "pulse", "ask/escalated-L2": "ask", "ask/notice#2": "ask"} {
		if got := playbook.BaseStepID(id); got != want {
			t.Errorf("BaseStepID(%q) = %q, want %q", id, got, want)
		}
	}
	steps := []playbook.Step{
		{ID: "check", Then: []playbook.Step{{ID: "ask"}}, Else: []playbook.Step{{ID: "nudge"}}},
		{ID: "wait", OnTimeout: []playbook.Step{{ID: "chase"}}},
		{ID: "loop", Repeat: &playbook.Repeat{Steps: []playbook.Step{{ID: "pulse"}}}},
	}
	for id, want := range map[string]bool{"check": true, "ask": true, "nudge": true, "chase": true, "pulse": true, "loop": true, "other": false} {
		if got := playbook.HasStep(steps, id); got != want {
			t.Errorf("HasStep(%q) = %v, want %v", id, got, want)
		}
	}
}
