// Package contract is what workflows know of activities: names, inputs,
// results and error types. It imports no I/O, so workflow code can depend on
// it without reaching the store or the mailer.
package contract

import "time"

// Activity names, registered by the worker and scheduled by workflows.
const (
	RecordRunStarted  = "RecordRunStarted"
	RecordRunFinished = "RecordRunFinished"
	SendEmail         = "SendEmail"
	CreateTask        = "CreateTask"
)

// Application error types that are business failures: retrying cannot help.
const (
	ErrAccountNotFound = "AccountNotFound"
	ErrUnknownTemplate = "UnknownTemplate"
	ErrLiveRun         = "LiveRunExists"
	ErrInvalidInput    = "InvalidInput"
)

// NonRetryable lists the error types above for retry policies.
var NonRetryable = []string{ErrAccountNotFound, ErrUnknownTemplate, ErrLiveRun, ErrInvalidInput}

// RecordRunStartedInput indexes a run in PostgreSQL.
type RecordRunStartedInput struct {
	RunID           string
	WorkflowID      string
	TemporalRunID   string
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
	StartedAt       time.Time
}

// RecordRunFinishedInput closes a run's index row and its open tasks.
type RecordRunFinishedInput struct {
	RunID   string
	Status  string // completed | cancelled | failed
	Outcome string
}

// SendEmailInput sends one template to the account's contacts holding the
// roles, each recipient at most once for this run and step.
type SendEmailInput struct {
	RunID     string
	StepID    string
	AccountID string
	Template  string
	ToRoles   []string
}

// SendEmailResult counts what happened to each recipient.
type SendEmailResult struct {
	Sent     int // accepted by the provider or captured
	Skipped  int // unsubscribed
	Failed   int // refused by the provider
	EmailIDs []string
}

// CreateTaskInput creates the task of a step once.
type CreateTaskInput struct {
	RunID     string
	StepID    string
	AccountID string
	Title     string
	Assignee  string // a team level: csm | senior_csm | vp_cs | executive
	Priority  string // low | normal | high | urgent
	DueAt     *time.Time
}

// CreateTaskResult identifies the task.
type CreateTaskResult struct {
	TaskID   string
	Assignee string
}
