package simulate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/message"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/playbooks"
	"github.com/playbookd/playbookd/templates"
)

var start = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

func builtins(t testing.TB) map[string]*playbook.Definition {
	set, err := templates.Builtin()
	require.NoError(t, err)
	all, err := playbooks.Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	out := map[string]*playbook.Definition{}
	for _, b := range all {
		out[b.Key] = b.Definition
	}
	return out
}

func sampleInput(def *playbook.Definition, segment string) Input {
	in := Sample(def, segment, start)
	in.Contacts = []Contact{{Email: "pat@acme.test", Role: "champion"}, {Email: "eve@acme.test", Role: "exec_sponsor"},
		{Email: "al@acme.test", Role: "admin"}}
	in.CSM = "casey@cs.test"
	return in
}

func find(res Result, step, action string) *Entry {
	for i := range res.Timeline {
		if res.Timeline[i].StepID == step && res.Timeline[i].Action == action {
			return &res.Timeline[i]
		}
	}
	return nil
}

func TestSimulateOnboardingSMB(t *testing.T) {
	res, err := Run(sampleInput(builtins(t)["onboarding"], "smb"))
	require.NoError(t, err)
	welcome := find(res, "welcome-email", "email")
	require.NotNil(t, welcome)
	require.Equal(t, start, welcome.At)
	require.Equal(t, "0d", welcome.Offset)
	require.Equal(t, []string{"pat@acme.test", "al@acme.test"}, welcome.To)
	review := find(res, "smb-quarterly-review", "email")
	require.Equal(t, "91d", review.Offset, "day 89 is a Saturday: the Mon-Fri send window holds it until Monday")
	require.Nil(t, find(res, "welcome-call", "task"), "smb is tech-touch")
	zero := find(res, "zero-logins", "task")
	require.Equal(t, "7d", zero.Offset)
	require.Equal(t, []string{"casey@cs.test"}, zero.To)
	require.Equal(t, "completed", res.Outcome)
	require.Equal(t, "end", res.Timeline[len(res.Timeline)-1].Action)
}

func TestSimulateEventsAndDecisions(t *testing.T) {
	in := sampleInput(builtins(t)["onboarding"], "enterprise")
	in.Events = []Event{{Name: "first_login", At: playbook.Duration(2 * playbook.Day)}}
	in.Decisions = []Decision{{StepID: "qbr-invitation", Decision: "approve", At: playbook.Duration(time.Hour),
		Edits: &message.Content{Subject: "QBR?"}}}
	res, err := Run(in)
	require.NoError(t, err)
	require.Nil(t, find(res, "zero-logins", "task"), "first_login arrived in week 1")
	approval := find(res, "qbr-invitation", "approval")
	require.Equal(t, "89d", approval.Offset)
	require.Contains(t, approval.Detail, "decide by 89d4h")
	sent := find(res, "qbr-invitation", "email")
	require.NotNil(t, sent)
	require.Equal(t, "91d", sent.Offset, "approved on a Saturday: sent when the send window opens on Monday")
	require.Contains(t, sent.Detail, "edited: QBR?")
	require.Equal(t, []string{"pat@acme.test", "eve@acme.test"}, sent.To)
}

func TestSimulateEveryBuiltinForEverySegment(t *testing.T) {
	for key, def := range builtins(t) {
		for _, segment := range accounts.Segments {
			res, err := Run(sampleInput(def, segment))
			require.NoError(t, err, "%s/%s", key, segment)
			require.NotEmpty(t, res.Timeline, "%s/%s", key, segment)
			require.EqualValues(t, "completed", res.Status, "%s/%s", key, segment)
		}
	}
}

