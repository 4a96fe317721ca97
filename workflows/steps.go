package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
)

// sendWindowChange marks the interpreter change that made emails wait for
// the definition's send window; histories from before it send at once.
const sendWindowChange = "send-window"

// waitForSendWindow holds an email until the definition's send window (or
// else the organisation's) is open in the account's time zone. The opening is computed in a SideEffect:
// time zone rules can change between releases, and replays must not.
func (r *interpreter) waitForSendWindow(ctx workflow.Context, rec *StepRecord) error {
	window := r.def.SendWindow
	if window == nil {
		window = r.in.DefaultSendWindow
	}
	if window == nil || workflow.GetVersion(ctx, sendWindowChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	now := workflow.Now(ctx)
	zone := r.account.Timezone
	var open time.Time
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		return window.NextOpen(now, loc).UTC()
	}).Get(&open)
	if err != nil || !open.After(now) {
		return err
	}
	r.hold(rec, now, open, NoteSendWindow, fmt.Sprintf("held for the send window (%s, %s) until %s", window, zone, open.Format(time.RFC3339)))
	return r.waitUntil(ctx, func() time.Time { return open })
}

// hold notes why the current step waits and until when: its detail and
// until show it while it waits, the note stays with the step.
func (r *interpreter) hold(rec *StepRecord, now, until time.Time, kind, text string) {
	rec.Detail, rec.Until = text, Stamp(until)
	rec.Notes = append(rec.Notes, Note{At: *Stamp(now), Kind: kind, Text: text})
}

// escalationChange marks the interpreter change that made expired approvals
// climb the ladder; histories from before it expire at level 1.
const escalationChange = "approval-escalation-ladder"

// execStep waits for the step's time, checks its condition and performs it.
// suffix makes repeated steps unique ("#3" for the third iteration).
func (r *interpreter) execStep(ctx workflow.Context, s *playbook.Step, suffix string) error {
	id := s.ID + suffix
	rec := &StepRecord{ID: id, Kind: s.Kind(), At: Stamp(workflow.Now(ctx)), Status: StepRunning}
	r.current, r.checked, r.bound = rec, false, time.Time{}
	defer func() { r.current = nil }()
	r.resumedSince = time.Time{}
	if len(r.frames) == 1 {
		r.stepBegan = workflow.Now(ctx)
		// A moved run's resumed step began before the move: its after or
		// wait counts from then.
		if since := r.movedSince(); !since.IsZero() {
			r.stepBegan, r.resumedSince = since, since
		}
	}
	if r.movedDone(id) {
		r.record(rec, StepSkipped, fmt.Sprintf("skipped: done before the run moved to version %d", r.in.PlaybookVersion))
		return nil
	}

	switch {
	case s.At != nil:
		offset := s.At.Std()
		if err := r.waitUntil(ctx, func() time.Time { return r.anchor().Add(offset) }); err != nil {
			return err
		}
		if due := r.anchor().Add(offset); s.SkipIfLate != nil && workflow.Now(ctx).Sub(due) > s.SkipIfLate.Std() {
			rec.At = Stamp(workflow.Now(ctx))
			r.record(rec, StepSkipped, fmt.Sprintf("skipped: too late, %s after its time %s (skip_if_late: %s)",
				lateness(workflow.Now(ctx).Sub(due)), due.UTC().Format(time.RFC3339), s.SkipIfLate))
			return nil
		}
	case s.After != nil:
		due := workflow.Now(ctx).Add(s.After.Std())
		if !r.resumedSince.IsZero() {
			due = r.resumedSince.Add(s.After.Std())
		}
		if err := r.waitUntil(ctx, func() time.Time { return due }); err != nil {
			return err
		}
	}
	if err := r.whenRunning(ctx); err != nil {
		return err
	}
	rec.At, rec.Status = Stamp(workflow.Now(ctx)), StepRunning
	r.checked = true
	if facts := r.facts(); !s.When.Holds(facts) {
		r.record(rec, StepSkipped, "skipped: "+s.When.Explain(facts))
		return nil
	}
	detail, err := r.perform(ctx, s, id, suffix, rec)
	switch {
	case rec.recorded:
		// An if records itself before its branch; the branch's own steps
		// record their failures.
	case errors.Is(err, errMoved):
		// Not done here: the new version resumes at it, or after it.
	case err != nil && !temporal.IsCanceledError(err):
		r.record(rec, StepFailed, failure(err))
	case err == nil:
		r.record(rec, StepDone, detail)
	}
	return err
}

