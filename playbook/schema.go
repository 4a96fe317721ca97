package playbook

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/playbookd/playbookd/accounts"
)

// fieldEnums are the closed vocabularies, by type and JSON field name: the
// same field name means different things in different places (trigger.to is
// a health band or a stage, email.to contact roles).
var fieldEnums = map[string][]string{
	"Definition.anchor": Anchors, "Definition.segments": accounts.Segments,
	"Trigger.on": TriggerEvents, "Trigger.signal": RiskSignals, "Trigger.anchor": ScheduleAnchors,
	"Condition.segment": accounts.Segments, "Condition.health_band": HealthBands, "Condition.account_status": accounts.Statuses,
	"EmailAction.to": accounts.Roles, "TaskAction.assignee": accounts.Levels, "TaskAction.priority": Priorities,
	"ApprovalAction.assignee": accounts.Levels, "ApprovalAction.on_reject": OnReject, "ApprovalAction.on_expire": OnExpire,
	"SendWindow.days": Weekdays, "UpdateAccount.status": accounts.Statuses,
	"SurveyAction.kind": SurveyKinds, "SurveyAction.to": accounts.Roles, "Trigger.category": SurveyCategories,
}

// notBlank is what "required" means for a text: something other than spaces.
var notBlank = regexp.MustCompile(`\S`)

// oneLineTitle is a title people read: something besides spaces, and no
// control character but tab (the text rules of one-line fields).
var oneLineTitle = regexp.MustCompile(`^[^\x00-\x08\x0A-\x1F\x7F]*\S[^\x00-\x08\x0A-\x1F\x7F]*$`)

// fieldPatterns are the patterns the validator holds strings to.
var fieldPatterns = map[string]*regexp.Regexp{
	"Definition.key": keyPattern, "Definition.name": notBlank, "Step.id": idPattern, "Step.name": oneLineTitle, "Template.name": idPattern,
	"Template.subject": notBlank, "Template.html": notBlank, "Template.text": notBlank,
	"ExitRule.outcome": outcomePattern, "SendWindow.start": clockPattern, "SendWindow.end": clockPattern,
	"WaitFor.event": eventPattern, "Condition.event_received": eventPattern, "StartPlaybook.key": keyPattern,
	"EmailAction.sendgrid_template_id": sgTemplateID, "TaskAction.title": notBlank, "FieldCondition.name": notBlank,
	"Notify.url": notBlank, "Notify.secret": SecretNamePattern, "Notify.message": notBlank,
	"Trigger.to": stagePattern, "Trigger.from": stagePattern, "Trigger.event": eventPattern,
	"SurveyAction.template": idPattern,
}

// required lists the fields each type must have, by Go type name.
var required = map[string][]string{
	"Definition": {"key", "name", "steps"}, "Step": {"id"}, "ExitRule": {"when", "outcome"}, "Trigger": {"on"},
	"SendWindow": {"start", "end"}, "Template": {"name", "subject", "text"}, "EmailAction": {"to"},
	"TaskAction": {"title", "assignee"}, "ApprovalAction": {"assignee", "email"}, "WaitFor": {"event"},
	"Repeat": {"every", "steps"}, "StartPlaybook": {"key"}, "Notify": {"message"}, "FieldCondition": {"name"},
	"SurveyAction": {"kind", "to"},
}

// templateHelp is said of every template text.
const templateHelp = "A Go template over the fields listed at GET /v1/playbooks/template-fields, such as " +
	"{{.Contact.FirstName}}, {{.Account.Name}}, {{.CSM.Name}} or {{.Health.Band}}; validation type-checks it. " +
	"No {{define}}, {{block}} or {{template}}, and no {{range}} but one over .Survey.Options (a survey's scores), not inside another."

