package simulate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
)

// yearOf simulates the first year of a healthy account of the segment
// under every built-in: contract from day 0, renewal a year on.
func yearOf(t *testing.T, segment string) YearResult {
	t.Helper()
	var defs []*playbook.Definition
	for _, d := range builtins(t) {
		defs = append(defs, d)
	}
	slices.SortFunc(defs, func(a, b *playbook.Definition) int { return strings.Compare(a.Key, b.Key) })
	in := sampleInput(nil, segment)
	renewal := start.AddDate(1, 0, 0)
	score := 85.0
	in.Account.RenewalAt, in.Account.HealthScore, in.Account.HealthBand = &renewal, &score, "green"
	res, err := Year(context.Background(), YearInput{Definitions: defs, Sample: in})
	require.NoError(t, err)
	return res
}

// daysOf lists the days on which the play's step did the action.
func daysOf(res YearResult, play, step, action string) []int {
	var out []int
	for _, e := range res.Entries {
		if e.Playbook == play && e.StepID == step && e.Action == action {
			out = append(out, e.Day)
		}
	}
	return out
}

// touches are the actions that reach the customer or the CSM.
var touches = []string{"email", "task", "approval"}

// Each segment's cadence, as the seeds prescribe it, over the first year:
// the occasions are the contract start plus 13 (or 26) weeks, so day 91,
// 182, 273 and 364; steps count from them.
func TestAYearOfEachSegmentFollowsItsCadence(t *testing.T) {
	type want struct {
		play, step, action string
		days               []int
	}
	tests := []struct {
		segment string
		plays   []string // the plays the year starts, in order
		wants   []want
	}{
		{"enterprise",
			[]string{"onboarding", "enterprise-cadence", "adoption", "enterprise-cadence", "nps-survey", "value-realisation", "renewal", "enterprise-cadence", "enterprise-cadence", "nps-survey"},
			[]want{
				{"onboarding", "qbr-invitation", "approval", []int{89}},
				{"enterprise-cadence", "check-in-1", "task", []int{121, 212, 303}},
				{"enterprise-cadence", "check-in-2", "task", []int{151, 242, 333}},
				{"enterprise-cadence", "qbr-invitation", "approval", []int{161, 252, 343}},
				{"enterprise-cadence", "qbr-invitation", "email", []int{161, 252, 343}},
				{"enterprise-cadence", "success-plan", "task", []int{175, 266, 357}},
				{"adoption", "feature-usage-analysis", "task", []int{98}},
				{"value-realisation", "roi-report", "task", []int{272}},
				{"value-realisation", "advocacy-ask", "task", []int{352}},
				{"nps-survey", "nps", "email", []int{189}}, // twice a year, a week after the occasion
				{"nps-survey", "csat", "email", []int{189}},
			}},
		{"mid_market",
			[]string{"onboarding", "mid-market-cadence", "adoption", "mid-market-cadence", "mid-market-review", "nps-survey", "value-realisation", "renewal", "mid-market-cadence", "mid-market-cadence", "mid-market-review", "nps-survey"},
			[]want{
				{"mid-market-cadence", "check-in-1", "task", []int{121, 212, 303}},
				{"mid-market-cadence", "check-in-2", "task", []int{151, 242, 333}},
				{"mid-market-cadence", "check-in-3", "task", []int{175, 266, 357}},
				{"mid-market-review", "review-invitation", "approval", []int{182, 364}},
				{"adoption", "use-case-expansion", "task", []int{151}},
			}},
		{"smb",
			[]string{"onboarding", "smb-cadence", "adoption", "nps-survey", "smb-cadence", "value-realisation", "renewal", "smb-cadence", "nps-survey", "smb-cadence"},
			[]want{
				{"smb-cadence", "monthly-update-1", "email", []int{121, 212, 303}},
				{"smb-cadence", "monthly-update-2", "email", []int{151, 242, 333}},
				{"smb-cadence", "quarterly-review", "email", []int{175, 266, 357}},
				{"adoption", "feature-adoption-email", "email", []int{105}},
				{"adoption", "use-case-email", "email", []int{136}},
				{"value-realisation", "advanced-features-email", "email", []int{203}},
				{"value-realisation", "integration-email", "email", []int{227}},
				{"value-realisation", "value-report-email", "email", []int{259}}, // day 257 is a Saturday
				{"adoption", "feature-usage-analysis", "task", nil},              // tech-touch
			}},
	}
	for _, tc := range tests {
		t.Run(tc.segment, func(t *testing.T) {
			res := yearOf(t, tc.segment)
			var started []string
			for _, r := range res.Runs {
				if r.Skipped == "" {
					started = append(started, r.Playbook)
					require.Equal(t, "completed", r.Outcome, "%s from %s", r.Playbook, r.Reason)
				}
			}
			require.Equal(t, tc.plays, started)
			for _, w := range tc.wants {
				require.Equal(t, w.days, daysOf(res, w.play, w.step, w.action), "%s %s %s", w.play, w.step, w.action)
			}

			// After Day 90 the cadence keeps in touch about monthly: no
			// more than 40 days between two of its touches.
			var cadence []int
			for _, e := range res.Entries {
				if strings.Contains(e.Playbook, "cadence") || strings.HasSuffix(e.Playbook, "-review") {
					if slices.Contains(touches, e.Action) {
						cadence = append(cadence, e.Day)
					}
				}
			}
			require.NotEmpty(t, cadence)
			last := 89 // onboarding's Day 90 review
			for _, d := range cadence {
				require.LessOrEqual(t, d-last, 40, "a gap in the cadence before day %d: %v", d, cadence)
				last = d
			}

			// Every touch says which seed it comes from.
			for _, e := range res.Entries {
				if slices.Contains(touches, e.Action) {
					require.NotEmpty(t, e.Cite, "%s %s on day %d", e.Playbook, e.StepID, e.Day)
				}
			}

			// After onboarding, the plays are timed apart: no contact gets
			// two automated emails on one day (the frequency cap, not
			// simulated across plays, would hold the second).
			sent := map[string]string{}
			for _, e := range res.Entries {
				if e.Action != "email" || e.Playbook == "onboarding" {
					continue
				}
				for _, to := range e.To {
					key := fmt.Sprintf("%s on day %d", to, e.Day)
					require.Empty(t, sent[key], "%s gets %s/%s and %s", key, e.Playbook, e.StepID, sent[key])
					sent[key] = e.Playbook + "/" + e.StepID
				}
			}
		})
	}
}

