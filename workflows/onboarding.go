package workflows

import "time"

// step is one touchpoint of a playbook. This hard-wired form carries the
// onboarding playbook until the definition language replaces it.
type step struct {
	ID    string
	At    time.Duration // offset from enrolment
	Email *emailStep
	Task  *taskStep
}

type emailStep struct {
	Template string
	ToRoles  []string
}

type taskStep struct {
	Title    string
	Assignee string
	Due      time.Duration
	Priority string
}

func (s step) kind() string {
	if s.Email != nil {
		return "email"
	}
	return "task"
}

const day = 24 * time.Hour

// Seed "Day N" is offset (N-1) days from enrolment (seeds 000, 001, 003).
var onboardingSteps = []step{
	{ID: "welcome-email", At: 0, Email: &emailStep{Template: "welcome", ToRoles: []string{"champion"}}},
	{ID: "welcome-call", At: 0, Task: &taskStep{Title: "Welcome call", Assignee: "csm", Due: day, Priority: "high"}},
	{ID: "technical-kickoff", At: 1 * day, Task: &taskStep{Title: "Technical kickoff meeting", Assignee: "csm", Due: day, Priority: "normal"}},
	{ID: "data-source-connection", At: 2 * day, Task: &taskStep{Title: "Connect first data sources", Assignee: "csm", Due: 3 * day, Priority: "normal"}},
	{ID: "first-dashboard-training", At: 6 * day, Task: &taskStep{Title: "First dashboard and training session", Assignee: "csm", Due: day, Priority: "normal"}},
	{ID: "first-value-checkpoint", At: 29 * day, Task: &taskStep{Title: "First value checkpoint", Assignee: "csm", Due: 2 * day, Priority: "normal"}},
	{ID: "qbr-success-planning", At: 89 * day, Task: &taskStep{Title: "QBR and success planning", Assignee: "csm", Due: 5 * day, Priority: "normal"}},
}

// builtinPlaybooks are the playbooks this build can run, by key.
var builtinPlaybooks = map[string][]step{
	"onboarding": onboardingSteps,
}

// KnownPlaybook reports whether a playbook key can be run, and its version.
func KnownPlaybook(key string) (version int, ok bool) {
	_, ok = builtinPlaybooks[key]
	if !ok {
		return 0, false
	}
	return 1, true
}
