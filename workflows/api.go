// Package workflows holds the deterministic workflow code of playbook runs.
// It imports the activity contracts, never the store, the mailer or echo.
package workflows

import (
	"fmt"
	"time"
)

// DefaultTaskQueue is the task queue when TEMPORAL_TASK_QUEUE is not set.
const DefaultTaskQueue = "playbookd"

// ProgressQuery answers a run's done, current and upcoming steps.
const ProgressQuery = "progress"

// PlaybookRunName is the registered name of PlaybookRun; starts use it so a
// renamed Go function cannot orphan live runs.
const PlaybookRunName = "PlaybookRun"

// RunWorkflowID derives a run's workflow ID from its playbook and account, so
// Temporal itself refuses a second live run of the same pair.
func RunWorkflowID(playbookKey, accountID string) string {
	return fmt.Sprintf("playbook/%s/account/%s", playbookKey, accountID)
}

// RunInput starts one account in one playbook version.
type RunInput struct {
	RunID           string
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
}

// RunResult is how a run ended.
type RunResult struct {
	Status  string
	Outcome string
}

// Step statuses in Progress.
const (
	StepPending = "pending"
	StepWaiting = "waiting" // its time has not come yet
	StepRunning = "running"
	StepDone    = "done"
	StepFailed  = "failed"
)

// StepState is one step as the progress query shows it.
type StepState struct {
	ID     string    `json:"id"`
	Kind   string    `json:"kind"`
	DueAt  time.Time `json:"due_at"`
	Status string    `json:"status"`
	Detail string    `json:"detail,omitempty"`
}

// Progress is the answer of ProgressQuery.
type Progress struct {
	Done     []StepState `json:"done"`
	Current  *StepState  `json:"current"`
	Upcoming []StepState `json:"upcoming"`
}
