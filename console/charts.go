package console

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/store"
)

// Charts are drawn on the server as inline SVG (the CSP allows it; no
// chart library, no script): the handlers compute the geometry, the
// templates write the elements, escaped like any other text.

// Geometry of the health chart, in SVG user units (it scales to its box).
const (
	chartWidth  = 560
	chartHeight = 250
	plotLeft    = 52
	plotRight   = chartWidth - 36 // room for the last date's label
	plotTop     = 14
	plotBottom  = chartHeight - 44
)

type chart struct {
	Title, Desc string
	Empty       bool
	Width       int
	Height      int
	Left, Right float64 // the plot area
	Top, Bottom float64
	Line        string // polyline points
	Points      []chartPoint
	Areas       []chartArea
	Thresholds  []chartRule
	YTicks      []chartTick
	XTicks      []chartTick
	Zone        string // the time zone the dates are in
}

type chartPoint struct {
	X, Y  float64
	Band  string
	Label string
}

type chartArea struct {
	Y, H float64
	Band string
}

type chartRule struct {
	Y     float64
	Label string
}

type chartTick struct {
	Pos   float64
	Label string
}

// healthChart draws an account's health scores over time (oldest first)
// against the model's bands.
func healthChart(account string, history []store.HealthSnapshot, bands health.Bands, loc *time.Location) chart {
	c := chart{Title: "Health score of " + account, Width: chartWidth, Height: chartHeight, Zone: loc.String(),
		Left: plotLeft, Right: plotRight, Top: plotTop, Bottom: plotBottom, Empty: len(history) == 0}
	y := func(score float64) float64 {
		return round1(plotTop + (100-math.Max(0, math.Min(100, score)))/100*(plotBottom-plotTop))
	}
	// Each band from its lowest total up to the next band's; red from 0.
	// Orange only when the model has a fourth band.
	type edge struct {
		band string
		from int
	}
	edges := []edge{{health.Green, bands.Green}, {health.Yellow, bands.Yellow}}
	if bands.Orange > 0 {
		edges = append(edges, edge{health.Orange, bands.Orange})
	}
	top := 100
	var words []string
	for _, e := range edges {
		c.Areas = append(c.Areas, chartArea{Y: y(float64(top)), H: y(float64(e.from)) - y(float64(top)), Band: e.band})
		label := fmt.Sprintf("%s from %d", e.band, e.from)
		c.Thresholds = append(c.Thresholds, chartRule{Y: y(float64(e.from)), Label: label})
		words = append(words, label)
		top = e.from
	}
	c.Areas = append(c.Areas, chartArea{Y: y(float64(top)), H: y(0) - y(float64(top)), Band: health.Red})
	for _, v := range []float64{0, 25, 50, 75, 100} {
		c.YTicks = append(c.YTicks, chartTick{Pos: y(v), Label: fmt.Sprint(v)})
	}
	bandWords := strings.Join(append(words, "red below"), ", ")
	if c.Empty {
		c.Desc = "No health snapshot yet. Bands: " + bandWords + "."
		return c
	}
	first, last := history[0].MeasuredAt, history[len(history)-1].MeasuredAt
	span := last.Sub(first)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return round1((plotLeft + plotRight) / 2)
		}
		return round1(plotLeft + float64(t.Sub(first))/float64(span)*(plotRight-plotLeft))
	}
	var line []string
	for _, s := range history {
		p := chartPoint{X: x(s.MeasuredAt), Y: y(s.Score), Band: s.Band,
			Label: fmt.Sprintf("%s: %s (%s)", s.MeasuredAt.In(loc).Format("2 Jan 2006 15:04 MST"), score(s.Score), s.Band)}
		c.Points = append(c.Points, p)
		line = append(line, fmt.Sprintf("%g,%g", p.X, p.Y))
	}
	c.Line = strings.Join(line, " ")
	layout := "2 Jan"
	if span < 48*time.Hour {
		layout = "2 Jan 15:04"
	}
	if span <= 0 {
		c.XTicks = []chartTick{{Pos: x(first), Label: first.In(loc).Format(layout)}}
	} else {
		for i := 0; i <= 3; i++ {
			t := first.Add(span * time.Duration(i) / 3)
			c.XTicks = append(c.XTicks, chartTick{Pos: x(t), Label: t.In(loc).Format(layout)})
		}
	}
	latest := history[len(history)-1]
	c.Desc = fmt.Sprintf("%d snapshots from %s to %s; the latest is %s (%s). Bands: %s.", len(history),
		first.In(loc).Format("2 Jan 2006"), last.In(loc).Format("2 Jan 2006"), score(latest.Score), latest.Band, bandWords)
	return c
}

