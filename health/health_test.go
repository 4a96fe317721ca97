package health

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func f(v float64) *float64 { return &v }
func b(v bool) *bool       { return &v }
func s(v string) *string   { return &v }

// The examples are worked by hand from seed 003's formulas; the comments show
// the arithmetic so a reader can check it without the code.
func TestSeed003Examples(t *testing.T) {
	model := Presets["seed-003"]
	tests := []struct {
		name    string
		in      Inputs
		points  map[string]float64
		score   int
		band    string
		leftOut []string
	}{
		{
			name: "every input",
			in: Inputs{
				// usage: (80/100*.4 + 12/20*.3 + 4/5*.3) * 30 = (.32+.18+.24)*30 = 22.2
				ActiveUsers: f(80), LicensedUsers: f(100), FeaturesUsed: f(12), TotalFeatures: f(20),
				LoginsPerWeek: f(4), ExpectedLoginsPerWeek: f(5),
				// engagement: (.5*.3 + .8*.25 + 1*.25 + 1*.2) * 25 = .8*25 = 20 (7 days ago: full recency)
				EmailResponseRate: f(0.5), MeetingAttendanceRate: f(0.8), QBRParticipation: b(true), DaysSinceLastContact: f(7),
				// support: ((1-5/10)*.3 + (1-1/10)*.3 + 4.5/5*.4) * 20 = (.15+.27+.36)*20 = 15.6
				TicketVolume: f(5), TicketBaseline: f(10), CriticalTickets: f(1), TotalTickets: f(10), SupportCSAT: f(4.5),
				// satisfaction: ((40+100)/200*.5 + 4/5*.3 + .6*.2) * 15 = (.35+.24+.12)*15 = 10.65
				NPS: f(40), CSAT: f(4), Sentiment: f(0.6),
				// financial: (1*.4 + (.1/.2)*.3 + 0*.3) * 10 = .55*10 = 5.5
				PaymentStatus: s("current"), ExpansionRevenueRatio: f(0.1), RenewalBudgetConfirmed: b(false),
			},
			// 22.2 + 20 + 15.6 + 10.65 + 5.5 = 73.95 → 74, yellow (50-79)
			points:  map[string]float64{"usage": 22.2, "engagement": 20, "support": 15.6, "satisfaction": 10.65, "financial": 5.5},
			score:   74,
			band:    Yellow,
			leftOut: []string{},
		},
		{
			name: "usage and support only: renormalised over 50 points",
			in: Inputs{
				// usage: (.2*.4 + .1*.3 + .2*.3) * 30 = .17*30 = 5.1
				ActiveUsers: f(20), LicensedUsers: f(100), FeaturesUsed: f(2), TotalFeatures: f(20),
				LoginsPerWeek: f(1), ExpectedLoginsPerWeek: f(5),
				// support: (0 (volume twice the baseline, floored) *.3 + .5*.3 + 2/5*.4) * 20 = .31*20 = 6.2
				TicketVolume: f(20), TicketBaseline: f(10), CriticalTickets: f(5), TotalTickets: f(10), SupportCSAT: f(2),
			},
			// (5.1 + 6.2) / 50 * 100 = 22.6 → 23, red (0-49)
			points: map[string]float64{"usage": 5.1, "support": 6.2},
			score:  23,
			band:   Red,
			leftOut: []string{
				"engagement.email_response", "engagement.meeting_attendance", "engagement.qbr_participation", "engagement.contact_recency", "engagement",
				"satisfaction.nps", "satisfaction.csat", "satisfaction.sentiment", "satisfaction",
				"financial.payment", "financial.expansion_revenue", "financial.renewal_budget", "financial",
			},
		},
		{
			name: "one term of a component: renormalised inside it",
			// usage: 90/100 alone = .9 * 30 = 27; total 27/30*100 = 90, green
			in:     Inputs{ActiveUsers: f(90), LicensedUsers: f(100)},
			points: map[string]float64{"usage": 27},
			score:  90,
			band:   Green,
		},
		{
			name: "ratios above 1 count as full, recency past 60 days as nothing",
			// usage: logins 12/5 → 1 → 30 points; engagement: recency 0 → 0 points; (30+0)/55 = 54.5 → 55
			in:     Inputs{LoginsPerWeek: f(12), ExpectedLoginsPerWeek: f(5), DaysSinceLastContact: f(90)},
			points: map[string]float64{"usage": 30, "engagement": 0},
			score:  55,
			band:   Yellow,
		},
		{
			name: "late payment is half",
			// financial: .5 alone → 50
			in:     Inputs{PaymentStatus: s("late")},
			points: map[string]float64{"financial": 5},
			score:  50,
			band:   Yellow,
		},
		{name: "upstream 79.5 rounds into green", in: Inputs{Score: f(79.5)}, score: 80, band: Green, points: map[string]float64{}},
		{name: "upstream 49.4 is red", in: Inputs{Score: f(49.4)}, score: 49, band: Red, points: map[string]float64{}},
		{name: "upstream 50 is yellow", in: Inputs{Score: f(50)}, score: 50, band: Yellow, points: map[string]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := tt.in.Validate(); len(errs) > 0 {
				t.Fatalf("inputs invalid: %v", errs)
			}
			r := model.Score(tt.in)
			if r.Score != tt.score || r.Band != tt.band {
				t.Errorf("score %d %s, want %d %s", r.Score, r.Band, tt.score, tt.band)
			}
			got := map[string]float64{}
			for _, c := range r.Components {
				got[c.Name] = c.Points
			}
			if len(got) != len(tt.points) {
				t.Errorf("components %v, want %v", got, tt.points)
			}
			for name, want := range tt.points {
				if got[name] != want {
					t.Errorf("%s: %v points, want %v", name, got[name], want)
				}
			}
			if tt.leftOut != nil && !slices.Equal(r.LeftOut, tt.leftOut) {
				t.Errorf("left out %v, want %v", r.LeftOut, tt.leftOut)
			}
			if want := len(tt.points) < 5 && !r.Upstream; r.Renormalised != want {
				t.Errorf("renormalised %v, want %v", r.Renormalised, want)
			}
		})
	}
}