var descriptions = map[string]string{
	"Template": "An email template carried by the definition, versioned with it; it shadows a built-in of the same name. " +
		"Give subject and text; the email's HTML is laid out from the text in the organisation's branded layout, " +
		"with the postal address and unsubscribe link in its footer. Give html only to hand-write the HTML instead.",
	"Template.subject": templateHelp,
	"Template.html": "Optional hand-written HTML, sent instead of the layout of the text (the footer with the postal address " +
		"and unsubscribe link is added before </body>). " + templateHelp + " Customer data is escaped for HTML.",
	"Template.text": "The plain-text email, and without html the source of its HTML, in Markdown-light: a blank line between " +
		"paragraphs, \"- \" list items, \"# \" and \"## \" headings, **bold**, [label](https://link) (http, https or mailto). " +
		"The plain-text part shows a link as \"label (https://link)\"; what fields print is shown as written, never as Markdown. " +
		templateHelp,
	"Notify.message": templateHelp + " .Contact is empty in a message.",
	"Step.skip_if_late": "With at: skip the step when the run reaches it more than this after its time (an account " +
		"enrolled late), with the reason in the run view; such as 14d.",
	"Definition.priority": "1 to 100. While a play of higher priority is live on the account, this play's automated " +
		"customer emails wait (red-recovery holds renewal's). Without one the play is unranked: it neither holds nor waits.",
	"Trigger.anchor": "With on: schedule, the account date the occasions count from: contract_start (the default) or " +
		"created (the day the account was created). Not the definition's anchor, which a run's at offsets count from.",
	"Step":      "One touchpoint, with exactly one action: " + strings.Join(StepKinds, ", ") + ".",
	"Step.name": "The step's title for people (run page, inbox, analytics, simulation), one line; without one they show the id.",
	"SurveyAction": "An NPS (0-10) or CSAT (1-5) survey emailed to the contacts with the roles, one signed link per score; " +
		"a customer email like an email step's (send window, frequency cap, priority holds). An answer emits the survey_response event.",
	"SurveyAction.template": "The template to send, which shows .Survey.Options; default nps-survey or csat-survey.",
	"Trigger.category": "With on: survey_response, only answers of this category (NPS promoter 9-10, passive 7-8, " +
		"detractor 0-6; CSAT 4-5, 3, 1-2); left out: any answer.",
	"Notify.secret": "The name of a secret an admin stored (PUT /v1/secrets/{name}): the webhook's URL, looked up when the step runs.",
	"Notify.url": "A webhook URL with no credential in it. One that is a credential (a Slack incoming webhook's, " +
		"a user name or password, a token in the query) is refused: an admin stores it as a named secret and the step gives secret instead.",
}

// Schema is the JSON Schema (2020-12) of the definition language. It is
// derived from the types the parser decodes into, with the vocabularies,
// patterns and per-object rules the validator applies, and a test holds the
// two to agree. What it cannot say is the validator's alone: rules across
// steps (unique ids, ordered at offsets, known templates, start_playbook
// keys), durations' bounds, and the templates' type-check.
func Schema() map[string]any {
	defs := map[string]any{}
	root := schemaOf(reflect.TypeOf(Definition{}), "", defs)
	refine(defs)
	describe(defs)
	out := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     "https://playbookd.dev/schema/playbook.json",
		"title":   "playbookd playbook definition",
		"$defs":   defs,
	}
	for k, v := range root.(map[string]any) {
		out[k] = v
	}
	return out
}

var durationType = reflect.TypeOf(Duration(0))

// durationPattern is ParseDuration's syntax: whole numbers with units,
// largest first, each unit at most once.
var durationPattern = func() string {
	var alts []string
	for i, u := range units {
		alt := `\d+` + u.suffix
		for _, smaller := range units[i+1:] {
			alt += `(?:\d+` + smaller.suffix + `)?`
		}
		alts = append(alts, alt)
	}
	return `^\s*-?(?:` + strings.Join(alts, "|") + `)\s*$`
}()

// schemaOf is the schema of a value of type t; key is "Type.field" where
// it is a struct's field.
func schemaOf(t reflect.Type, key string, defs map[string]any) any {
	if t == durationType {
		return map[string]any{"type": "string", "pattern": durationPattern,
			"description": fmt.Sprintf("whole numbers with units, largest first: 90s, 15m, 4h, 3d, 2w, 1d12h; at most %d days", MaxDuration/Day)}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem(), key, defs)
		if t.Elem().Kind() == reflect.Struct && t.Elem().NumField() == 0 {
			// `check_health:` alone means "present, no options".
			return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
		}
		return s
	case reflect.String:
		s := map[string]any{"type": "string"}
		if enum, ok := fieldEnums[key]; ok {
			s["enum"] = enum
		}
		if re, ok := fieldPatterns[key]; ok {
			s["pattern"] = re.String()
		}
		if d, ok := descriptions[key]; ok {
			s["description"] = d
		}
		return s
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		items := schemaOf(t.Elem(), key, defs)
		if t.Elem().Kind() == reflect.String {
			// A single value stands for a one-item list.
			return map[string]any{"anyOf": []any{items, map[string]any{"type": "array", "items": items}}}
		}
		return map[string]any{"type": "array", "items": items}
	case reflect.Map:
		return map[string]any{"type": "object"}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if _, done := defs[name]; !done {
			defs[name] = map[string]any{} // placeholder: types refer to themselves
			props := map[string]any{}
			addProperties(t, name, props, defs)
			def := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if req, ok := required[name]; ok {
				def["required"] = req
			}
			if d, ok := descriptions[name]; ok {
				def["description"] = d
			}
			defs[name] = def
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	}
	return map[string]any{}
}

