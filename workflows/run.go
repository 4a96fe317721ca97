// The run workflow's outside: its names, queues, IDs and the types that
// travel in its histories (inputs, signals, updates, queries).

package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
)

// DefaultTaskQueue is the task queue when TEMPORAL_TASK_QUEUE is not set.
const DefaultTaskQueue = "playbookd"

// PlaybookRunName is the registered name of PlaybookRun; starts use it so a
// renamed Go function cannot orphan live runs.
const PlaybookRunName = "PlaybookRun"

// Query, signal and update names of a run.
const (
	ProgressQuery        = "progress"
	EventSignal          = "event"           // Event: delivered to wait_for and event_received
	AccountChangedSignal = "account-changed" // accounts.Snapshot: exit rules, re-planned anchors
	PauseSignal          = "pause"
	ResumeSignal         = "resume"
	DecideUpdate         = "decide" // Decision → DecisionResult
	MoveUpdate           = "move"   // MoveRequest → MoveResult
	MoveStateQuery       = "move-state"
)

// EmailTaskQueue is where a run's emails are sent from: a queue of its own,
// so one rate limit covers every worker (SendGrid's limit is per account).
func EmailTaskQueue(taskQueue string) string { return taskQueue + "-email" }

// RunWorkflowID derives a run's workflow ID from its playbook and account, so
// Temporal itself refuses a second live run of the same pair.
func RunWorkflowID(playbookKey, accountID string) string {
	return fmt.Sprintf("playbook/%s/account/%s", playbookKey, accountID)
}

// ApprovalID is the id of a run's approval at a step. It is derived, not
// drawn, so the run registers the approval before the approval exists and a
// decision is accepted from the moment any view lists it.
func ApprovalID(runID, stepID string) string {
	space := uuid.Must(uuid.Parse("5d8f3b1e-2a61-4c1f-9b5e-0c7a52f4e0d1")) // playbookd approvals
	return uuid.NewSHA1(space, []byte(runID+"\x00"+stepID)).String()
}

// RunInput starts one account in one playbook version. The definition travels
// in the input, so a run keeps the version it started with.
type RunInput struct {
	RunID           string
	AccountID       string
	PlaybookKey     string
	PlaybookVersion int
	Definition      playbook.Definition
	// EscalationSLA replaces the ladder's default deadlines (seed 000), by
	// segment, levels 1-4; it travels in the input so a run keeps the
	// deadlines it started with.
	EscalationSLA map[string][4]time.Duration `json:",omitempty"`
	// DefaultSendWindow is the organisation's send window, for a definition
	// that sets none; it travels in the input so a run keeps the one it
	// started with (runs from before carry none: no window).
	DefaultSendWindow *playbook.SendWindow `json:",omitempty"`
	// Carried is set when the run continues as new.
	Carried *CarriedState `json:",omitempty"`
}

// CarriedState is what a run takes into its next history.
type CarriedState struct {
	EnrolledAt time.Time
	Next       int // index of the next top-level step
	Account    accounts.Snapshot
	Events     []Event
	Done       []StepRecord
	Paused     bool
	// Moved is set once the run moved to another version of its playbook.
	Moved *Moved `json:",omitempty"`
}

// Moved is what a run that moved to another version keeps of the move.
type Moved struct {
	FromVersion int
	By          string
	At          time.Time
	// Done are the steps the run had done before it moved (ids, with
	// repeats' suffixes): the new version does not do them again.
	Done []string
	// Since is when the step the run resumes at began, when the new
	// version has that step too: its after or wait counts from then, not
	// from the move. Zero once that step has begun in the new version.
	Since time.Time `json:",omitzero"`
}

// MoveRequest asks a run to move to another version of its playbook at
// once; it is refused, with the reason, unless the run is at a safe point.
type MoveRequest struct {
	ToVersion  int                 `json:"to_version"`
	Definition playbook.Definition `json:"definition"`
	By         string              `json:"by"`
}

// MoveResult is the move's answer: the run has recorded it and is
// continuing on the new version from ResumesAt ("" when no step is left).
type MoveResult struct {
	FromVersion int    `json:"from_version"`
	ToVersion   int    `json:"to_version"`
	ResumesAt   string `json:"resumes_at"`
}

