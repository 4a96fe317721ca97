// Package runs starts playbook runs and talks to them. The API and
// start_playbook steps (and, later, automatic triggers) share it, so "one live
// run per account and playbook" is enforced the same way whatever starts a run.
package runs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/states"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/workflows"
)

// Sentinel errors.
var (
	ErrUnknownPlaybook = errors.New("unknown playbook")
	ErrUnknownVersion  = errors.New("unknown playbook version")
	ErrDraftVersion    = errors.New("this version is a draft; publish it first")
	ErrUnknownAccount  = errors.New("unknown account")
	ErrInactiveAccount = errors.New("account is churned")
	ErrNotEligible     = errors.New("the account's segment is not among the playbook's segments")
	ErrMissingAnchor   = errors.New("the account lacks the date the playbook counts from")
	ErrNotLive         = errors.New("the run has ended")
	// ErrRetired: the playbook takes no new enrolments (its live runs go
	// on); the error names the playbook.
	ErrRetired = errors.New("it takes no new enrolments")
	// ErrOverLimits: the version was stored before the definition limits
	// existed and is over them; its workflow input could exceed what
	// Temporal accepts.
	ErrOverLimits = errors.New("the playbook version is over the definition limits; publish a version within them")
)

// Refusal names the part of a start's input (playbook, version or
// account_id) that an error of Start refuses, and says why in words for a
// person; ok is false for any other error (a live run is a *LiveRunError).
func Refusal(err error) (field, message string, ok bool) {
	switch {
	case errors.Is(err, ErrUnknownPlaybook):
		return "playbook", "no playbook with this key", true
	case errors.Is(err, ErrUnknownVersion):
		return "version", "this playbook has no such published version", true
	case errors.Is(err, ErrUnknownAccount):
		return "account_id", "no account with this id", true
	case errors.Is(err, ErrInactiveAccount):
		return "account_id", "the account is churned; playbooks run for active accounts only", true
	case errors.Is(err, ErrDraftVersion):
		return "version", "this version is a draft; publish it first", true
	case errors.Is(err, ErrNotEligible):
		return "account_id", "the account's segment is not among the playbook's segments", true
	case errors.Is(err, ErrMissingAnchor):
		return "account_id", err.Error(), true
	case errors.Is(err, ErrOverLimits):
		return "playbook", strings.ReplaceAll(err.Error(), "\n", "; "), true
	case errors.Is(err, ErrRetired):
		return "playbook", err.Error() + "; un-retire it to start runs again", true
	}
	return "", "", false
}

// LiveRunError says which run already holds the account in the playbook.
type LiveRunError struct {
	RunID      *uuid.UUID
	WorkflowID string
}

func (e *LiveRunError) Error() string { return store.ErrLiveRun.Error() }

// Is makes errors.Is(err, store.ErrLiveRun) hold.
func (e *LiveRunError) Is(target error) bool { return target == store.ErrLiveRun }

