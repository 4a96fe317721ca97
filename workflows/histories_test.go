package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/internal/historystats"
	"github.com/playbookd/playbookd/internal/temporaltest"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/workflows"
)

const historiesDir = "testdata/histories"

var quietLogger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// TestReplayCommittedHistories replays histories recorded from real runs of
// every built-in playbook. A change to the interpreter that would break live
// runs (a non-determinism error) fails here; such changes must go behind
// workflow.GetVersion.
func TestReplayCommittedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5, "one history per built-in playbook is committed")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
			require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(quietLogger, f))
		})
	}
}

// compress turns every day of a definition into a second, so a real run of a
// 90-day playbook takes a minute and a half.
func compress(def playbook.Definition) playbook.Definition {
	scale := func(d *playbook.Duration) *playbook.Duration {
		if d == nil {
			return nil
		}
		// Whole seconds, at least one: the language has no smaller unit.
		v := playbook.Duration((time.Duration(*d) / 86400).Round(time.Second))
		if v == 0 && *d != 0 {
			v = playbook.Duration(time.Second)
		}
		return &v
	}
	var steps func([]playbook.Step) []playbook.Step
	steps = func(in []playbook.Step) []playbook.Step {
		out := make([]playbook.Step, len(in))
		for i, s := range in {
			s.At, s.After, s.Wait = scale(s.At), scale(s.After), scale(s.Wait)
			if s.WaitFor != nil {
				w := *s.WaitFor
				w.Within = scale(w.Within)
				s.WaitFor = &w
			}
			if s.Task != nil {
				task := *s.Task
				task.Due = scale(task.Due)
				s.Task = &task
			}
			if s.Approval != nil {
				a := *s.Approval
				a.ExpiresIn = scale(a.ExpiresIn)
				s.Approval = &a
			}
			if s.Repeat != nil {
				r := *s.Repeat
				r.Every, r.Until, r.Steps = scale(r.Every), scale(r.Until), steps(r.Steps)
				s.Repeat = &r
			}
			s.OnTimeout, s.Then, s.Else = steps(s.OnTimeout), steps(s.Then), steps(s.Else)
			out[i] = s
		}
		return out
	}
	def.Steps = steps(def.Steps)
	return def
}

// stubActivities answer like the real ones without I/O; they approve every
// approval and report contract_signed once the agreement task exists.
type stubActivities struct {
	c        client.Client
	mu       sync.Mutex
	accounts map[string]accounts.Snapshot // by account id
	wg       sync.WaitGroup
}

func (s *stubActivities) account(id string) accounts.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[id]
}

func (s *stubActivities) register(w worker.Worker) {
	reg := func(name string, fn any) { w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg(contract.BeginRun, func(_ context.Context, in contract.BeginRunInput) (accounts.Snapshot, error) {
		return s.account(in.AccountID), nil
	})
	reg(contract.LoadAccount, func(_ context.Context, id string) (accounts.Snapshot, error) { return s.account(id), nil })
	reg(contract.RecordRunStatus, func(context.Context, contract.RecordRunStatusInput) error { return nil })
	reg(contract.RecordRunFinished, func(context.Context, contract.RecordRunFinishedInput) error { return nil })
	reg(contract.SendEmail, func(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
		return contract.SendEmailResult{Sent: 1, EmailIDs: []string{"e-" + in.StepID}}, nil
	})
	reg(contract.CreateTask, func(ctx context.Context, in contract.CreateTaskInput) (contract.CreateTaskResult, error) {
		if in.StepID == "agreement-legal" {
			s.later(func() error {
				return s.c.SignalWorkflow(context.Background(), activity.GetInfo(ctx).WorkflowExecution.ID, "",
					workflows.EventSignal, workflows.Event{Name: "contract_signed"})
			})
		}
		return contract.CreateTaskResult{TaskID: "t-" + in.StepID, Assignee: in.Assignee + "@cs.example"}, nil
	})
	reg(contract.CreateApproval, func(ctx context.Context, in contract.CreateApprovalInput) (contract.CreateApprovalResult, error) {
		id := in.ApprovalID // the run's own id; histories from before had none
		if id == "" {
			id = "a-" + in.StepID
		}
		wfID := activity.GetInfo(ctx).WorkflowExecution.ID
		s.later(func() error {
			h, err := s.c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
				WorkflowID: wfID, UpdateName: workflows.DecideUpdate, WaitForStage: client.WorkflowUpdateStageCompleted,
				Args: []any{workflows.Decision{ApprovalID: id, Decision: "approve", By: "csm@cs.example",
					Edits: &message.Content{Subject: "Edited by the CSM"}}},
			})
			if err != nil {
				return err
			}
			return h.Get(context.Background(), nil)
		})
		return contract.CreateApprovalResult{ApprovalID: id, Assignee: in.Assignee + "@cs.example"}, nil
	})
	reg(contract.RecordApprovalDecision, func(context.Context, contract.RecordApprovalDecisionInput) error { return nil })
	reg(contract.EscalateApproval, func(context.Context, contract.EscalateApprovalInput) (contract.EscalateApprovalResult, error) {
		return contract.EscalateApprovalResult{Escalated: true, Assignee: "manager@cs.example"}, nil
	})
	reg(contract.UpdateAccount, func(_ context.Context, in contract.UpdateAccountInput) (accounts.Snapshot, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.accounts[in.AccountID]
		if in.LifecycleStage != "" {
			a.LifecycleStage = in.LifecycleStage
		}
		s.accounts[in.AccountID] = a
		return a, nil
	})
	reg(contract.StartPlaybook, func(context.Context, contract.StartPlaybookInput) (contract.StartPlaybookResult, error) {
		return contract.StartPlaybookResult{RunID: "child"}, nil
	})
	reg(contract.Notify, func(context.Context, contract.NotifyInput) error { return nil })
}

