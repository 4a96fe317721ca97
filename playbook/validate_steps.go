package playbook

import (
	"fmt"
	"slices"
	"strings"

	"github.com/playbookd/playbookd/accounts"
)

// steps validates steps at a depth (1: top level). Deeper than the limit,
// limits has reported the list and nothing below is visited.
func (v *validator) steps(path string, steps []Step, depth int) {
	if depth > MaxStepDepth {
		return
	}
	for i := range steps {
		v.step(fmt.Sprintf("%s[%d]", path, i), &steps[i], depth)
	}
}

func (v *validator) step(p string, s *Step, depth int) {
	top := depth == 1
	if v.pattern(p+".id", s.ID, idPattern, "lower-case letters, digits and '-', such as \"welcome-email\"") {
		if first, dup := v.ids[s.ID]; dup {
			v.add(p+".id", "duplicate step id %q (first at %s)", s.ID, first)
		} else {
			v.ids[s.ID] = p
		}
	}
	v.stepName(p, s)
	if s.At != nil && s.After != nil {
		v.add(p+".after", "use either at or after, not both")
	}
	if s.At != nil {
		switch {
		case !top:
			v.add(p+".at", "only top-level steps take at; use after inside then/else/repeat/on_timeout")
		case v.def.Anchor == "" || v.def.Anchor == AnchorEnrolled:
			if *s.At < 0 {
				v.add(p+".at", "must not be negative when the anchor is enrolment")
			}
		}
	}
	if s.After != nil && *s.After < 0 {
		v.add(p+".after", "must not be negative")
	}
	if s.SkipIfLate != nil {
		switch {
		case s.At == nil:
			v.add(p+".skip_if_late", "only a step with at has a time to be late for")
		case *s.SkipIfLate <= 0:
			v.add(p+".skip_if_late", "must be positive, such as 14d")
		}
	}
	if s.When != nil {
		v.condition(p+".when", s.When, 1)
	}
	kinds := s.kinds()
	switch len(kinds) {
	case 0:
		v.add(p, "has no action; give one of %s", strings.Join(StepKinds, ", "))
		return
	case 1:
	default:
		v.add(p, "has several actions (%s); give one per step", strings.Join(kinds, ", "))
		return
	}
	if s.OnTimeout != nil && s.WaitFor == nil {
		v.add(p+".on_timeout", "only with wait_for")
	}
	if (s.Then != nil || s.Else != nil) && s.If == nil {
		v.add(p+".then", "only with if")
	}
	switch kinds[0] {
	case KindEmail:
		v.email(p+".email", s.Email)
	case KindTask:
		v.task(p+".task", s.Task)
	case KindApproval:
		v.approval(p+".approval", s.Approval)
	case KindWait:
		v.positive(p+".wait", s.Wait)
	case KindWaitFor:
		v.pattern(p+".wait_for.event", s.WaitFor.Event, eventPattern, "an event name such as first_login")
		if s.WaitFor.Within != nil {
			v.positive(p+".wait_for.within", s.WaitFor.Within)
		} else if len(s.OnTimeout) > 0 {
			v.add(p+".on_timeout", "needs wait_for.within: without it the wait never times out")
		}
		v.steps(p+".on_timeout", s.OnTimeout, depth+1)
	case KindIf:
		v.condition(p+".if", s.If, 1)
		v.list(p+".then", len(s.Then), s.Then == nil, "the steps to run when the condition holds")
		v.steps(p+".then", s.Then, depth+1)
		v.steps(p+".else", s.Else, depth+1)
	case KindRepeat:
		r := s.Repeat
		if r.Every == nil {
			v.add(p+".repeat.every", "required: how often, such as 1d")
		} else {
			v.positive(p+".repeat.every", r.Every)
		}
		if r.Times < 0 {
			v.add(p+".repeat.times", "must not be negative")
		}
		if r.Until == nil && r.Times == 0 {
			v.add(p+".repeat", "needs until (a duration) or times (a count) so it ends")
		}
		if r.Until != nil {
			v.positive(p+".repeat.until", r.Until)
			if r.Every != nil && *r.Until < *r.Every {
				v.add(p+".repeat.until", "is shorter than every (%s): the steps would never repeat", r.Every)
			}
		}
		if r.Times > maxRepeats || r.iterations() > maxRepeats {
			v.add(p+".repeat", "would repeat more than %d times", maxRepeats)
		}
		v.list(p+".repeat.steps", len(r.Steps), r.Steps == nil, "the steps to repeat")
		v.steps(p+".repeat.steps", r.Steps, depth+1)
	case KindStartPlaybook:
		if v.pattern(p+".start_playbook.key", s.StartPlaybook.Key, keyPattern, "a playbook's key: lower-case letters, digits and '-'") &&
			s.StartPlaybook.Key == v.def.Key {
			v.add(p+".start_playbook.key", "a playbook cannot start itself")
		}
	case KindUpdateAccount:
		u := s.UpdateAccount
		if u.LifecycleStage == "" && u.Status == "" && len(u.Fields) == 0 {
			v.add(p+".update_account", "give lifecycle_stage, status or fields")
		}
		if u.Status != "" && !slices.Contains(accounts.Statuses, u.Status) {
			v.oneOf(p+".update_account.status", accounts.Statuses)
		}
	case KindNotify:
		v.notify(p+".notify", s.Notify)
	case KindSurvey:
		v.survey(p+".survey", s.Survey)
	}
}

