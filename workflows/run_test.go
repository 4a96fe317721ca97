package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

const day = 24 * time.Hour

// monday9am starts every simulated run: a Monday at 09:00 UTC.
var monday9am = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// effect is one side effect a run asked for, with its simulated time.
type effect struct {
	At     time.Duration // since the run started
	Kind   string        // email | task | approval | update | start | notify
	StepID string
	Detail string // template, title, ...
}

// recorder mocks every activity and notes each side effect and when it
// happened in simulated time.
type recorder struct {
	t        testing.TB
	env      *testsuite.TestWorkflowEnvironment
	start    time.Time
	account  accounts.Snapshot
	mu       sync.Mutex
	effects  []effect
	finished *contract.RecordRunFinishedInput
	statuses []string
	// emailErr, when set, is what the SendEmail activity fails with.
	emailErr   error
	approvalID int
	// topLevel, when set, is the highest level the ladder has people for.
	topLevel int
	// capped, when set, makes the first SendEmail of each step defer by it.
	capped time.Duration
	// deferReason is why the email was deferred, as the activity says it.
	deferReason string
	deferred    map[string]bool
	// emailQueues are the task queues SendEmail ran on; emails, the
	// inputs it was given.
	emailQueues []string
	emails      []contract.SendEmailInput
	// sla, when set, is the run's configured escalation ladder.
	sla map[string][4]time.Duration
	// window, when set, is the organisation's default send window.
	window *playbook.SendWindow
	// createDelay, when set, is how long CreateApproval takes (simulated).
	createDelay time.Duration
	// decisionDelay, when set, is how long recording an approve or reject
	// takes (simulated); expiredFails makes recording an expiry find the
	// approval already decided, as when a decision wins the race.
	decisionDelay time.Duration
	expiredFails  bool
	// approvalNames are short names (a1, a2, ...) for the ids runs chose,
	// so effects read the same whichever way the id was made.
	approvalNames map[string]string
}

// testRunID is the RunID of every recorded run.
const testRunID = "5f0c2b9e-0d5f-4a57-9a43-6a4b8f1d2c3e"

// approvalOf is the id of the recorded run's approval at a step.
func approvalOf(step string) string { return workflows.ApprovalID(testRunID, step) }

func newRecorder(t testing.TB, account accounts.Snapshot) *recorder {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	// The default 3 s of wall-clock idleness ends a test run early on a
	// loaded machine under -race (seen: a cancelled run never recorded).
	env.SetTestTimeout(time.Minute)
	env.SetStartTime(monday9am) // send windows make timings depend on the weekday
	(&activities.Activities{}).Register(env)
	r := &recorder{t: t, env: env, start: env.Now(), account: account, deferred: map[string]bool{},
		approvalNames: map[string]string{}}
	env.OnActivity(contract.BeginRun, mock.Anything, mock.Anything).Return(
		func(context.Context, contract.BeginRunInput) (accounts.Snapshot, error) { return r.account, nil })
	env.OnActivity(contract.LoadAccount, mock.Anything, mock.Anything).Return(
		func(context.Context, string) (accounts.Snapshot, error) { return r.account, nil })
	env.OnActivity(contract.SendEmail, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
			r.emailQueues = append(r.emailQueues, activity.GetInfo(ctx).TaskQueue)
			r.emails = append(r.emails, in)
			if r.emailErr != nil {
				return contract.SendEmailResult{}, r.emailErr
			}
			if r.capped > 0 && !r.deferred[in.StepID] {
				r.deferred[in.StepID] = true
				until := env.Now().Add(r.capped)
				return contract.SendEmailResult{DeferUntil: &until, DeferReason: r.deferReason}, nil
			}
			detail := in.Template
			if in.Override != nil {
				detail += " edited: " + in.Override.Subject
			}
			if in.ApprovalID != "" {
				detail += " as approved in " + r.approvalName(in.ApprovalID)
			}
			r.add("email", in.StepID, detail)
			return contract.SendEmailResult{Sent: 1}, nil
		})
	env.OnActivity(contract.CreateTask, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
			r.add("task", in.StepID, in.Assignee+": "+in.Title)
			return contract.CreateTaskResult{TaskID: "t-" + in.StepID, Assignee: in.Assignee + "@cs.test"}, nil
		})
	env.OnActivity(contract.CreateApproval, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
			r.mu.Lock()
			r.approvalID++
			name := "a" + string(rune('0'+r.approvalID))
			id := in.ApprovalID // as the activity does: the run's id, else a new one
			if id == "" {
				id = name
			}
			r.approvalNames[id] = name
			r.mu.Unlock()
			r.add("approval", in.StepID, in.Email.Template)
			return contract.CreateApprovalResult{ApprovalID: id, Assignee: in.Assignee + "@cs.test"}, nil
		}).AfterFn(func() time.Duration { return r.createDelay })
	env.OnActivity(contract.RecordApprovalDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordApprovalDecisionInput) error {
			if in.Status == "expired" && r.expiredFails {
				return temporal.NewNonRetryableApplicationError("the approval is no longer pending", contract.ErrApprovalNotPending, nil)
			}
			detail := string(in.Status)
			if in.Edits != nil {
				detail += " edited: " + in.Edits.Subject
			}
			r.add("decision", r.approvalName(in.ApprovalID), detail)
			return nil
		}).AfterFn(func() time.Duration { return r.decisionDelay })
	env.OnActivity(contract.EscalateApproval, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
			r.add("escalate", in.StepID, fmt.Sprintf("L%d until %s", in.Level, in.ExpiresAt.Sub(r.start)))
			if r.topLevel > 0 && in.Level > r.topLevel {
				return contract.EscalateApprovalResult{}, nil // nobody above
			}
			return contract.EscalateApprovalResult{Escalated: true, Assignee: fmt.Sprintf("level%d@cs.test", in.Level)}, nil
		})
	env.OnActivity(contract.UpdateAccount, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.UpdateAccountInput) (accounts.Snapshot, error) {
			r.add("update", in.StepID, in.LifecycleStage)
			if in.LifecycleStage != "" {
				r.account.LifecycleStage = in.LifecycleStage
			}
			return r.account, nil
		})
	env.OnActivity(contract.StartPlaybook, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.StartPlaybookInput) (contract.StartPlaybookResult, error) {
			r.add("start", in.PlaybookKey, "")
			return contract.StartPlaybookResult{RunID: "child"}, nil
		})
	env.OnActivity(contract.Notify, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.NotifyInput) error { r.add("notify", in.StepID, in.URL); return nil })
	env.OnActivity(contract.RecordRunStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordRunStatusInput) error {
			r.statuses = append(r.statuses, string(in.Status))
			return nil
		})
	env.OnActivity(contract.RecordRunFinished, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.RecordRunFinishedInput) error { r.finished = &in; return nil })
	return r
}