// Temporal is the part of the Temporal client runs need.
type Temporal interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	QueryWorkflow(ctx context.Context, workflowID, runID, queryType string, args ...any) (converter.EncodedValue, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	CancelWorkflow(ctx context.Context, workflowID, runID string) error
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Store is the part of the store runs need.
type Store interface {
	GetAccount(ctx context.Context, id string) (store.Account, error)
	AccountSnapshot(ctx context.Context, id string) (accounts.Snapshot, error)
	RecordRunStarted(ctx context.Context, in store.NewRun) (store.Run, error)
	GetRun(ctx context.Context, id uuid.UUID) (store.Run, error)
	LiveRun(ctx context.Context, accountID, playbookKey string) (store.Run, error)
	LiveRuns(ctx context.Context, accountID string) ([]store.Run, error)
	RunEvents(ctx context.Context, runID uuid.UUID) ([]store.Event, error)
	GetPlaybookVersion(ctx context.Context, key string, version int) (store.PlaybookVersion, error)
	RunnableVersion(ctx context.Context, key string, version int) (store.Runnable, error)
	RecordAccountEvent(ctx context.Context, accountID, name string, data map[string]any, firings []store.NewFiring) error
	ListTasks(ctx context.Context, f store.TaskFilter) ([]store.Task, error)
	GetApproval(ctx context.Context, id uuid.UUID) (store.Approval, error)
}

// Service starts and describes runs.
type Service struct {
	Temporal      Temporal
	Store         Store
	TaskQueue     string
	Namespace     string
	TemporalUIURL string
	// EscalationSLA, when set, replaces the ladder's default deadlines for
	// runs started from now on.
	EscalationSLA map[string][4]time.Duration
	// SendWindow is the organisation's default send window for runs started
	// from now on whose definition sets none; nil: none.
	SendWindow *playbook.SendWindow

	// definitions caches decoded definitions by "key@version": a version
	// that is not a draft never changes (a database trigger refuses it).
	definitions sync.Map
	// stepNames caches the step names of a version by "key@version".
	stepNames sync.Map
}

// StartInput names a playbook and an account; Version 0 means the published one.
type StartInput struct {
	PlaybookKey string
	Version     int
	AccountID   string
}

// Start enrols an account in a playbook. It returns a *LiveRunError when the
// pair already has a live run.
func (s *Service) Start(ctx context.Context, in StartInput) (store.Run, error) {
	// The definition and the account are independent reads: done at once,
	// they cost an enrolment one database round trip instead of two.
	var (
		snap    accounts.Snapshot
		snapErr error
		read    = make(chan struct{})
	)
	go func() {
		defer close(read)
		snap, snapErr = s.Store.AccountSnapshot(ctx, in.AccountID)
	}()
	def, version, err := s.definition(ctx, in.PlaybookKey, in.Version)
	<-read
	if err != nil {
		return store.Run{}, err
	}
	if errors.Is(snapErr, store.ErrNotFound) {
		return store.Run{}, ErrUnknownAccount
	}
	if snapErr != nil {
		return store.Run{}, snapErr
	}
	if err := eligible(def, snap); err != nil {
		return store.Run{}, err
	}

	runID := uuid.New()
	workflowID := workflows.RunWorkflowID(in.PlaybookKey, in.AccountID)
	started, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        workflowID,
		TaskQueue: s.TaskQueue,
		// Temporal refuses a second live workflow with the same ID; a finished
		// one may be followed by a new run.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.PlaybookRunName, workflows.RunInput{
		RunID: runID.String(), AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: version,
		Definition: *def, EscalationSLA: s.EscalationSLA, DefaultSendWindow: s.SendWindow,
	})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return store.Run{}, s.liveRunError(ctx, in, workflowID)
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("start workflow: %w", err)
	}
	// The workflow records the run too; recording it here as well makes the
	// 201 answer and an immediate GET agree.
	run, err := s.Store.RecordRunStarted(ctx, store.NewRun{
		ID: runID, AccountID: in.AccountID, PlaybookKey: in.PlaybookKey, PlaybookVersion: version,
		WorkflowID: workflowID, TemporalRunID: started.GetRunID(), StartedAt: time.Now(),
	})
	if errors.Is(err, store.ErrLiveRun) {
		return store.Run{}, s.liveRunError(ctx, in, workflowID)
	}
	return run, err
}

