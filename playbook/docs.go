package playbook

import (
	"fmt"
	"strings"
)

// docs describe the language's types and fields for people, by "Type" or
// "Type.field", where descriptions (schema.go) has nothing to say: the
// served schema carries them (describe), and the console's language
// reference is generated from that schema (Reference).
var docs = map[string]string{
	"Definition":             "A playbook: who it enrols, when, and the steps each run goes through.",
	"Definition.key":         "The playbook's key, which never changes: lower-case letters, digits and '-', at most 63. Runs, versions, analytics and start_playbook steps refer to it.",
	"Definition.name":        "The playbook's name, as CS ops see it in lists and on run pages.",
	"Definition.description": "What the playbook is for, in a sentence; shown on the playbook's page.",
	"Definition.anchor": "What top-level steps' at offsets count from: enrolled (the default: the run's start), " +
		"renewal_date or contract_start (the account's dates; at may then be negative, such as -120d before renewal).",
	"Definition.trigger":  "When accounts are enrolled automatically (see Triggers); without one, runs start by hand or from another playbook. A manual start always works.",
	"Definition.segments": "The segments that may enrol; left out: every segment.",
	"Definition.exit":     "Rules that end a run early: when a rule's condition holds, the run ends with its outcome (checked before each step).",
	"Definition.send_window": "Hours in the account's time zone when automated customer emails may go out; an email due outside them waits for the next opening. " +
		"Left out: any hour.",
	"Definition.templates": "Email templates the definition carries, versioned with it; a template shadows a built-in of the same name.",
	"Definition.steps":     "The touchpoints, in order (see Steps). At least one.",

	"Step.id":         "The step's id, unique in the definition: lower-case letters, digits and '-', such as welcome-email. Runs, analytics and the inbox refer to it.",
	"Step.at":         "Top-level steps only: when the step is due, as an offset from the definition's anchor, such as 6d (or -120d before a renewal date). Steps are ordered by at.",
	"Step.after":      "How long after the previous step this one is due (not with at).",
	"Step.when":       "Skip the step unless this condition holds when the run reaches it (see Conditions); the run view says why it skipped.",
	"Step.cite":       "Where the step comes from, for reviewers, such as 'seed 000 \"Day 1\"'. Runs never read it.",
	"Step.email":      "Send an email template to the account's contacts with the roles, within the send window, the frequency cap and any higher-priority play's hold.",
	"Step.task":       "Create a task for a member of the account's team (its CSM, or higher up the escalation ladder), shown in their inbox.",
	"Step.approval":   "Ask a team member to approve an email, and maybe edit it, before it is sent; the run waits for the decision.",
	"Step.wait":       "Pause the run for this long.",
	"Step.wait_for":   "Wait for an account event (reported through the API or the console), for at most within when given; on_timeout runs when it does not come in time.",
	"Step.on_timeout": "With wait_for and its within: the steps to run when the event does not come in time.",
	"Step.check_health": "Refresh the run's view of the account's latest health snapshot, so that the conditions after it test today's band and score. " +
		"It takes no options: write check_health: alone.",
	"Step.if":             "Branch: run then when the condition holds, else otherwise (see Conditions).",
	"Step.then":           "With if: the steps to run when the condition holds.",
	"Step.else":           "With if: the steps to run when it does not (left out: none).",
	"Step.repeat":         "Run steps again and again: every so long, until a time has passed or a number of times.",
	"Step.start_playbook": "Enrol the account in another playbook (nothing happens when it already has a live run of it). A playbook cannot start itself, directly or through others.",
	"Step.update_account": "Change the account: its lifecycle stage, its status or custom fields. Stage changes fire stage_changed triggers.",
	"Step.notify":         "Post a message to an outbound webhook, such as a Slack channel's.",
	"Step.survey":         "Email an NPS or CSAT survey, one signed link per score; an answer emits the survey_response event.",

	"EmailAction.template":             "The template to send: a built-in's name or one of the definition's templates.",
	"EmailAction.sendgrid_template_id": "Instead of template: a SendGrid dynamic template's id, such as d-0123456789abcdef0123456789abcdef.",
	"EmailAction.to":                   "The contact roles to send to: one or a list.",
	"TaskAction.title":                 "The task's title, one line.",
	"TaskAction.description":           "What to do, in more words.",
	"TaskAction.assignee":              "Who does it, on the account's escalation ladder.",
	"TaskAction.due":                   "How long after it is created the task is due.",
	"TaskAction.priority":              "The task's priority; normal when left out.",
	"ApprovalAction.assignee":          "Who decides, on the account's escalation ladder.",
	"ApprovalAction.email":             "The email the approver reviews: template (or sendgrid_template_id) and to, as an email step's.",
	"ApprovalAction.expires_in":        "How long the approver has; left out: the segment's response time.",
	"ApprovalAction.on_reject":         "What a rejection does: skip the email (the default) or end the run.",
	"ApprovalAction.on_expire":         "What happens when nobody decides in time: escalate up the ladder (the default), skip the email or end the run.",
	"WaitFor.event":                    "The account event's name, lower-case, such as first_login.",
	"WaitFor.within":                   "The longest wait; left out: wait as long as it takes.",
	"Repeat.every":                     "How often the steps run, from the start of the repeat.",
	"Repeat.until":                     "Stop repeating once this long has passed since the repeat began.",
	"Repeat.times":                     "Run the steps at most this many times.",
	"Repeat.steps":                     "The steps to repeat (after, not at).",
	"StartPlaybook.key":                "The key of the playbook to start.",
	"UpdateAccount.lifecycle_stage":    "The lifecycle stage the account enters, in your own words, such as adoption.",
	"UpdateAccount.status":             "The account's new status.",
	"UpdateAccount.fields":             "Custom fields to set on the account, names to values.",
	"SurveyAction.kind":                "nps (0-10, how likely to recommend) or csat (1-5, how satisfied).",
	"SurveyAction.to":                  "The contact roles to survey: one or a list.",

	"Trigger":             "When accounts are enrolled automatically, with the options of its kind only; a manual start always works.",
	"Trigger.on":          "What enrols an account: one of the triggers below, with its options.",
	"Trigger.to":          "With on: health_band, the band entered; with on: stage_changed, the lifecycle stage entered.",
	"Trigger.from":        "With on: stage_changed, only when leaving this stage; left out: from any stage.",
	"Trigger.days_before": fmt.Sprintf("With on: renewal_window, how many days before the renewal date, %d to %d.", MinDaysBefore, MaxDaysBefore),
	"Trigger.signal":      "With on: risk_signal, the signal.",
	"Trigger.event":       "With on: event, the account event's name, such as champion_left.",

	"Condition": "A test on what the run knows of the account. Several keys in one condition must all hold; " +
		"an unknown fact (no health yet, a missing field) makes a test false.",
	"Condition.segment":         "The account is in one of these segments.",
	"Condition.health_band":     "The account's latest health band is one of these.",
	"Condition.health_score":    "The account's latest health score (0-100) is within the bounds: lt, lte, gt, gte.",
	"Condition.field":           "A test on one of the account's custom fields: eq, ne, in, exists, or bounds lt, lte, gt, gte.",
	"Condition.event_received":  "The account event has been received during the run.",
	"Condition.account_status":  "The account's status is this.",
	"Condition.lifecycle_stage": "The account's lifecycle stage is this.",
	"Condition.all":             "Every condition in the list holds.",
	"Condition.any":             "At least one condition in the list holds.",
	"Condition.not":             "The condition does not hold.",
	"FieldCondition.name":       "The custom field's name.",
	"FieldCondition.eq":         "The field equals this value (numbers compare by value).",
	"FieldCondition.ne":         "The field, when set, is not this value.",
	"FieldCondition.in":         "The field is one of these values.",
	"FieldCondition.exists":     "true: the field is set; false: it is not.",
	"FieldCondition.lt":         "The field is a number below this.",
	"FieldCondition.lte":        "The field is a number at most this.",
	"FieldCondition.gt":         "The field is a number above this.",
	"FieldCondition.gte":        "The field is a number at least this.",

	"ExitRule.when":    "The condition that ends the run.",
	"ExitRule.outcome": "The outcome the run ends with, lower-case, such as churned or recovered; analytics count runs by it.",
	"SendWindow.days":  "The weekdays emails may go; left out: every day.",
	"SendWindow.start": "The window's opening, HH:MM, such as \"09:00\" (quote it in YAML).",
	"SendWindow.end":   "The window's close, HH:MM, after start.",
	"Template.name":    "The template's name, which email steps give as template.",
	"UpdateAccount":    "At least one of lifecycle_stage, status and fields.",
}

