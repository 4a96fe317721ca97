package app

import (
	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/templates"
)

// TemplateFields are what templates may use, as CS ops look them up (the
// API's template-fields, the console's editor): the data's fields and
// each declared account field, the measured ones included.
func (a *App) TemplateFields() []templates.Field {
	return templates.FieldsFor(accounts.DeclaredFields(a.accountFields))
}