// StartForAccount is Start for a start_playbook step: a live run is not an
// error but the answer.
func (s *Service) StartForAccount(ctx context.Context, playbookKey, accountID string) (string, bool, error) {
	run, err := s.Start(ctx, StartInput{PlaybookKey: playbookKey, AccountID: accountID})
	var live *LiveRunError
	switch {
	case errors.As(err, &live):
		id := ""
		if live.RunID != nil {
			id = live.RunID.String()
		}
		return id, true, nil
	case errors.Is(err, ErrUnknownPlaybook):
		return "", false, fmt.Errorf("%w: %s", contract.ErrNoSuchPlaybook, playbookKey)
	case errors.Is(err, ErrOverLimits):
		return "", false, fmt.Errorf("%w: %w", contract.ErrPlaybookOverLimits, err)
	case errors.Is(err, ErrRetired):
		// Not this run's failure: the step goes on without enrolling
		// (no run id), as the retired playbook's own live runs go on.
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	return run.ID.String(), false, nil
}

// definition loads a runnable version: the published one, or an explicit
// published or archived version.
func (s *Service) definition(ctx context.Context, key string, version int) (*playbook.Definition, int, error) {
	runnable, err := s.Store.RunnableVersion(ctx, key, version)
	number, status := runnable.Version, runnable.Status
	if errors.Is(err, store.ErrNotFound) {
		if version == 0 {
			return nil, 0, ErrUnknownPlaybook
		}
		return nil, 0, ErrUnknownVersion
	}
	if err != nil {
		return nil, 0, err
	}
	if runnable.Retired { // whichever version is asked for
		return nil, 0, fmt.Errorf("playbook %s is retired: %w", key, ErrRetired)
	}
	if status == states.VersionDraft {
		if version == 0 {
			return nil, 0, ErrUnknownPlaybook // nothing published yet
		}
		return nil, 0, ErrDraftVersion
	}
	cacheKey := fmt.Sprintf("%s@%d", key, number)
	if def, ok := s.definitions.Load(cacheKey); ok {
		return def.(*playbook.Definition), number, nil
	}
	v, err := s.Store.GetPlaybookVersion(ctx, key, number)
	if err != nil {
		return nil, 0, err
	}
	def, err := catalog.Decode(key, v.Version, v.Definition)
	if err != nil {
		return nil, 0, err
	}
	if err := def.CheckLimits(); err != nil {
		return nil, 0, fmt.Errorf("%w: %s v%d: %w", ErrOverLimits, key, v.Version, err)
	}
	s.definitions.Store(cacheKey, def)
	return def, v.Version, nil
}

func eligible(def *playbook.Definition, snap accounts.Snapshot) error {
	if snap.Status != "active" {
		return ErrInactiveAccount
	}
	if len(def.Segments) > 0 && !slices.Contains(def.Segments, snap.Segment) {
		return ErrNotEligible
	}
	if (def.Anchor == playbook.AnchorRenewalDate && snap.RenewalAt == nil) ||
		(def.Anchor == playbook.AnchorContractStart && snap.ContractStartAt == nil) {
		return fmt.Errorf("%w (%s)", ErrMissingAnchor, def.Anchor)
	}
	return nil
}

func (s *Service) liveRunError(ctx context.Context, in StartInput, workflowID string) error {
	live := &LiveRunError{WorkflowID: workflowID}
	if run, err := s.Store.LiveRun(ctx, in.AccountID, in.PlaybookKey); err == nil {
		live.RunID = &run.ID
	}
	return live
}

// The run view's parts, as the workflow reports them: callers read them
// here, so only runs talks to workflow code.
type (
	Progress   = workflows.Progress
	StepRecord = workflows.StepRecord
)

// View is a run with its progress.
type View struct {
	store.Run
	TemporalUI    string              `json:"temporal_ui"`
	Progress      *workflows.Progress `json:"steps,omitempty"`
	ProgressError string              `json:"steps_error,omitempty"`
	Events        []store.Event       `json:"events"`
}

// Get returns a run, its steps as the workflow reports them and its audit
// events. Steps come from a workflow query; when it cannot be answered (no
// worker, history past retention) the view says so instead of failing.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (View, error) {
	run, err := s.Store.GetRun(ctx, id)
	if err != nil {
		return View{}, err
	}
	v := View{Run: run, TemporalUI: s.uiLink(run.WorkflowID, run.TemporalRunID)}
	if v.Events, err = s.Store.RunEvents(ctx, id); err != nil {
		return View{}, err
	}
	// An empty run ID follows continue-as-new to the run's current history;
	// the workflow ID alone would reach a newer run of the same pair.
	queryRunID := ""
	if run.Status != states.RunRunning && run.Status != states.RunPaused {
		queryRunID = run.TemporalRunID
	}
	encoded, err := s.Temporal.QueryWorkflow(ctx, run.WorkflowID, queryRunID, workflows.ProgressQuery)
	if err == nil {
		var p workflows.Progress
		if err = encoded.Get(&p); err == nil {
			v.Progress = &p
		}
	}
	if err != nil {
		v.ProgressError = err.Error()
		return v, nil
	}
	if err := s.joinTasks(ctx, run.ID, v.Progress); err != nil {
		return View{}, err
	}
	if err := s.joinNames(ctx, run, v.Progress); err != nil {
		return View{}, err
	}
	return v, s.joinApprovals(ctx, v.Progress)
}

