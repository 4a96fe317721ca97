package simulate

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/playbookd/playbookd/playbook"
)

// Axis says how the picture labels its days.
type Axis int

const (
	AxisDays  Axis = iota // offsets from the start: "14d"
	AxisDates             // calendar dates: an account's own timeline
)

// Colours by step kind; waits and branches share the quiet ones.
var colours = map[string]string{
	playbook.KindEmail: "#2b7bb9", playbook.KindSurvey: "#2b7bb9", playbook.KindTask: "#d9822b", playbook.KindApproval: "#8e44ad",
	playbook.KindWait: "#5c7080", playbook.KindWaitFor: "#5c7080", playbook.KindRepeat: "#5c7080",
	playbook.KindIf: "#0d8050",
}

const otherColour = "#a67908" // check_health, update_account, start_playbook, notify

func colour(kind string) string {
	if c, ok := colours[kind]; ok {
		return c
	}
	return otherColour
}

// Sizes of the picture, in px.
const (
	plotWidth   = 720.0 // the picture is shown scaled to its box: kept compact
	labelSize   = 10.0
	laneSize    = 12.0
	axisSize    = 11.0
	titleSize   = 18.0
	noteSize    = 12.0
	lineHeight  = 16.0
	headerSpace = 86.0
	maxLabel    = 72 // runes; the tooltip and Marks have the rest
	maxTitle    = 44
)

// textWidth estimates how wide text is drawn in a sans-serif font: no
// glyph of the common faces is wider on average than 0.65 em (0.7 bold),
// so a label measured this way stays inside the picture.
func textWidth(s string, size float64, bold bool) float64 {
	em := 0.65
	if bold {
		em = 0.7
	}
	return float64(utf8.RuneCountInString(s)) * size * em
}