func (r *recorder) approvalName(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name, ok := r.approvalNames[id]; ok {
		return name
	}
	return id
}

func (r *recorder) add(kind, step, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.effects = append(r.effects, effect{At: r.env.Now().Sub(r.start), Kind: kind, StepID: step, Detail: detail})
}

// at schedules fn at a simulated offset from the start.
func (r *recorder) at(offset time.Duration, fn func()) { r.env.RegisterDelayedCallback(fn, offset) }

func (r *recorder) run(def *playbook.Definition) {
	r.env.ExecuteWorkflow(workflows.PlaybookRun, workflows.RunInput{
		RunID: testRunID, AccountID: r.account.ID, PlaybookKey: def.Key,
		PlaybookVersion: 1, Definition: *def, EscalationSLA: r.sla, DefaultSendWindow: r.window,
	})
	require.True(r.t, r.env.IsWorkflowCompleted())
}

// stepsAt lists "kind:step@day" for every effect, for compact assertions.
func (r *recorder) byStep() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, e := range r.effects {
		out[e.Kind+":"+e.StepID] = e.At
	}
	return out
}

func builtin(t testing.TB, key string) *playbook.Definition {
	t.Helper()
	set, err := templates.Builtin()
	require.NoError(t, err)
	all, err := playbooks.Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	for _, b := range all {
		if b.Key == key {
			return b.Definition
		}
	}
	t.Fatalf("no built-in %s", key)
	return nil
}

func parse(t *testing.T, src string) *playbook.Definition {
	t.Helper()
	def, err := playbook.Parse([]byte(src), playbook.Options{BuiltinTemplates: []string{"welcome", "qbr-invite"}})
	require.NoError(t, err)
	return def
}

func account(segment string) accounts.Snapshot {
	return accounts.Snapshot{ID: "acme", Segment: segment, Status: "active", LifecycleStage: "onboarding",
		Timezone: "UTC", Fields: map[string]any{}}
}

