package playbook

import (
	"strings"
	"unicode/utf8"
)

// MaxStepName is the longest step name, in characters (a name is one line).
const MaxStepName = 200

// StepNames maps the id of every step that has a name, nested steps
// included, to its name.
func (d *Definition) StepNames() map[string]string {
	names := map[string]string{}
	if d == nil {
		return names
	}
	walkSteps("steps", d.Steps, func(_ string, s *Step) {
		if s.Name != "" {
			names[s.ID] = s.Name
		}
	})
	return names
}

// StepTitle is how people read a step id as runs write it: the definition's
// id, then "#n" for an iteration of a repeat or "/..." for what the step
// made (an approval's notice, its escalation task). The step's name stands
// for its id when it has one; the rest stays.
func StepTitle(names map[string]string, id string) string {
	cut := strings.IndexAny(id, "#/")
	base, rest := id, ""
	if cut >= 0 {
		base, rest = id[:cut], id[cut:]
	}
	name, ok := names[base]
	if !ok {
		return id
	}
	switch {
	case rest == "":
		return name
	case rest[0] == '#':
		return name + " " + rest
	default:
		return name + " (" + rest[1:] + ")"
	}
}

// stepName checks a step's name: something to read, one line (texts checks
// control characters), at most MaxStepName characters.
func (v *validator) stepName(p string, s *Step) {
	switch {
	case s.Name == "":
	case strings.TrimSpace(s.Name) == "":
		v.add(p+".name", "must not be blank; leave it out to show the id")
	case utf8.RuneCountInString(s.Name) > MaxStepName:
		v.add(p+".name", "is %d characters long; at most %d", utf8.RuneCountInString(s.Name), MaxStepName)
	}
}
