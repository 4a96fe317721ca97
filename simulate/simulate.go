// Package simulate runs the real interpreter workflow in the SDK's
// time-skipping test environment, with activities that record instead of
// acting, and returns the timeline: what, to whom, when, from which step.
// Nothing is written and nothing is sent.
package simulate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/workflows"
)

// Contact is a recipient the simulation may address.
type Contact struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Event is an account event arriving at an offset from the start.
type Event struct {
	Name string            `json:"name"`
	At   playbook.Duration `json:"at"`
}

// Decision answers the approval of a step at an offset from the start.
type Decision struct {
	StepID   string                 `json:"step_id"`
	Decision string                 `json:"decision"` // approve | reject
	At       playbook.Duration      `json:"at"`
	Edits    *contract.EmailContent `json:"edits,omitempty"`
}

// Input is one simulation.
type Input struct {
	Definition *playbook.Definition
	Account    contract.AccountSnapshot
	Contacts   []Contact
	CSM        string // the CSM's email, for task and approval assignees
	Start      time.Time
	Events     []Event
	Decisions  []Decision
}

// Entry is one line of the timeline.
type Entry struct {
	At     time.Time `json:"at"`
	Offset string    `json:"offset"` // since the start, e.g. "6d" or "89d4h"
	StepID string    `json:"step_id"`
	Action string    `json:"action"` // email | task | approval | escalation | decision | wait | event | update_account | start_playbook | notify | check_health | end
	To     []string  `json:"to,omitempty"`
	Detail string    `json:"detail"`
	// Deadline is an approval's (or escalation's) decision deadline, for
	// the picture.
	Deadline time.Time `json:"-"`
}

// Result is the timeline and how the run ended.
type Result struct {
	Timeline []Entry `json:"timeline"`
	Status   string  `json:"status"`
	Outcome  string  `json:"outcome"`
	// Steps are the run's step records (the progress query's done list):
	// when each step ran, including waits, branches and skipped steps,
	// which leave no entry. The picture draws from them.
	Steps []workflows.StepRecord `json:"-"`
}

type recorder struct {
	mu      sync.Mutex
	env     *testsuite.TestWorkflowEnvironment
	in      Input
	entries []Entry
	result  Result
}

var discard = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// Run simulates the definition for the account.
func Run(in Input) (Result, error) {
	if in.Definition == nil {
		return Result{}, fmt.Errorf("simulate: no definition")
	}
	if in.Start.IsZero() {
		in.Start = time.Now().UTC().Truncate(time.Minute)
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(discard)
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(in.Start)
	env.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	r := &recorder{env: env, in: in}
	r.registerActivities()
	for _, e := range in.Events {
		e := e
		env.RegisterDelayedCallback(func() {
			r.add("", "event", nil, e.Name)
			env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: e.Name})
		}, e.At.Std())
	}
	for _, d := range in.Decisions {
		d := d
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.DecideUpdate, "sim-"+d.StepID+"-"+d.At.String(), &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnComplete: func(any, error) {},
				OnReject: func(err error) { r.add(d.StepID, "decision", nil, "refused: "+err.Error()) },
			}, workflows.Decision{ApprovalID: approvalID(d.StepID), Decision: d.Decision, By: "simulation", Edits: d.Edits})
		}, d.At.Std())
	}
	env.ExecuteWorkflow(workflows.PlaybookRunName, workflows.RunInput{
		RunID: "00000000-0000-0000-0000-000000000000", AccountID: in.Account.ID, PlaybookKey: in.Definition.Key,
		PlaybookVersion: 1, Definition: *in.Definition,
	})
	if !env.IsWorkflowCompleted() {
		return Result{}, fmt.Errorf("simulate: the run did not complete")
	}
	if err := env.GetWorkflowError(); err != nil && r.result.Status == "" {
		return Result{}, fmt.Errorf("simulate: %w", err)
	}
	r.add("", "end", nil, r.result.Outcome)
	r.result.Timeline = r.entries
	if v, err := env.QueryWorkflow(workflows.ProgressQuery); err == nil {
		var p workflows.Progress
		if err := v.Get(&p); err == nil {
			r.result.Steps = p.Done
		}
	}
	return r.result, nil
}

// approvalID is the simulated approval of a step; repeated steps would share
// it, which a simulation can live with.
func approvalID(stepID string) string { return "sim-" + strings.SplitN(stepID, "#", 2)[0] }

func (r *recorder) add(step, action string, to []string, detail string) {
	r.addDeadline(step, action, to, detail, time.Time{})
}

func (r *recorder) addDeadline(step, action string, to []string, detail string, deadline time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.env.Now().UTC()
	r.entries = append(r.entries, Entry{At: now, Offset: offset(now.Sub(r.in.Start)), StepID: step, Action: action, To: to,
		Detail: detail, Deadline: deadline.UTC()})
}

// offset writes a duration as days and hours ("89d4h"), the unit CS ops plan in.
func offset(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days, rest := d/playbook.Day, d%playbook.Day
	out := sign
	if days > 0 || rest == 0 {
		out += fmt.Sprintf("%dd", days)
	}
	if h := rest / time.Hour; h > 0 {
		out += fmt.Sprintf("%dh", h)
	}
	if m := (rest % time.Hour) / time.Minute; m > 0 {
		out += fmt.Sprintf("%dm", m)
	}
	if s := (rest % time.Minute) / time.Second; s > 0 {
		out += fmt.Sprintf("%ds", s)
	}
	return out
}

