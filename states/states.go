// Package states names, as types, the states a run, an approval, a task,
// an outbox email and a playbook version go through. The store's CHECK
// constraints hold the same lists (a store test compares them); the store,
// the services and both edges compare against these constants; and the
// exhaustive linter (make test) checks that a switch over one of these
// types names every state or says what the others do (default). Pure: no
// I/O, nothing of ours imported.
package states

// Run is a run's status.
type Run string

const (
	RunRunning   Run = "running"
	RunPaused    Run = "paused"
	RunCompleted Run = "completed"
	RunCancelled Run = "cancelled"
	RunFailed    Run = "failed"
)

// Runs are every run status, in the runs table's CHECK order.
var Runs = []Run{RunRunning, RunPaused, RunCompleted, RunCancelled, RunFailed}

// Live says the run goes on (running, or paused by ops): an account has at
// most one live run of a playbook.
func (r Run) Live() bool {
	switch r {
	case RunRunning, RunPaused:
		return true
	case RunCompleted, RunCancelled, RunFailed:
		return false
	}
	return false
}

// Approval is an approval's status.
type Approval string

const (
	ApprovalPending   Approval = "pending"
	ApprovalApproved  Approval = "approved"
	ApprovalRejected  Approval = "rejected"
	ApprovalExpired   Approval = "expired"
	ApprovalCancelled Approval = "cancelled" // its run ended first
)

// Approvals are every approval status, in the approvals table's CHECK order.
var Approvals = []Approval{ApprovalPending, ApprovalApproved, ApprovalRejected, ApprovalExpired, ApprovalCancelled}

// Task is a task's status.
type Task string

const (
	TaskOpen      Task = "open"
	TaskCompleted Task = "completed"
	TaskCancelled Task = "cancelled" // its run ended first
)

// Tasks are every task status, in the tasks table's CHECK order.
var Tasks = []Task{TaskOpen, TaskCompleted, TaskCancelled}

// Email is an outbox email's status.
type Email string

const (
	EmailPending   Email = "pending"   // written, provider not called yet
	EmailSending   Email = "sending"   // the provider is being called
	EmailUncertain Email = "uncertain" // the call's outcome is unknown; never retried
	EmailSent      Email = "sent"      // accepted by SendGrid
	EmailCaptured  Email = "captured"  // no SendGrid key: stored and logged instead
	EmailFailed    Email = "failed"    // refused by the provider; not retried
	EmailSkipped   Email = "skipped"   // recipient unsubscribed or suppressed
)

// Emails are every outbox status, in the emails table's CHECK order.
var Emails = []Email{EmailPending, EmailSending, EmailSent, EmailCaptured, EmailFailed, EmailSkipped, EmailUncertain}

// Reached says the email went, or may have gone, to its recipient: it
// counts against the frequency cap and the gap between emails.
func (e Email) Reached() bool {
	switch e {
	case EmailPending, EmailSending, EmailSent, EmailCaptured, EmailUncertain:
		return true
	case EmailFailed, EmailSkipped:
		return false
	}
	return false
}

// Version is a playbook version's status.
type Version string

const (
	VersionDraft     Version = "draft"
	VersionPublished Version = "published" // new runs take it; one per playbook
	VersionArchived  Version = "archived"  // published once, replaced since
)

// Versions are every version status, in the playbook_versions table's
// CHECK order.
var Versions = []Version{VersionDraft, VersionPublished, VersionArchived}