func TestPresetBands(t *testing.T) {
	tests := []struct {
		preset string
		score  int
		want   string
	}{
		{"seed-003", 80, Green}, {"seed-003", 79, Yellow}, {"seed-003", 50, Yellow}, {"seed-003", 49, Red},
		{"seed-000", 71, Green}, {"seed-000", 70, Yellow}, {"seed-000", 50, Yellow}, {"seed-000", 49, Red},
		{"seed-001", 80, Green}, {"seed-001", 60, Yellow}, {"seed-001", 59, Red},
		{"seed-002", 80, Green}, {"seed-002", 79, Yellow}, {"seed-002", 60, Yellow}, {"seed-002", 59, Red},
		{"seed-004", 90, Green}, {"seed-004", 89, Yellow}, {"seed-004", 70, Yellow},
		{"seed-004", 69, Orange}, {"seed-004", 50, Orange}, {"seed-004", 49, Red}, {"seed-004", 0, Red},
	}
	for _, tt := range tests {
		if got := Presets[tt.preset].Bands.Band(tt.score); got != tt.want {
			t.Errorf("%s: %d is %s, want %s", tt.preset, tt.score, got, tt.want)
		}
	}
	for name, m := range Presets {
		if err := m.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

func TestBandsBand(t *testing.T) {
	three := Bands{Green: 80, Yellow: 50}
	four := Bands{Green: 80, Yellow: 60, Orange: 40}
	tests := []struct {
		name  string
		bands Bands
		total int
		want  string
	}{
		{"three: top", three, 100, Green},
		{"three: green edge", three, 80, Green},
		{"three: below green", three, 79, Yellow},
		{"three: yellow edge", three, 50, Yellow},
		{"three: below yellow is red, no orange", three, 49, Red},
		{"three: zero", three, 0, Red},
		{"four: green edge", four, 80, Green},
		{"four: yellow edge", four, 60, Yellow},
		{"four: below yellow is orange", four, 59, Orange},
		{"four: orange edge", four, 40, Orange},
		{"four: below orange is red", four, 39, Red},
		{"four: zero", four, 0, Red},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.bands.Band(tt.total); got != tt.want {
				t.Errorf("Band(%d) = %s, want %s", tt.total, got, tt.want)
			}
		})
	}
	if got := three.Names(); !slices.Equal(got, []string{Green, Yellow, Red}) {
		t.Errorf("three bands' names %v", got)
	}
	if got := four.Names(); !slices.Equal(got, BandNames) {
		t.Errorf("four bands' names %v", got)
	}
}

func TestBandRank(t *testing.T) {
	order := []string{Red, Orange, Yellow, Green} // worst first
	for i, band := range order {
		if r, ok := BandRank(band); !ok || r != i {
			t.Errorf("BandRank(%s) = %d %v, want %d", band, r, ok, i)
		}
	}
	for _, band := range []string{"", "none", "purple"} {
		if _, ok := BandRank(band); ok {
			t.Errorf("BandRank(%q) ranks a non-band", band)
		}
	}
}