// Each built-in onboarding step fires on its seed day ("Day N" = (N-1)d), by segment.
func TestOnboardingStepsFireOnTheirSeedDays(t *testing.T) {
	common := map[string]time.Duration{
		"task:zero-logins":     7 * day, // no first_login event in week 1
		"email:month-1-update": 30 * day,
		"email:month-2-update": 59 * day,
		"update:to-adoption":   89 * day,
	}
	tests := map[string]map[string]time.Duration{
		"enterprise": {
			// Nobody completed the kickoff task: red flag on Day 15.
			"task:kickoff-delayed": 14 * day,
			"task:welcome-call":    0, "task:technical-kickoff": 1 * day, "task:data-source-connection": 2 * day,
			"task:first-dashboard-training": 6 * day, "task:core-dashboards": 7 * day,
			"task:user-training-admin-setup": 14 * day, "task:testing-feedback": 21 * day,
			"task:first-value-checkpoint": 29 * day, "task:usage-review": 44 * day,
			// Nobody decides: the enterprise ladder 4h + 2h + 1h + 30m, then on_expire.
			"approval:qbr-invitation": 89 * day, "escalate:qbr-invitation": 89*day + 7*time.Hour,
			"decision:a1": 89*day + 7*time.Hour + 30*time.Minute,
			// An approval holds the steps after it until decided or expired.
			"task:success-planning": 89*day + 7*time.Hour + 30*time.Minute,
			"update:to-adoption":    89*day + 7*time.Hour + 30*time.Minute,
		},
		"smb": {
			"email:welcome-email": 0, "email:getting-started-email": 1 * day, "email:connect-data-email": 2 * day,
			// Day 6 is a Sunday: held for the Mon-Fri send window until Monday 09:00.
			"email:training-invite-email": 7 * day, "email:implementation-tips-email": 7 * day,
			"email:first-value-email": 29 * day, "email:usage-tips-email": 44 * day,
			// Day 89 is a Saturday: Monday, and the adoption update waits behind it.
			"email:smb-quarterly-review": 91 * day, "update:to-adoption": 91 * day,
		},
	}
	for segment, want := range tests {
		t.Run(segment, func(t *testing.T) {
			r := newRecorder(t, account(segment))
			r.run(builtin(t, "onboarding"))
			require.NoError(t, r.env.GetWorkflowError())
			for k, v := range common {
				if _, set := want[k]; !set {
					want[k] = v
				}
			}
			require.Equal(t, want, r.byStep())
			require.EqualValues(t, "completed", r.finished.Status)
			require.False(t, r.finished.CloseTasks, "a completed run leaves its tasks to the CSM")
		})
	}
}

func TestEmailsGoToTheEmailTaskQueue(t *testing.T) {
	r := newRecorder(t, account("smb"))
	r.run(parse(t, "key: q\nname: Q\nsteps:\n  - id: hello\n    email: {template: welcome, to: champion}\n"))
	require.Equal(t, []string{workflows.EmailTaskQueue("default-test-taskqueue")}, r.emailQueues)
}

// The red flags of onboarding stay silent when what they watch for happens:
// completing the kickoff task sends technical_kickoff_completed (an
// integration may report kickoff_completed); smb has no kickoff to delay.
func TestEventsSilenceRedFlags(t *testing.T) {
	tests := []struct {
		segment, kickoffEvent string
	}{
		{"enterprise", "technical_kickoff_completed"},
		{"mid_market", "kickoff_completed"},
		{"smb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.segment, func(t *testing.T) {
			r := newRecorder(t, account(tt.segment))
			r.at(3*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "first_login"}) })
			if tt.kickoffEvent != "" {
				r.at(10*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: tt.kickoffEvent}) })
			}
			r.run(builtin(t, "onboarding"))
			steps := r.byStep()
			require.NotContains(t, steps, "task:zero-logins")
			require.NotContains(t, steps, "task:kickoff-delayed")
		})
	}
}

func TestWaitForTimesOutIntoOnTimeout(t *testing.T) {
	def := parse(t, `
key: w
name: W
steps:
  - id: first-login
    wait_for: {event: first_login, within: 7d}
    on_timeout:
      - id: zero-logins
        task: {title: Zero logins, assignee: csm}
  - id: after
    after: 1d
    task: {title: After, assignee: csm}
`)
	r := newRecorder(t, account("smb"))
	r.run(def)
	require.Equal(t, map[string]time.Duration{"task:zero-logins": 7 * day, "task:after": 8 * day}, r.byStep())

	r = newRecorder(t, account("smb"))
	r.at(2*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "first_login"}) })
	r.run(def)
	require.Equal(t, map[string]time.Duration{"task:after": 3 * day}, r.byStep())
}

func TestExitRuleEndsRunWithItsOutcome(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.at(20*day, func() {
		churned := account("enterprise")
		churned.Status = "churned"
		r.env.SignalWorkflow(workflows.AccountChangedSignal, churned)
	})
	r.run(builtin(t, "onboarding"))
	require.NoError(t, r.env.GetWorkflowError())
	require.Equal(t, &contract.RecordRunFinishedInput{RunID: "5f0c2b9e-0d5f-4a57-9a43-6a4b8f1d2c3e", Status: "completed",
		Outcome: "churned", CloseTasks: true}, r.finished, "an exit closes the run's open tasks")
	for _, e := range r.effects {
		require.LessOrEqual(t, e.At, 20*day, "%s ran after the exit", e.StepID)
	}
}

