// Package contract is what workflows know of activities: names, inputs,
// results and error types. It imports no I/O, so workflow code can depend on
// it without reaching the store or the mailer.
package contract

import (
	"errors"
	"time"

	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/states"
)

// Activity names, registered by the worker and scheduled by workflows.
const (
	BeginRun               = "BeginRun"
	RecordRunStatus        = "RecordRunStatus"
	RecordRunMoved         = "RecordRunMoved"
	RecordRunFinished      = "RecordRunFinished"
	LoadAccount            = "LoadAccount"
	SendEmail              = "SendEmail"
	CreateTask             = "CreateTask"
	CreateApproval         = "CreateApproval"
	RecordApprovalDecision = "RecordApprovalDecision"
	EscalateApproval       = "EscalateApproval"
	UpdateAccount          = "UpdateAccount"
	StartPlaybook          = "StartPlaybook"
	Notify                 = "Notify"
	SweepTriggers          = "SweepTriggers"
	ApplyImportBatch       = "ApplyImportBatch"
	FailImport             = "FailImport"
)

// SweepResult counts what a trigger sweep did.
type SweepResult struct {
	RenewalFirings int `json:"renewal_firings"` // renewal windows recorded (new or seen before)
	// ScheduleFirings counts the schedule occasions recorded (new or seen
	// before).
	ScheduleFirings int `json:"schedule_firings,omitempty"`
	// ImportsStarted counts bulk imports whose workflow could not be started
	// when they were recorded, started by this sweep.
	ImportsStarted int `json:"imports_started,omitempty"`
	// Digests counts the daily digests this sweep sent.
	Digests int `json:"digests,omitempty"`
}

// ImportBatchInput names a batch of an import's stored rows: rows
// Batch*BatchSize+1 to (Batch+1)*BatchSize. The rows stay in PostgreSQL, out
// of workflow history.
type ImportBatchInput struct {
	ImportID  string
	Batch     int
	BatchSize int
}

// ImportBatchResult says what one attempt at a batch did: a retried batch
// applies only the rows an earlier attempt did not.
type ImportBatchResult struct {
	Applied int // rows saved or refused by this attempt
}

// ErrNoSuchImport is what an import service returns for an import it does
// not know: retrying cannot help.
var ErrNoSuchImport = errors.New("no such import")

// Application error types that are business failures: retrying cannot help.
const (
	ErrAccountNotFound = "AccountNotFound"
	ErrUnknownTemplate = "UnknownTemplate"
	ErrLiveRun         = "LiveRunExists"
	ErrInvalidInput    = "InvalidInput"
	ErrUnknownPlaybook = "UnknownPlaybook"
	ErrWebhookRefused  = "WebhookRefused"
	ErrWebhookBlocked  = "WebhookBlocked" // the target is an address webhooks may not reach
	ErrUnknownSecret   = "UnknownSecret"  // a notify step names a secret nobody stored (or one deleted since)
	ErrEmailTooLarge   = "EmailTooLarge"  // a rendered part is over its bound (templates.Max*)
	ErrTemplate        = "TemplateFailed" // a template does not render over the account's data
	// ErrApprovalNotPending: a decision, escalation or expiry on an approval
	// that another of them has already closed.
	ErrApprovalNotPending = "ApprovalNotPending"
)

// ErrNoSuchPlaybook is what a run starter returns for a key with no
// published version.
var ErrNoSuchPlaybook = errors.New("no published playbook with this key")

// ErrPlaybookOverLimits is what a run starter returns for a published
// version stored before the definition limits existed and over them.
var ErrPlaybookOverLimits = errors.New("the published playbook is over the definition limits")

// NonRetryable lists the error types above for retry policies.
var NonRetryable = []string{ErrAccountNotFound, ErrUnknownTemplate, ErrLiveRun, ErrInvalidInput, ErrUnknownPlaybook, ErrWebhookRefused,
	ErrWebhookBlocked, ErrEmailTooLarge, ErrTemplate, ErrApprovalNotPending, ErrUnknownSecret}

// BeginRunInput indexes a run in PostgreSQL and asks for its account.
type BeginRunInput struct {
	RunID           string
	WorkflowID      string
	TemporalRunID   string
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
	StartedAt       time.Time
}

// RecordRunStatusInput records pause and resume.
type RecordRunStatusInput struct {
	RunID  string
	Status states.Run // running | paused
}

// RecordRunMovedInput records that a run moved to another version of its
// playbook: the run's row takes the new version, and the audit trail says
// when, by whom, from which version and at which step it resumes.
type RecordRunMovedInput struct {
	RunID       string
	FromVersion int
	ToVersion   int
	By          string
	At          time.Time
	ResumesAt   string // the step id it resumes at; "" when it has none left
}