func addProperties(t reflect.Type, owner string, props map[string]any, defs map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			addProperties(f.Type, owner, props, defs)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		props[name] = schemaOf(f.Type, owner+"."+name, defs)
	}
}

// refine adds the validator's rules within one object that reflection
// cannot see.
func refine(defs map[string]any) {
	def := func(name string) map[string]any { return defs[name].(map[string]any) }
	prop := func(name, field string) map[string]any {
		return def(name)["properties"].(map[string]any)[field].(map[string]any)
	}
	requires := func(fields ...string) []any {
		out := make([]any, len(fields))
		for i, f := range fields {
			out[i] = map[string]any{"required": []string{f}}
		}
		return out
	}

	prop("Definition", "steps")["minItems"] = 1
	prop("Repeat", "steps")["minItems"] = 1
	prop("Step", "name")["maxLength"] = MaxStepName
	def("Step")["oneOf"] = requires(StepKinds...)
	// One of template and sendgrid_template_id; at least one contact role.
	def("EmailAction")["oneOf"] = requires("template", "sendgrid_template_id")
	prop("EmailAction", "to")["anyOf"].([]any)[1].(map[string]any)["minItems"] = 1
	prop("SurveyAction", "to")["anyOf"].([]any)[1].(map[string]any)["minItems"] = 1
	// A notify step posts to a URL or to a stored secret's.
	def("Notify")["oneOf"] = requires("url", "secret")

	var triggerRules []any
	for _, o := range triggerOptions {
		then := map[string]any{}
		if o.required {
			then["required"] = []string{o.field}
		}
		if o.field == "to" { // on health_band, a band; on stage_changed, any stage
			triggerRules = append(triggerRules, map[string]any{
				"if":   map[string]any{"properties": map[string]any{"on": map[string]any{"const": "health_band"}}},
				"then": map[string]any{"properties": map[string]any{"to": map[string]any{"enum": HealthBands}}},
			})
		}
		triggerRules = append(triggerRules, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"on": map[string]any{"enum": o.on}}, "required": []string{"on"}},
			"then": then,
			"else": map[string]any{"not": map[string]any{"required": []string{o.field}}},
		})
	}
	def("Trigger")["allOf"] = triggerRules
	prop("Trigger", "days_before")["minimum"] = MinDaysBefore
	prop("Trigger", "days_before")["maximum"] = MaxDaysBefore
	prop("Trigger", "every")["description"] = fmt.Sprintf("With on: schedule, the cadence: whole days or weeks from %dd to %dd, "+
		"such as 13w. An occasion is the anchor date plus every, twice every, ...; each starts a run once.", MinScheduleEvery/Day, MaxScheduleEvery/Day)

	prop("Repeat", "times")["minimum"] = 0
	prop("Repeat", "times")["maximum"] = maxRepeats
	def("Repeat")["anyOf"] = []any{
		map[string]any{"required": []string{"until"}},
		map[string]any{"required": []string{"times"}, "properties": map[string]any{"times": map[string]any{"minimum": 1}}},
	}

	def("Condition")["minProperties"] = 1
	def("UpdateAccount")["minProperties"] = 1
	// A health score is bounded by at least one of lt, lte, gt, gte, from 0 to 100.
	score := map[string]any{"type": "number", "minimum": 0, "maximum": 100}
	defs["HealthScore"] = map[string]any{"type": "object", "additionalProperties": false, "minProperties": 1,
		"properties": map[string]any{"lt": score, "lte": score, "gt": score, "gte": score}}
	def("Condition")["properties"].(map[string]any)["health_score"] = map[string]any{"$ref": "#/$defs/HealthScore"}
	delete(defs, "Compare") // only health_score used it; a field condition has its bounds inline
}
