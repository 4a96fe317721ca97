package playbook

import (
	"encoding/json"
	"fmt"
)

// Limits of a definition. A run carries its whole definition in the workflow
// input (workflows.RunInput), and Temporal warns at 512 KiB per payload and
// refuses one over 2 MiB: MaxDefinitionBytes keeps the input at half the
// warning level, whatever the source looked like (YAML aliases included).
const (
	// MaxSourceBytes bounds a definition's source as sent (YAML or JSON).
	MaxSourceBytes = 1 << 20
	// MaxDefinitionBytes bounds the JSON encoding of the decoded definition,
	// which is what is stored and what travels in the workflow input.
	// Aliases count at every use.
	MaxDefinitionBytes = 256 << 10
	// MaxSteps bounds the steps of a definition, nested ones included.
	MaxSteps = 500
	// MaxStepDepth bounds how deep steps nest: top-level steps are level 1,
	// each then/else/repeat.steps/on_timeout adds one.
	MaxStepDepth = 8
	// MaxConditionDepth bounds how deep conditions nest: a when/if/exit
	// condition is level 1, each all/any/not adds one.
	MaxConditionDepth = 8
	// MaxTemplateBytes bounds each part of a definition's own template
	// (subject, html, text) and each notify message, as source.
	MaxTemplateBytes = 64 << 10
	// MaxReportedErrors is how many errors an answer lists; the rest are
	// counted.
	MaxReportedErrors = 100
)

// CheckLimits checks a definition against the limits above. Parse and
// Validate do it; it is exported for definitions stored before a limit
// existed, which must not reach a run.
func (def *Definition) CheckLimits() error {
	v := &validator{def: def}
	v.limits()
	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

func (v *validator) limits() {
	raw, err := json.Marshal(v.def)
	switch {
	case err != nil:
		v.add("", "cannot be stored as JSON: %v", err)
	case len(raw) > MaxDefinitionBytes:
		v.add("", "the definition is %d bytes as JSON (aliases expanded); the limit is %d bytes (%d KiB)",
			len(raw), MaxDefinitionBytes, MaxDefinitionBytes>>10)
	default:
		v.texts(raw)
	}
	for i, r := range v.def.Exit {
		v.conditionDepth(fmt.Sprintf("exit[%d].when", i), r.When, 1)
	}
	for i, t := range v.def.Templates {
		p := fmt.Sprintf("templates[%d]", i)
		v.templateSize(p+".subject", t.Subject)
		v.templateSize(p+".html", t.HTML)
		v.templateSize(p+".text", t.Text)
	}
	if n := v.stepLimits("steps", v.def.Steps, 1); n > MaxSteps {
		v.add("steps", "the definition has %d steps (nested ones included); the limit is %d", n, MaxSteps)
	}
	v.runLimits()
}

// stepLimits checks the steps at one level and below and returns how many
// there are. Steps deeper than the limit are reported once per list and not
// visited.
func (v *validator) stepLimits(path string, steps []Step, depth int) int {
	if len(steps) == 0 {
		return 0
	}
	if depth > MaxStepDepth {
		v.add(path, "steps nest %d levels deep here (then, else, repeat.steps, on_timeout); the limit is %d", depth, MaxStepDepth)
		return 0
	}
	n := len(steps)
	for i := range steps {
		s := &steps[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		v.conditionDepth(p+".when", s.When, 1)
		v.conditionDepth(p+".if", s.If, 1)
		if s.Notify != nil {
			v.templateSize(p+".notify.message", s.Notify.Message)
		}
		n += v.stepLimits(p+".on_timeout", s.OnTimeout, depth+1)
		n += v.stepLimits(p+".then", s.Then, depth+1)
		n += v.stepLimits(p+".else", s.Else, depth+1)
		if s.Repeat != nil {
			n += v.stepLimits(p+".repeat.steps", s.Repeat.Steps, depth+1)
		}
	}
	return n
}

func (v *validator) conditionDepth(path string, c *Condition, depth int) {
	if c == nil {
		return
	}
	if depth > MaxConditionDepth {
		v.add(path, "conditions nest %d levels deep here (all, any, not); the limit is %d", depth, MaxConditionDepth)
		return
	}
	for i := range c.All {
		v.conditionDepth(fmt.Sprintf("%s.all[%d]", path, i), &c.All[i], depth+1)
	}
	for i := range c.Any {
		v.conditionDepth(fmt.Sprintf("%s.any[%d]", path, i), &c.Any[i], depth+1)
	}
	v.conditionDepth(path+".not", c.Not, depth+1)
}

func (v *validator) templateSize(path, src string) {
	if len(src) > MaxTemplateBytes {
		v.add(path, "is %d bytes; the limit is %d bytes (%d KiB)", len(src), MaxTemplateBytes, MaxTemplateBytes>>10)
	}
}