func (v *validator) positive(p string, d *Duration) {
	if *d <= 0 {
		v.add(p, "must be longer than zero")
	}
}

func (v *validator) email(p string, e *EmailAction) {
	switch {
	case e.Template != "" && e.SendGridTemplateID != "":
		v.add(p+".sendgrid_template_id", "use either template or sendgrid_template_id, not both")
	case e.Template == "" && e.SendGridTemplateID == "":
		v.add(p+".template", "required: a template name (or a sendgrid_template_id)")
	case e.Template != "" && !v.templates[e.Template]:
		v.add(p+".template", "unknown template %q; known: %s", e.Template, v.knownTemplates())
	case e.SendGridTemplateID != "" && !sgTemplateID.MatchString(e.SendGridTemplateID):
		v.add(p+".sendgrid_template_id", "must look like d-0123456789abcdef0123456789abcdef")
	}
	v.roles(p+".to", e.To)
}

// roles checks the contact roles an email or a survey goes to.
func (v *validator) roles(p string, to []string) {
	v.list(p, len(to), to == nil, "contact roles, from "+strings.Join(accounts.Roles, ", "))
	for i, r := range to {
		if !slices.Contains(accounts.Roles, r) {
			v.add(fmt.Sprintf("%s[%d]", p, i), "unknown role %q; one of %s", r, strings.Join(accounts.Roles, ", "))
		}
	}
}

// survey checks a survey step: a kind, roles as an email's, and a template
// that exists, the kind's built-in one when none is named.
func (v *validator) survey(p string, s *SurveyAction) {
	kindOK := v.vocabulary(p+".kind", s.Kind, SurveyKinds, "")
	switch {
	case s.Template != "" && !v.templates[s.Template]:
		v.add(p+".template", "unknown template %q; known: %s", s.Template, v.knownTemplates())
	case s.Template == "" && kindOK && !v.templates[s.TemplateName()]:
		v.add(p+".template", "required here: the built-in %s is not defined; give a template that shows .Survey.Options", s.TemplateName())
	}
	v.roles(p+".to", s.To)
}

// maxListedTemplates bounds the names an unknown-template error lists: with
// every error listing every name, a definition of many templates and many
// bad references would make an answer quadratic in its size.
const maxListedTemplates = 20

func (v *validator) task(p string, t *TaskAction) {
	v.text(p+".title", t.Title, "the task's title")
	v.assignee(p+".assignee", t.Assignee)
	if t.Due != nil {
		v.positive(p+".due", t.Due)
	}
	if t.Priority != "" && !slices.Contains(Priorities, t.Priority) {
		v.oneOf(p+".priority", Priorities)
	}
}

func (v *validator) assignee(p, a string) {
	switch {
	case a == "":
		v.add(p, "required: one of %s", strings.Join(accounts.Levels, ", "))
	case !slices.Contains(accounts.Levels, a):
		v.add(p, "unknown role %q; one of %s", a, strings.Join(accounts.Levels, ", "))
	}
}

func (v *validator) approval(p string, a *ApprovalAction) {
	v.assignee(p+".assignee", a.Assignee)
	if a.Email == nil {
		v.add(p+".email", "required: the email the approver reviews")
	} else {
		v.email(p+".email", a.Email)
	}
	if a.ExpiresIn != nil {
		v.positive(p+".expires_in", a.ExpiresIn)
	}
	if a.OnReject != "" && !slices.Contains(OnReject, a.OnReject) {
		v.oneOf(p+".on_reject", OnReject)
	}
	if a.OnExpire != "" && !slices.Contains(OnExpire, a.OnExpire) {
		v.oneOf(p+".on_expire", OnExpire)
	}
}

// atOrder checks that top-level at offsets never go backwards: a run moves
// forward through the steps, so an earlier offset after a later one would
// silently run late.
func (v *validator) atOrder() {
	var last *Duration
	lastIndex := 0
	for i, s := range v.def.Steps {
		if s.At == nil {
			continue
		}
		if last != nil && *s.At < *last {
			v.add(fmt.Sprintf("steps[%d].at", i), "%s is earlier than steps[%d].at (%s); order steps by at", s.At, lastIndex, last)
		}
		last, lastIndex = s.At, i
	}
}
