package simulate

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/playbook"
)

// drawn is the SVG read back as XML: its canvas, and every text with the
// group (lane or mark) it belongs to.
type drawn struct {
	width float64
	texts []drawnText
	marks []drawnGroup
	lanes []drawnGroup
}

type drawnText struct {
	X      float64 `xml:"x,attr"`
	Size   float64 `xml:"font-size,attr"`
	Weight string  `xml:"font-weight,attr"`
	Anchor string  `xml:"text-anchor,attr"`
	Text   string  `xml:",chardata"`
}

type drawnGroup struct {
	kind, state, text, tip string
	bars, ticks            int
}

func parseSVG(t *testing.T, svg string) drawn {
	t.Helper()
	var out drawn
	d := xml.NewDecoder(strings.NewReader(svg))
	var group *drawnGroup
	var class string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the picture is well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch el.Name.Local {
			case "svg":
				var w, h float64
				_, err := fmt.Sscanf(attr("viewBox"), "0 0 %g %g", &w, &h)
				require.NoError(t, err)
				out.width = w
			case "g":
				group, class = &drawnGroup{kind: attr("data-kind"), state: attr("data-state")}, attr("class")
			case "title":
				var tip string
				require.NoError(t, d.DecodeElement(&tip, &el))
				if group != nil {
					group.tip = tip
				}
			case "rect":
				if group != nil {
					group.bars++
				}
			case "line":
				if group != nil {
					group.ticks++
				}
			case "text":
				var txt drawnText
				require.NoError(t, d.DecodeElement(&txt, &el))
				out.texts = append(out.texts, txt)
				if group != nil {
					group.text = txt.Text
				}
			}
		case xml.EndElement:
			if el.Name.Local == "g" && group != nil {
				if class == "lane" {
					out.lanes = append(out.lanes, *group)
				} else {
					out.marks = append(out.marks, *group)
				}
				group = nil
			}
		}
	}
	return out
}

func (d drawn) lane(t *testing.T, title string) drawnGroup {
	t.Helper()
	for _, l := range d.lanes {
		if l.text == title {
			return l
		}
	}
	require.Failf(t, "no lane", "%q among %v", title, d.lanes)
	return drawnGroup{}
}

func (d drawn) mark(t *testing.T, prefix string) drawnGroup {
	t.Helper()
	for _, m := range d.marks {
		if strings.HasPrefix(m.text, prefix) {
			return m
		}
	}
	require.Failf(t, "no mark", "%q among %v", prefix, d.marks)
	return drawnGroup{}
}

// requireInside checks that no text runs off the canvas, measured as the
// picture measures it.
func requireInside(t *testing.T, d drawn) {
	t.Helper()
	for _, txt := range d.texts {
		w := textWidth(txt.Text, txt.Size, txt.Weight == "bold")
		from := txt.X
		if txt.Anchor == "middle" {
			from -= w / 2
		}
		require.GreaterOrEqual(t, from, 0.0, txt.Text)
		require.LessOrEqual(t, from+w, d.width, "%q ends at %.0f, beyond the canvas (%.0f)", txt.Text, from+w, d.width)
	}
}

func draw(t *testing.T, in Input) drawn {
	t.Helper()
	res, err := Run(in)
	require.NoError(t, err)
	return parseSVG(t, SVG(in.Definition.Name, in, res, AxisDays))
}

// The renewal playbook branches on health twice, waits for the signature
// and asks for an approval: each shows, and the branches the sample (no
// health, no signature) did not take are faded, not missing.
func TestSVGDrawsBranchesWaitsAndApprovals(t *testing.T) {
	d := draw(t, sampleInput(builtins(t)["renewal"], "enterprise"))
	require.Len(t, d.lanes, 13, "steps, then/else of risk-zone and of its re-checks at T-90 and T-60, then/else of zone-plan, then of the re-checks' zone plans, then/else of renewal-day")
	require.Equal(t, stateNotTaken, d.lane(t, "then: health_score < 60 (not taken)").state)
	require.Equal(t, "", d.lane(t, "else: not health_score < 60").state)
	require.Equal(t, stateNotTaken, d.lane(t, "then: health_score ≥ 90 (not taken)").state)
	require.Equal(t, "", d.lane(t, "else: not health_score ≥ 90").state)
	require.Equal(t, stateNotTaken, d.lane(t, "then: contract_signed received (not taken)").state)

	require.Equal(t, stateNotTaken, d.mark(t, "red-zone-escalation").state)
	require.Equal(t, "", d.mark(t, "yellow-zone-engagement").state)
	require.Equal(t, stateNotTaken, d.mark(t, "thank-you").state)
	require.Equal(t, "", d.mark(t, "unsigned-escalation").state)
	require.Equal(t, "", d.mark(t, "risk-zone: if health_score < 60").state)

	wait := d.mark(t, "await-signature: wait for contract_signed ≤ 30d")
	require.Equal(t, 1, wait.bars, "the window the signature may arrive in")
	approval := d.mark(t, "ebr-invitation: approval by csm, escalated 3×, expired after 7h30m")
	require.Equal(t, 1, approval.bars)
	require.Equal(t, 3, approval.ticks, "one tick per escalation")
	require.NotContains(t, d.texts, "renewal-reminder", "an smb step is not drawn for enterprise")
	requireInside(t, d)
}

