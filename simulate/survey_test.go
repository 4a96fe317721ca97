package simulate

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/survey"
	"github.com/playbookd/playbookd/templates"
)

const surveyDefinition = `key: s
name: Surveys
send_window: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
steps:
  - id: nps
    at: 5d
    survey: {kind: nps, to: [champion, admin]}
  - id: csat
    after: 1d
    survey: {kind: csat, to: champion}
`

var exampleLink = regexp.MustCompile(`https://playbookd\.example/v1/surveys/respond\?token=[^\s"<]+`)

// A survey step shows in the timeline as an email whose detail says it is a
// survey; each recipient's preview carries a link per score, to the example
// host (a simulation has no signing key and no outbox row); the send window
// holds it as it holds an email, and the picture draws it in an email's
// colour with what it sends in its tip.
func TestSimulatedSurveyIsAnEmailWithExampleLinks(t *testing.T) {
	set, err := templates.Builtin()
	require.NoError(t, err)
	def, err := playbook.Parse([]byte(surveyDefinition), playbook.Options{BuiltinTemplates: set.Names()})
	require.NoError(t, err)
	in := sampleInput(def, "smb")
	res, err := Run(in)
	require.NoError(t, err)

	tests := []struct {
		step, detail, offset string
		to                   []string
		kind                 string
	}{
		{"nps", "NPS survey: nps-survey", "7d", []string{"pat@acme.test", "al@acme.test"}, survey.NPS}, // day 5 is a Saturday
		{"csat", "CSAT survey: csat-survey", "8d", []string{"pat@acme.test"}, survey.CSAT},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			e := find(res, tt.step, "email")
			require.NotNil(t, e, "a survey is an email in the timeline")
			require.Equal(t, tt.detail, e.Detail)
			require.Equal(t, tt.offset, e.Offset)
			require.Equal(t, tt.to, e.To)
			require.Len(t, e.Emails, len(tt.to))
			for _, email := range e.Emails {
				links := slices.Compact(slices.Sorted(slices.Values(exampleLink.FindAllString(email.Text, -1))))
				require.Len(t, links, len(survey.Scores(tt.kind)), email.Text)
				for _, l := range links {
					require.Contains(t, email.HTML, `href="`+l+`"`)
					u, err := url.Parse(l)
					require.NoError(t, err)
					a, err := exampleLinks.Verify(u.Query().Get("token"))
					require.NoError(t, err)
					require.Equal(t, tt.kind, a.Kind)
				}
			}
		})
	}
	require.NotNil(t, find(res, "nps", "shift"), "the send window's hold is in the timeline")

	d := parseSVG(t, SVG(in.Definition.Name, in, res, AxisDays))
	nps := d.mark(t, "nps")
	require.Equal(t, colour(playbook.KindEmail), colour(playbook.KindSurvey))
	require.Contains(t, nps.tip, "NPS survey nps-survey to champion, admin")
	require.True(t, strings.Contains(strings.Join(textsOf(d), " "), "email, survey"), "the legend names surveys")
	requireInside(t, d)
}

func textsOf(d drawn) []string {
	var out []string
	for _, t := range d.texts {
		out = append(out, t.Text)
	}
	return out
}
