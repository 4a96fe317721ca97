package playbooks

import (
	"strings"
	"testing"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/templates"
)

func builtins(t *testing.T) (*templates.Set, []Source) {
	t.Helper()
	set, err := templates.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	all, err := Builtin(playbook.Options{BuiltinTemplates: set.Names()})
	if err != nil {
		t.Fatal(err)
	}
	return set, all
}

func TestBuiltinsParseAndCiteTheirSeeds(t *testing.T) {
	_, all := builtins(t)
	keys := map[string][]string{}
	for _, s := range all {
		keys[s.Key] = s.Definition.StartedKeys()
		for i, step := range s.Definition.Steps {
			if step.Cite == "" {
				t.Errorf("%s steps[%d] (%s) cites no seed", s.Key, i, step.ID)
			}
		}
	}
	for _, want := range []string{"onboarding", "red-recovery", "at-risk", "renewal", "expansion", "champion-change",
		"usage-decline", "support-spike", "payment-overdue", "competitor-mentioned",
		"high-risk", "enterprise-cadence", "mid-market-cadence", "mid-market-review", "smb-cadence", "adoption", "value-realisation",
		"nps-survey", "promoter-advocacy", "detractor-recovery"} {
		if _, ok := keys[want]; !ok {
			t.Errorf("built-in %s missing", want)
		}
	}
	for _, s := range all {
		if err := playbook.CheckStarts(s.Definition, keys); err != nil {
			t.Errorf("%s: %v", s.Key, err)
		}
	}
}

// findStep looks a step up by id, in branches too.
func findStep(steps []playbook.Step, id string) *playbook.Step {
	for i := range steps {
		s := &steps[i]
		if s.ID == id {
			return s
		}
		for _, nested := range [][]playbook.Step{s.Then, s.Else, s.OnTimeout} {
			if found := findStep(nested, id); found != nil {
				return found
			}
		}
		if s.Repeat != nil {
			if found := findStep(s.Repeat.Steps, id); found != nil {
				return found
			}
		}
	}
	return nil
}

// Each built-in email, read as its recipient reads it where the playbook
// sends it, promises nothing the playbook does not do.
func TestBuiltinEmailsPromiseOnlyWhatThePlaybookDoes(t *testing.T) {
	set, all := builtins(t)
	defs := map[string]*playbook.Definition{}
	for _, s := range all {
		defs[s.Key] = s.Definition
	}
	tests := []struct {
		playbook, step string
		never          []string
		why            string
	}{
		{"onboarding", "welcome-email", []string{"kickoff", "together"},
			"the smb path schedules no kickoff and no joint session: its next steps are emails"},
		{"at-risk", "training-email", []string{"week in", "first dashboard"},
			"an at-risk customer is not a week into onboarding"},
		{"red-recovery", "monthly-update", []string{"wins"},
			"nothing measures wins; a red account least of all has them"},
		{"onboarding", "month-1-update", []string{"wins"}, "nothing measures wins"},
		{"renewal", "thank-you", []string{"we will set goals"},
			"the run ends at the renewal: nothing schedules goal setting"},
		{"renewal", "renewal-options-email", []string{"prepared", "asked for access"},
			"nobody prepares smb options, and nobody knows who asked for seats"},
		{"expansion", "expansion-email", []string{"several of your teams"},
			"the trigger is seats or feature adoption, not how many teams"},
		{"support-spike", "acknowledge-email", []string{"fixed by", "refund", "credit"},
			"nobody promises dates or money; the play escalates, finds the cause and agrees workarounds"},
		{"payment-overdue", "payment-reminder", []string{"discount", "late fee", "suspend"},
			"the play offers to work it out with finance, nothing more"},
		{"enterprise-cadence", "qbr-invitation", []string{"first quarter"},
			"the cadence invites to every quarter's review, not the first one's"},
		{"mid-market-review", "review-invitation", []string{"quarter"}, "the mid-market review is twice a year"},
		{"smb-cadence", "quarterly-review", []string{"wins", "we will call", "i will call"},
			"nothing measures wins, and nobody calls a tech-touch account unasked"},
		{"promoter-advocacy", "advocacy-ask", []string{"reward", "gift", "discount", "credit", "bonus"},
			"nothing rewards an advocate: the ask is a favour the customer may decline"},
		{"value-realisation", "value-report-email", []string{"your roi is", "return of"},
			"nothing computes a return: the email asks the customer for one example"},
	}
	data := templates.Data{Account: templates.Account{ID: "acme", Name: "Acme"},
		Contact: templates.Person{Name: "Pat Lee"}, CSM: templates.Person{Name: "Casey", Email: "casey@cs.test"}}
	for _, tc := range tests {
		step := findStep(defs[tc.playbook].Steps, tc.step)
		var email *playbook.EmailAction
		if step != nil && step.Approval != nil {
			email = step.Approval.Email // what the approver is shown to send
		} else if step != nil {
			email = step.Email
		}
		if email == nil {
			t.Fatalf("%s has no email step %s", tc.playbook, tc.step)
		}
		got, err := set.Render(email.Template, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, phrase := range tc.never {
			for part, body := range map[string]string{"subject": got.Subject, "text": got.Text, "html": got.HTML} {
				if strings.Contains(strings.ToLower(body), phrase) {
					t.Errorf("%s %s (%s) %s says %q: %s", tc.playbook, tc.step, email.Template, part, phrase, tc.why)
				}
			}
		}
	}
}