// lateness says how late a step is, in days once it is a day or more.
func lateness(d time.Duration) string {
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}

// failure is a failed step's detail: an activity's own message, without the
// SDK's wrapping ("activity error (type: ..., scheduledEventID: ...)") and
// its type, which would only bury it; a cause that says more follows it.
func failure(err error) string {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return err.Error()
	}
	msg := app.Message()
	if cause := errors.Unwrap(app); cause != nil && !strings.Contains(msg, cause.Error()) {
		msg += ": " + cause.Error()
	}
	return msg
}

func (r *interpreter) record(rec *StepRecord, status, detail string) {
	rec.Status, rec.Detail, rec.Until, rec.recorded = status, detail, nil, true
	r.done = append(r.done, *rec)
}

func (r *interpreter) perform(ctx workflow.Context, s *playbook.Step, id, suffix string, rec *StepRecord) (string, error) {
	switch s.Kind() {
	case playbook.KindEmail:
		if err := r.waitForSendWindow(ctx, rec); err != nil {
			return "", err
		}
		in := r.emailInput(id, s.Email, nil)
		in.Automated = true
		return r.sendEmail(ctx, in, rec)
	case playbook.KindSurvey:
		// A survey is an automated email (window, cap, holds) whose
		// template gets the survey's links; no history from before survey
		// steps has one, so their commands are unchanged.
		if err := r.waitForSendWindow(ctx, rec); err != nil {
			return "", err
		}
		sv := s.Survey
		in := r.emailInput(id, &playbook.EmailAction{Template: sv.TemplateName(), To: sv.To}, nil)
		in.Automated, in.Survey = true, sv.Kind
		detail, err := r.sendEmail(ctx, in, rec)
		if err != nil {
			return "", err
		}
		return surveyName(sv.Kind) + " survey (" + in.Template + "): " + detail, nil
	case playbook.KindTask:
		return r.createTask(ctx, id, s.Task, rec)
	case playbook.KindApproval:
		return r.approval(ctx, id, s.Approval, rec)
	case playbook.KindWait:
		due := workflow.Now(ctx).Add(s.Wait.Std())
		if !r.resumedSince.IsZero() && s.At == nil && s.After == nil {
			due = r.resumedSince.Add(s.Wait.Std()) // a moved run's wait counts from when it began
		}
		return "waited " + s.Wait.String(), r.waitUntil(ctx, func() time.Time { return due })
	case playbook.KindWaitFor:
		return r.waitFor(ctx, s, suffix, rec)
	case playbook.KindCheckHealth:
		var snap accounts.Snapshot
		if err := workflow.ExecuteActivity(ctx, contract.LoadAccount, r.in.AccountID).Get(ctx, &snap); err != nil {
			return "", err
		}
		r.setAccount(snap)
		if snap.HealthScore == nil {
			return "no health snapshot yet", nil
		}
		return fmt.Sprintf("health %.0f (%s)", *snap.HealthScore, snap.HealthBand), nil
	case playbook.KindIf:
		facts := r.facts()
		branch, name := s.Then, "then"
		if !s.If.Holds(facts) {
			branch, name = s.Else, "else"
		}
		// Recorded before the branch runs, so done lists steps in the order
		// they began.
		r.record(rec, StepDone, "took "+name+": "+s.If.Explain(facts))
		r.current = nil
		return "", r.execSteps(ctx, branch, suffix)
	case playbook.KindRepeat:
		return r.repeat(ctx, s.Repeat, suffix)
	case playbook.KindStartPlaybook:
		var res contract.StartPlaybookResult
		err := workflow.ExecuteActivity(ctx, contract.StartPlaybook, contract.StartPlaybookInput{
			ParentRunID: r.in.RunID, AccountID: r.in.AccountID, PlaybookKey: s.StartPlaybook.Key,
		}).Get(ctx, &res)
		if res.AlreadyLive {
			return fmt.Sprintf("%s already live (run %s)", s.StartPlaybook.Key, res.RunID), err
		}
		if err == nil && res.RunID == "" { // runs.StartForAccount: the playbook is retired
			return fmt.Sprintf("%s is retired: the account was not enrolled", s.StartPlaybook.Key), nil
		}
		return fmt.Sprintf("started %s (run %s)", s.StartPlaybook.Key, res.RunID), err
	case playbook.KindUpdateAccount:
		u := s.UpdateAccount
		var snap accounts.Snapshot
		err := workflow.ExecuteActivity(ctx, contract.UpdateAccount, contract.UpdateAccountInput{
			RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID,
			LifecycleStage: u.LifecycleStage, Status: u.Status, Fields: u.Fields,
		}).Get(ctx, &snap)
		if err != nil {
			return "", err
		}
		r.setAccount(snap)
		return "account updated", nil
	case playbook.KindNotify:
		err := workflow.ExecuteActivity(ctx, contract.Notify, contract.NotifyInput{
			RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID, URL: s.Notify.URL, Secret: s.Notify.Secret, Message: s.Notify.Message,
		}).Get(ctx, nil)
		return "notified", err
	}
	return "", temporal.NewNonRetryableApplicationError("step "+id+" has no action", contract.ErrInvalidInput, nil)
}

