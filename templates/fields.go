package templates

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/playbookd/playbookd/accounts"
)

// CustomFields are an account's custom fields as templates read them
// (.Account.Fields.plan): each value as text, so that every value prints
// and compares the same whatever JSON the account was given, and a field
// the account lacks is "" (templates render with missingkey=zero): it prints
// nothing, and `default` gives its stand-in. Numbers are tested in
// conditions (field: {name: seats_used_pct, gt: 85}), not in templates.
type CustomFields map[string]string

var customFieldsType = reflect.TypeOf(CustomFields{})

// NewCustomFields is how an account's custom fields read in a template:
// text as it is, a number in decimals without exponent or trailing zeros
// (1000000, 85.5), a bool as true or false, a list or an object as JSON; a
// null is absent. The values come from JSON (json.Number too).
func NewCustomFields(fields map[string]any) CustomFields {
	out := make(CustomFields, len(fields))
	for name, v := range fields {
		if s, ok := fieldText(v); ok {
			out[name] = s
		}
	}
	return out
}

func fieldText(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case json.Number:
		// As a float64 reads, so that either decoding reads the same.
		if f, err := v.Float64(); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64), true
		}
		return v.String(), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Checker type-checks templates for an organisation: as Check, and a
// custom field (.Account.Fields.<name>, or index with a quoted name) must
// be one it declares.
type Checker struct {
	// AccountFields are the declared fields (accounts.DeclaredFields);
	// nil: any name is taken (an approver's edits, render errors).
	AccountFields []accounts.Field
}

// Check is Check with the declared fields.
func (k Checker) Check(src string, html bool, report func(line int, message string)) {
	checkWith(src, html, k.AccountFields, report)
}

// customField reports a custom field the organisation does not declare,
// listing those it does.
func (c *checker) customField(n parse.Node, written, name string) {
	if c.declared == nil || slices.ContainsFunc(c.declared, func(f accounts.Field) bool { return f.Name == name }) {
		return
	}
	c.errorf(n, "%s.%s is not a declared account field; declared: %s (ACCOUNT_FIELDS declares more)",
		written, name, strings.Join(accounts.FieldNames(c.declared), ", "))
}

// FieldsFor is Fields with one entry per declared custom field, for CS ops
// to look up (the API's template-fields, the console's editor).
func FieldsFor(declared []accounts.Field) []Field {
	out := Fields()
	for _, f := range declared {
		example := map[string]string{"text": "Enterprise", "number": "85", "bool": "true"}[f.Type]
		out = append(out, Field{
			Name: ".Account.Fields." + f.Name, Type: "string",
			Description: "the account's " + f.Name + " (declared " + f.Type + "), as text; empty when the account lacks it: " +
				"{{.Account.Fields." + f.Name + " | default \"" + example + "\"}} gives a stand-in",
			Example: example,
		})
	}
	return out
}

// defaultValue is the template function default: {{.Account.Fields.plan |
// default "Standard"}} is the value, or the default when the value is
// missing or empty (nil, blank text, a measure not measured).
func defaultValue(def, v any) any {
	if v == nil {
		return def
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.String:
		if strings.TrimSpace(r.String()) == "" {
			return def
		}
	case reflect.Pointer, reflect.Interface:
		if r.IsNil() {
			return def
		}
	case reflect.Map, reflect.Slice:
		if r.Len() == 0 {
			return def
		}
	}
	return v
}

// missingKey is how every template reads a map key that is not there: as
// the zero value, so that a custom field an account lacks is "" (and a
// health component without input, 0, as index gives it) rather than an
// error that stops the email. Check refuses the names nobody declared.
const missingKey = "missingkey=zero"
