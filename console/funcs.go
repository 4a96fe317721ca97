package console

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/playbookd/playbookd/store"
)

// workFuncs are the template functions of the work pages (inbox,
// approvals, accounts, runs, portfolio).
var workFuncs = map[string]any{
	"level":     levelWords,
	"money":     money,
	"score":     score,
	"eventType": eventType,
	"eventData": eventDataWords,
	"overdue":   func(t time.Time) bool { return t.Before(time.Now()) },
	"join":      strings.Join,
	// The language reference's entry for an error's path (reference.go).
	"reference": errorReference,
	"words":     func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	// Chart geometry mixes ints and floats.
	"add":    func(a, b any) float64 { return number(a) + number(b) },
	"sub":    func(a, b any) float64 { return number(a) - number(b) },
	"div":    func(a, b any) float64 { return number(a) / number(b) },
	"backTo": func(back string, rc runControls) runControls { rc.Back = back; return rc },
	// A task's reassign and snooze forms (loops.go).
	"taskLoops": taskLoopsOf,
	// A run_moved audit event's parts (moves.go).
	"movedEvent": moveEventOf,
	"runRow": func(r store.Run, controls bool, csrf string) runControls {
		return runControls{Run: r, Controls: controls && live(r), CSRF: csrf, Back: Prefix + "/accounts/" + url.PathEscape(r.AccountID)}
	},
}

// runControls is a run with its pause, resume and cancel forms, and the
// page they come back to.
type runControls struct {
	Run        store.Run
	Controls   bool
	CSRF, Back string
}

// levelWords names an escalation level (seed 000 "Escalation Levels").
func levelWords(level int) string {
	names := []string{"CSM", "senior CSM", "VP of CS", "executive"}
	if level >= 1 && level <= len(names) {
		return fmt.Sprintf("level %d (%s)", level, names[level-1])
	}
	return fmt.Sprintf("level %d", level)
}

// money writes dollars with thousands separators, cents only when there are.
func money(v float64) string {
	whole := int64(v)
	cents := int64((v-float64(whole))*100 + 0.5)
	digits := fmt.Sprint(whole)
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if cents > 0 {
		return fmt.Sprintf("$%s.%02d", b.String(), cents)
	}
	return "$" + b.String()
}

// eventType says an audit event's type in words: "event:first_login" is
// the event first_login someone reported.
func eventType(t string) string {
	if name, ok := strings.CutPrefix(t, "event:"); ok {
		return "event reported: " + name
	}
	return strings.ReplaceAll(t, "_", " ")
}

// eventDataWords writes an event's data as "key: value" pairs, in key
// order, each value cut to a readable length, without ids.
func eventDataWords(data map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(data)) {
		if strings.HasSuffix(k, "_id") && k != "step_id" {
			continue // ids say nothing to a person; the page links what it can
		}
		var v string
		switch x := data[k].(type) {
		case string:
			if x == "" {
				continue
			}
			v = x
		case nil:
			continue
		default:
			raw, _ := json.Marshal(x)
			v = string(raw)
		}
		if utf8.RuneCountInString(v) > 120 {
			v = string([]rune(v)[:119]) + "…"
		}
		parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+v)
	}
	return strings.Join(parts, " · ")
}

func number(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	panic(fmt.Sprintf("console template: %T is not a number", v))
}
