package playbook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A step's name stands for its id wherever people read it, nested steps
// included; the id stays where a step has no name, and what runs add to an
// id (an iteration, an approval's escalation task) stays with the name.
func TestStepTitlesReadNamesAndFallBackToIds(t *testing.T) {
	def, err := Parse([]byte(`
key: k
name: K
steps:
  - id: welcome
    name: Welcome call
    task: {title: Call, assignee: csm}
  - id: check
    if: {health_band: red}
    then:
      - id: rescue
        name: Rescue plan
        wait: 1d
  - id: weekly
    repeat:
      every: 7d
      times: 2
      steps: [{id: nudge, name: Weekly nudge, wait: 1h}]
`), Options{})
	require.NoError(t, err)
	names := def.StepNames()
	require.Equal(t, map[string]string{"welcome": "Welcome call", "rescue": "Rescue plan", "nudge": "Weekly nudge"}, names)
	for id, want := range map[string]string{
		"welcome":              "Welcome call",
		"check":                "check",
		"rescue":               "Rescue plan",
		"nudge#2":              "Weekly nudge #2",
		"welcome/escalated-L2": "Welcome call (escalated-L2)",
		"unknown/escalated-L2": "unknown/escalated-L2",
		"":                     "",
	} {
		require.Equal(t, want, StepTitle(names, id), id)
	}
}
