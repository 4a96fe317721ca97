package survey

import (
	"encoding/json"
	"testing"
)

// Figures apply the formulas to counts: nulls where nothing was sent or
// answered, all adds the segments up, and the counted NPS is the one of
// the scores.
func TestBySegment(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]Counts
		want   string // all's figures, then enterprise's
	}{
		{"nothing", nil,
			`{"segment":"all","sent":0,"answered":0,"response_rate_pct":null,"nps":null,"csat":null}` +
				`{"segment":"enterprise","sent":0,"answered":0,"response_rate_pct":null,"nps":null,"csat":null}`},
		{"answers without sends", map[string]Counts{"enterprise": {NPS: 1, Passives: 1}},
			`{"segment":"all","sent":0,"answered":0,"response_rate_pct":null,"nps":{"score":0,"responses":1,"promoters":0,"passives":1,"detractors":0},"csat":null}` +
				`{"segment":"enterprise","sent":0,"answered":0,"response_rate_pct":null,"nps":{"score":0,"responses":1,"promoters":0,"passives":1,"detractors":0},"csat":null}`},
		// all: 3 of 6 answered; NPS 2 promoters, 1 detractor of 3 = 33;
		// CSAT (4 + 4 + 5) / 3 = 4.3.
		{"two segments", map[string]Counts{
			"enterprise": {Sent: 3, Answered: 2, NPS: 2, Promoters: 2, CSAT: 1, CSATSum: 5},
			"smb":        {Sent: 3, Answered: 1, NPS: 1, Detractors: 1, CSAT: 2, CSATSum: 8},
		},
			`{"segment":"all","sent":6,"answered":3,"response_rate_pct":50,"nps":{"score":33,"responses":3,"promoters":2,"passives":0,"detractors":1},"csat":{"mean":4.3,"responses":3}}` +
				`{"segment":"enterprise","sent":3,"answered":2,"response_rate_pct":66.7,"nps":{"score":100,"responses":2,"promoters":2,"passives":0,"detractors":0},"csat":{"mean":5,"responses":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BySegment(tt.counts)
			if len(got) != 4 || got[0].Segment != AllSegments || got[1].Segment != "enterprise" || got[2].Segment != "mid_market" || got[3].Segment != "smb" {
				t.Fatalf("segments %+v", got)
			}
			a, _ := json.Marshal(got[0])
			e, _ := json.Marshal(got[1])
			if string(a)+string(e) != tt.want {
				t.Errorf("got\n%s%s\nwant\n%s", a, e, tt.want)
			}
			if Any(got) != (tt.counts != nil) {
				t.Errorf("Any = %v", Any(got))
			}
		})
	}
	// The counted NPS is the scores' NPS.
	if a, _ := NetPromoterScoreOf(1, 2, 3); a != -33 {
		t.Errorf("NetPromoterScoreOf(1, 2, 3) = %v", a)
	}
	if b, _ := NetPromoterScore([]int{9, 5, 5}); b != -33 {
		t.Errorf("NetPromoterScore = %v", b)
	}
}
