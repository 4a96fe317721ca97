package templates

import (
	"slices"
	"strings"
)

// Data is what a template sees. Fields describes it to CS ops; a test keeps
// the two in step, and Check holds templates to it.
type Data struct {
	Account Account
	Contact Person // the recipient; empty in a notify message
	CSM     Person // the account's CSM
	Health  Health // the latest health snapshot; zero before the first
	Metrics Metrics
	Survey  Survey // a survey step's; zero in any other email
}

// Survey is what a survey email shows: the question and one option per
// score, each with its signed link.
type Survey struct {
	Kind     string // nps or csat
	Question string
	Options  []SurveyOption // lowest score first: NPS 0-10, CSAT 1-5
}

// SurveyOption is one score of a survey and the link that answers it.
type SurveyOption struct {
	Score int
	Label string // the score in words: every CSAT score, an NPS scale's ends only
	URL   string // signed for this email, this kind and this score
}

// Account is the part of an account templates may use.
type Account struct {
	ID             string
	Name           string
	Segment        string
	ARR            float64
	LifecycleStage string
	RenewalDate    string // YYYY-MM-DD; "" when not set
	ContractStart  string // YYYY-MM-DD; "" when not set
	Fields         CustomFields
}

// Person is a contact or a team member.
type Person struct {
	Name  string
	Email string
}

// NoName is what FirstName gives for a person without a name, so that a
// greeting reads "Hi there,".
const NoName = "there"

// FirstName is the first word of the name, or NoName when the name is unknown.
func (p Person) FirstName() string {
	if f := strings.Fields(p.Name); len(f) > 0 {
		return f[0]
	}
	return NoName
}

// Health is the account's latest health snapshot in brief. A score is a
// whole number, so {{if lt .Health.Score 50}} compares like with like.
type Health struct {
	Score int    // 0–100; 0 before the first snapshot
	Band  string // green, yellow, orange (four-band models only) or red; "" before the first snapshot
}

// Metrics are the measures of the account's latest health snapshot. A
// measure the snapshot did not have is nil, not 0, so a template says it
// only when it is known: {{with .Metrics.ActiveUsers}}{{.}} active{{end}}
// (with is true for a measured 0). {{.}}, print and printf print its value;
// text/template's comparisons take no pointer, so a measure cannot be
// compared (Check says so).
type Metrics struct {
	MeasuredAt           string   // YYYY-MM-DD (UTC) of the latest snapshot; "" before the first
	ActiveUsers          *int     // active users
	LicensedUsers        *int     // licensed seats
	SeatUtilisation      *int     // active out of licensed users, percent, 0–100
	LoginsPerWeek        *float64 // one decimal
	TicketVolume         *int     // support tickets in the period measured
	TotalTickets         *int     // tickets the critical ones are counted among
	CriticalTickets      *int
	NPS                  *int     // −100–100
	CSAT                 *float64 // 0–5, one decimal
	DaysSinceLastContact *int
	// Components are the health score's components by name (usage,
	// engagement...), each 0–100: its points out of its weight. A component
	// without input is absent; nil before the first snapshot or for a score
	// given upstream.
	Components map[string]int
}

// Field is one value templates can use, as CS ops look it up.
type Field struct {
	Name        string `json:"name"` // as written in a template: .Contact.FirstName
	Type        string `json:"type"` // string, number or integer
	Description string `json:"description"`
	Example     string `json:"example"`
}

