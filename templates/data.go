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
	Band  string // green, yellow or red; "" before the first snapshot
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
	{".Contact.Name", "string", "the recipient's full name; empty in a notify message", "Pat Lee"},
	{".Contact.FirstName", "string", "the first word of the recipient's name; \"" + NoName + "\" when the name is unknown (and in a notify message)", "Pat"},
	{".Contact.Email", "string", "the recipient's address; empty in a notify message", "pat@acme.example"},
	{".CSM.Name", "string", "the account's CSM", "Casey Smith"},
	{".CSM.FirstName", "string", "the first word of the CSM's name; \"" + NoName + "\" when unknown", "Casey"},
	{".CSM.Email", "string", "the CSM's address", "casey@cs.example"},
	{".Health.Score", "integer", "the latest health score, 0–100; 0 before the first snapshot", "72"},
	{".Health.Band", "string", "green, yellow or red; empty before the first snapshot, so test {{if .Health.Band}} first", "green"},
}

// Fields lists what templates can use: subject, text and html parts of
// email templates, and notify messages.
func Fields() []Field { return slices.Clone(fields) }