// Orange is left out of JSON and YAML when zero, so three-band models read
// and write as before; a four-band model keeps it.
func TestBandsEncoding(t *testing.T) {
	tests := []struct {
		bands    Bands
		json     string
		yamlText string
	}{
		{Bands{Green: 80, Yellow: 50}, `{"green":80,"yellow":50}`, "green: 80\nyellow: 50\n"},
		{Bands{Green: 90, Yellow: 70, Orange: 50}, `{"green":90,"yellow":70,"orange":50}`, "green: 90\nyellow: 70\norange: 50\n"},
	}
	for _, tt := range tests {
		j, err := json.Marshal(tt.bands)
		if err != nil || string(j) != tt.json {
			t.Errorf("JSON %s %v, want %s", j, err, tt.json)
		}
		y, err := yaml.Marshal(tt.bands)
		if err != nil || string(y) != tt.yamlText {
			t.Errorf("YAML %q %v, want %q", y, err, tt.yamlText)
		}
	}
}

func TestValidateBands(t *testing.T) {
	components := Presets["seed-003"].Components
	tests := []struct {
		name  string
		bands Bands
		want  []string // "" when valid
	}{
		{"three bands", Bands{Green: 80, Yellow: 50}, nil},
		{"four bands", Bands{Green: 90, Yellow: 70, Orange: 50}, nil},
		{"orange just under yellow", Bands{Green: 90, Yellow: 70, Orange: 69}, nil},
		{"orange equal to yellow", Bands{Green: 90, Yellow: 70, Orange: 70},
			[]string{"bands.orange: need 0 < orange < yellow (leave orange out for three bands), got orange 70, yellow 70"}},
		{"orange above yellow", Bands{Green: 90, Yellow: 70, Orange: 80}, []string{"bands.orange", "got orange 80, yellow 70"}},
		{"orange negative", Bands{Green: 90, Yellow: 70, Orange: -5}, []string{"bands.orange", "got orange -5"}},
		{"orange with bad yellow", Bands{Green: 60, Yellow: 70, Orange: 50}, []string{"bands: need 0 < yellow < green <= 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Model{Name: "m", Components: components, Bands: tt.bands}.Validate()
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %v, want it to say %q", err, want)
				}
			}
		})
	}
}

// Worked by hand from the presets' terms, as for seed 003 above.
func TestSeed002And004Examples(t *testing.T) {
	tests := []struct {
		preset string
		in     Inputs
		points map[string]float64
		score  int
		band   string
	}{
		{
			preset: "seed-002",
			in: Inputs{
				// usage: (4/5*.25 + 60/100*.25 + 10/20*.5) * 40 = (.2+.15+.25)*40 = 24
				LoginsPerWeek: f(4), ExpectedLoginsPerWeek: f(5), ActiveUsers: f(60), LicensedUsers: f(100),
				FeaturesUsed: f(10), TotalFeatures: f(20),
				// performance: ((.1/.2)*.5 + (20+100)/200*.5) * 30 = (.25+.3)*30 = 16.5
				ExpansionRevenueRatio: f(0.1), NPS: f(20),
				// engagement: (4/5 + .6 + .5 + 1 + 1 (7 days)) / 5 * 20 = .78*20 = 15.6
				SupportCSAT: f(4), MeetingAttendanceRate: f(0.6), EmailResponseRate: f(0.5), QBRParticipation: b(true), DaysSinceLastContact: f(7),
				// risk: ((1-5/10) + (1-2/10) + 0 + 1) / 4 * 10 = 2.3/4*10 = 5.75
				TicketVolume: f(5), TicketBaseline: f(10), CriticalTickets: f(2), TotalTickets: f(10),
				RenewalBudgetConfirmed: b(false), PaymentStatus: s("current"),
			},
			// 24 + 16.5 + 15.6 + 5.75 = 61.85 → 62, yellow ("at risk", 60-79)
			points: map[string]float64{"usage": 24, "performance": 16.5, "engagement": 15.6, "risk": 5.75},
			score:  62,
			band:   Yellow,
		},
		{
			preset: "seed-004",
			in: Inputs{
				// usage: (3/5*.5 + 8/20*.5) * 30 = (.3+.2)*30 = 15
				LoginsPerWeek: f(3), ExpectedLoginsPerWeek: f(5), FeaturesUsed: f(8), TotalFeatures: f(20),
				// engagement: ((1-8/10)*.5 + .6*.5) * 25 = (.1+.3)*25 = 10
				TicketVolume: f(8), TicketBaseline: f(10), MeetingAttendanceRate: f(0.6),
				// performance: ((.1/.2)*.5 + 1*.5) * 25 = .75*25 = 18.75
				ExpansionRevenueRatio: f(0.1), RenewalBudgetConfirmed: b(true),
				// satisfaction: ((0+100)/200*.5 + 3.5/5*.5) * 20 = (.25+.35)*20 = 12
				NPS: f(0), CSAT: f(3.5),
			},
			// 15 + 10 + 18.75 + 12 = 55.75 → 56, orange ("high risk", 50-69)
			points: map[string]float64{"usage": 15, "engagement": 10, "performance": 18.75, "satisfaction": 12},
			score:  56,
			band:   Orange,
		},
		{
			preset: "seed-004",
			// usage alone: (1/5*.5 + 4/20*.5) = .2 → 20, red (0-49)
			in:     Inputs{LoginsPerWeek: f(1), ExpectedLoginsPerWeek: f(5), FeaturesUsed: f(4), TotalFeatures: f(20)},
			points: map[string]float64{"usage": 6},
			score:  20,
			band:   Red,
		},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d %s", tt.preset, tt.score, tt.band), func(t *testing.T) {
			if errs := tt.in.Validate(); len(errs) > 0 {
				t.Fatalf("inputs invalid: %v", errs)
			}
			r := Presets[tt.preset].Score(tt.in)
			if r.Score != tt.score || r.Band != tt.band {
				t.Errorf("score %d %s, want %d %s", r.Score, r.Band, tt.score, tt.band)
			}
			got := map[string]float64{}
			for _, c := range r.Components {
				got[c.Name] = c.Points
			}
			if !maps.Equal(got, tt.points) {
				t.Errorf("points %v, want %v", got, tt.points)
			}
		})
	}
}

