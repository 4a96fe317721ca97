package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/activities/contract"
	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/templates"
	"github.com/playbookd/playbookd/workflows"
)

const surveyPlaybook = `key: s
name: S
send_window: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
steps:
  - id: nps
    at: 5d
    survey: {kind: nps, to: [champion, admin]}
  - id: csat
    after: 1d
    survey: {kind: csat, to: champion, template: welcome}
`

// A survey step is sent as an automated email: it waits for the send
// window (day 5 is a Saturday: Monday 09:00) and for the frequency cap, and
// the SendEmail activity gets the survey's kind and its template (the
// kind's built-in one by default). Its record says it was a survey, which
// template and what was sent; the plan says so before it runs.
func TestSurveyStepSendsLikeAnEmail(t *testing.T) {
	set, err := templates.Builtin()
	require.NoError(t, err)
	def, err := playbook.Parse([]byte(surveyPlaybook), playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	r := newRecorder(t, account("smb"))
	r.capped = 2 * time.Hour
	before := r.progressAt(time.Hour)
	r.run(def)
	require.NoError(t, r.env.GetWorkflowError())

	require.Equal(t, map[string]time.Duration{
		"email:nps":  7*day + 2*time.Hour, // Monday 09:00, then the cap's two hours
		"email:csat": 8*day + 4*time.Hour, // a day after, then the cap's two hours
	}, r.byStep())
	var sent []contract.SendEmailInput
	for _, in := range r.emails {
		if in.StepID != "" && (len(sent) == 0 || sent[len(sent)-1].StepID != in.StepID) {
			sent = append(sent, in)
		}
	}
	require.Len(t, sent, 2)
	require.Equal(t, "nps", sent[0].Survey)
	require.Equal(t, "nps-survey", sent[0].Template)
	require.Equal(t, []string{"champion", "admin"}, sent[0].ToRoles)
	require.True(t, sent[0].Automated, "a survey counts towards the cap like any automated email")
	require.Equal(t, "csat", sent[1].Survey)
	require.Equal(t, "welcome", sent[1].Template)

	nps := record(t, r.progressNow().Done, "nps")
	require.Equal(t, playbook.KindSurvey, nps.Kind)
	require.Equal(t, workflows.StepDone, nps.Status)
	require.Equal(t, "NPS survey (nps-survey): 1 sent, 0 skipped, 0 failed", nps.Detail)
	var notes []string
	for _, n := range nps.Notes {
		notes = append(notes, n.Kind)
	}
	require.Equal(t, []string{workflows.NoteSendWindow, workflows.NoteCap}, notes)
	require.Equal(t, "CSAT survey (welcome): 1 sent, 0 skipped, 0 failed", record(t, r.progressNow().Done, "csat").Detail)

	require.Equal(t, "nps", before.Current.ID)
	require.Equal(t, playbook.KindSurvey, before.Current.Kind)
	planned := record(t, before.Upcoming, "csat")
	require.Equal(t, playbook.KindSurvey, planned.Kind)
	require.Equal(t, "CSAT survey", planned.Detail)
}
