package playbook

import (
	"reflect"
	"strings"
)

// fieldEnums are the closed vocabularies, by JSON field name.
var fieldEnums = map[string][]string{
	"anchor": Anchors, "on": TriggerEvents, "signal": RiskSignals, "segments": Segments, "segment": Segments,
	"health_band": HealthBands, "to": ContactRoles, "assignee": TeamLevels, "priority": Priorities,
	"on_reject": OnReject, "on_expire": OnExpire, "days": Weekdays, "account_status": AccountStatus,
}

// required lists the fields each type must have, by Go type name.
var required = map[string][]string{
	"Definition": {"key", "name", "steps"}, "Step": {"id"}, "ExitRule": {"when", "outcome"},
	"SendWindow": {"start", "end"}, "Template": {"name", "subject", "html", "text"}, "EmailAction": {"to"},
	"TaskAction": {"title", "assignee"}, "ApprovalAction": {"assignee", "email"}, "WaitFor": {"event"},
	"Repeat": {"every", "steps"}, "StartPlaybook": {"key"}, "Notify": {"url", "message"}, "FieldCondition": {"name"},
}

// Schema is the JSON Schema (2020-12) of the definition language, derived
// from the same types the parser decodes into. Cross-field rules (one action
// per step, ordered at offsets, known templates) are the validator's.
func Schema() map[string]any {
	defs := map[string]any{}
	root := schemaOf(reflect.TypeOf(Definition{}), "", defs)
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

var (
	durationType = reflect.TypeOf(Duration(0))
	triggerType  = reflect.TypeOf(Trigger{})
)

func schemaOf(t reflect.Type, field string, defs map[string]any) any {
	if t == durationType {
		return map[string]any{"type": "string", "pattern": `^-?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?$`,
			"description": "whole numbers with units, largest first: 90s, 15m, 4h, 3d, 2w, 1d12h"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), field, defs)
	case reflect.String:
		s := map[string]any{"type": "string"}
		if enum, ok := fieldEnums[field]; ok {
			s["enum"] = enum
		}
		return s
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		items := schemaOf(t.Elem(), field, defs)
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
			addProperties(t, props, defs)
			def := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
			if req, ok := required[name]; ok {
				def["required"] = req
			}
			defs[name] = def
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	}
	return map[string]any{}
}

func addProperties(t reflect.Type, props map[string]any, defs map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			addProperties(f.Type, props, defs)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		if t == triggerType && name == "to" {
			// A band or a lifecycle stage, not the contact roles of an email's to.
			props[name] = map[string]any{"type": "string"}
			continue
		}
		props[name] = schemaOf(f.Type, name, defs)
	}
}