// joinNames gives each step its name from the run's version of the
// definition (versions a run started from never change, so the names are
// kept once read).
func (s *Service) joinNames(ctx context.Context, run store.Run, p *workflows.Progress) error {
	cacheKey := fmt.Sprintf("%s@%d", run.PlaybookKey, run.PlaybookVersion)
	cached, ok := s.stepNames.Load(cacheKey)
	if !ok {
		v, err := s.Store.GetPlaybookVersion(ctx, run.PlaybookKey, run.PlaybookVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil // ids it is
		}
		if err != nil {
			return err
		}
		def, err := catalog.Decode(run.PlaybookKey, v.Version, v.Definition)
		if err != nil {
			return err
		}
		cached, _ = s.stepNames.LoadOrStore(cacheKey, def.StepNames())
	}
	names := cached.(map[string]string)
	name := func(r *workflows.StepRecord) {
		if title := playbook.StepTitle(names, r.ID); title != r.ID {
			r.Name = title
		}
	}
	for i := range p.Done {
		name(&p.Done[i])
	}
	if p.Current != nil {
		name(p.Current)
	}
	for i := range p.Upcoming {
		name(&p.Upcoming[i])
	}
	return nil
}

// steps are the records of a view that may refer to a task or an approval.
func steps(p *workflows.Progress) []*workflows.StepRecord {
	out := make([]*workflows.StepRecord, 0, len(p.Done)+1)
	for i := range p.Done {
		out = append(out, &p.Done[i])
	}
	if p.Current != nil {
		out = append(out, p.Current)
	}
	return out
}

// joinTasks adds each task step's task as PostgreSQL has it: open,
// completed or cancelled, with its outcome. The workflow knows only that it
// created the task.
func (s *Service) joinTasks(ctx context.Context, runID uuid.UUID, p *workflows.Progress) error {
	refs := map[string]*workflows.TaskRef{}
	for _, rec := range steps(p) {
		if rec.Task != nil {
			refs[rec.Task.ID] = rec.Task
		}
	}
	const page = 500
	filter := store.TaskFilter{RunID: &runID, Limit: page}
	for len(refs) > 0 {
		tasks, err := s.Store.ListTasks(ctx, filter)
		if err != nil {
			return err
		}
		for _, t := range tasks {
			if ref, ok := refs[t.ID.String()]; ok {
				ref.Status, ref.Outcome, ref.Note, ref.ClosedAt = t.Status, t.Outcome, t.Note, workflows.Stamp(ptrTime(t.ClosedAt))
				delete(refs, t.ID.String())
			}
		}
		if len(tasks) < page {
			break
		}
		last := tasks[len(tasks)-1]
		filter.After = &store.Keyset{At: last.CreatedAt, ID: last.ID}
	}
	return nil
}

// maxJoinedApprovals bounds the approvals a view reads one by one (a repeat
// may ask for many); the latest are the ones shown with their decision.
const maxJoinedApprovals = 20

// joinApprovals adds each approval step's decision: who decided, the
// comment and the edits.
func (s *Service) joinApprovals(ctx context.Context, p *workflows.Progress) error {
	recs := steps(p)
	joined := 0
	for i := len(recs) - 1; i >= 0 && joined < maxJoinedApprovals; i-- {
		ref := recs[i].Approval
		if ref == nil {
			continue
		}
		id, err := uuid.Parse(ref.ID)
		if err != nil {
			continue // not an approval of this service (a simulation's)
		}
		a, err := s.Store.GetApproval(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		joined++
		ref.Assignee, ref.Status, ref.Level, ref.Comment = a.AssigneeEmail, a.Status, a.Level, a.Comment
		ref.DecidedAt = workflows.Stamp(ptrTime(a.DecidedAt))
		if a.DecidedBy != nil {
			ref.DecidedBy = *a.DecidedBy
		}
		if len(a.Edits) > 0 && string(a.Edits) != "null" {
			ref.Edits = a.Edits
		}
	}
	return nil
}

func ptrTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (s *Service) uiLink(workflowID, runID string) string {
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.TemporalUIURL,
		url.PathEscape(s.Namespace), url.PathEscape(workflowID), url.PathEscape(runID))
}
