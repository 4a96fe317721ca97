package survey

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestCategory(t *testing.T) {
	tests := []struct {
		kind  string
		score int
		want  string
	}{
		{NPS, 10, Promoter}, {NPS, 9, Promoter}, {NPS, 8, Passive}, {NPS, 7, Passive}, {NPS, 6, Detractor}, {NPS, 0, Detractor},
		{CSAT, 5, Promoter}, {CSAT, 4, Promoter}, {CSAT, 3, Passive}, {CSAT, 2, Detractor}, {CSAT, 1, Detractor},
	}
	for _, tt := range tests {
		got, err := Category(tt.kind, tt.score)
		if err != nil || got != tt.want {
			t.Errorf("Category(%s, %d) = %q, %v; want %q", tt.kind, tt.score, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		kind  string
		score int
	}{{NPS, 11}, {NPS, -1}, {CSAT, 0}, {CSAT, 6}, {"ces", 3}} {
		if _, err := Category(bad.kind, bad.score); !errors.Is(err, ErrScore) {
			t.Errorf("Category(%s, %d): %v, want ErrScore", bad.kind, bad.score, err)
		}
	}
}

func TestScores(t *testing.T) {
	if got := Scores(NPS); len(got) != 11 || got[0] != 0 || got[10] != 10 {
		t.Errorf("NPS scores %v", got)
	}
	if got := Scores(CSAT); len(got) != 5 || got[0] != 1 || got[4] != 5 {
		t.Errorf("CSAT scores %v", got)
	}
	if Scores("ces") != nil {
		t.Error("an unknown kind has no scores")
	}
}

func TestNetPromoterScore(t *testing.T) {
	tests := []struct {
		scores []int
		want   float64
	}{
		{[]int{10, 9, 8, 3}, 25},            // 2 promoters, 1 detractor of 4
		{[]int{10, 10, 10}, 100},            // all promoters
		{[]int{0, 6}, -100},                 // all detractors
		{[]int{7, 8}, 0},                    // passives only
		{[]int{9, 5, 5}, -33},               // 1/3 - 2/3 = -33.3
		{[]int{9, 9, 5}, 33},                // 2/3 - 1/3
		{[]int{9, 9, 9, 9, 9, 5, 7, 8}, 50}, // 5/8 - 1/8 = 50
	}
	for _, tt := range tests {
		got, ok := NetPromoterScore(tt.scores)
		if !ok || got != tt.want {
			t.Errorf("NetPromoterScore(%v) = %v, %v; want %v", tt.scores, got, ok, tt.want)
		}
	}
	if _, ok := NetPromoterScore(nil); ok {
		t.Error("no scores, no NPS")
	}
	if got, ok := MeanCSAT([]int{5, 4, 4}); !ok || got != 4.3 {
		t.Errorf("MeanCSAT = %v, %v; want 4.3", got, ok)
	}
}

func TestLinksRoundTripAndTampering(t *testing.T) {
	links := NewLinks("a-signing-key-of-at-least-32-characters", "https://cs.example/")
	a := Answer{EmailID: uuid.New(), Kind: NPS, Score: 9}
	u, err := url.Parse(links.URL(a))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != Path || u.Host != "cs.example" {
		t.Fatalf("link %s", u)
	}
	token := u.Query().Get("token")
	got, err := links.Verify(token)
	if err != nil || got != a {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, a)
	}
	// Another score, kind or email under the same signature is refused, as
	// is another key's signature.
	other := NewLinks("another-signing-key-of-32-characters!!", "https://cs.example")
	cut := strings.LastIndexByte(token, '.')
	for name, bad := range map[string]string{
		"score":     strings.Replace(token[:cut], ".nps.9", ".nps.10", 1) + token[cut:],
		"kind":      strings.Replace(token[:cut], ".nps.9", ".csat.9", 1) + token[cut:],
		"email":     links.Token(Answer{EmailID: uuid.New(), Kind: NPS, Score: 9})[:cut] + token[cut:],
		"other key": other.Token(a),
		"no mac":    token[:cut],
		"empty":     "",
		"garbage":   "a.b.c.d",
		"leading 0": func() string { return signed(links, strings.Replace(token[:cut], ".nps.9", ".nps.09", 1)) }(),
		"off scale": links.Token(Answer{EmailID: a.EmailID, Kind: CSAT, Score: 9}),
	} {
		if _, err := links.Verify(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s: Verify(%q) = %v, want ErrBadToken", name, bad, err)
		}
	}
}

// signed signs a payload as Token would, to test what Verify does with a
// well-signed but malformed payload.
func signed(l *Links, payload string) string {
	return payload + "." + strings.TrimRight(encode(l.mac(payload)), "=")
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
