package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/workflows"
)

// The risk signal plays (usage decline, support spike, competitor
// mentioned) do their seed's work on its day, by segment, and escalate when
// health is still not green at their follow-up.
func TestRiskSignalPlaysBySegment(t *testing.T) {
	tests := []struct {
		playbook, segment, band string
		want                    map[string]time.Duration // kind:step → when
		absent                  []string
	}{
		{"usage-decline", "smb", "yellow", map[string]time.Duration{
			"task:usage-audit": 0, "email:checkin-email": 0, "email:training-email": 7 * day,
			"task:use-case-expansion": 14 * day, "task:roi-analysis": 30 * day,
		}, []string{"task:executive-engagement", "task:targeted-training"}},
		{"usage-decline", "enterprise", "green", map[string]time.Duration{
			"task:usage-audit": 0, "task:executive-engagement": 2 * day, "task:targeted-training": 7 * day,
			"task:use-case-expansion": 14 * day,
		}, []string{"email:checkin-email", "email:training-email", "task:roi-analysis"}},
		{"support-spike", "mid_market", "red", map[string]time.Duration{
			"task:technical-escalation": 0, "email:acknowledge-email": 0, "task:root-cause-analysis": day,
			"task:workaround": 2 * day, "task:success-planning": 7 * day, "task:escalate-to-vp": 14 * day,
		}, nil},
		{"competitor-mentioned", "enterprise", "yellow", map[string]time.Duration{
			"task:competitive-analysis": 0, "task:sponsor-alignment": day, "task:proof-of-concept": 3 * day,
			"task:reference-customers": 3 * day, "task:strategic-partnership": 14 * day, "task:escalate-threat": 30 * day,
		}, nil},
		{"competitor-mentioned", "smb", "green", map[string]time.Duration{
			"task:competitive-analysis": 0, "task:reference-customers": 3 * day,
		}, []string{"task:sponsor-alignment", "task:proof-of-concept", "task:strategic-partnership", "task:escalate-threat"}},
	}
	for _, tt := range tests {
		t.Run(tt.playbook+"/"+tt.segment, func(t *testing.T) {
			acct := account(tt.segment)
			score := map[string]float64{"green": 85, "yellow": 65, "red": 40}[tt.band]
			acct.HealthScore, acct.HealthBand = &score, tt.band
			r := newRecorder(t, acct)
			r.run(builtin(t, tt.playbook))
			require.NoError(t, r.env.GetWorkflowError())
			steps := r.byStep()
			for step, at := range tt.want {
				require.Contains(t, steps, step)
				require.Equal(t, at, steps[step], step)
			}
			for _, step := range tt.absent {
				require.NotContains(t, steps, step)
			}
			if tt.playbook == "competitor-mentioned" {
				for _, e := range r.effects {
					require.NotEqual(t, "email", e.Kind, "competitor-mentioned emails nobody: %s", e.StepID)
				}
			}
		})
	}
}

// A risk signal play ends churned when the account churns.
func TestRiskSignalPlaysEndChurned(t *testing.T) {
	for _, key := range []string{"usage-decline", "support-spike", "payment-overdue", "competitor-mentioned"} {
		t.Run(key, func(t *testing.T) {
			r := newRecorder(t, account("mid_market"))
			r.at(12*time.Hour, func() {
				churned := account("mid_market")
				churned.Status = "churned"
				r.env.SignalWorkflow(workflows.AccountChangedSignal, churned)
			})
			r.run(builtin(t, key))
			require.Equal(t, "churned", r.finished.Outcome)
			for _, e := range r.effects {
				require.LessOrEqual(t, e.At, 12*time.Hour, "%s ran after the exit", e.StepID)
			}
		})
	}
}

// Payment overdue sends the customer nothing until a senior CSM approves the
// drafted reminder; rejected, nothing at all. A payment ends the run
// recovered; without one, the VP gets the overdue payment.
func TestPaymentOverdueEmailsOnlyOnceApproved(t *testing.T) {
	tests := []struct {
		name     string
		decision string
		paidAt   time.Duration // 0: never
		email    bool
		outcome  string
	}{
		{"approved, then paid", "approve", 5 * day, true, "recovered"},
		{"rejected, never paid", "reject", 0, false, "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecorder(t, account("smb"))
			decided := day + 3*time.Hour
			r.at(decided, func() {
				r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
					OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
				}, workflows.Decision{ApprovalID: approvalOf("payment-reminder"), Decision: tt.decision, By: "senior@cs.test"})
			})
			if tt.paidAt > 0 {
				r.at(tt.paidAt, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "payment_received"}) })
			}
			r.run(builtin(t, "payment-overdue"))
			require.NoError(t, r.env.GetWorkflowError())
			steps := r.byStep()
			require.Equal(t, time.Duration(0), steps["task:check-with-finance"])
			require.Equal(t, day, steps["approval:payment-reminder"], "drafted for approval, not sent")
			var emails []effect
			for _, e := range r.effects {
				if e.Kind == "email" {
					emails = append(emails, e)
				}
			}
			if tt.email {
				require.Len(t, emails, 1)
				require.Equal(t, decided, emails[0].At, "sent when approved, not before")
				require.True(t, strings.HasSuffix(emails[0].Detail, "as approved in a1"), emails[0].Detail)
			} else {
				require.Empty(t, emails, "a rejected reminder is never sent")
			}
			if tt.paidAt > 0 {
				require.NotContains(t, steps, "task:escalate-overdue")
			} else {
				require.Equal(t, 2*day+14*day, steps["task:escalate-overdue"], "two weeks of waiting from day 2")
			}
			require.Equal(t, tt.outcome, r.finished.Outcome)
		})
	}
}