func TestRecoveryEndsRecoveredWhenHealthTurnsGreen(t *testing.T) {
	r := newRecorder(t, account("mid_market"))
	r.at(5*day, func() {
		green := account("mid_market")
		score := 85.0
		green.HealthScore, green.HealthBand = &score, "green"
		r.env.SignalWorkflow(workflows.AccountChangedSignal, green)
	})
	r.run(builtin(t, "red-recovery"))
	require.Equal(t, "recovered", r.finished.Outcome)
	steps := r.byStep()
	require.Equal(t, time.Duration(0), steps["task:leadership-escalation"])
	require.Contains(t, steps, "task:daily-checkin#1")
	require.Equal(t, 4*day, steps["task:daily-checkin#2"], "daily check-ins start on day 4")
	require.NotContains(t, steps, "task:value-demonstration")
}

func TestRepeatRunsEveryIntervalUntilItsEnd(t *testing.T) {
	r := newRecorder(t, account("smb"))
	r.run(builtin(t, "red-recovery"))
	var checkins []time.Duration
	for _, e := range r.effects {
		if e.Kind == "task" && len(e.StepID) > 13 && e.StepID[:13] == "daily-checkin" {
			checkins = append(checkins, e.At)
		}
	}
	require.Len(t, checkins, 11, "days 4 to 14")
	require.Equal(t, 3*day, checkins[0])
	require.Equal(t, 13*day, checkins[10])
}

const approvalPlaybook = `
key: ap
name: AP
steps:
  - id: invite
    approval:
      assignee: csm
      email: {template: qbr-invite, to: [exec_sponsor]}
      on_reject: end_run
  - id: after
    task: {title: After, assignee: csm}
`

// An approved email is sent as the approval stores it (the activity reads
// the approved content); runs drafted before that change re-render with the
// edits.
func TestApprovalSendsEditedEmailOnceApproved(t *testing.T) {
	tests := []struct {
		name    string
		version workflow.Version
		email   string
	}{
		{"sent as approved", 1, "qbr-invite as approved in a1"},
		{"drafted before approved content", workflow.DefaultVersion, "qbr-invite edited: Let's meet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("enterprise"))
			r.env.OnGetVersion("approved-content", workflow.DefaultVersion, 1).Return(tt.version)
			var refused, accepted error
			r.at(time.Hour, func() {
				r.env.UpdateWorkflow(workflows.DecideUpdate, "u0", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { refused = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
				}, workflows.Decision{ApprovalID: "nope", Decision: "approve", By: "csm@cs.test"})
				r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { accepted = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
				}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "approve", By: "csm@cs.test",
					Edits: &message.Content{Subject: "Let's meet"}})
			})
			r.run(parse(t, approvalPlaybook))
			require.ErrorContains(t, refused, "not pending")
			require.NoError(t, accepted)
			require.Equal(t, []effect{
				{At: 0, Kind: "approval", StepID: "invite", Detail: "qbr-invite"},
				{At: time.Hour, Kind: "decision", StepID: "a1", Detail: "approved edited: Let's meet"},
				{At: time.Hour, Kind: "email", StepID: "invite", Detail: tt.email},
				{At: time.Hour, Kind: "task", StepID: "after", Detail: "csm: After"},
			}, r.effects)
		})
	}
}

func TestRejectedApprovalWithEndRunEndsTheRun(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.at(time.Hour, func() {
		r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "reject", By: "csm@cs.test"})
	})
	r.run(parse(t, approvalPlaybook))
	require.Equal(t, "rejected:invite", r.finished.Outcome)
	require.NotContains(t, r.byStep(), "task:after")
	require.NotContains(t, r.byStep(), "email:invite")
}

// A decision that arrives while the approval is still being created (the
// row and the assignee's notice exist; the run has not heard back) is
// accepted and applied once the approval exists. Runs from before the change
// register the approval only once created, and refuse it.
func TestDecisionWhileTheApprovalIsBeingCreated(t *testing.T) {
	tests := []struct {
		name     string
		version  workflow.Version
		id       string
		accepted bool
	}{
		{"registered first", 1, approvalOf("invite"), true},
		{"histories from before", workflow.DefaultVersion, "a1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("enterprise"))
			r.env.OnGetVersion("approval-registered-first", workflow.DefaultVersion, 1).Return(tt.version)
			r.createDelay = time.Minute
			var refused, completed error
			accepted := false
			r.at(30*time.Second, func() {
				r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { refused = err }, OnAccept: func() { accepted = true },
					OnComplete: func(_ any, err error) { completed = err },
				}, workflows.Decision{ApprovalID: tt.id, Decision: "approve", By: "csm@cs.test"})
			})
			r.run(parse(t, approvalPlaybook))
			if !tt.accepted {
				require.ErrorContains(t, refused, "not pending")
				require.NotContains(t, r.byStep(), "email:invite", "nobody decided: it expired")
				return
			}
			require.NoError(t, refused)
			require.True(t, accepted)
			require.NoError(t, completed)
			require.Equal(t, []effect{
				{At: time.Minute, Kind: "approval", StepID: "invite", Detail: "qbr-invite"},
				{At: time.Minute, Kind: "decision", StepID: "a1", Detail: "approved"},
				{At: time.Minute, Kind: "email", StepID: "invite", Detail: "qbr-invite as approved in a1"},
				{At: time.Minute, Kind: "task", StepID: "after", Detail: "csm: After"},
			}, r.effects)
		})
	}
}