var fields = []Field{
	{".Account.ID", "string", "the account's id", "acme"},
	{".Account.Name", "string", "the account's name", "Acme Corp"},
	{".Account.Segment", "string", "enterprise, mid_market or smb", "mid_market"},
	{".Account.ARR", "number", "annual recurring revenue; print it with {{printf \"%.0f\" .Account.ARR}}, compare it with a decimal number such as 100000.0", "48000"},
	{".Account.LifecycleStage", "string", "the account's lifecycle stage, as update_account steps set it", "onboarding"},
	{".Account.RenewalDate", "string", "the renewal date, YYYY-MM-DD; empty when not set", "2026-09-30"},
	{".Account.ContractStart", "string", "the contract start, YYYY-MM-DD; empty when not set", "2025-10-01"},
	{".Account.Fields", "map", "the account's custom fields the organisation declares (ACCOUNT_FIELDS), each as text: {{.Account.Fields.plan | default \"Standard\"}} (empty when the account lacks it, so default gives the stand-in); a name not declared is refused. Test numbers in a condition (field: {name: seats_used_pct, gt: 85})", "{\"plan\": \"Enterprise\", \"seats_used_pct\": \"87\"}"},
	{".Contact.Name", "string", "the recipient's full name; empty in a notify message", "Pat Lee"},
	{".Contact.FirstName", "string", "the first word of the recipient's name; \"" + NoName + "\" when the name is unknown (and in a notify message)", "Pat"},
	{".Contact.Email", "string", "the recipient's address; empty in a notify message", "pat@acme.example"},
	{".CSM.Name", "string", "the account's CSM", "Casey Smith"},
	{".CSM.FirstName", "string", "the first word of the CSM's name; \"" + NoName + "\" when unknown", "Casey"},
	{".CSM.Email", "string", "the CSM's address", "casey@cs.example"},
	{".Health.Score", "integer", "the latest health score, 0–100; 0 before the first snapshot", "72"},
	{".Health.Band", "string", "green, yellow, orange (a four-band model only) or red; empty before the first snapshot, so test {{if .Health.Band}} first", "green"},
	{".Metrics.MeasuredAt", "string", "the date (UTC) of the latest health snapshot, YYYY-MM-DD, which the metrics below come from; empty before the first", "2026-05-31"},
	{".Metrics.ActiveUsers", "integer", "active users, as last measured" + unmeasured, "42"},
	{".Metrics.LicensedUsers", "integer", "licensed users (seats), as last measured" + unmeasured, "50"},
	{".Metrics.SeatUtilisation", "integer", "active out of licensed users in percent, 0–100; measured when both are" + unmeasured, "84"},
	{".Metrics.LoginsPerWeek", "number", "logins per week, one decimal" + unmeasured, "12.5"},
	{".Metrics.TicketVolume", "integer", "support tickets in the period measured (ticket_volume)" + unmeasured, "3"},
	{".Metrics.TotalTickets", "integer", "tickets the critical ones are counted among (total_tickets)" + unmeasured, "10"},
	{".Metrics.CriticalTickets", "integer", "critical support tickets" + unmeasured, "0"},
	{".Metrics.NPS", "integer", "net promoter score, −100–100" + unmeasured, "35"},
	{".Metrics.CSAT", "number", "customer satisfaction, 0–5, one decimal" + unmeasured, "4.5"},
	{".Metrics.DaysSinceLastContact", "integer", "days since the last logged contact with the account, as last measured" + unmeasured, "6"},
	{".Metrics.Components", "map", "the health score's components by name (usage, engagement, support, satisfaction and financial in the default model), each 0–100: its points out of its weight; a component without input is absent: {{with index .Metrics.Components \"usage\"}}{{.}}{{end}} (a component at 0 prints nothing), or {{range $name, $score := .Metrics.Components}}", "{\"usage\": 80, \"support\": 95}"},
	{".Survey.Kind", "string", "a survey step's kind, nps or csat; empty in any other email, so a template shared with other steps tests {{if .Survey.Kind}}", "nps"},
	{".Survey.Question", "string", "the survey's question: NPS \"" + NPSQuestion + "\", CSAT \"" + CSATQuestion + "\"", NPSQuestion},
	{".Survey.Options", "list", "the scores, lowest first (NPS 0-10, CSAT 1-5), each with .Score, .Label (the score in words: every CSAT score, an NPS scale's two ends, otherwise empty) and .URL (the signed link that records that answer): {{range .Survey.Options}}<a href=\"{{.URL}}\">{{.Score}}</a>{{end}}; a definition's own template may range over this list (and no other), not inside another range", "[{Score: 0, Label: \"Not at all likely\", URL: \"https://…/v1/surveys/respond?token=…\"}, …]"},
}

// The questions survey emails ask.
const (
	NPSQuestion  = "How likely are you to recommend us to a colleague?"
	CSATQuestion = "How satisfied are you with us?"
)

// unmeasured ends the description of a measure that may be missing.
const unmeasured = "; missing when not measured, not 0: print it with {{with .Metrics.X}}{{.}}{{end}} (or printf inside), which prints a measured 0; it cannot be compared"

// Fields lists what templates can use: subject, text and html parts of
// email templates, and notify messages.
func Fields() []Field { return slices.Clone(fields) }

// csatLabels are the CSAT scores in words, 1 to 5.
var csatLabels = []string{"Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"}

// NewSurvey is the survey a template shows for a kind ("nps" or "csat";
// package survey has the kinds and scales, which this package does not
// import): its question, and an option per score with the link url gives.
// The send and the simulation make it the same way, with their own links.
func NewSurvey(kind string, scores []int, url func(score int) string) Survey {
	s := Survey{Kind: kind, Options: make([]SurveyOption, len(scores))}
	switch kind {
	case "nps":
		s.Question = NPSQuestion
	case "csat":
		s.Question = CSATQuestion
	}
	for i, score := range scores {
		o := SurveyOption{Score: score, URL: url(score)}
		switch {
		case kind == "csat" && len(scores) == len(csatLabels):
			o.Label = csatLabels[i]
		case kind == "nps" && i == 0:
			o.Label = "Not at all likely"
		case kind == "nps" && i == len(scores)-1:
			o.Label = "Extremely likely"
		}
		s.Options[i] = o
	}
	return s
}
