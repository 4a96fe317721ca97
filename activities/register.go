package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/playbookd/playbookd/activities/contract"
)

// RegisterEmail adds the email activity alone, for the email task queue.
func (a *Activities) RegisterEmail(r worker.ActivityRegistry) {
	r.RegisterActivityWithOptions(a.SendEmail, activity.RegisterOptions{Name: contract.SendEmail})
}

// Register adds every activity under its contract name (SendEmail too, for
// runs that predate the email task queue).
func (a *Activities) Register(r worker.ActivityRegistry) {
	for name, fn := range map[string]any{
		contract.BeginRun:               a.BeginRun,
		contract.LoadAccount:            a.LoadAccount,
		contract.RecordRunStatus:        a.RecordRunStatus,
		contract.RecordRunMoved:         a.RecordRunMoved,
		contract.RecordRunFinished:      a.RecordRunFinished,
		contract.SendEmail:              a.SendEmail,
		contract.CreateTask:             a.CreateTask,
		contract.CreateApproval:         a.CreateApproval,
		contract.RecordApprovalDecision: a.RecordApprovalDecision,
		contract.EscalateApproval:       a.EscalateApproval,
		contract.UpdateAccount:          a.UpdateAccount,
		contract.StartPlaybook:          a.StartPlaybook,
		contract.Notify:                 a.Notify,
		contract.SweepTriggers:          a.SweepTriggers,
		contract.ApplyImportBatch:       a.ApplyImportBatch,
		contract.FailImport:             a.FailImport,
	} {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
