package playbook

import (
	"fmt"
	"slices"
	"strings"
)

// StartedKeys lists the playbooks a definition starts, in step order.
func (def *Definition) StartedKeys() []string {
	var keys []string
	seen := map[string]bool{}
	walkSteps("steps", def.Steps, func(_ string, s *Step) {
		if s.StartPlaybook != nil && !seen[s.StartPlaybook.Key] {
			seen[s.StartPlaybook.Key] = true
			keys = append(keys, s.StartPlaybook.Key)
		}
	})
	return keys
}

// walkSteps visits every step, nested ones included, in document order,
// with its path.
func walkSteps(path string, steps []Step, visit func(string, *Step)) {
	for i := range steps {
		s := &steps[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		visit(p, s)
		walkSteps(p+".on_timeout", s.OnTimeout, visit)
		walkSteps(p+".then", s.Then, visit)
		walkSteps(p+".else", s.Else, visit)
		if s.Repeat != nil {
			walkSteps(p+".repeat.steps", s.Repeat.Steps, visit)
		}
	}
}

// CheckStarts verifies that every start_playbook names a known playbook and
// that no chain of starts leads back to where it began. starts maps each
// known key to the keys it starts. Errors are at the steps that start; Locate
// gives them their lines.
func CheckStarts(def *Definition, starts map[string][]string) error {
	var errs Errors
	graph := map[string][]string{}
	for k, v := range starts {
		graph[k] = v
	}
	graph[def.Key] = def.StartedKeys()
	cycle, first := findCycle(def.Key, graph)
	walkSteps("steps", def.Steps, func(p string, s *Step) {
		if s.StartPlaybook == nil {
			return
		}
		key := s.StartPlaybook.Key
		if _, ok := graph[key]; !ok {
			errs.add(p+".start_playbook.key", 0, "unknown playbook %q: no published playbook has this key", key)
		} else if cycle != nil && key == first {
			errs.add(p+".start_playbook.key", 0, "start_playbook makes a cycle: %s", strings.Join(cycle, " → "))
		}
	})
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Locate gives errors found after Parse (CheckStarts') the lines of their
// paths in the definition's source.
func Locate(src []byte, errs Errors) Errors {
	var def Definition
	_, pos := decodeSource(src, &def)
	out := slices.Clone(errs)
	for i := range out {
		if out[i].Line == 0 {
			out[i].Line = pos.line(out[i].Path)
		}
	}
	return out.sorted()
}

// findCycle finds a chain of starts from a key that comes back on itself:
// the cycle (its first key repeated at its end) and the key from starts
// first on the way to it.
func findCycle(from string, graph map[string][]string) (cycle []string, first string) {
	var path []string
	onPath := map[string]bool{}
	done := map[string]bool{}
	var visit func(string) []string
	visit = func(k string) []string {
		if onPath[k] {
			i := slices.Index(path, k)
			if len(path) > 1 {
				first = path[1]
			} else {
				first = k
			}
			return append(slices.Clone(path[i:]), k)
		}
		if done[k] {
			return nil
		}
		onPath[k] = true
		path = append(path, k)
		for _, next := range graph[k] {
			if c := visit(next); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		onPath[k] = false
		done[k] = true
		return nil
	}
	cycle = visit(from)
	return cycle, first
}