// surveyName is a survey kind as people write it: NPS, CSAT.
func surveyName(kind string) string { return strings.ToUpper(kind) }

func (r *interpreter) execSteps(ctx workflow.Context, steps []playbook.Step, suffix string) error {
	f := r.enter(steps, suffix)
	defer r.leave()
	for i := range steps {
		f.i = i
		if err := r.execStep(ctx, &steps[i], suffix); err != nil {
			return err
		}
		if r.exitOutcome != "" {
			return nil
		}
	}
	return nil
}

func (r *interpreter) emailInput(id string, e *playbook.EmailAction, override *message.Content) contract.SendEmailInput {
	in := contract.SendEmailInput{RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID,
		Template: e.Template, SendGridTemplateID: e.SendGridTemplateID, ToRoles: e.To, Override: override}
	if t, ok := r.templates[e.Template]; ok {
		in.OwnTemplate = &contract.TemplateSource{Name: t.Name, Subject: t.Subject, HTML: t.HTML, Text: t.Text}
	}
	return in
}

// localDecisionChange marks the interpreter change that records a decision
// in a local activity: the update then completes within one workflow task
// instead of waiting for an activity task and a second workflow task (the
// decision's answer went from ~75 ms to a few ms on the bench machine).
const localDecisionChange = "decision-local-activity"

// localActivityOptions suit a single short database write.
var localActivityOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 5 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second,
		NonRetryableErrorTypes: contract.NonRetryable,
	},
}

// emailQueueChange marks the interpreter change that moved emails to their
// own task queue; runs from before it send on the run's queue.
const emailQueueChange = "email-task-queue"

// emailContext schedules on the email task queue.
func emailContext(ctx workflow.Context) workflow.Context {
	if workflow.GetVersion(ctx, emailQueueChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ctx
	}
	opts := activityOptions
	opts.TaskQueue = EmailTaskQueue(workflow.GetInfo(ctx).TaskQueueName)
	return workflow.WithActivityOptions(ctx, opts)
}

// sendEmail sends, and while the frequency cap defers some recipients, waits
// (and for the send window) and asks again.
func (r *interpreter) sendEmail(ctx workflow.Context, in contract.SendEmailInput, rec *StepRecord) (string, error) {
	var res contract.SendEmailResult
	for {
		if err := workflow.ExecuteActivity(emailContext(ctx), contract.SendEmail, in).Get(ctx, &res); err != nil {
			return "", err
		}
		if res.DeferUntil == nil {
			break
		}
		until := *res.DeferUntil
		why := "held by the frequency cap"
		if res.DeferReason != "" {
			why = res.DeferReason
		}
		r.hold(rec, workflow.Now(ctx), until, NoteCap, why+" until "+until.UTC().Format(time.RFC3339))
		if err := r.waitUntil(ctx, func() time.Time { return until }); err != nil {
			return "", err
		}
		if err := r.waitForSendWindow(ctx, rec); err != nil {
			return "", err
		}
	}
	if res.Sent+res.Skipped+res.Failed+res.Unapproved == 0 {
		return "no contact with role " + strings.Join(in.ToRoles, ", "), nil
	}
	detail := fmt.Sprintf("%d sent, %d skipped, %d failed", res.Sent, res.Skipped, res.Failed)
	if res.Unapproved > 0 {
		detail += fmt.Sprintf("; %d not sent: not in the approved draft (given the role after it was made)", res.Unapproved)
	}
	return detail, nil
}