// MoveState is the answer of MoveStateQuery: whether the run could move now
// (and why not), and the state it would carry into the new version.
type MoveState struct {
	Version int          `json:"version"`
	Safe    bool         `json:"safe"`
	Reason  string       `json:"reason,omitempty"`
	Next    int          `json:"next"` // the top-level step it is at
	Current *StepRecord  `json:"current,omitempty"`
	Since   time.Time    `json:"since"` // when the current top-level step began
	Carried CarriedState `json:"carried"`
}

// RunResult is how a run ended.
type RunResult struct {
	Status  states.Run
	Outcome string
}

// Event is an account event delivered to a run.
type Event struct {
	Name string         `json:"name"`
	Data map[string]any `json:"data,omitempty"`
	At   time.Time      `json:"at"`
}

// Decision answers a pending approval.
type Decision struct {
	ApprovalID string           `json:"approval_id"`
	Decision   string           `json:"decision"` // approve | reject
	By         string           `json:"by"`
	Comment    string           `json:"comment,omitempty"`
	Edits      *message.Content `json:"edits,omitempty"`
}

// DecisionResult is the Update's answer.
type DecisionResult struct {
	ApprovalID string          `json:"approval_id"`
	Status     states.Approval `json:"status"` // approved | rejected
}

// Step statuses in Progress.
const (
	StepWaiting  = "waiting"  // its time has not come yet
	StepAwaiting = "awaiting" // an event or a decision
	StepPaused   = "paused"
	StepRunning  = "running"
	StepDone     = "done"
	StepSkipped  = "skipped"
	StepFailed   = "failed"
)

// StepRecord is one step as the progress query shows it. Times are UTC, in
// whole seconds; a time that is not known is left out.
type StepRecord struct {
	ID string `json:"id"` // unique in the run: repeated steps add "#n"
	// Name is the step's title from the definition, added by the run view
	// (runs.Service.Get); the workflow leaves it empty.
	Name   string     `json:"name,omitempty"`
	Kind   string     `json:"kind"`
	At     *time.Time `json:"at,omitempty"` // when it ran, or is due
	Status string     `json:"status"`
	Detail string     `json:"detail,omitempty"`
	// Event is the account event a wait_for step waits (or waited) for:
	// what the console offers to report while the step is current.
	Event string `json:"event,omitempty"`
	// Until is what the current step waits for: the event's or the
	// approval's deadline, the send window's opening, the cap's release.
	Until    *time.Time   `json:"until,omitempty"`
	Notes    []Note       `json:"notes,omitempty"`
	Task     *TaskRef     `json:"task,omitempty"`
	Approval *ApprovalRef `json:"approval,omitempty"`

	recorded bool // in done already (an if before its branch)
}

// Note explains, in one line, something that moved or decided a step while
// it ran.
type Note struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // send_window | cap | timeout | escalation
	Text string    `json:"text"`
}

// Note kinds.
const (
	NoteSendWindow = "send_window"
	NoteCap        = "cap"
	NoteTimeout    = "timeout"
	NoteEscalation = "escalation"
)

// TaskRef is the task a task step created. The workflow knows its id and
// assignee; the run view adds the task's own state from PostgreSQL.
type TaskRef struct {
	ID       string      `json:"id"`
	Assignee string      `json:"assignee,omitempty"`
	Status   states.Task `json:"status,omitempty"` // open | completed | cancelled
	Outcome  string      `json:"outcome,omitempty"`
	Note     string      `json:"note,omitempty"`
	ClosedAt *time.Time  `json:"closed_at,omitempty"`
}

// ApprovalRef is the approval an approval step asked for; the run view adds
// the decision from PostgreSQL.
type ApprovalRef struct {
	ID        string          `json:"id"`
	Assignee  string          `json:"assignee,omitempty"`
	Status    states.Approval `json:"status,omitempty"` // pending | approved | rejected | expired | cancelled
	Level     int             `json:"level,omitempty"`
	DecidedBy string          `json:"decided_by,omitempty"`
	DecidedAt *time.Time      `json:"decided_at,omitempty"`
	Comment   string          `json:"comment,omitempty"`
	Edits     json.RawMessage `json:"edits,omitempty"`
}

// Stamp is how step records write an instant: UTC, whole seconds.
func Stamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

// Progress is the answer of ProgressQuery.
type Progress struct {
	Paused   bool         `json:"paused"`
	Done     []StepRecord `json:"done"`
	Current  *StepRecord  `json:"current"`
	Upcoming []StepRecord `json:"upcoming"`
}
