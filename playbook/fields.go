package playbook

import texttemplate "text/template"

// templateFuncs are the functions templates.Render registers beyond
// text/template's own (whose names it keeps): parsing needs their names
// only, as {{.Account.Fields.plan | default "Standard"}} does not parse
// without default. A test of templates holds the two in step.
var templateFuncs = texttemplate.FuncMap{
	"default": func(def, v any) any { return v },
}