func (r *interpreter) createTask(ctx workflow.Context, id string, t *playbook.TaskAction, rec *StepRecord) (string, error) {
	in := contract.CreateTaskInput{RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID, Title: t.Title,
		Description: t.Description, Assignee: t.Assignee, Priority: t.Priority}
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if t.Due != nil {
		due := workflow.Now(ctx).Add(t.Due.Std()).UTC()
		in.DueAt = &due
	}
	var res contract.CreateTaskResult
	if err := workflow.ExecuteActivity(ctx, contract.CreateTask, in).Get(ctx, &res); err != nil {
		return "", err
	}
	rec.Task = &TaskRef{ID: res.TaskID, Assignee: res.Assignee}
	return "task " + res.TaskID + " for " + res.Assignee, nil
}

func (r *interpreter) waitFor(ctx workflow.Context, s *playbook.Step, suffix string, rec *StepRecord) (string, error) {
	name := s.WaitFor.Event
	rec.Status, rec.Detail, rec.Event = StepAwaiting, "awaiting the "+name+" event, without a deadline", name
	got := func() bool { return r.received(name) }
	if s.WaitFor.Within == nil {
		if err := workflow.Await(ctx, got); err != nil {
			return "", err
		}
		return name + " received", nil
	}
	now := workflow.Now(ctx)
	deadline := now.Add(s.WaitFor.Within.Std())
	r.bound = deadline
	rec.Detail, rec.Until = fmt.Sprintf("awaiting the %s event until %s", name, deadline.UTC().Format(time.RFC3339)), Stamp(deadline)
	ok, err := workflow.AwaitWithTimeout(ctx, s.WaitFor.Within.Std(), got)
	if err != nil {
		return "", err
	}
	if ok {
		return name + " received", nil
	}
	text := fmt.Sprintf("no %s event within %s", name, s.WaitFor.Within)
	if len(s.OnTimeout) > 0 {
		text += "; on_timeout runs"
	}
	rec.Notes = append(rec.Notes, Note{At: *Stamp(workflow.Now(ctx)), Kind: NoteTimeout, Text: text})
	// Recorded before on_timeout runs, so done lists steps in the order they
	// began.
	r.record(rec, StepDone, fmt.Sprintf("no %s within %s", name, s.WaitFor.Within))
	r.current = nil
	return "", r.execSteps(ctx, s.OnTimeout, suffix)
}

func (r *interpreter) repeat(ctx workflow.Context, rep *playbook.Repeat, suffix string) (string, error) {
	start := workflow.Now(ctx)
	every := rep.Every.Std()
	marker := &frame{repeat: rep, start: start, suffix: suffix}
	r.frames = append(r.frames, marker)
	defer r.leave()
	n := 0
	for i := 0; ; i++ {
		marker.i = i
		offset := time.Duration(i) * every
		if rep.Times > 0 && i >= rep.Times {
			break
		}
		if rep.Until != nil && offset >= rep.Until.Std() {
			break
		}
		due := start.Add(offset)
		r.current = nil
		if err := r.waitUntil(ctx, func() time.Time { return due }); err != nil {
			return "", err
		}
		if err := r.execSteps(ctx, rep.Steps, fmt.Sprintf("%s#%d", suffix, i+1)); err != nil {
			return "", err
		}
		n++
		if r.exitOutcome != "" {
			break
		}
	}
	return fmt.Sprintf("%d iterations", n), nil
}

// approvedContentChange marks the interpreter change that sends an approved
// email as the content stored on the approval for each recipient, instead
// of rendering it again with the edits. It is taken before the draft is
// made, so a run whose draft predates it keeps re-rendering.
const approvedContentChange = "approved-content"

// registerFirstChange marks the interpreter change that derives the
// approval's id and registers it before the approval is created, so a
// decision is accepted from the moment the approval can be listed (before,
// one in that window was refused as "not pending"), and applies a decision
// that wins the race against the run's own escalation or expiry.
const registerFirstChange = "approval-registered-first"

