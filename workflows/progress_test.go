package workflows_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/playbookd/playbookd/workflows"
)

// progressAt queries the run's progress at a simulated offset.
func (r *recorder) progressAt(offset time.Duration) *workflows.Progress {
	p := &workflows.Progress{}
	r.at(offset, func() {
		v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(r.t, err)
		require.NoError(r.t, v.Get(p))
	})
	return p
}

// progressNow queries the progress as it is, e.g. after the run ended.
func (r *recorder) progressNow() *workflows.Progress {
	p := &workflows.Progress{}
	v, err := r.env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(r.t, err)
	require.NoError(r.t, v.Get(p))
	return p
}

// secondsUTC is how every time in a run view reads.
var secondsUTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// requireTruthfulTimes checks that the view has no zero time and no
// fraction of a second, in its JSON as the API serves it.
func requireTruthfulTimes(t *testing.T, p *workflows.Progress) {
	t.Helper()
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "0001-01-01")
	var view struct {
		Done, Upcoming []map[string]any
		Current        map[string]any
	}
	require.NoError(t, json.Unmarshal(raw, &view))
	for _, rec := range append(append(view.Done, view.Upcoming...), view.Current) {
		for _, key := range []string{"at", "until"} {
			if v, ok := rec[key]; ok {
				require.Regexp(t, secondsUTC, v, "%s of %v", key, rec["id"])
			}
		}
	}
}