func score(v float64) string { return fmt.Sprintf("%g", math.Round(v*10)/10) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// bandCounts are accounts or runs by health band.
type bandCounts struct{ green, yellow, orange, red, unscored int }

func (b bandCounts) total() int { return b.green + b.yellow + b.orange + b.red + b.unscored }

// bandChart draws counts by band, best first, with their shares. The orange
// row is drawn when orange says so (a four-band model, or some counted:
// snapshots keep the band their model gave), so three-band charts stay as
// they were.
func bandChart(title string, b bandCounts, orange bool) bars {
	labels := []string{"Green", "Yellow", "Orange", "Red", "Not scored"}
	classes := []string{health.Green, health.Yellow, health.Orange, health.Red, "none"}
	counts := []float64{float64(b.green), float64(b.yellow), float64(b.orange), float64(b.red), float64(b.unscored)}
	if !orange {
		labels, classes, counts = slices.Delete(labels, 2, 3), slices.Delete(classes, 2, 3), slices.Delete(counts, 2, 3)
	}
	values := make([]string, len(counts))
	for i, n := range counts {
		values[i] = fmt.Sprintf("%d (%s)", int(n), share(n, float64(b.total())))
	}
	return barChart(title, labels, values, classes, counts, 0)
}

// bars is a horizontal bar chart: one labelled bar per value. Its labels
// and values are measured, and long labels wrapped, so that none is cut
// off: the chart widens instead, and its viewBox scales it to its box.
type bars struct {
	Title, Desc string
	Width       int
	Height      int
	LabelWidth  int
	Rows        []bar
	// Reference draws a rule at a value (100 % for retention).
	Reference *chartTick
	max, room float64 // the largest value and the bars' room, for x
}

type bar struct {
	Label, Value, Class string
	Y, W                float64 // the bar's top and width
	Lines               []barLine
}

// barLine is a line of a bar's label, at its baseline.
type barLine struct {
	Text string
	Y    float64
}

const (
	barsWidth      = 560
	barsLabelMin   = 60  // the label column at its narrowest
	barsLabelMax   = 200 // longer labels wrap
	barsValueMin   = 110 // room right of a bar for its value
	barsRoomMin    = 150 // the bars' own room, at the least
	barsHeight     = 30  // a row with a one-line label
	barsLineHeight = 14
	barsFont       = 12 // px, as console.css draws chart text
)

// textWidth estimates how wide text is drawn at size px: no common sans
// face (system-ui, DejaVu, Roboto, Segoe) averages wider than 0.65 em a
// character, so a label measured this way fits its room.
func textWidth(s string, size float64) float64 {
	return float64(utf8.RuneCountInString(s)) * size * 0.65
}

// wrapLabel breaks a label into lines no wider than width: at spaces, and
// inside a word only when the word alone is wider (outcomes such as
// "exited:champion-left" have no spaces).
func wrapLabel(label string, width float64) []string {
	perLine := max(1, int(width/(barsFont*0.65)))
	var lines []string
	line := ""
	for _, word := range strings.Fields(label) {
		for utf8.RuneCountInString(word) > perLine {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			r := []rune(word)
			lines, word = append(lines, string(r[:perLine])), string(r[perLine:])
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= perLine:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// barChart draws values (at most max; max 0 is the largest value) as bars.
func barChart(title string, labels, values, classes []string, amounts []float64, max float64) bars {
	labelW, valueW := float64(barsLabelMin), float64(barsValueMin)
	wrapped := make([][]string, len(labels))
	for i, l := range labels {
		wrapped[i] = wrapLabel(l, barsLabelMax-12)
		for _, line := range wrapped[i] {
			labelW = math.Max(labelW, math.Ceil(textWidth(line, barsFont))+12)
		}
		valueW = math.Max(valueW, math.Ceil(textWidth(values[i], barsFont))+10)
	}
	width := math.Max(barsWidth, labelW+barsRoomMin+valueW)
	b := bars{Title: title, Width: int(width), LabelWidth: int(labelW), room: width - labelW - valueW}
	for _, a := range amounts {
		max = math.Max(max, a)
	}
	b.max = max
	var desc []string
	y := 0.0
	for i, a := range amounts {
		w := 0.0
		if max > 0 {
			w = round1(a / max * b.room)
		}
		n := float64(len(wrapped[i]))
		rowH := math.Max(barsHeight, n*barsLineHeight+10)
		top := y + 4 + (rowH-barsHeight)/2 // the bar, centred on its label
		row := bar{Label: labels[i], Value: values[i], Class: classes[i], Y: top, W: w}
		first := top + 15 - (n-1)*barsLineHeight/2
		for j, line := range wrapped[i] {
			row.Lines = append(row.Lines, barLine{Text: line, Y: round1(first + float64(j)*barsLineHeight)})
		}
		b.Rows = append(b.Rows, row)
		desc = append(desc, labels[i]+": "+values[i])
		y += rowH
	}
	b.Height = int(math.Ceil(y)) + 8
	b.Desc = strings.Join(desc, "; ") + "."
	return b
}

// x is where a value falls on the chart.
func (b bars) x(v float64) float64 {
	if b.max <= 0 {
		return float64(b.LabelWidth)
	}
	return round1(float64(b.LabelWidth) + v/b.max*b.room)
}