// approval drafts the email, waits for a decision until the deadline, and
// sends the (possibly edited) email when approved.
func (r *interpreter) approval(ctx workflow.Context, id string, a *playbook.ApprovalAction, rec *StepRecord) (string, error) {
	fromApproval := workflow.GetVersion(ctx, approvedContentChange, workflow.DefaultVersion, 1) == 1
	registerFirst := workflow.GetVersion(ctx, registerFirstChange, workflow.DefaultVersion, 1) == 1
	sla := r.ladder()
	expires, longest := r.approvalDeadlines(a)
	in := contract.CreateApprovalInput{
		RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID, Assignee: a.Assignee,
		Email: r.emailInput(id, a.Email, nil), ExpiresAt: workflow.Now(ctx).Add(expires).UTC(),
	}
	var pending *pendingApproval
	if registerFirst {
		in.ApprovalID = ApprovalID(r.in.RunID, id)
		pending = &pendingApproval{stepID: id, creating: true, first: true}
		r.approvals[in.ApprovalID] = pending
		defer delete(r.approvals, in.ApprovalID)
	}
	var created contract.CreateApprovalResult
	err := workflow.ExecuteActivity(ctx, contract.CreateApproval, in).Get(ctx, &created)
	if pending != nil {
		pending.creating, pending.failed = false, err != nil
	}
	if err != nil {
		return "", err
	}
	if pending == nil || created.ApprovalID != in.ApprovalID {
		// Registered now (histories from before), or under the id the
		// activity answered if it chose another (the simulator's own ids).
		if pending == nil {
			pending = &pendingApproval{stepID: id}
		}
		delete(r.approvals, in.ApprovalID)
		r.approvals[created.ApprovalID] = pending
		defer delete(r.approvals, created.ApprovalID)
	}
	rec.Approval = &ApprovalRef{ID: created.ApprovalID, Assignee: created.Assignee}
	r.awaitDecision(rec, workflow.Now(ctx).Add(expires), created.Assignee)
	r.bound = workflow.Now(ctx).Add(longest)

	decided := func() bool { return pending.decision != nil }
	// closedByDecision: an escalation or expiry found the approval decided
	// by a decision still being recorded here; the decision stands.
	closedByDecision := func(err error) bool {
		var appErr *temporal.ApplicationError
		if !registerFirst || !errors.As(err, &appErr) || appErr.Type() != contract.ErrApprovalNotPending {
			return false
		}
		_ = workflow.Await(ctx, func() bool { return !pending.deciding })
		return decided()
	}
	for level := 1; ; level++ {
		ok, err := workflow.AwaitWithTimeout(ctx, expires, decided)
		if err != nil {
			return "", err
		}
		if ok {
			break
		}
		climb := workflow.GetVersion(ctx, escalationChange, workflow.DefaultVersion, 1) == 1 &&
			(a.OnExpire == "" || a.OnExpire == "escalate") && level < len(sla)
		if climb {
			expires = sla[level]
			var esc contract.EscalateApprovalResult
			err := workflow.ExecuteActivity(ctx, contract.EscalateApproval, contract.EscalateApprovalInput{
				RunID: r.in.RunID, StepID: id, AccountID: r.in.AccountID, ApprovalID: created.ApprovalID,
				Level: level + 1, ExpiresAt: workflow.Now(ctx).Add(expires).UTC(),
			}).Get(ctx, &esc)
			if closedByDecision(err) {
				break
			}
			if err != nil {
				return "", err
			}
			if esc.Escalated {
				deadline := workflow.Now(ctx).Add(expires)
				rec.Notes = append(rec.Notes, Note{At: *Stamp(workflow.Now(ctx)), Kind: NoteEscalation,
					Text: fmt.Sprintf("not decided in time: escalated to level %d, %s, decide by %s", level+1, esc.Assignee, deadline.UTC().Format(time.RFC3339))})
				r.awaitDecision(rec, deadline, esc.Assignee)
				continue
			}
		}
		pending.expiring = true
		err = workflow.ExecuteActivity(ctx, contract.RecordApprovalDecision, contract.RecordApprovalDecisionInput{
			ApprovalID: created.ApprovalID, Status: states.ApprovalExpired,
		}).Get(ctx, nil)
		if closedByDecision(err) {
			break
		}
		if err != nil {
			return "", err
		}
		// After the ladder (or without it), on_expire: escalate falls back to skip.
		if a.OnExpire == "end_run" {
			r.endRun("expired:" + id)
		}
		return fmt.Sprintf("approval %s expired at level %d", created.ApprovalID, level), nil
	}
	d := pending.decision
	rec.Status, rec.Until = StepRunning, nil
	if d.Decision == "reject" {
		if a.OnReject == "end_run" {
			r.endRun("rejected:" + id)
		}
		return fmt.Sprintf("rejected by %s", d.By), nil
	}
	if err := r.waitForSendWindow(ctx, rec); err != nil {
		return "", err
	}
	send := r.emailInput(id, a.Email, d.Edits)
	if fromApproval {
		send.Override, send.ApprovalID = nil, created.ApprovalID
	}
	detail, err := r.sendEmail(ctx, send, rec)
	return fmt.Sprintf("approved by %s; %s", d.By, detail), err
}

