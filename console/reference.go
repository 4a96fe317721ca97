package console

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/playbook"
	"github.com/playbookd/playbookd/templates"
)

// referencePath is the language reference's address; the editor's errors
// link to its entries.
const referencePath = Prefix + "/reference"

// schemaPath is where the API serves the definition's JSON Schema.
const schemaPath = "/v1/playbooks/schema.json"

type referenceData struct {
	Sections []playbook.ReferenceSection
	Fields   []referenceField
	Schema   string
}

// referenceField is a template field's entry.
type referenceField struct {
	templates.Field
	ID      string // field-Account.Name
	Example string // a template's text using it, as YAML
}

// fieldsSection is the template fields' section, after the language's.
const fieldsSection = "fields"

// language is the language's sections, the same for every console,
// worked out once.
var language = sync.OnceValue(playbook.Reference)

// reference is the page's data: the language, and the template fields this
// organisation's templates may use (its declared account fields among them).
func reference(fields []templates.Field) referenceData {
	d := referenceData{Sections: language(), Schema: schemaPath}
	for _, f := range fields {
		d.Fields = append(d.Fields, referenceField{Field: f, ID: fieldAnchor(f.Name), Example: fieldExample(f)})
	}
	return d
}

// fieldAnchor is a template field's anchor: field-Account.Name.
func fieldAnchor(name string) string { return "field-" + strings.TrimPrefix(name, ".") }

// fieldExample is a template's text that uses the field, as a line of
// YAML: the list is ranged over, anything else printed.
func fieldExample(f templates.Field) string {
	use := "{{" + f.Name + "}}"
	if f.Type == "list" {
		use = "{{range " + f.Name + "}}{{.}} {{end}}"
	}
	return fmt.Sprintf("text: %q", use)
}

// referencePage is the language reference: every key, step kind, trigger,
// condition and template field, generated from the rules the validator
// holds definitions to (playbook.Reference), each with an example.
func (h *Handler) referencePage(c echo.Context) error {
	return h.render(c, http.StatusOK, "reference", page{Title: "Playbook language reference", Data: reference(h.app.TemplateFields())})
}

// refLink is where an error's entry is in the reference, and its name.
type refLink struct{ URL, Title string }

// referenceTitles name the reference's anchors for the editor's links.
var referenceTitles = sync.OnceValue(func() map[string]string {
	out := map[string]string{fieldsSection: "template fields"}
	for _, s := range playbook.Reference() {
		out[s.ID] = strings.ToLower(s.Title)
		kind, _, _ := strings.Cut(s.ID, "-")
		for _, e := range s.Entries {
			switch kind {
			case "definition":
				out[e.ID] = "the " + e.Name + " key"
			case "step", "condition":
				out[e.ID] = "the " + e.Name + " " + kind
			case "trigger":
				out[e.ID] = "the " + strings.TrimPrefix(e.Name, "on: ") + " trigger"
			default:
				out[e.ID] = e.Name
			}
		}
	}
	return out
})

// errorReference is the reference's entry for an error at path.
func errorReference(path string) refLink {
	anchor := playbook.ReferenceAnchor(path)
	return refLink{URL: referencePath + "#" + anchor, Title: referenceTitles()[anchor]}
}
