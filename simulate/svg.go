package simulate

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"time"
)

// lanes of the picture, top to bottom; everything else goes in "other".
var lanes = []struct {
	name, colour string
	actions      []string
}{
	{"email", "#2b7bb9", []string{"email"}},
	{"task", "#d9822b", []string{"task"}},
	{"approval", "#8e44ad", []string{"approval", "escalation", "decision"}},
	{"waits & checks", "#5c7080", []string{"check_health", "event", "update_account", "start_playbook", "notify", "wait"}},
}

// SVG draws a timeline for CS ops: days on the horizontal axis, a lane each
// for emails, tasks, approvals and the rest; each mark is labelled with its
// step and shows the detail on hover.
func SVG(title string, res Result, start time.Time) string {
	const (
		width, left, right = 1280.0, 130.0, 170.0
		top, laneHeight    = 60.0, 110.0
	)
	height := top + laneHeight*float64(len(lanes)) + 50
	minDay, maxDay := 0.0, 1.0
	for _, e := range res.Timeline {
		d := e.At.Sub(start).Hours() / 24
		minDay, maxDay = math.Min(minDay, math.Floor(d)), math.Max(maxDay, math.Ceil(d))
	}
	x := func(day float64) float64 { return left + (day-minDay)/(maxDay-minDay)*(width-left-right) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="20" y="30" font-size="18" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="20" y="48" font-size="12" fill="#5c7080">outcome: %s · %d entries</text>`+"\n", html.EscapeString(res.Outcome), len(res.Timeline))

	// Day grid and axis.
	step := tickStep(maxDay - minDay)
	axisY := top + laneHeight*float64(len(lanes))
	for d := math.Ceil(minDay/step) * step; d <= maxDay; d += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#e1e8ed"/>`+"\n", x(d), top, x(d), axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="11" text-anchor="middle" fill="#5c7080">day %s</text>`+"\n", x(d), axisY+18, dayLabel(d))
	}
	for i, lane := range lanes {
		y := top + laneHeight*float64(i)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#ced9e0"/>`+"\n", left, y+laneHeight, width-right, y+laneHeight)
		fmt.Fprintf(&b, `<text x="20" y="%.0f" font-size="13" fill="%s" font-weight="bold">%s</text>`+"\n", y+laneHeight/2, lane.colour, html.EscapeString(lane.name))
		var rowEnds []float64 // right end of the last label in each row
		for _, e := range res.Timeline {
			if !slices.Contains(lane.actions, e.Action) {
				continue
			}
			d := e.At.Sub(start).Hours() / 24
			px := x(d)
			label := e.StepID
			switch {
			case e.Action == "decision":
				label += ": " + e.Detail
			case label == "":
				label = strings.ReplaceAll(e.Action, "_", " ") + ": " + e.Detail
			}
			label = truncate(label, 34)
			// First row where this mark and its label fit; labels are about
			// 5.6 px a character at this size.
			row := 0
			for row < len(rowEnds) && rowEnds[row] > px-4 {
				row++
			}
			end := px + 10 + 5.6*float64(len([]rune(label)))
			if row == len(rowEnds) {
				rowEnds = append(rowEnds, end)
			} else {
				rowEnds[row] = end
			}
			cy := y + 16 + float64(row%6)*15
			tip := fmt.Sprintf("%s · %s · %s", e.Offset, e.Action, e.Detail)
			if len(e.To) > 0 {
				tip += " → " + strings.Join(e.To, ", ")
			}
			fmt.Fprintf(&b, `<g><title>%s</title><circle cx="%.1f" cy="%.1f" r="4.5" fill="%s"/>`, html.EscapeString(tip), px, cy, lane.colour)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#182026">%s</text></g>`+"\n", px+7, cy+3.5, html.EscapeString(label))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func tickStep(span float64) float64 {
	switch {
	case span <= 21:
		return 1
	case span <= 100:
		return 7
	default:
		return 14
	}
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