func TestSVGDrawsRepeatsAndTimeouts(t *testing.T) {
	d := draw(t, sampleInput(builtins(t)["red-recovery"], "mid_market"))
	repeat := d.mark(t, "daily-checkins: every 1d, 11×")
	require.Equal(t, 1, repeat.bars)
	require.Equal(t, 10, repeat.ticks, "a tick for each iteration after the first")
	require.Equal(t, "", d.lane(t, "each time: daily-checkins").state)
	d.mark(t, "daily-checkin")

	def, err := playbook.Parse([]byte(`
key: nudge
name: Nudge
steps:
  - id: wait-login
    at: 0d
    wait_for: {event: first_login, within: 7d}
    on_timeout:
      - id: no-login
        task: {title: Call them, assignee: csm}
  - id: welcome
    after: 1d
    email: {template: welcome, to: [champion]}
    when: {health_band: [green]}
`), playbook.Options{BuiltinTemplates: []string{"welcome"}})
	require.NoError(t, err)
	quiet := draw(t, sampleInput(def, "smb"))
	require.Equal(t, "", quiet.lane(t, "no first_login within 1w").state, "no login: the timeout branch ran")
	require.Equal(t, "", quiet.mark(t, "no-login").state)
	require.Equal(t, stateSkipped, quiet.mark(t, "welcome (skipped)").state, "no health: its when did not hold")

	in := sampleInput(def, "smb")
	in.Events = []Event{{Name: "first_login", At: playbook.Duration(2 * playbook.Day)}}
	loggedIn := draw(t, in)
	require.Equal(t, stateNotTaken, loggedIn.lane(t, "no first_login within 1w (not taken)").state)
	require.Equal(t, stateNotTaken, loggedIn.mark(t, "no-login").state)
}

// Every label of every built-in's picture, and a label at the very end of
// the axis, stay inside the canvas.
func TestSVGLabelsFit(t *testing.T) {
	for key, def := range builtins(t) {
		for _, segment := range accounts.Segments {
			t.Run(key+"/"+segment, func(t *testing.T) {
				requireInside(t, draw(t, sampleInput(def, segment)))
			})
		}
	}
	long := strings.Repeat("x", 60)
	def, err := playbook.Parse([]byte(`
key: late
name: A playbook whose last step has a long name
steps:
  - id: first
    at: 0d
    task: {title: T, assignee: csm}
  - id: `+long+`
    at: 90d
    task: {title: T, assignee: csm}
`), playbook.Options{})
	require.NoError(t, err)
	d := draw(t, sampleInput(def, "smb"))
	d.mark(t, long)
	requireInside(t, d)
}

// Every mark has a tooltip (its <title>), and Marks lists the same steps
// in words, untruncated, for screens that cannot hover; the picture claims
// no hovering it cannot keep where it is an image.
func TestMarksListWhatTheTooltipsSay(t *testing.T) {
	for _, key := range []string{"renewal", "onboarding"} {
		in := sampleInput(builtins(t)[key], "enterprise")
		res, err := Run(in)
		require.NoError(t, err)
		svg := SVG(key, in, res, AxisDays)
		d := parseSVG(t, svg)
		marks := Marks(in, res, AxisDays)
		require.Len(t, marks, len(d.marks), key)
		require.NotContains(t, svg, "hover", key)
		for i, m := range d.marks {
			require.NotEmpty(t, m.tip, "%s: mark %q has a title", key, m.text)
			head, rest, _ := strings.Cut(m.tip, "\n")
			require.True(t, strings.HasPrefix(head, marks[i].At+" · "+marks[i].Kind+" · "+marks[i].Label), "%q vs %+v", head, marks[i])
			if rest != "" {
				require.Equal(t, rest, strings.Join(marks[i].Detail, "\n"))
			}
		}
	}
}