func (r *recorder) recipients(roles []string) []string {
	var to []string
	for _, c := range r.in.Contacts {
		if slices.Contains(roles, c.Role) {
			to = append(to, c.Email)
		}
	}
	return to
}

func (r *recorder) registerActivities() {
	reg := func(name string, fn any) {
		r.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	reg(contract.BeginRun, func(context.Context, contract.BeginRunInput) (contract.AccountSnapshot, error) {
		return r.in.Account, nil
	})
	reg(contract.LoadAccount, func(context.Context, string) (contract.AccountSnapshot, error) {
		detail := "no health snapshot"
		if s := r.in.Account.HealthScore; s != nil {
			detail = fmt.Sprintf("health %.0f (%s)", *s, r.in.Account.HealthBand)
		}
		r.add("", "check_health", nil, detail)
		return r.in.Account, nil
	})
	reg(contract.SendEmail, func(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
		to := r.recipients(in.ToRoles)
		detail := in.Template + in.SendGridTemplateID
		if in.Override != nil && in.Override.Subject != "" {
			detail += " (edited: " + in.Override.Subject + ")"
		}
		if len(to) == 0 {
			detail += " — no contact with role " + strings.Join(in.ToRoles, ", ")
		}
		r.add(in.StepID, "email", to, detail)
		return contract.SendEmailResult{Sent: len(to)}, nil
	})
	reg(contract.CreateTask, func(_ context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
		r.add(in.StepID, "task", []string{r.assignee(in.Assignee)}, fmt.Sprintf("%s (%s priority)", in.Title, in.Priority))
		return contract.CreateTaskResult{TaskID: "sim", Assignee: r.assignee(in.Assignee)}, nil
	})
	reg(contract.CreateApproval, func(_ context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
		r.addDeadline(in.StepID, "approval", []string{r.assignee(in.Assignee)},
			fmt.Sprintf("%s to %s, decide by %s", in.Email.Template, strings.Join(in.Email.ToRoles, ", "), offset(in.ExpiresAt.Sub(r.in.Start))), in.ExpiresAt)
		return contract.CreateApprovalResult{ApprovalID: approvalID(in.StepID), Assignee: r.assignee(in.Assignee)}, nil
	})
	reg(contract.RecordApprovalDecision, func(_ context.Context, in contract.RecordApprovalDecisionInput) error {
		r.add(strings.TrimPrefix(in.ApprovalID, "sim-"), "decision", nil, in.Status)
		return nil
	})
	reg(contract.EscalateApproval, func(_ context.Context, in contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
		assignee := []string{"senior_csm", "vp_cs", "executive"}[in.Level-2]
		r.addDeadline(in.StepID, "escalation", []string{assignee},
			fmt.Sprintf("level %d, decide by %s", in.Level, offset(in.ExpiresAt.Sub(r.in.Start))), in.ExpiresAt)
		return contract.EscalateApprovalResult{Escalated: true, Assignee: assignee}, nil
	})
	reg(contract.UpdateAccount, func(_ context.Context, in contract.UpdateAccountInput) (contract.AccountSnapshot, error) {
		if in.LifecycleStage != "" {
			r.in.Account.LifecycleStage = in.LifecycleStage
		}
		if in.Status != "" {
			r.in.Account.Status = in.Status
		}
		r.add(in.StepID, "update_account", nil, fmt.Sprintf("lifecycle_stage=%s status=%s fields=%v", in.LifecycleStage, in.Status, in.Fields))
		return r.in.Account, nil
	})
	reg(contract.StartPlaybook, func(_ context.Context, in contract.StartPlaybookInput) (contract.StartPlaybookResult, error) {
		r.add("", "start_playbook", nil, in.PlaybookKey)
		return contract.StartPlaybookResult{RunID: "simulated"}, nil
	})
	reg(contract.Notify, func(_ context.Context, in contract.NotifyInput) error {
		r.add(in.StepID, "notify", []string{in.URL}, in.Message)
		return nil
	})
	reg(contract.RecordRunStatus, func(context.Context, contract.RecordRunStatusInput) error { return nil })
	reg(contract.RecordRunFinished, func(_ context.Context, in contract.RecordRunFinishedInput) error {
		r.result.Status, r.result.Outcome = in.Status, in.Outcome
		return nil
	})
}

func (r *recorder) assignee(level string) string {
	if level == "csm" && r.in.CSM != "" {
		return r.in.CSM
	}
	return level
}

// Sample is an input for a made-up account of the segment: one contact per
// role, a renewal date 120 days after the start and the contract starting
// on it, no health yet. The timeline picture uses it.
func Sample(def *playbook.Definition, segment string, start time.Time) Input {
	renewal := start.Add(120 * playbook.Day)
	contractStart := start
	return Input{
		Definition: def,
		Account: contract.AccountSnapshot{ID: "sample", Segment: segment, Status: "active", LifecycleStage: "onboarding",
			Timezone: "UTC", RenewalAt: &renewal, ContractStartAt: &contractStart, Fields: map[string]any{}},
		Contacts: []Contact{
			{Email: "champion@customer.example", Role: "champion"}, {Email: "sponsor@customer.example", Role: "exec_sponsor"},
			{Email: "admin@customer.example", Role: "admin"}, {Email: "user@customer.example", Role: "user"},
		},
		CSM:   "csm",
		Start: start,
	}
}
