package accounts

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Field is a custom field the organisation declares on its accounts
// (ACCOUNT_FIELDS): templates may read it, field conditions may test it.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"` // one of FieldTypes
}

// FieldTypes are the types a custom field may be declared with.
var FieldTypes = []string{"text", "number", "bool"}

// FieldNamePattern is what a custom field's name may be: a name templates
// can write after .Account.Fields. and conditions after name:.
var FieldNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// MaxFields bounds the declared fields: each is listed in every "not
// declared" message and in the editor's field list.
const MaxFields = 100

// MeasuredFields are the custom fields the health sweep writes from the
// latest measures, which the built-in expansion playbook tests: always
// declared, with these types.
var MeasuredFields = []Field{{"feature_adoption_pct", "number"}, {"seats_used_pct", "number"}}

// ParseFields reads a declaration such as
// "plan:text,region:text,seats_used_pct:number,renewed:bool". Every
// problem is said, in one error; "" declares none.
func ParseFields(spec string) ([]Field, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var out []Field
	var problems []string
	seen := map[string]bool{}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		name, typ, ok := strings.Cut(entry, ":")
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		switch {
		case entry == "":
			problems = append(problems, fmt.Sprintf("entry %d is empty: give name:type, separated by commas", i+1))
			continue
		case !ok:
			problems = append(problems, fmt.Sprintf("%q has no type: write %s:text, %s:number or %s:bool", entry, name, name, name))
			continue
		case !FieldNamePattern.MatchString(name):
			problems = append(problems, fmt.Sprintf("%q: a field's name is lower-case letters, digits and '_', starting with a letter (at most 63), such as plan or seats_used_pct", name))
			continue
		case !slices.Contains(FieldTypes, typ):
			problems = append(problems, fmt.Sprintf("%s: type %q is not text, number or bool", name, typ))
			continue
		case seen[name]:
			problems = append(problems, fmt.Sprintf("%s is declared twice", name))
			continue
		}
		seen[name] = true
		if m := slices.IndexFunc(MeasuredFields, func(f Field) bool { return f.Name == name }); m >= 0 && MeasuredFields[m].Type != typ {
			problems = append(problems, fmt.Sprintf("%s is written by the health sweep as a %s: declare it %s:%s or leave it out (it is always declared)",
				name, MeasuredFields[m].Type, name, MeasuredFields[m].Type))
			continue
		}
		out = append(out, Field{Name: name, Type: typ})
	}
	if len(out) > MaxFields {
		problems = append(problems, fmt.Sprintf("%d fields declared; at most %d", len(out), MaxFields))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// DeclaredFields are the fields an organisation has: those it declares
// and the measured ones, by name.
func DeclaredFields(declared []Field) []Field {
	out := slices.Clone(declared)
	for _, m := range MeasuredFields {
		if !slices.ContainsFunc(out, func(f Field) bool { return f.Name == m.Name }) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// FieldNames are the fields' names, in their order.
func FieldNames(fields []Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
