package survey

import "github.com/playbookd/playbookd/accounts"

// Counts is what reports count of surveys in SQL, for one segment: the
// formulas (response rate, NPS, mean CSAT) are applied here, once, to the
// counts rather than to every score.
type Counts struct {
	Sent       int // survey emails that went out (sent or captured)
	Answered   int // of those, the ones answered
	NPS        int // NPS answers
	Promoters  int // of the NPS answers
	Passives   int
	Detractors int
	CSAT       int // CSAT answers
	CSATSum    int // their scores added up
}

func (c *Counts) add(o Counts) {
	c.Sent += o.Sent
	c.Answered += o.Answered
	c.NPS += o.NPS
	c.Promoters += o.Promoters
	c.Passives += o.Passives
	c.Detractors += o.Detractors
	c.CSAT += o.CSAT
	c.CSATSum += o.CSATSum
}

// AllSegments names the row of Figures that adds every segment up.
const AllSegments = "all"

// Figures are a segment's survey figures as reports show them. The
// response rate is null when nothing was sent, NPS and CSAT when nothing
// was answered.
type Figures struct {
	Segment      string    `json:"segment"` // enterprise, mid_market, smb, or all
	Sent         int       `json:"sent"`
	Answered     int       `json:"answered"`
	ResponseRate *float64  `json:"response_rate_pct"` // answered / sent * 100, one decimal
	NPS          *NPSScore `json:"nps"`
	CSAT         *CSATMean `json:"csat"`
}

// NPSScore is the NPS of a segment's NPS answers, with their categories.
type NPSScore struct {
	Score      float64 `json:"score"`
	Responses  int     `json:"responses"`
	Promoters  int     `json:"promoters"`
	Passives   int     `json:"passives"`
	Detractors int     `json:"detractors"`
}

// CSATMean is the mean of a segment's CSAT answers.
type CSATMean struct {
	Mean      float64 `json:"mean"`
	Responses int     `json:"responses"`
}

// BySegment makes the figures of counts per segment: all first, then each
// segment in accounts.Segments' order, each always present so that clients
// see one shape. Counts of another segment count in all only.
func BySegment(counts map[string]Counts) []Figures {
	var all Counts
	for _, c := range counts {
		all.add(c)
	}
	out := []Figures{figuresOf(AllSegments, all)}
	for _, s := range accounts.Segments {
		out = append(out, figuresOf(s, counts[s]))
	}
	return out
}

// Any says whether figures counted anything: a survey sent or an answer.
func Any(figures []Figures) bool {
	for _, f := range figures {
		if f.Sent > 0 || f.NPS != nil || f.CSAT != nil {
			return true
		}
	}
	return false
}

func figuresOf(segment string, c Counts) Figures {
	f := Figures{Segment: segment, Sent: c.Sent, Answered: c.Answered}
	if c.Sent > 0 {
		rate := float64(int(float64(c.Answered)/float64(c.Sent)*1000+0.5)) / 10
		f.ResponseRate = &rate
	}
	if score, ok := NetPromoterScoreOf(c.Promoters, c.Detractors, c.NPS); ok {
		f.NPS = &NPSScore{Score: score, Responses: c.NPS, Promoters: c.Promoters, Passives: c.Passives, Detractors: c.Detractors}
	}
	if mean, ok := MeanCSATOf(c.CSATSum, c.CSAT); ok {
		f.CSAT = &CSATMean{Mean: mean, Responses: c.CSAT}
	}
	return f
}
