package playbook

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/playbookd/playbookd/internal/text"
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
			if text.Problem(k, false) != "" {
				v.add(path, "has a field name with a control character")
				continue
			}
			v.textsIn(p, k, x[k])
		}
	}
}

func (v *validator) textValue(path, field, s string) {
	if problem := text.Problem(s, slices.Contains(multilineFields, field)); problem != "" {
		v.add(path, "%s", problem)
	}
}
