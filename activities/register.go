package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/playbookd/playbookd/activities/contract"
)

// Register adds every activity under its contract name.
func (a *Activities) Register(r worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		contract.RecordRunStarted:  a.RecordRunStarted,
		contract.RecordRunFinished: a.RecordRunFinished,
		contract.SendEmail:         a.SendEmail,
		contract.CreateTask:        a.CreateTask,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