// A red account's year: the cadences' customer emails are skipped, not
// sent alongside red-recovery's, and the CSM is told instead.
func TestARedYearSkipsTheCadenceEmails(t *testing.T) {
	for _, segment := range []string{"enterprise", "smb"} {
		var defs []*playbook.Definition
		for _, d := range builtins(t) {
			defs = append(defs, d)
		}
		in := sampleInput(nil, segment)
		score := 35.0
		in.Account.HealthScore, in.Account.HealthBand = &score, "red"
		res, err := Year(context.Background(), YearInput{Definitions: defs, Sample: in})
		require.NoError(t, err)
		for _, e := range res.Entries {
			if e.Playbook != "onboarding" && e.Playbook != "renewal" {
				require.NotEqual(t, "email", e.Action, "%s %s on day %d emails a red account", e.Playbook, e.StepID, e.Day)
			}
		}
		if segment == "enterprise" {
			require.Equal(t, []int{161, 252, 343}, daysOf(res, "enterprise-cadence", "red-qbr", "task"))
		}
	}
}

// Under a four-band model an orange account gets high-risk: the director's
// recovery plan and executive outreach at once, the VP after two weeks
// still orange; the cadence's review becomes the CSM's task, as for red.
func TestAnOrangeAccountGetsHighRisk(t *testing.T) {
	defs := builtins(t)
	in := sampleInput(defs["high-risk"], "enterprise")
	score := 60.0
	in.Account.HealthScore, in.Account.HealthBand = &score, "orange"
	res, err := Run(in)
	require.NoError(t, err)
	require.Equal(t, "completed", res.Outcome)
	for _, want := range []struct{ step, action, offset string }{
		{"recovery-plan", "task", "0d"}, {"executive-engagement", "approval", "0d"}, {"vp-review", "task", "14d"},
	} {
		e := find(res, want.step, want.action)
		require.NotNil(t, e, "%s %s", want.step, want.action)
		require.Equal(t, want.offset, e.Offset, want.step)
	}
	require.Nil(t, find(res, "checkin-email", "email"), "enterprise gets people, not a tech-touch email")

	cadence := sampleInput(defs["enterprise-cadence"], "enterprise")
	cadence.Account.HealthScore, cadence.Account.HealthBand = &score, "orange"
	res, err = Run(cadence)
	require.NoError(t, err)
	require.NotNil(t, find(res, "red-qbr", "task"))
	require.Nil(t, find(res, "qbr-invitation", "approval"), "no routine QBR invitation to a high-risk account")
}
