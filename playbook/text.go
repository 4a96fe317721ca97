package playbook

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"
)

// multilineFields are the definition's fields whose text may hold line
// breaks and tabs: template bodies, notify messages, descriptions. Every
// other text is one line.
var multilineFields = []string{"html", "text", "message", "description"}

// texts refuses control characters in every text of the definition, keys
// included, with the field's path: YAML escapes ("\0", "\a", "\e", "\x7f")
// reach them as easily as JSON does, PostgreSQL refuses NUL, and the others
// break the console's pages and pictures. It walks the JSON encoding, which
// is what is stored, so no field can be missed.
func (v *validator) texts(raw []byte) {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return // reported by limits
	}
	v.textsIn("", "", doc)
}

func (v *validator) textsIn(path, field string, value any) {
	switch x := value.(type) {
	case string:
		v.textValue(path, field, x)
	case []any:
		for i, e := range x {
			v.textsIn(fmt.Sprintf("%s[%d]", path, i), field, e)
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // errors in a stable order
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if i := controlIndex(k, false); i >= 0 || !utf8.ValidString(k) {
				v.add(path, "has a field name with a control character")
				continue
			}
			v.textsIn(p, k, x[k])
		}
	}
}

func (v *validator) textValue(path, field, s string) {
	multiline := slices.Contains(multilineFields, field)
	if !utf8.ValidString(s) {
		v.add(path, "is not valid UTF-8 text")
		return
	}
	if i := controlIndex(s, multiline); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		allowed := "no control characters"
		if multiline {
			allowed = "no control characters but tab and line breaks"
		}
		v.add(path, "has the control character %U at byte %d: text holds %s", r, i, allowed)
	}
}

// controlIndex is the byte index of the first control character in s, or
// -1; tab is allowed, and CR and LF in multiline text. The API's edge
// applies the same rule to every request.
func controlIndex(s string, multiline bool) int {
	for i, r := range s {
		if r == '\t' || multiline && (r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return i
		}
	}
	return -1
}