// Two decisions that arrive while the approval is being created: the first
// is applied, the second refused at once, and the email goes out once.
func TestTwoDecisionsWhileTheApprovalIsBeingCreated(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.createDelay = time.Minute
	var first, second error
	done := 0
	r.at(20*time.Second, func() {
		r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { first = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { done++; first = err },
		}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "approve", By: "csm@cs.test"})
	})
	r.at(40*time.Second, func() {
		r.env.UpdateWorkflow(workflows.DecideUpdate, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { second = err }, OnAccept: func() {},
			OnComplete: func(_ any, err error) { done++; second = err },
		}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "reject", By: "lead@cs.test"})
	})
	r.run(parse(t, approvalPlaybook))
	require.NoError(t, first)
	require.ErrorContains(t, second, "being decided by another decision", "refused by the validator: never in history")
	var decisions, emails int
	for _, e := range r.effects {
		switch e.Kind {
		case "decision":
			decisions++
		case "email":
			emails++
		}
	}
	require.Equal(t, []int{1, 1}, []int{decisions, emails}, "one decision recorded, one email")
}

// A decision accepted just before the deadline wins over the expiry that
// finds the approval decided: the approved email goes out, the run does not
// fail. Once the run records the expiry, a decision is refused as expired.
func TestDecisionRacingTheExpiryStands(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.decisionDelay = 2 * time.Minute // still being recorded at the 4 h deadline
	r.expiredFails = true
	r.at(4*time.Hour-time.Minute, func() {
		r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "approve", By: "csm@cs.test"})
	})
	r.run(parse(t, strings.Replace(approvalPlaybook, "on_reject: end_run", "on_expire: end_run", 1)))
	require.NoError(t, r.env.GetWorkflowError())
	require.EqualValues(t, "completed", r.finished.Status)
	require.Contains(t, r.byStep(), "email:invite")
	require.Contains(t, r.byStep(), "task:after")
}

// The ladder (seed 000 "Escalation Levels"): each level has its SLA, then
// the approval moves up; after level 4 on_expire applies.
func TestEscalationLadderBySegment(t *testing.T) {
	tests := map[string][]time.Duration{
		"enterprise": {4 * time.Hour, 2 * time.Hour, time.Hour, 30 * time.Minute},
		"mid_market": {24 * time.Hour, 8 * time.Hour, 4 * time.Hour, 2 * time.Hour},
		"smb":        {48 * time.Hour, 8 * time.Hour, 4 * time.Hour, 2 * time.Hour}, // mid-market values above L1
	}
	for segment, sla := range tests {
		t.Run(segment, func(t *testing.T) {
			r := newRecorder(t, account(segment))
			r.run(parse(t, approvalPlaybook))
			var escalations []effect
			for _, e := range r.effects {
				if e.Kind == "escalate" {
					escalations = append(escalations, e)
				}
			}
			require.Len(t, escalations, 3, "L2, L3, L4")
			at := sla[0]
			for i, e := range escalations {
				require.Equal(t, at, e.At, "escalation to L%d", i+2)
				require.Equal(t, fmt.Sprintf("L%d until %s", i+2, at+sla[i+1]), e.Detail)
				at += sla[i+1]
			}
			require.Equal(t, at, r.byStep()["decision:a1"], "expired after L4")
			require.Equal(t, at, r.byStep()["task:after"], "then on_expire: escalate falls back to skip")
		})
	}
}

func TestLadderStopsAtItsTopAndHonoursOnExpire(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.topLevel = 2 // the CSM has a manager, who has none
	r.run(parse(t, strings.Replace(approvalPlaybook, "on_reject: end_run", "on_reject: end_run\n      on_expire: escalate", 1)))
	require.Equal(t, 6*time.Hour, r.byStep()["decision:a1"], "L1 4h, L2 2h, nobody for L3: expired at 6h")

	r = newRecorder(t, account("enterprise"))
	r.run(parse(t, strings.Replace(approvalPlaybook, "on_reject: end_run", "on_expire: end_run", 1)))
	require.NotContains(t, r.byStep(), "escalate:invite", "on_expire: end_run does not climb")
	require.Equal(t, 4*time.Hour, r.byStep()["decision:a1"])
	require.Equal(t, "expired:invite", r.finished.Outcome)
}