// awaitDecision shows who must decide the current approval and by when.
func (r *interpreter) awaitDecision(rec *StepRecord, deadline time.Time, assignee string) {
	rec.Status, rec.Until = StepAwaiting, Stamp(deadline)
	rec.Approval.Assignee = assignee
	rec.Detail = fmt.Sprintf("awaiting the decision of %s on approval %s by %s", assignee, rec.Approval.ID, deadline.UTC().Format(time.RFC3339))
}

// ladder is the deadlines of the escalation levels for the account.
func (r *interpreter) ladder() [4]time.Duration {
	sla, ok := r.in.EscalationSLA[r.account.Segment]
	if !ok {
		defaults := accounts.DefaultEscalationSLA()
		if sla, ok = defaults[r.account.Segment]; !ok {
			sla = defaults["mid_market"]
		}
	}
	return sla
}

// approvalDeadlines is how long the first assignee has to decide, and the
// longest the approval can stay undecided (up the ladder when it escalates).
func (r *interpreter) approvalDeadlines(a *playbook.ApprovalAction) (expires, longest time.Duration) {
	sla := r.ladder()
	expires = sla[0]
	if a.ExpiresIn != nil {
		expires = a.ExpiresIn.Std()
	}
	longest = expires
	if a.OnExpire == "" || a.OnExpire == "escalate" {
		for _, d := range sla[1:] {
			longest += d
		}
	}
	return expires, longest
}

// validateDecision refuses, before anything is written to history, a decision
// on an approval that is not pending in this run.
func (r *interpreter) validateDecision(d Decision) error {
	p, ok := r.approvals[d.ApprovalID]
	switch {
	case !ok || p.decision != nil || p.failed:
		return fmt.Errorf("approval %s is not pending in this run", d.ApprovalID)
	case p.deciding:
		return fmt.Errorf("approval %s is being decided by another decision", d.ApprovalID)
	case p.expiring:
		return fmt.Errorf("approval %s was not decided in time: it has expired", d.ApprovalID)
	}
	if d.Decision != "approve" && d.Decision != "reject" {
		return fmt.Errorf("decision must be approve or reject, not %q", d.Decision)
	}
	return nil
}

func (r *interpreter) decide(ctx workflow.Context, d Decision) (DecisionResult, error) {
	status := map[string]states.Approval{"approve": states.ApprovalApproved, "reject": states.ApprovalRejected}[d.Decision]
	p := r.approvals[d.ApprovalID] // the validator saw it
	if p != nil && p.first {
		// Taken at once, so the validator refuses a second decision while
		// this one waits for the approval to exist or is being recorded.
		p.deciding = true
		defer func() { p.deciding = false }()
		if p.creating {
			if err := workflow.Await(ctx, func() bool { return !p.creating }); err != nil {
				return DecisionResult{}, err
			}
		}
		if p.failed {
			return DecisionResult{}, temporal.NewApplicationError(
				fmt.Sprintf("approval %s could not be created", d.ApprovalID), contract.ErrApprovalNotPending)
		}
	}
	in := contract.RecordApprovalDecisionInput{
		ApprovalID: d.ApprovalID, Status: status, DecidedBy: d.By, Comment: d.Comment, Edits: d.Edits,
	}
	var err error
	if workflow.GetVersion(ctx, localDecisionChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activityOptions), contract.RecordApprovalDecision, in).Get(ctx, nil)
	} else {
		err = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localActivityOptions), contract.RecordApprovalDecision, in).Get(ctx, nil)
	}
	if err != nil {
		return DecisionResult{}, err
	}
	// The validator ran before the activity; another decision may have been
	// accepted while it ran (histories from before deciding was tracked).
	if p != nil && p.decision == nil {
		p.decision = &d
	}
	return DecisionResult{ApprovalID: d.ApprovalID, Status: status}, nil
}