// triggerDocs say what enrols an account, for each value of a trigger's on.
var triggerDocs = map[string]string{
	"account_created": "When an account is created in playbookd (imported or through the API).",
	"health_band":     "When the account's health enters the band given as to.",
	"renewal_window":  "days_before days before the account's renewal date. The definition's anchor must be renewal_date.",
	"risk_signal":     "When a health snapshot or a reported event shows the risk signal given as signal.",
	"expansion":       "When a new health snapshot first finds the account meeting the expansion criteria (healthy, well used: see the health model).",
	"stage_changed":   "When the account enters the lifecycle stage given as to (from any stage, or only from from).",
	"event":           "When the account event given as event is reported.",
	"schedule": "On a schedule: the anchor date (contract_start or created) plus every, twice every, and so on; each occasion starts a run once. " +
		"The definition's at offsets then count from each run's start.",
	"survey_response": "When a contact answers a survey, of the category given (left out: any answer).",
}

// describe gives the schema's types and properties their docs where they
// have no description yet, and says on a trigger's on what each value does.
// A duration keeps its syntax after the doc.
func describe(defs map[string]any) {
	for name, d := range defs {
		def, ok := d.(map[string]any)
		if !ok {
			continue
		}
		if doc := docs[name]; doc != "" && def["description"] == nil {
			def["description"] = doc
		}
		props, _ := def["properties"].(map[string]any)
		for field, p := range props {
			prop, ok := p.(map[string]any)
			doc := docs[name+"."+field]
			if doc == "" {
				doc = descriptions[name+"."+field] // schemaOf gives them to texts and types only
			}
			if !ok || doc == "" {
				continue
			}
			switch had, _ := prop["description"].(string); {
			case had == "":
				prop["description"] = doc
			case prop["pattern"] == durationPattern && had != doc:
				prop["description"] = doc + " A duration: " + had + "."
			}
		}
	}
	on := defs["Trigger"].(map[string]any)["properties"].(map[string]any)["on"].(map[string]any)
	var each []string
	for _, event := range TriggerEvents {
		each = append(each, event+": "+triggerDocs[event])
	}
	on["description"] = docs["Trigger.on"] + " " + strings.Join(each, " ")
}