func ids(recs []workflows.StepRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

func record(t *testing.T, recs []workflows.StepRecord, id string) workflows.StepRecord {
	t.Helper()
	for _, r := range recs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no step %s in %v", id, ids(recs))
	return workflows.StepRecord{}
}

// An smb run is never shown an enterprise step as current or upcoming; skips
// say which condition was false; emails are planned inside the send window.
func TestSMBOnboardingViewShowsOnlyWhatWillHappen(t *testing.T) {
	def := builtin(t, "onboarding")
	r := newRecorder(t, account("smb"))
	p := r.progressAt(12 * time.Hour)
	r.run(def)
	requireTruthfulTimes(t, p)

	var enterpriseOnly []string
	for _, s := range def.Steps {
		if s.When != nil && len(s.When.Segment) > 0 && !slices.Contains(s.When.Segment, "smb") {
			enterpriseOnly = append(enterpriseOnly, s.ID)
		}
	}
	require.Contains(t, enterpriseOnly, "technical-kickoff")
	require.NotNil(t, p.Current)
	require.Equal(t, "getting-started-email", p.Current.ID, "the run waits for day 1, when technical-kickoff will be skipped")
	require.Equal(t, workflows.StepWaiting, p.Current.Status)
	require.Equal(t, monday9am.Add(day), *p.Current.At)
	for _, id := range ids(p.Upcoming) {
		require.NotContains(t, enterpriseOnly, id)
	}

	skipped := record(t, p.Done, "welcome-call")
	require.Equal(t, workflows.StepSkipped, skipped.Status)
	require.Equal(t, "skipped: segment is smb, not enterprise or mid_market", skipped.Detail)

	training := record(t, p.Upcoming, "training-invite-email")
	require.Equal(t, monday9am.Add(7*day), *training.At, "day 6 is a Sunday: the Mon-Fri window opens on Monday")
	require.Contains(t, training.Detail, "held for the send window (mon-fri 09:00-17:00, UTC)")
	require.Equal(t, monday9am.Add(91*day), *record(t, p.Upcoming, "smb-quarterly-review").At, "day 89 is a Saturday")
	require.Equal(t, monday9am.Add(91*day), *record(t, p.Upcoming, "to-adoption").At, "the update waits behind the email")

	check := record(t, p.Upcoming, "zero-logins-check")
	require.Equal(t, monday9am.Add(7*day), *check.At)
	require.Equal(t, "then or else, depending on the first_login event", check.Detail)
}

// The current step says what it waits for and until when; what comes after
// a wait of unknown length has no time; an if shows its branch when known.
func TestViewOfWaitsAndBranches(t *testing.T) {
	def := parse(t, `
key: v
name: V
steps:
  - id: kickoff
    wait_for: {event: kickoff_completed, within: 14d}
    on_timeout:
      - id: chase
        task: {title: Chase the kickoff, assignee: csm}
  - id: kicked-off
    if: {event_received: kickoff_completed}
    then:
      - id: thanks
        task: {title: Thank them, assignee: csm}
  - id: size
    if: {segment: [smb]}
    then:
      - id: smb-note
        task: {title: SMB, assignee: csm}
    else:
      - id: big-note
        task: {title: Big, assignee: csm}
  - id: first-login
    wait_for: {event: first_login}
  - id: follow-up
    after: 2d
    task: {title: Follow up, assignee: csm}
`)
	r := newRecorder(t, account("enterprise"))
	waiting := r.progressAt(day)
	r.at(3*day, func() { r.env.SignalWorkflow(workflows.EventSignal, workflows.Event{Name: "kickoff_completed"}) })
	later := r.progressAt(4 * day)
	r.run(def)
	requireTruthfulTimes(t, waiting)
	requireTruthfulTimes(t, later)

	cur := waiting.Current
	require.Equal(t, "kickoff", cur.ID)
	require.Equal(t, workflows.StepAwaiting, cur.Status)
	require.Equal(t, monday9am.Add(14*day), *cur.Until)
	require.Equal(t, "awaiting the kickoff_completed event until 2026-01-19T09:00:00Z", cur.Detail)

	require.Equal(t, []string{"kicked-off", "size", "big-note", "first-login", "follow-up"}, ids(waiting.Upcoming),
		"an enterprise account takes size's else branch")
	kicked := record(t, waiting.Upcoming, "kicked-off")
	require.Nil(t, kicked.At, "the kickoff may come any time in 14 days")
	require.Contains(t, kicked.Detail, "then or else, depending on the kickoff_completed event")
	require.Contains(t, kicked.Detail, "time not known yet")
	size := record(t, waiting.Upcoming, "size")
	require.Equal(t, "time not known yet: after the kickoff_completed event; will take else: segment is enterprise, not smb", size.Detail)

	// After the kickoff: the branch taken is explained; the open-ended wait
	// leaves the follow-up without a time.
	require.Equal(t, "took then: kickoff_completed event received", record(t, later.Done, "kicked-off").Detail)
	require.Equal(t, "took else: segment is enterprise, not smb", record(t, later.Done, "size").Detail)
	require.Equal(t, []string{"kickoff", "kicked-off", "thanks", "size", "big-note"}, ids(later.Done), "in the order they began")
	require.Equal(t, "first-login", later.Current.ID)
	require.Equal(t, "awaiting the first_login event, without a deadline", later.Current.Detail)
	require.Nil(t, later.Current.Until)
	followUp := record(t, later.Upcoming, "follow-up")
	require.Nil(t, followUp.At)
	require.Equal(t, "time not known yet: after the first_login event", followUp.Detail)
}

func TestViewOfAnApprovalAndATask(t *testing.T) {
	r := newRecorder(t, account("enterprise"))
	p := r.progressAt(time.Hour)
	r.at(2*time.Hour, func() {
		r.env.UpdateWorkflow(workflows.DecideUpdate, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("refused: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.Decision{ApprovalID: approvalOf("invite"), Decision: "approve", By: "csm@cs.test"})
	})
	r.run(parse(t, approvalPlaybook))
	end := r.progressNow()
	requireTruthfulTimes(t, p)

	cur := p.Current
	require.Equal(t, workflows.StepAwaiting, cur.Status)
	require.Equal(t, &workflows.ApprovalRef{ID: approvalOf("invite"), Assignee: "csm@cs.test"}, cur.Approval)
	require.Equal(t, monday9am.Add(4*time.Hour), *cur.Until, "the enterprise level-1 deadline")
	require.Equal(t, "awaiting the decision of csm@cs.test on approval "+approvalOf("invite")+" by 2026-01-05T13:00:00Z", cur.Detail)
	after := record(t, p.Upcoming, "after")
	require.Nil(t, after.At, "it waits for the decision")
	require.Equal(t, "time not known yet: after the decision on invite", after.Detail)

	task := record(t, end.Done, "after")
	require.Equal(t, &workflows.TaskRef{ID: "t-after", Assignee: "csm@cs.test"}, task.Task)
	require.Equal(t, approvalOf("invite"), record(t, end.Done, "invite").Approval.ID)
}

// Holds by the send window and the cap are shown while they last and noted
// with the step afterwards.
func TestHoldsAreShownAndNoted(t *testing.T) {
	def := parse(t, windowPlaybook)
	acct := account("smb")
	acct.Timezone = "America/New_York"
	r := newRecorder(t, acct)
	r.capped = 30 * time.Hour
	held := r.progressAt(time.Hour)
	capped := r.progressAt(6 * time.Hour)
	r.run(def)
	end := r.progressNow()
	requireTruthfulTimes(t, held)

	require.Equal(t, workflows.StepWaiting, held.Current.Status)
	require.Equal(t, monday9am.Add(5*time.Hour), *held.Current.Until, "09:00 in New York")
	require.Equal(t, "held for the send window (mon-fri 09:00-17:00, America/New_York) until 2026-01-05T14:00:00Z", held.Current.Detail)
	require.Equal(t, "held by the frequency cap until 2026-01-06T20:00:00Z", capped.Current.Detail)
	require.Equal(t, monday9am.Add(35*time.Hour), *capped.Current.Until)

	notes := record(t, end.Done, "hello").Notes
	require.Len(t, notes, 2)
	require.Equal(t, workflows.NoteSendWindow, notes[0].Kind)
	require.Equal(t, monday9am, notes[0].At)
	require.Equal(t, workflows.NoteCap, notes[1].Kind)
	require.Equal(t, monday9am.Add(5*time.Hour), notes[1].At)
}

// Between a repeat's iterations the repeat is current; what follows it has
// its time, the iterations being of known length.
func TestViewOfARepeat(t *testing.T) {
	r := newRecorder(t, account("mid_market"))
	p := r.progressAt(5*day + time.Hour)
	r.run(builtin(t, "red-recovery"))
	requireTruthfulTimes(t, p)
	require.Equal(t, "daily-checkins", p.Current.ID)
	require.Equal(t, workflows.StepWaiting, p.Current.Status)
	require.Equal(t, monday9am.Add(6*day), *p.Current.At)
	require.Equal(t, "8 more iterations, every 1d, the next at 2026-01-11T09:00:00Z", p.Current.Detail)
	require.Equal(t, monday9am.Add(13*day), *record(t, p.Upcoming, "value-demonstration").At)
}

// BenchmarkProgressQuery measures the progress query (the plan included) of
// an enterprise onboarding waiting on day 3, and of a red recovery between
// its daily check-ins. Run: go test -run '^$' -bench ProgressQuery ./workflows
func BenchmarkProgressQuery(b *testing.B) {
	for _, tt := range []struct {
		key     string
		segment string
		at      time.Duration
	}{{"onboarding", "enterprise", 3 * day}, {"red-recovery", "mid_market", 5*day + time.Hour}} {
		b.Run(tt.key, func(b *testing.B) {
			r := newRecorder(b, account(tt.segment))
			r.at(tt.at, func() {
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := r.env.QueryWorkflow(workflows.ProgressQuery); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
			})
			def := builtin(b, tt.key)
			r.env.ExecuteWorkflow(workflows.PlaybookRun, workflows.RunInput{RunID: "5f0c2b9e-0d5f-4a57-9a43-6a4b8f1d2c3e",
				AccountID: "acme", PlaybookKey: def.Key, PlaybookVersion: 1, Definition: *def})
		})
	}
}