// later runs fn half a second from now, retrying while the run is not yet
// ready for it (the approval not yet pending).
func (s *stubActivities) later(fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for i := 0; i < 20; i++ {
			time.Sleep(500 * time.Millisecond)
			if fn() == nil {
				return
			}
		}
	}()
}

// TestRecordHistories writes testdata/histories from real runs on a dev
// server and prints each run's history events and billable actions:
//
//	PLAYBOOKD_RECORD_HISTORIES=1 go test -run RecordHistories -v -timeout 10m ./workflows
func TestRecordHistories(t *testing.T) {
	if os.Getenv("PLAYBOOKD_RECORD_HISTORIES") != "1" {
		t.Skip("set PLAYBOOKD_RECORD_HISTORIES=1 to record new histories")
	}
	srv := temporaltest.StartDevServer(t)
	c := srv.Client()
	start := time.Now().UTC()
	renewal := start.Add(120 * time.Second) // 120 days, compressed
	zone := openZone(start)
	account := func(id, segment string, score float64, band string) accounts.Snapshot {
		return accounts.Snapshot{ID: id, Segment: segment, Status: "active", LifecycleStage: "onboarding",
			Timezone: zone, RenewalAt: &renewal, HealthScore: &score, HealthBand: band,
			Fields: map[string]any{"seats_used_pct": 90.0, "feature_adoption_pct": 75.0}}
	}
	// A realistic account per playbook: the recovery runs must not exit at once.
	stubs := &stubActivities{c: c, accounts: map[string]accounts.Snapshot{
		"onboarding":   account("onboarding", "enterprise", 70, "yellow"),
		"red-recovery": account("red-recovery", "mid_market", 35, "red"),
		"at-risk":      account("at-risk", "smb", 65, "yellow"),
		"renewal":      account("renewal", "enterprise", 75, "yellow"),
		"expansion":    account("expansion", "enterprise", 85, "green"),
	}}
	w := worker.New(c, "histories", worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.PlaybookRun, workflow.RegisterOptions{Name: workflows.PlaybookRunName})
	stubs.register(w)
	require.NoError(t, w.Start())
	defer w.Stop()
	emailWorker := worker.New(c, workflows.EmailTaskQueue("histories"), worker.Options{})
	emailWorker.RegisterActivityWithOptions(func(_ context.Context, in contract.SendEmailInput) (contract.SendEmailResult, error) {
		return contract.SendEmailResult{Sent: 1, EmailIDs: []string{"e-" + in.StepID}}, nil
	}, activity.RegisterOptions{Name: contract.SendEmail})
	require.NoError(t, emailWorker.Start())
	defer emailWorker.Stop()

	keys := []string{"onboarding", "red-recovery", "at-risk", "renewal", "expansion"}
	runs := map[string]client.WorkflowRun{}
	for _, key := range keys {
		def := compress(*builtin(t, key))
		run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
			ID: "history-" + key, TaskQueue: "histories",
		}, workflows.PlaybookRunName, workflows.RunInput{RunID: "00000000-0000-0000-0000-00000000000" + fmt.Sprint(len(runs)+1),
			AccountID: key, PlaybookKey: key, PlaybookVersion: 1, Definition: def})
		require.NoError(t, err)
		runs[key] = run
	}
	fmt.Printf("%-14s %8s %8s   %s\n", "playbook", "events", "actions", "actions by kind")
	for _, key := range keys {
		var res workflows.RunResult
		require.NoError(t, runs[key].Get(context.Background(), &res), key)
		history := &historypb.History{}
		iter := c.GetWorkflowHistory(context.Background(), runs[key].GetID(), runs[key].GetRunID(), false,
			enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			e, err := iter.Next()
			require.NoError(t, err)
			history.Events = append(history.Events, e)
		}
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(history)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(historiesDir, key+".json"), raw, 0o644))
		actions := historystats.Count(history)
		fmt.Printf("%-14s %8d %8d   %s (outcome %s)\n", key, actions.Events, actions.Total(), actions, res.Outcome)
	}
	stubs.wg.Wait()
}

// openZone is a time zone where the built-ins' send window (weekdays 09:00 to
// 17:00) is open at now for the next hours, so that a recording at any hour
// sends at once instead of waiting for the window.
func openZone(now time.Time) string {
	for offset := -12; offset <= 14; offset++ {
		local := now.In(time.FixedZone("", offset*3600))
		if wd := local.Weekday(); wd != time.Saturday && wd != time.Sunday && local.Hour() >= 9 && local.Hour() < 13 {
			return fmt.Sprintf("Etc/GMT%+d", -offset) // POSIX signs: Etc/GMT-9 is nine hours east
		}
	}
	return "UTC"
}
