package playbooks

import (
	"testing"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/templates"
)

func TestBuiltinsParseAndCiteTheirSeeds(t *testing.T) {
	set, err := templates.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	all, err := Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, s := range all {
		keys[s.Key] = s.Definition.StartedKeys()
		for i, step := range s.Definition.Steps {
			if step.Cite == "" {
				t.Errorf("%s steps[%d] (%s) cites no seed", s.Key, i, step.ID)
			}
		}
	}
	for _, want := range []string{"onboarding", "red-recovery", "at-risk", "renewal", "expansion"} {
		if _, ok := keys[want]; !ok {
			t.Errorf("built-in %s missing", want)
		}
	}
	for _, s := range all {
		if err := playbook.CheckStarts(s.Definition, keys); err != nil {
			t.Errorf("%s: %v", s.Key, err)
		}
	}
}