func TestPauseHoldsStepsUntilResume(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.at(12*time.Hour, func() { r.env.SignalWorkflow(workflows.PauseSignal, nil) })
	r.at(3*day, func() {
		v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		var p workflows.Progress
		require.NoError(t, v.Get(&p))
		require.True(t, p.Paused)
		require.Equal(t, workflows.StepPaused, p.Current.Status)
		r.env.SignalWorkflow(workflows.ResumeSignal, nil)
	})
	r.run(builtin(t, "onboarding"))
	steps := r.byStep()
	require.Equal(t, 3*day, steps["task:technical-kickoff"], "day-2 step held until the resume")
	require.Equal(t, 3*day, steps["task:data-source-connection"], "overdue steps catch up at once")
	require.Equal(t, 6*day, steps["task:first-dashboard-training"])
	require.Equal(t, []string{"paused", "running"}, r.statuses)
}

func TestCancelStopsEverythingAndRecordsCancelled(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	r.at(10*day, r.env.CancelWorkflow)
	r.run(builtin(t, "onboarding"))
	require.Error(t, r.env.GetWorkflowError())
	require.EqualValues(t, "cancelled", r.finished.Status)
	require.True(t, r.finished.CloseTasks)
	for _, e := range r.effects {
		require.LessOrEqual(t, e.At, 10*day)
	}
}

func TestMovedRenewalDateReplansPendingSteps(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	renewal := r.start.Add(130 * day)
	r.account.RenewalAt = &renewal
	r.at(20*day, func() {
		later := renewal.Add(30 * day)
		r.account.RenewalAt = &later // as the store has it when a check_health loads the account
		r.env.SignalWorkflow(workflows.AccountChangedSignal, r.account)
	})
	r.at(200*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "contract_signed"}) })
	r.run(builtin(t, "renewal"))
	steps := r.byStep()
	require.Equal(t, 10*day, steps["task:renewal-kickoff"], "T-120 of a renewal 130 days out")
	require.Equal(t, 70*day, steps["approval:ebr-invitation"], "T-90 re-planned to the new date (160-90)")
	require.Equal(t, 100*day, steps["task:proposal-options"], "T-60")
	require.Equal(t, 130*day, steps["task:agreement-legal"], "T-30")
	require.Equal(t, 160*day, steps["task:unsigned-escalation"], "no signature by T-0")
}

// Seed 003's risk zones are evaluated again at T-90 and T-60, not only at
// T-120: a red account escalates to the VP at each, a yellow one gets the
// CSM more engagement, a green one nothing more; without a health score
// there is no zone to re-check.
func TestRenewalZoneIsCheckedAgainAtT90AndT60(t *testing.T) {
	for _, tt := range []struct {
		name  string
		score *float64
		want  string // the task at each re-check; "": none
	}{
		{"red", ptr(50.0), "red-zone-escalation"},
		{"yellow", ptr(75.0), "yellow-zone-engagement"},
		{"green", ptr(95.0), ""},
		{"no health yet", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("enterprise"))
			renewal := r.start.Add(130 * day)
			r.account.RenewalAt = &renewal
			r.account.HealthScore = tt.score
			r.at(200*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "contract_signed"}) })
			r.run(builtin(t, "renewal"))
			steps := r.byStep()
			for _, check := range []struct {
				suffix string
				at     time.Duration
			}{{"-90", 40 * day}, {"-60", 70 * day}} {
				for _, task := range []string{"red-zone-escalation", "yellow-zone-engagement"} {
					at, ok := steps["task:"+task+check.suffix]
					if task == tt.want {
						require.True(t, ok, "%s at T%s", task, check.suffix)
						// On the day; at T-90 after the EBR approval before it,
						// which holds the steps after it, is settled.
						require.GreaterOrEqual(t, at, check.at)
						require.Less(t, at, check.at+day)
					} else {
						require.False(t, ok, "no %s at T%s", task, check.suffix)
					}
				}
			}
		})
	}
}

func TestRenewalZonesChooseThePath(t *testing.T) {
	for _, tt := range []struct {
		score *float64
		task  string
	}{{ptr(45), "red-zone-escalation"}, {ptr(75), "yellow-zone-engagement"}, {ptr(95), "green-zone-expansion"}, {nil, "yellow-zone-engagement"}} {
		acct := account("mid_market")
		acct.HealthScore = tt.score
		r := newRecorder(t, acct)
		renewal := r.start.Add(120 * day)
		r.account.RenewalAt = &renewal
		r.run(builtin(t, "renewal"))
		require.Contains(t, r.byStep(), "task:"+tt.task)
	}
}