func TestValidateInputs(t *testing.T) {
	tests := []struct {
		name   string
		in     Inputs
		fields []string
	}{
		{"nothing", Inputs{}, []string{""}},
		{"half a ratio", Inputs{ActiveUsers: f(3)}, []string{"licensed_users"}},
		{"out of range", Inputs{NPS: f(120), SupportCSAT: f(6), EmailResponseRate: f(45)}, []string{"nps", "support_csat", "email_response_rate"}},
		{"zero licences", Inputs{ActiveUsers: f(0), LicensedUsers: f(0)}, []string{"licensed_users"}},
		{"more critical than total", Inputs{CriticalTickets: f(4), TotalTickets: f(2)}, []string{"critical_tickets"}},
		{"bad payment", Inputs{PaymentStatus: s("paid")}, []string{"payment_status"}},
		{"score with metrics", Inputs{Score: f(70), NPS: f(10)}, []string{"score"}},
		{"fine", Inputs{NPS: f(-100)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range tt.in.Validate() {
				got = append(got, e.Field)
			}
			slices.Sort(got)
			want := slices.Clone(tt.fields)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields %v, want %v", got, want)
			}
		})
	}
}

func TestLoadModelFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "model.yaml")
	if err := os.WriteFile(good, []byte("name: ours\nbands: {green: 75, yellow: 40}\ncomponents:\n  - {name: usage, weight: 1, terms: [{measure: seat_utilisation, weight: 1}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(good)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Score(Inputs{ActiveUsers: f(3), LicensedUsers: f(4)}); r.Score != 75 || r.Band != Green {
		t.Errorf("custom model scored %d %s, want 75 green", r.Score, r.Band)
	}
	four := filepath.Join(dir, "four.yaml")
	if err := os.WriteFile(four, []byte("name: four\nbands: {green: 90, yellow: 70, orange: 50}\ncomponents:\n  - {name: usage, weight: 1, terms: [{measure: seat_utilisation, weight: 1}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err = LoadModel(four)
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Score(Inputs{ActiveUsers: f(3), LicensedUsers: f(5)}); r.Score != 60 || r.Band != Orange {
		t.Errorf("four-band model scored %d %s, want 60 orange", r.Score, r.Band)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"bands":{"green":40,"yellow":60},"components":[{"name":"u","weight":0,"terms":[{"measure":"logins","weight":1}]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadModel(bad)
	for _, want := range []string{"bands", "components[0].weight", `unknown "logins"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	if _, err := LoadModel("seed-999"); err == nil || !strings.Contains(err.Error(), "seed-003") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestSnapshotSignals(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	users := func(days int, n float64) Measurement {
		return Measurement{At: at.AddDate(0, 0, -days), Inputs: Inputs{ActiveUsers: f(n), LicensedUsers: f(100)}}
	}
	// Ten percent over 60 days instead of the seed's quarter over 30.
	sensitive := SignalThresholds{UsageDeclinePercent: 10, UsageDeclineWindow: 60 * 24 * time.Hour,
		SupportSpikeTickets: 3, SupportSpikeWindow: 14 * 24 * time.Hour}
	tests := []struct {
		name       string
		in         Inputs
		earlier    []Measurement
		thresholds SignalThresholds
		want       []string
	}{
		{"down a quarter from the peak in 30 days", Inputs{ActiveUsers: f(60), LicensedUsers: f(100)}, []Measurement{users(20, 80), users(10, 70)}, SignalThresholds{}, []string{UsageDecline}},
		{"down less than a quarter", Inputs{ActiveUsers: f(61), LicensedUsers: f(100)}, []Measurement{users(20, 80)}, SignalThresholds{}, nil},
		{"the peak is older than 30 days", Inputs{ActiveUsers: f(10), LicensedUsers: f(100)}, []Measurement{users(31, 80), users(5, 11)}, SignalThresholds{}, nil},
		{"logins count when users are not measured", Inputs{LoginsPerWeek: f(3), ExpectedLoginsPerWeek: f(5)},
			[]Measurement{{At: at.AddDate(0, 0, -7), Inputs: Inputs{LoginsPerWeek: f(4), ExpectedLoginsPerWeek: f(5)}}}, SignalThresholds{}, []string{UsageDecline}},
		{"overdue payment", Inputs{PaymentStatus: s("overdue")}, nil, SignalThresholds{}, []string{PaymentOverdue}},
		{"no history", Inputs{ActiveUsers: f(1), LicensedUsers: f(100)}, nil, SignalThresholds{}, nil},
		{"configured: down 10 percent is a decline", Inputs{ActiveUsers: f(72), LicensedUsers: f(100)}, []Measurement{users(20, 80)}, sensitive, []string{UsageDecline}},
		{"configured: a peak 45 days back is in the window", Inputs{ActiveUsers: f(10), LicensedUsers: f(100)}, []Measurement{users(45, 80), users(5, 11)}, sensitive, []string{UsageDecline}},
		{"configured: down 9 percent is not", Inputs{ActiveUsers: f(73), LicensedUsers: f(100)}, []Measurement{users(20, 80)}, sensitive, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SnapshotSignals(at, tt.in, tt.earlier, tt.thresholds); !slices.Equal(got, tt.want) {
				t.Errorf("signals %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSignalThresholdsCheck(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		t    SignalThresholds
		want string // "" when valid
	}{
		{"defaults", DefaultSignalThresholds, ""},
		{"zero percent", SignalThresholds{0, 30 * day, 3, 14 * day}, "usage decline percent"},
		{"a hundred percent", SignalThresholds{100, 30 * day, 3, 14 * day}, "usage decline percent"},
		{"window under a day", SignalThresholds{25, time.Hour, 3, 14 * day}, "usage decline window"},
		{"no tickets", SignalThresholds{25, 30 * day, 0, 14 * day}, "support spike tickets"},
		{"spike window under a day", SignalThresholds{25, 30 * day, 3, 0}, "support spike window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.t.Check()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Check() = %v, want %q", err, tt.want)
			}
		})
	}
	if (SignalThresholds{}).OrDefault() != DefaultSignalThresholds {
		t.Error("the zero thresholds are not the defaults")
	}
}

func TestExpansionReady(t *testing.T) {
	model := Presets["seed-003"]
	tests := []struct {
		name string
		in   Inputs
		want bool
	}{
		{"healthy with broad feature use", Inputs{ActiveUsers: f(85), LicensedUsers: f(100), FeaturesUsed: f(18), TotalFeatures: f(20)}, true},
		{"healthy with seats nearly full", Inputs{ActiveUsers: f(90), LicensedUsers: f(100)}, true},
		{"healthy but neither", Inputs{ActiveUsers: f(85), LicensedUsers: f(100), FeaturesUsed: f(14), TotalFeatures: f(20), LoginsPerWeek: f(5), ExpectedLoginsPerWeek: f(5)}, false},
		{"not healthy enough", Inputs{ActiveUsers: f(86), LicensedUsers: f(100), PaymentStatus: s("overdue")}, false},
	}
	for _, tt := range tests {
		r := model.Score(tt.in)
		if got := ExpansionReady(r, tt.in); got != tt.want {
			t.Errorf("%s: score %d, ready %v, want %v", tt.name, r.Score, got, tt.want)
		}
	}
}