// RecordRunFinishedInput closes a run's index row and its pending approvals;
// CloseTasks also closes its open tasks (a cancelled or exited run).
type RecordRunFinishedInput struct {
	RunID      string
	Status     states.Run // completed | cancelled | failed
	Outcome    string
	CloseTasks bool
}

// TemplateSource is a template carried by a playbook definition.
type TemplateSource struct {
	Name    string
	Subject string
	HTML    string
	Text    string
}

// SendEmailInput sends one template to the account's contacts holding the
// roles, each recipient at most once for this run and step.
type SendEmailInput struct {
	RunID              string
	StepID             string // unique within the run: repeats add "#n"
	AccountID          string
	Template           string
	SendGridTemplateID string
	OwnTemplate        *TemplateSource // when the definition carries the template
	ToRoles            []string
	Override           *message.Content // ignored with ApprovalID, e.g. a CSM's edits of a draft
	// ApprovalID, when set, sends each recipient the content stored as
	// approved for them, never a new render; contacts holding the roles
	// who were not drafted for are not sent to.
	ApprovalID string
	// Automated emails count towards the per-contact frequency cap;
	// approved ones (a person decided) do not.
	Automated bool
	// Survey is a survey step's kind (nps or csat): the outbox row is
	// marked with it and the template gets .Survey, one signed link per
	// score. Left out of the JSON when empty, so the inputs of every other
	// email encode as before.
	Survey string `json:",omitempty"`
}

// SendEmailResult counts what happened to each recipient.
type SendEmailResult struct {
	Sent     int // accepted by the provider or captured
	Skipped  int // unsubscribed
	Failed   int // refused by the provider, or outcome unknown
	EmailIDs []string
	// DeferUntil is set when some recipients hit the frequency cap: call
	// again then; those already sent are not sent twice.
	DeferUntil *time.Time
	// DeferReason says why, for the run view ("held: red-recovery emailed Dana 3 minutes ago").
	DeferReason string `json:",omitempty"`
	// Unapproved counts contacts holding the roles now who were not in the
	// approved draft (they got the role after it was made): not sent to.
	Unapproved int
}

// CreateTaskInput creates the task of a step once.
type CreateTaskInput struct {
	RunID       string
	StepID      string
	AccountID   string
	Title       string
	Description string
	Assignee    string // a team level: csm | senior_csm | vp_cs | executive
	Priority    string // low | normal | high | urgent
	DueAt       *time.Time
}

// CreateTaskResult identifies the task.
type CreateTaskResult struct {
	TaskID   string
	Assignee string
}

// CreateApprovalInput drafts an email and asks a team member to decide on it.
type CreateApprovalInput struct {
	RunID     string
	StepID    string
	AccountID string
	Assignee  string // team level
	Email     SendEmailInput
	ExpiresAt time.Time
	// ApprovalID is the id the run chose and registered before asking for
	// the approval, so a decision is accepted from the moment the approval
	// can be seen; empty in histories from before (PostgreSQL picks one).
	ApprovalID string `json:",omitempty"`
}

// CreateApprovalResult identifies the approval. The drafts stay in
// PostgreSQL: whole bodies in workflow history would count against its
// limits (histories from before carry a Draft field, which decodes away).
type CreateApprovalResult struct {
	ApprovalID string
	Assignee   string
}

// RecordApprovalDecisionInput stores a decision or an expiry.
type RecordApprovalDecisionInput struct {
	ApprovalID string
	Status     states.Approval // approved | rejected | expired
	DecidedBy  string
	Comment    string
	Edits      *message.Content
}

// UpdateAccountInput changes account attributes from a step.
type UpdateAccountInput struct {
	RunID          string
	StepID         string
	AccountID      string
	LifecycleStage string
	Status         string
	Fields         map[string]any
}

// StartPlaybookInput enrols the account in another playbook.
type StartPlaybookInput struct {
	ParentRunID string
	AccountID   string
	PlaybookKey string
}

// StartPlaybookResult says which run now holds the account in that playbook.
type StartPlaybookResult struct {
	RunID       string
	AlreadyLive bool
}

// NotifyInput posts a message (a Go template over the account) to a webhook:
// URL, or the URL stored as the secret named Secret (never in the input,
// so never in the run's history).
type NotifyInput struct {
	RunID     string
	StepID    string
	AccountID string
	URL       string
	Secret    string
	Message   string
}

// EscalateApprovalInput moves an undecided approval up the ladder.
type EscalateApprovalInput struct {
	RunID      string
	StepID     string
	AccountID  string
	ApprovalID string
	Level      int // 2..4
	ExpiresAt  time.Time
}

// EscalateApprovalResult names the new assignee; Escalated is false at the
// top of the ladder (nobody above the assignee).
type EscalateApprovalResult struct {
	Escalated bool
	Assignee  string
}
