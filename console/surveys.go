package console

import (
	"fmt"
	"strings"

	"github.com/playbookd/playbookd/survey"
)

// surveyTable is a report's surveys by segment as a small table (the
// portfolio's, a survey step's in analytics); Empty when nothing was sent
// or answered.
type surveyTable struct {
	Caption string
	Rows    []surveyRow
	Empty   bool
}

// surveyRow is one segment's figures in words; a dash where the report
// has null (nothing sent, nothing answered).
type surveyRow struct {
	Segment        string
	All            bool
	Sent, Answered int
	Rate           string
	NPS            string
	Mix            string // promoters · passives · detractors
	CSAT           string
}

func surveyTableOf(caption string, figures []survey.Figures) surveyTable {
	t := surveyTable{Caption: caption, Empty: !survey.Any(figures)}
	for _, f := range figures {
		row := surveyRow{Segment: strings.ReplaceAll(f.Segment, "_", " "), All: f.Segment == survey.AllSegments,
			Sent: f.Sent, Answered: f.Answered, Rate: "—", NPS: "—", Mix: "—", CSAT: "—"}
		if row.All {
			row.Segment = "All segments"
		}
		if f.ResponseRate != nil {
			row.Rate = fmt.Sprintf("%g %%", *f.ResponseRate)
		}
		if n := f.NPS; n != nil {
			row.NPS = fmt.Sprintf("%+g (%d)", n.Score, n.Responses)
			if n.Score == 0 {
				row.NPS = fmt.Sprintf("0 (%d)", n.Responses)
			}
			row.Mix = fmt.Sprintf("%d · %d · %d", n.Promoters, n.Passives, n.Detractors)
		}
		if c := f.CSAT; c != nil {
			row.CSAT = fmt.Sprintf("%.1f (%d)", c.Mean, c.Responses)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
