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
	base := BaseStepID(id)
	rest := id[len(base):]
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

// StepCites maps the id of every step to the seed it comes from: its own
// cite, or else the nearest enclosing step's (a branch's steps share the
// if's source).
func (d *Definition) StepCites() map[string]string {
	cites := map[string]string{}
	var walk func(steps []Step, inherited string)
	walk = func(steps []Step, inherited string) {
		for i := range steps {
			s := &steps[i]
			cite := s.Cite
			if cite == "" {
				cite = inherited
			}
			if cite != "" {
				cites[s.ID] = cite
			}
			walk(s.OnTimeout, cite)
			walk(s.Then, cite)
			walk(s.Else, cite)
			if s.Repeat != nil {
				walk(s.Repeat.Steps, cite)
			}
		}
	}
	if d != nil {
		walk(d.Steps, "")
	}
	return cites
}

// ApprovalSteps lists the ids of the steps that ask for an approval, nested
// ones included, in document order.
func (d *Definition) ApprovalSteps() []string {
	var ids []string
	walkSteps("steps", d.Steps, func(_ string, s *Step) {
		if s.Approval != nil {
			ids = append(ids, s.ID)
		}
	})
	return ids
}

// BaseStepID is the definition's step id of a step id as runs write it:
// without "#n" (a repeat's iteration) or "/..." (what the step made).
func BaseStepID(id string) string {
	if cut := strings.IndexAny(id, "#/"); cut >= 0 {
		return id[:cut]
	}
	return id
}

// HasStep says whether steps hold a step with id, at any depth (branches,
// timeouts, repeats).
func HasStep(steps []Step, id string) bool {
	found := false
	walkSteps("steps", steps, func(_ string, s *Step) { found = found || s.ID == id })
	return found
}
