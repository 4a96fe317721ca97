package timeline

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Entry kinds.
const (
	KindRun        = "run"
	KindEmail      = "email"
	KindApproval   = "approval"
	KindTask       = "task"
	KindHealth     = "health"
	KindRiskSignal = "risk_signal"
	KindEvent      = "event"
	KindAccount    = "account"
)

// Kinds are every kind an entry may have: the note kinds, then the audit
// events' (the API documents them).
var Kinds = []string{"call", "meeting", "note", KindRun, KindEmail, KindApproval, KindTask, KindHealth, KindRiskSignal, KindEvent, KindAccount}

// kindOf sorts an audit event's type into a kind.
func kindOf(typ string) string {
	switch {
	case strings.HasPrefix(typ, "run_"), typ == "playbook_triggered":
		return KindRun
	case strings.HasPrefix(typ, "email_"):
		return KindEmail
	case strings.HasPrefix(typ, "approval_"):
		return KindApproval
	case strings.HasPrefix(typ, "task_"):
		return KindTask
	case typ == "health_recorded":
		return KindHealth
	case typ == "risk_signal", strings.HasPrefix(typ, "risk_"):
		return KindRiskSignal
	case strings.HasPrefix(typ, "event:"):
		return KindEvent
	}
	return KindAccount
}

// summaryChars bounds a summary: a line of a list, not the whole text.
const summaryChars = 160

// cut shortens s to summaryChars on one line.
func cut(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= summaryChars {
		return s
	}
	return string([]rune(s)[:summaryChars-1]) + "…"
}

func noteSummary(kind, by, body string) string {
	what := map[string]string{"call": "Call", "meeting": "Meeting", "note": "Note"}[kind]
	if what == "" {
		what = kind
	}
	if by != "" {
		what += " logged by " + by
	}
	return cut(what + ": " + body)
}

// str reads a string of an event's data ("" when it is not one).
func str(data map[string]any, key string) string {
	s, _ := data[key].(string)
	return s
}

// eventSummary says an audit event in a sentence.
func eventSummary(typ string, data map[string]any) string {
	step := str(data, "step_id")
	at := ""
	if step != "" {
		at = " (step " + step + ")"
	}
	switch {
	case typ == "run_started":
		return cut(fmt.Sprintf("Playbook %s started (version %v).", str(data, "playbook"), data["version"]))
	case strings.HasPrefix(typ, "run_"):
		s := "Run " + strings.TrimPrefix(typ, "run_")
		if o := str(data, "outcome"); o != "" {
			s += ", outcome " + o
		}
		return cut(s + ".")
	case typ == "playbook_triggered":
		return cut(fmt.Sprintf("Trigger of %s: %s.", str(data, "playbook"), words(str(data, "result"))))
	case typ == "email_skipped":
		return cut(fmt.Sprintf("Email to %s skipped%s: %s.", str(data, "to"), at, str(data, "reason")))
	case strings.HasPrefix(typ, "email_"):
		return cut(fmt.Sprintf("Email to %s %s%s.", str(data, "to"), words(strings.TrimPrefix(typ, "email_")), at))
	case typ == "approval_requested":
		return cut(fmt.Sprintf("Approval requested of %s%s.", str(data, "assignee"), at))
	case typ == "approval_escalated":
		return cut(fmt.Sprintf("Approval escalated to level %v%s.", data["level"], at))
	case typ == "approval_reassigned":
		return cut(fmt.Sprintf("Approval moved from %s to %s.", str(data, "from"), str(data, "to")))
	case strings.HasPrefix(typ, "approval_"):
		s := "Approval " + strings.TrimPrefix(typ, "approval_") + at
		if by := str(data, "by"); by != "" {
			s += " by " + by
		}
		return cut(s + ".")
	case typ == "task_created":
		return cut(fmt.Sprintf("Task “%s” for %s.", str(data, "title"), str(data, "assignee")))
	case typ == "task_completed":
		return cut(fmt.Sprintf("Task completed%s: %s.", at, str(data, "outcome")))
	case typ == "task_reassigned":
		return cut(fmt.Sprintf("Task moved from %s to %s%s.", str(data, "from"), str(data, "to"), at))
	case typ == "task_snoozed":
		return cut(fmt.Sprintf("Task snoozed until %s%s.", str(data, "until"), at))
	case typ == "task_woken":
		return cut("Task back in the inbox" + at + ".")
	case strings.HasPrefix(typ, "task_"):
		return cut("Task " + words(strings.TrimPrefix(typ, "task_")) + at + ".")
	case typ == "health_recorded":
		return cut(fmt.Sprintf("Health %v (%s).", data["score"], str(data, "band")))
	case typ == "risk_signal":
		return cut("Risk signal: " + words(str(data, "signal")) + ".")
	case strings.HasPrefix(typ, "event:"):
		return cut("Event reported: " + strings.TrimPrefix(typ, "event:") + ".")
	case typ == "csm_changed":
		return cut(fmt.Sprintf("CSM changed from %s to %s.", str(data, "from"), str(data, "to")))
	case typ == "lifecycle_stage_changed":
		return cut(fmt.Sprintf("Lifecycle stage from %s to %s.", words(str(data, "from")), words(str(data, "to"))))
	case typ == "account_changed":
		return cut("A run changed the account" + at + ".")
	}
	s := words(typ)
	if r, size := utf8.DecodeRuneInString(s); size > 0 {
		s = strings.ToUpper(string(r)) + s[size:]
	}
	return cut(s + ".")
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }
