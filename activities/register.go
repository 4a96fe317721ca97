package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/playbookd/playbookd/activities/contract"
)

// Register adds every activity under its contract name.
func (a *Activities) Register(r worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		contract.BeginRun:               a.BeginRun,
		contract.LoadAccount:            a.LoadAccount,
		contract.RecordRunStatus:        a.RecordRunStatus,
		contract.RecordRunFinished:      a.RecordRunFinished,
		contract.SendEmail:              a.SendEmail,
		contract.CreateTask:             a.CreateTask,
		contract.CreateApproval:         a.CreateApproval,
		contract.RecordApprovalDecision: a.RecordApprovalDecision,
		contract.EscalateApproval:       a.EscalateApproval,
		contract.UpdateAccount:          a.UpdateAccount,
		contract.StartPlaybook:          a.StartPlaybook,
		contract.Notify:                 a.Notify,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