// An account enrolled in renewal at T-45 does not get the T-90 and T-60
// emails together on its first day: both are past skip_if_late, and the run
// says so; what is still due happens.
func TestLateEnrolmentSkipsStaleMilestones(t *testing.T) {
	r := newRecorder(t, account("smb"))
	renewal := r.start.Add(45 * day)
	r.account.RenewalAt = &renewal
	r.run(builtin(t, "renewal"))
	steps := r.byStep()
	require.NotContains(t, steps, "email:renewal-reminder")
	require.NotContains(t, steps, "email:renewal-options-email")
	require.Equal(t, 15*day, steps["task:agreement-legal"], "T-30 is still ahead")
	p := r.progressNow()
	reminder := record(t, p.Done, "renewal-reminder")
	require.Equal(t, workflows.StepSkipped, reminder.Status)
	require.Equal(t, "skipped: too late, 45d after its time 2025-11-21T09:00:00Z (skip_if_late: 2w)", reminder.Detail)
	require.Equal(t, workflows.StepSkipped, record(t, p.Done, "renewal-options-email").Status)

	// Enrolled at T-80: ten days late is within the bound; the reminder goes.
	r = newRecorder(t, account("smb"))
	renewal = r.start.Add(80 * day)
	r.account.RenewalAt = &renewal
	r.run(builtin(t, "renewal"))
	require.Contains(t, r.byStep(), "email:renewal-reminder")
}

func TestSignedRenewalEndsRenewed(t *testing.T) {
	r := newRecorder(t, account("smb"))
	renewal := r.start.Add(120 * day)
	r.account.RenewalAt = &renewal
	r.at(100*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "contract_signed"}) })
	r.run(builtin(t, "renewal"))
	steps := r.byStep()
	require.Equal(t, 120*day, steps["email:thank-you"])
	require.Equal(t, "renewed", r.finished.Outcome)
}

func TestBusinessFailureEndsRunFailed(t *testing.T) {
	r := newRecorder(t, account("smb"))
	r.emailErr = temporal.NewNonRetryableApplicationError("account gone", contract.ErrAccountNotFound, nil)
	r.run(builtin(t, "onboarding"))
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(r.env.GetWorkflowError(), &appErr))
	require.Equal(t, contract.ErrAccountNotFound, appErr.Type())
	require.EqualValues(t, "failed", r.finished.Status)
}

func TestSegmentNotEligibleEndsAtOnce(t *testing.T) {
	def := parse(t, "key: e\nname: E\nsegments: [enterprise]\nsteps: [{id: a, task: {title: A, assignee: csm}}]\n")
	r := newRecorder(t, account("smb"))
	r.run(def)
	require.Empty(t, r.effects)
	require.Equal(t, "not_eligible", r.finished.Outcome)
}

func TestProgressQueryShowsDoneCurrentUpcoming(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	var p workflows.Progress
	r.at(3*day, func() {
		v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&p))
	})
	r.run(builtin(t, "onboarding"))
	var done []string
	for _, s := range p.Done {
		if s.Status == workflows.StepDone {
			done = append(done, s.ID)
		}
	}
	sort.Strings(done)
	require.Equal(t, []string{"data-source-connection", "technical-kickoff", "welcome-call"}, done)
	require.Equal(t, "first-dashboard-training", p.Current.ID)
	require.Equal(t, workflows.StepWaiting, p.Current.Status)
	require.Equal(t, r.start.Add(6*day).UTC(), *p.Current.At)
	require.NotEmpty(t, p.Upcoming)
	require.Equal(t, "zero-logins-check", p.Upcoming[0].ID, "training-invite-email is for smb")
}

func ptr(v float64) *float64 { return &v }

// A run continued as new resumes at its next step, with its enrolment time
// (the anchor), events and done steps.
func TestCarriedStateResumesWhereTheRunLeftOff(t *testing.T) {
	def := builtin(t, "onboarding")
	r := newRecorder(t, account("enterprise"))
	enrolled := r.start.Add(-10 * day) // the first history began ten days ago
	next := -1
	for i, s := range def.Steps {
		if s.ID == "kickoff-delayed-check" {
			next = i
		}
	}
	r.env.ExecuteWorkflow(workflows.PlaybookRun, workflows.RunInput{
		RunID: testRunID, AccountID: "acme", PlaybookKey: def.Key, PlaybookVersion: 1,
		Definition: *def,
		Carried: &workflows.CarriedState{EnrolledAt: enrolled, Next: next, Account: r.account,
			Events: []workflows.Event{{Name: "kickoff_completed", At: enrolled.Add(3 * day)}},
			Done:   []workflows.StepRecord{{ID: "welcome-call", Kind: "task", Status: workflows.StepDone}}},
	})
	require.NoError(t, r.env.GetWorkflowError())
	steps := r.byStep()
	require.NotContains(t, steps, "task:welcome-call", "steps before the carried position do not run again")
	require.NotContains(t, steps, "task:kickoff-delayed", "carried events still count")
	require.Equal(t, 4*day, steps["task:user-training-admin-setup"], "day 14 of the enrolment is 4 days into this history")
	require.Equal(t, "completed", r.finished.Outcome)
}

const windowPlaybook = `
key: w
name: W
send_window: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
steps:
  - id: hello
    email: {template: welcome, to: champion}
  - id: call
    task: {title: Call, assignee: csm}
`

