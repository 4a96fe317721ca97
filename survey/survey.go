// Package survey is what NPS and CSAT surveys share: the two kinds and their
// scales, the category of a score, the account-level figures a set of
// responses gives, and the signed links an email carries, one per score.
// It does no I/O.
package survey

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Kinds of survey.
const (
	NPS  = "nps"  // "How likely are you to recommend us?" 0-10
	CSAT = "csat" // "How satisfied are you?" 1-5
)

// Kinds lists the survey kinds, as the playbook language spells them.
var Kinds = []string{NPS, CSAT}

// Categories of a response. NPS defines them (promoter 9-10, passive 7-8,
// detractor 0-6); CSAT maps onto the same three (4-5, 3, 1-2) so that one
// follow-up play serves both.
const (
	Promoter  = "promoter"
	Passive   = "passive"
	Detractor = "detractor"
)

// Categories lists the categories, best first.
var Categories = []string{Promoter, Passive, Detractor}

// EventName is the account event a recorded response emits, with data
// {kind, score, category, step_id}.
const EventName = "survey_response"

// Scale is a kind's lowest and highest score.
func Scale(kind string) (lowest, highest int, ok bool) {
	switch kind {
	case NPS:
		return 0, 10, true
	case CSAT:
		return 1, 5, true
	}
	return 0, 0, false
}

// Scores are a kind's scores, lowest first.
func Scores(kind string) []int {
	lo, hi, ok := Scale(kind)
	if !ok {
		return nil
	}
	out := make([]int, 0, hi-lo+1)
	for s := lo; s <= hi; s++ {
		out = append(out, s)
	}
	return out
}

// ErrScore is a score outside its kind's scale, or an unknown kind.
var ErrScore = errors.New("score out of scale")

// Category is the category of a score.
func Category(kind string, score int) (string, error) {
	lo, hi, ok := Scale(kind)
	if !ok || score < lo || score > hi {
		return "", fmt.Errorf("%w: %s %d", ErrScore, kind, score)
	}
	switch {
	case kind == NPS && score >= 9, kind == CSAT && score >= 4:
		return Promoter, nil
	case kind == NPS && score >= 7, kind == CSAT && score == 3:
		return Passive, nil
	default:
		return Detractor, nil
	}
}

// NetPromoterScore is the account's NPS from its NPS scores: the percentage
// of promoters minus that of detractors, -100 to 100, rounded to a whole
// number; ok is false for no scores.
func NetPromoterScore(scores []int) (nps float64, ok bool) {
	if len(scores) == 0 {
		return 0, false
	}
	var promoters, detractors int
	for _, s := range scores {
		switch c, _ := Category(NPS, s); c {
		case Promoter:
			promoters++
		case Detractor:
			detractors++
		}
	}
	return NetPromoterScoreOf(promoters, detractors, len(scores))
}

// NetPromoterScoreOf is the NPS of counted answers: promoters and
// detractors among responses NPS answers. Reports count in SQL and call
// this, so that there is one formula.
func NetPromoterScoreOf(promoters, detractors, responses int) (nps float64, ok bool) {
	if responses <= 0 {
		return 0, false
	}
	return math.Round(float64(promoters-detractors) / float64(responses) * 100), true
}

// MeanCSAT is the mean of CSAT scores, one decimal; ok is false for none.
func MeanCSAT(scores []int) (mean float64, ok bool) {
	if len(scores) == 0 {
		return 0, false
	}
	sum := 0
	for _, s := range scores {
		sum += s
	}
	return MeanCSATOf(sum, len(scores))
}

// MeanCSATOf is the mean of responses CSAT scores that add up to sum, one
// decimal; reports sum in SQL and call this.
func MeanCSATOf(sum, responses int) (mean float64, ok bool) {
	if responses <= 0 {
		return 0, false
	}
	return math.Round(float64(sum)/float64(responses)*10) / 10, true
}

// MaxComment is how many characters a respondent's comment may have (the
// database checks it too).
const MaxComment = 2000

// ErrCommentTooLong is a comment over MaxComment characters.
var ErrCommentTooLong = errors.New("a comment holds at most 2000 characters")

// ErrBadToken is a survey link that is malformed or not ours.
var ErrBadToken = errors.New("invalid survey link")

// Links makes and checks the survey links of emails. A link names the
// outbox row the survey went out in (which says run, step and recipient),
// the kind and the score, under an HMAC: one link per score, unforgeable,
// and no lookup table.
type Links struct {
	key     []byte
	baseURL string
}

// NewLinks makes links under baseURL (the API's public address) signed with
// key (the same signing key as unsubscribe links; the MAC's domain differs).
func NewLinks(key, baseURL string) *Links {
	return &Links{key: []byte(key), baseURL: strings.TrimRight(baseURL, "/")}
}

// Answer is what a link says: the outbox row, kind and score.
type Answer struct {
	EmailID uuid.UUID
	Kind    string
	Score   int
}

// Path is where survey links point; GET shows the confirmation page, POST
// records.
const Path = "/v1/surveys/respond"

// Token signs an answer.
func (l *Links) Token(a Answer) string {
	payload := fmt.Sprintf("%s.%s.%d", base64.RawURLEncoding.EncodeToString(a.EmailID[:]), a.Kind, a.Score)
	return payload + "." + base64.RawURLEncoding.EncodeToString(l.mac(payload))
}

// URL is the link for one score of a survey email.
func (l *Links) URL(a Answer) string {
	return l.baseURL + Path + "?token=" + url.QueryEscape(l.Token(a))
}

// Verify returns the answer a token was made for.
func (l *Links) Verify(token string) (Answer, error) {
	cut := strings.LastIndexByte(token, '.')
	if cut < 0 {
		return Answer{}, ErrBadToken
	}
	payload, macPart := token[:cut], token[cut+1:]
	sig, err := base64.RawURLEncoding.DecodeString(macPart)
	if err != nil || !hmac.Equal(sig, l.mac(payload)) {
		return Answer{}, ErrBadToken
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return Answer{}, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(raw) != 16 {
		return Answer{}, ErrBadToken
	}
	var score int
	if _, err := fmt.Sscanf(parts[2], "%d", &score); err != nil || fmt.Sprint(score) != parts[2] {
		return Answer{}, ErrBadToken
	}
	a := Answer{EmailID: uuid.UUID(raw), Kind: parts[1], Score: score}
	if _, err := Category(a.Kind, a.Score); err != nil {
		return Answer{}, ErrBadToken
	}
	return a, nil
}

func (l *Links) mac(payload string) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("survey:"))
	m.Write([]byte(payload))
	return m.Sum(nil)[:16]
}