// SVG draws the definition of in on a day axis, a lane for the main steps
// and one for each branch (then/else, on_timeout, a repeat's steps), where
// the simulated run res put them; branches it did not take are faded,
// skipped steps hollow. Waits, approvals (to their last escalation
// deadline) and repeats are bars. The canvas widens so every label fits;
// its viewBox lets a page scale it to its box. Each mark has a <title>,
// the tooltip a browser shows where the picture is a document (opened on
// its own, inline, not in an <img>); Marks says the same in a list, for
// screens that cannot hover.
func SVG(title string, in Input, res Result, axis Axis) string {
	pic := layout(in, res, axis)

	// Lanes: depth for the indent of their titles, widest title for the margin.
	depth := make([]int, len(pic.lanes))
	titles := make([]string, len(pic.lanes))
	left := 130.0
	for i, l := range pic.lanes {
		if l.parent >= 0 {
			depth[i] = depth[l.parent] + 1
		}
		t := l.title
		if l.state != "" {
			t += " (" + l.state + ")"
		}
		titles[i] = truncate(t, maxTitle)
		left = max(left, 20+10*float64(depth[i])+textWidth(titles[i], laneSize, true)+20)
	}

	minDay, maxDay := 0.0, 1.0
	for _, l := range pic.lanes {
		for _, m := range l.marks {
			minDay, maxDay = math.Min(minDay, math.Floor(m.from)), math.Max(maxDay, math.Ceil(m.to))
		}
	}
	step := tickStep(maxDay-minDay, plotWidth)
	minDay, maxDay = math.Floor(minDay/step)*step, math.Ceil(maxDay/step)*step
	x := func(day float64) float64 { return left + (day-minDay)/(maxDay-minDay)*plotWidth }

	// Each mark goes on the first line of its lane where it and its label
	// fit after what is already there.
	type placed struct {
		mark
		lane, line   int
		px, pxEnd, w float64
		label        string
	}
	var marks []placed
	lines := make([]int, len(pic.lanes))
	width := left + plotWidth + 40
	for li, l := range pic.lanes {
		var ends []float64
		for _, m := range l.marks {
			p := placed{mark: m, lane: li, px: x(m.from), pxEnd: x(m.to), label: truncate(m.label, maxLabel)}
			if m.open {
				p.pxEnd = left + plotWidth
			}
			p.w = textWidth(p.label, labelSize, false)
			end := p.pxEnd + 7 + p.w // the label follows the mark, or its bar
			for p.line < len(ends) && ends[p.line] > p.px-4 {
				p.line++
			}
			if p.line == len(ends) {
				ends = append(ends, end)
			} else {
				ends[p.line] = end
			}
			width = math.Max(width, end+16)
			marks = append(marks, p)
		}
		lines[li] = max(len(ends), 1)
	}
	subtitle := fmt.Sprintf("outcome: %s · %d entries", res.Outcome, len(res.Timeline))
	if axis == AxisDates {
		subtitle = fmt.Sprintf("from %s (UTC) · ", in.Start.Format("Mon 2006-01-02 15:04")) + subtitle
	}
	key, keyEnd := legend()
	width = math.Max(width, keyEnd+20)
	width = math.Max(width, 20+textWidth(title, titleSize, true)+20)
	width = math.Max(width, 20+textWidth(subtitle, noteSize, false)+20)

	laneTop := make([]float64, len(pic.lanes))
	y := headerSpace
	for li := range pic.lanes {
		laneTop[li] = y
		y += 8 + float64(lines[li])*lineHeight + 8
	}
	axisY := y
	height := axisY + 32
	lineY := func(li, line int) float64 { return laneTop[li] + 8 + float64(line)*lineHeight + lineHeight/2 }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" preserveAspectRatio="xMinYMin meet" font-family="sans-serif">`+"\n", width, height, width, height)
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")
	fmt.Fprintf(&b, `<text x="20" y="30" font-size="%g" font-weight="bold">%s</text>`+"\n", titleSize, esc(title))
	fmt.Fprintf(&b, `<text x="20" y="50" font-size="%g" fill="#5c7080">%s</text>`+"\n", noteSize, esc(subtitle))
	b.WriteString(key)

	for li := range pic.lanes {
		if li%2 == 1 {
			fmt.Fprintf(&b, `<rect x="0" y="%.1f" width="%.0f" height="%.1f" fill="#f5f8fa"/>`+"\n", laneTop[li], width, 16+float64(lines[li])*lineHeight)
		}
	}
	for d := minDay; d <= maxDay; d += step {
		label := dayLabel(d)
		if axis == AxisDates {
			label = in.Start.Add(time.Duration(d * float64(playbook.Day))).Format("Jan 2")
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#e1e8ed"/>`+"\n", x(d), headerSpace, x(d), axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="%g" text-anchor="middle" fill="#5c7080">%s</text>`+"\n", x(d), axisY+18, axisSize, esc(label))
	}
	for li, l := range pic.lanes {
		fill := "#182026"
		if l.state != "" {
			fill = "#8a9ba8"
		}
		fmt.Fprintf(&b, `<g class="lane" data-state="%s"><title>%s</title><text x="%.0f" y="%.1f" font-size="%g" font-weight="bold" fill="%s">%s</text></g>`+"\n",
			esc(l.state), esc(l.title), 20+10*float64(depth[li]), lineY(li, 0)+4, laneSize, fill, esc(titles[li]))
		if l.parent >= 0 {
			fmt.Fprintf(&b, `<line class="branch" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#8a9ba8" stroke-dasharray="3 3"/>`+"\n",
				x(l.at), lineY(l.parent, 0)+5, x(l.at), lineY(li, 0)-5)
		}
	}
	for _, m := range marks {
		drawMark(&b, m.mark, m.px, m.pxEnd, lineY(m.lane, m.line), m.label, x)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func drawMark(b *strings.Builder, m mark, px, pxEnd, cy float64, label string, x func(float64) float64) {
	c := colour(m.kind)
	opacity := ""
	if m.state == stateNotTaken || m.state == stateNotReached {
		opacity = ` opacity="0.45"`
	}
	fmt.Fprintf(b, `<g class="mark" data-kind="%s" data-state="%s"%s><title>%s</title>`, m.kind, m.state, opacity, esc(m.tip))
	if pxEnd > px || m.open {
		dash := ""
		if m.open {
			dash = ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="12" rx="3" fill="%s" fill-opacity="0.15" stroke="%s" stroke-opacity="0.6"%s/>`,
			px, cy-6, math.Max(pxEnd-px, 1), c, c, dash)
		for _, t := range m.ticks {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, x(t), cy-6, x(t), cy+6, c)
		}
	}
	fill := c
	if m.state == stateSkipped {
		fill = "#ffffff"
	}
	if m.kind == playbook.KindIf {
		fmt.Fprintf(b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="%s"/>`,
			px, cy-5.5, px+5.5, cy, px, cy+5.5, px-5.5, cy, fill, c)
	} else {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4.5" fill="%s" stroke="%s"/>`, px, cy, fill, c)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="%g" fill="#182026">%s</text></g>`+"\n", pxEnd+7, cy+3.5, labelSize, esc(label))
}

// legend explains the colours and styles, under the title; it returns
// where it ends.
func legend() (string, float64) {
	var b strings.Builder
	xPos := 20.0
	for _, k := range []struct{ name, kind string }{
		{"email, survey", playbook.KindEmail}, {"task", playbook.KindTask}, {"approval", playbook.KindApproval},
		{"wait, repeat", playbook.KindWait}, {"if", playbook.KindIf}, {"other", ""},
	} {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="68" r="4.5" fill="%s"/><text x="%.1f" y="71.5" font-size="%g" fill="#5c7080">%s</text>`+"\n",
			xPos, colour(k.kind), xPos+8, labelSize, esc(k.name))
		xPos += 8 + textWidth(k.name, labelSize, false) + 16
	}
	note := "hollow: skipped (its when did not hold) · faded: a branch not taken, or not reached"
	fmt.Fprintf(&b, `<text x="%.1f" y="71.5" font-size="%g" fill="#5c7080">%s</text>`+"\n", xPos, labelSize, esc(note))
	return b.String(), xPos + textWidth(note, labelSize, false)
}

// tickStep picks the day grid: the first step whose ticks are at least
// 70 px apart, so date labels never overlap.
func tickStep(span, px float64) float64 {
	for _, s := range []float64{1, 2, 7, 14, 28, 56, 91, 182, 364} {
		if s/span*px >= 70 {
			return s
		}
	}
	return 728
}

// dayLabel labels the axis in day offsets, as `at` is written (seed "Day N"
// is offset N-1).
func dayLabel(d float64) string { return fmt.Sprintf("%gd", d) }

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }

// Mark is one step of the picture in words: the list beside it, for
// screens that cannot hover and for screen readers.
type Mark struct {
	Lane   string   // the lane's title: "steps", or the branch's
	At     string   // the offset ("14d 2h") or, on a calendar, the date and time
	Kind   string   // the step kind
	Label  string   // the step id and what it does, untruncated
	State  string   // "", skipped, not taken or not reached
	Detail []string // the rest of its tooltip: condition, email, task, outcome
}

// Marks lists what SVG draws, lane by lane, each mark as its tooltip has it.
func Marks(in Input, res Result, axis Axis) []Mark {
	var out []Mark
	for _, l := range layout(in, res, axis).lanes {
		title := l.title
		if l.state != "" {
			title += " (" + l.state + ")"
		}
		for _, m := range l.marks {
			out = append(out, Mark{Lane: title, At: m.at, Kind: m.kind, Label: m.label, State: m.state, Detail: m.detail})
		}
	}
	return out
}