// Emails wait for the send window in the account's own time zone.
func TestEmailsWaitForTheSendWindowInTheAccountsZone(t *testing.T) {
	def := parse(t, windowPlaybook)
	acct := account("smb")
	acct.Timezone = "America/New_York" // Monday 09:00 UTC is 04:00 in New York
	r := newRecorder(t, acct)
	r.run(def)
	require.Equal(t, 5*time.Hour, r.byStep()["email:hello"], "09:00 in New York is 14:00 UTC")
	require.Equal(t, 5*time.Hour, r.byStep()["task:call"], "the task waits behind the email")

	// Without a window, at once.
	noWindow := *def
	noWindow.SendWindow = nil
	r = newRecorder(t, acct)
	r.run(&noWindow)
	require.Equal(t, time.Duration(0), r.byStep()["email:hello"])
}

// The frequency cap delays an email; the run waits and sends it then.
// A definition without a send window follows the organisation's: an email
// due at 18:00 on a Monday in Tokyo waits for 09:00 on Tuesday there; the
// definition's own window wins over it; without either it goes at once.
func TestOrganisationSendWindowAppliesWhenTheDefinitionSetsNone(t *testing.T) {
	business, err := playbook.ParseSendWindow("mon-fri 09:00-17:00")
	require.NoError(t, err)
	const noWindow = "key: w\nname: W\nsteps:\n  - id: hello\n    email: {template: welcome, to: champion}\n"
	const ownWindow = "key: w\nname: W\nsend_window: {start: \"19:00\", end: \"20:00\"}\nsteps:\n  - id: hello\n    email: {template: welcome, to: champion}\n"
	tests := []struct {
		name   string
		window *playbook.SendWindow
		src    string
		want   time.Duration
	}{
		{"organisation's window", business, noWindow, 15 * time.Hour},
		{"the definition's own", business, ownWindow, time.Hour},
		{"no window anywhere", nil, noWindow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := account("smb")
			acct.Timezone = "Asia/Tokyo" // Monday 09:00 UTC is 18:00 there
			r := newRecorder(t, acct)
			r.window = tt.window
			r.run(parse(t, tt.src))
			require.Equal(t, tt.want, r.byStep()["email:hello"])
		})
	}
}

func TestCappedEmailIsSentWhenTheCapFreesUp(t *testing.T) {
	def := parse(t, "key: c\nname: C\nsteps:\n  - id: hello\n    email: {template: welcome, to: champion}\n  - id: call\n    task: {title: Call, assignee: csm}\n")
	r := newRecorder(t, account("smb"))
	r.capped = 30 * time.Hour
	r.run(def)
	require.Equal(t, 30*time.Hour, r.byStep()["email:hello"])
	require.Equal(t, 30*time.Hour, r.byStep()["task:call"], "the next step waits behind the email")
}

// The run view says why an email waits, as PostgreSQL decided it: another
// play emailed the contact, or a higher play is live.
func TestHeldEmailSaysWhy(t *testing.T) {
	def := parse(t, "key: c\nname: C\nsteps:\n  - id: hello\n    email: {template: welcome, to: champion}\n")
	r := newRecorder(t, account("smb"))
	r.capped = 21 * time.Hour
	r.deferReason = "held: red-recovery emailed Dana 3 hours ago; automated emails to a contact are at least 1 day apart"
	p := r.progressAt(time.Hour)
	r.run(def)
	require.Equal(t, r.deferReason+" until 2026-01-06T06:00:00Z", p.Current.Detail)
	hello := record(t, r.progressNow().Done, "hello")
	require.Len(t, hello.Notes, 1)
	require.Equal(t, workflows.NoteCap, hello.Notes[0].Kind)
	require.Equal(t, r.deferReason+" until 2026-01-06T06:00:00Z", hello.Notes[0].Text)
}

// A run keeps the escalation deadlines configured when it started.
func TestConfiguredLadderDeadlines(t *testing.T) {
	r := newRecorder(t, account("smb"))
	r.sla = map[string][4]time.Duration{"smb": {time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour}}
	r.run(parse(t, approvalPlaybook))
	require.Equal(t, 10*time.Hour, r.byStep()["decision:a1"], "1h + 2h + 3h + 4h")
}

// A failed step says what failed, once: the activity's own message, not the
// SDK's wrapping of it.
func TestFailedStepDetailIsTheActivitysMessage(t *testing.T) {
	r := newRecorder(t, account("smb"))
	msg := `template "note", line 2 of the html: .Nonsense is not a field of the data; fields: Account, Contact, CSM, Health`
	r.emailErr = temporal.NewNonRetryableApplicationError(msg, contract.ErrTemplate, nil)
	r.run(parse(t, "key: k\nname: K\nsteps: [{id: hello, email: {template: welcome, to: champion}}]\n"))
	v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var p workflows.Progress
	require.NoError(t, v.Get(&p))
	require.Len(t, p.Done, 1)
	require.Equal(t, workflows.StepFailed, p.Done[0].Status)
	require.Equal(t, msg, p.Done[0].Detail)
}