// BenchmarkSimulate measures one simulation of each built-in for one account
// (PRODUCT.md §10: under 100 ms). Run: go test -bench Simulate ./simulate
func BenchmarkSimulate(b *testing.B) {
	for _, key := range []string{"onboarding", "red-recovery", "at-risk", "renewal", "expansion"} {
		def := builtins(b)[key]
		b.Run(key, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := Run(sampleInput(def, "enterprise")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestOffsetFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0d", 30 * time.Second: "30s", 89*playbook.Day + 4*time.Hour: "89d4h",
		-120 * playbook.Day: "-120d", 90 * time.Minute: "1h30m"} {
		require.Equal(t, want, offset(d))
	}
}

func TestSimulatedEmailsAreRenderedForEachRecipient(t *testing.T) {
	in := sampleInput(builtins(t)["onboarding"], "smb")
	in.AccountName, in.CSMName = "Acme", "Casey Jones"
	in.Contacts = []Contact{{Email: "pat@acme.test", Name: "Pat Lee", Role: "champion"}, {Email: "al@acme.test", Name: "Al", Role: "admin"}}
	res, err := Run(in)
	require.NoError(t, err)
	welcome := find(res, "welcome-email", "email")
	require.Len(t, welcome.Emails, 2)
	for i, first := range []string{"Pat", "Al"} {
		email := welcome.Emails[i]
		require.Equal(t, welcome.To[i], email.To)
		require.Equal(t, "Welcome to your onboarding, Acme", email.Subject)
		require.Contains(t, email.Text, "Hi "+first+",")
		require.Contains(t, email.Text, "I'm Casey Jones, your customer success manager")
	}
}

func TestSimulationExplainsSkipsBranchesAndShifts(t *testing.T) {
	res, err := Run(sampleInput(builtins(t)["onboarding"], "smb"))
	require.NoError(t, err)
	skip := find(res, "welcome-call", "skip")
	require.NotNil(t, skip)
	require.Equal(t, "skipped: segment is smb, not enterprise or mid_market", skip.Detail)
	branch := find(res, "zero-logins-check", "branch")
	require.Equal(t, "7d", branch.Offset)
	require.Equal(t, "took then: no first_login event received", branch.Detail)

	shift := find(res, "training-invite-email", "shift")
	require.NotNil(t, shift, "day 6 is a Sunday")
	require.Equal(t, "6d", shift.Offset)
	require.Equal(t, "held for the send window (mon-fri 09:00-17:00, UTC) until 2026-01-12T09:00:00Z", shift.Detail)
	require.Equal(t, "7d", find(res, "training-invite-email", "email").Offset)
	for i, e := range res.Timeline[1:] {
		require.False(t, e.At.Before(res.Timeline[i].At), "the timeline is in time order: %v", e)
	}
}

func TestSimulatedCapDefersAndExplains(t *testing.T) {
	def, err := playbook.Parse([]byte(`key: c
name: C
steps:
  - id: one
    email: {template: welcome, to: [champion]}
  - id: two
    after: 1h
    email: {template: welcome, to: [champion]}
  - id: three
    after: 1h
    email: {template: welcome, to: [champion, admin]}
`), playbook.Options{BuiltinTemplates: []string{"welcome"}})
	require.NoError(t, err)
	in := sampleInput(def, "smb")
	in.Cap = Cap{Count: 2, Window: playbook.Day}
	res, err := Run(in)
	require.NoError(t, err)
	var sent []string
	for _, e := range res.Timeline {
		if e.StepID == "three" {
			sent = append(sent, e.Action+" "+e.Offset+" "+strings.Join(e.To, ","))
		}
	}
	require.Equal(t, []string{
		"shift 2h ",
		"email 2h al@acme.test",
		"email 1d pat@acme.test",
	}, sent, "the champion had two emails in the day: held until the first is a day old")
	require.Equal(t, "held: pat@acme.test already got 2 automated emails in 1 day (the frequency cap) until 2026-01-06T09:00:00Z", find(res, "three", "shift").Detail)
}

func TestSimulatedDecisionCountsFromTheApproval(t *testing.T) {
	in := sampleInput(builtins(t)["onboarding"], "enterprise")
	in.Decisions = []Decision{
		{StepID: "qbr-invitation", Decision: "reject", At: playbook.Duration(2 * time.Hour)},
		{StepID: "welcome-call", Decision: "approve", At: playbook.Duration(time.Hour)},
	}
	res, err := Run(in)
	require.NoError(t, err)
	require.Equal(t, "89d", find(res, "qbr-invitation", "approval").Offset)
	decision := find(res, "qbr-invitation", "decision")
	require.Equal(t, "89d2h", decision.Offset, "two hours after the approval appeared")
	require.Equal(t, "rejected", decision.Detail)
	require.Nil(t, find(res, "qbr-invitation", "email"))
	require.Equal(t, "approve not applied: the step asked for no approval", find(res, "welcome-call", "decision").Detail)
}

// Every built-in, for an smb account enrolled at 02:00 on a Tuesday in its
// zone, sends every customer email inside the organisation's business hours
// and never two to one contact within a day; the timeline says why an email
// moved.
func TestBuiltinsEmailSMBInsideBusinessHours(t *testing.T) {
	business, err := playbook.ParseSendWindow("mon-fri 09:00-17:00")
	require.NoError(t, err)
	chicago, err := time.LoadLocation("America/Chicago")
	require.NoError(t, err)
	tuesday2am := time.Date(2026, 1, 6, 2, 0, 0, 0, chicago)
	health := map[string]float64{"red-recovery": 35, "at-risk": 65, "expansion": 90}
	for key, def := range builtins(t) {
		if len(def.Segments) > 0 && !slices.Contains(def.Segments, "smb") {
			continue // never enrols an smb account
		}
		t.Run(key, func(t *testing.T) {
			in := sampleInput(def, "smb")
			in.Start = tuesday2am.UTC()
			in.Account.Timezone = "America/Chicago"
			renewal := in.Start.Add(120 * playbook.Day)
			in.Account.RenewalAt = &renewal
			if score, ok := health[key]; ok {
				in.Account.HealthScore = &score
				in.Account.HealthBand = map[bool]string{true: "red", false: "yellow"}[score < 50]
				if score >= 80 {
					in.Account.HealthBand = "green"
					in.Account.Fields = map[string]any{"seats_used_pct": 90.0, "feature_adoption_pct": 75.0}
				}
			}
			in.SendWindow = business
			in.Cap = Cap{Count: 3, Window: 7 * playbook.Day, MinGap: playbook.Day}
			res, err := Run(in)
			require.NoError(t, err)
			last := map[string]time.Time{}
			emails := 0
			for _, e := range res.Timeline {
				if e.Action != "email" {
					continue
				}
				local := e.At.In(chicago)
				require.True(t, local.Weekday() != time.Saturday && local.Weekday() != time.Sunday &&
					local.Hour() >= 9 && local.Hour() < 17, "%s %s at %s local", key, e.StepID, local.Format(time.RFC1123))
				for _, to := range e.To {
					if prev, ok := last[to]; ok {
						require.GreaterOrEqual(t, e.At.Sub(prev), playbook.Day, "%s: two emails to %s within a day", e.StepID, to)
					}
					last[to] = e.At
					emails++
				}
			}
			// No automated customer email by design: champion-change,
			// competitor-mentioned and detractor-recovery are people's work;
			// payment-overdue and promoter-advocacy email only once approved.
			if !slices.Contains([]string{"champion-change", "competitor-mentioned", "payment-overdue", "detractor-recovery", "promoter-advocacy"}, key) {
				require.Positive(t, emails, "%s sends smb customers email", key)
			}
		})
	}
}

// Two emails of one run to one contact an hour apart: the second waits for
// the day to pass, and the timeline says why.
func TestSimulatedMinimumGapExplains(t *testing.T) {
	def, err := playbook.Parse([]byte(`key: gap
name: Gap
steps:
  - id: one
    email: {template: welcome, to: [champion]}
  - id: two
    after: 1h
    email: {template: welcome, to: [champion]}
`), playbook.Options{BuiltinTemplates: []string{"welcome"}})
	require.NoError(t, err)
	in := sampleInput(def, "smb")
	in.Contacts[0].Name = "Pat Lee"
	in.Cap = Cap{MinGap: playbook.Day}
	res, err := Run(in)
	require.NoError(t, err)
	require.Equal(t, "1d", find(res, "two", "email").Offset)
	require.Equal(t, "held: gap emailed Pat Lee 60 minutes ago; automated emails to a contact are at least 1 day apart until "+
		start.Add(playbook.Day).UTC().Format(time.RFC3339), find(res, "two", "shift").Detail)
}
