package playbook

import (
	"encoding/json"
	"strings"
)

// DiffLine is one line of a line diff between two definitions' sources.
type DiffLine struct {
	Op   string `json:"op"`            // "=" same, "-" only in the old, "+" only in the new
	Old  int    `json:"old,omitempty"` // its line in the old source
	New  int    `json:"new,omitempty"` // its line in the new source
	Text string `json:"text"`
}

// maxDiffCells bounds the work of a line diff (lines changed in the old ×
// in the new, after the common start and end): past it the changed middle
// is shown as removed then added, which is still true.
const maxDiffCells = 4 << 20

// DiffSource compares two sources line by line (a longest common
// subsequence after the common start and end).
func DiffSource(oldSrc, newSrc string) []DiffLine {
	a, b := splitLines(oldSrc), splitLines(newSrc)
	var out []DiffLine
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		out = append(out, DiffLine{Op: "=", Old: pre + 1, New: pre + 1, Text: a[pre]})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	out = append(out, middleDiff(ma, mb, pre, pre)...)
	for i := 0; i < suf; i++ {
		oi, ni := len(a)-suf+i, len(b)-suf+i
		out = append(out, DiffLine{Op: "=", Old: oi + 1, New: ni + 1, Text: a[oi]})
	}
	return out
}

func middleDiff(a, b []string, oldAt, newAt int) []DiffLine {
	var out []DiffLine
	removed := func(i int) { out = append(out, DiffLine{Op: "-", Old: oldAt + i + 1, Text: a[i]}) }
	added := func(j int) { out = append(out, DiffLine{Op: "+", New: newAt + j + 1, Text: b[j]}) }
	if len(a)*len(b) > maxDiffCells {
		for i := range a {
			removed(i)
		}
		for j := range b {
			added(j)
		}
		return out
	}
	// lcs[i][j]: the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, DiffLine{Op: "=", Old: oldAt + i + 1, New: newAt + j + 1, Text: a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			removed(i)
			i++
		default:
			added(j)
			j++
		}
	}
	for ; i < len(a); i++ {
		removed(i)
	}
	for ; j < len(b); j++ {
		added(j)
	}
	return out
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// StepChanges says which steps, by id (nested ones included), one version
// added, removed and changed against another. A step whose nested steps
// changed is not itself changed unless its own fields did.
type StepChanges struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// DiffSteps compares the steps of two definitions, in document order.
func DiffSteps(oldDef, newDef *Definition) StepChanges {
	c := StepChanges{Added: []string{}, Removed: []string{}, Changed: []string{}}
	before, after := stepsByID(oldDef), stepsByID(newDef)
	walkSteps("steps", oldDef.Steps, func(_ string, s *Step) {
		if _, ok := after[s.ID]; !ok {
			c.Removed = append(c.Removed, s.ID)
		}
	})
	walkSteps("steps", newDef.Steps, func(_ string, s *Step) {
		old, ok := before[s.ID]
		switch {
		case !ok:
			c.Added = append(c.Added, s.ID)
		case old != after[s.ID]:
			c.Changed = append(c.Changed, s.ID)
		}
	})
	return c
}

// stepsByID is each step's own fields as JSON, its nested steps left out.
func stepsByID(def *Definition) map[string]string {
	out := map[string]string{}
	walkSteps("steps", def.Steps, func(_ string, s *Step) {
		own := *s
		own.OnTimeout, own.Then, own.Else = nil, nil, nil
		if s.Repeat != nil {
			r := *s.Repeat
			r.Steps = nil
			own.Repeat = &r
		}
		raw, _ := json.Marshal(own) // plain values: it cannot fail
		out[s.ID] = string(raw)
	})
	return out
}
