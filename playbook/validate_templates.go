package playbook

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

func (v *validator) ownTemplates(ts []Template) {
	for i, t := range ts {
		p := fmt.Sprintf("templates[%d]", i)
		if v.pattern(p+".name", t.Name, idPattern, "lower-case letters, digits and '-', such as \"renewal-note\"") &&
			v.templates[t.Name] && !slices.Contains(v.opts.BuiltinTemplates, t.Name) {
			v.add(p+".name", "template %q is defined twice", t.Name)
		}
		v.templates[t.Name] = true
		v.template(p+".subject", t.Name, "subject", t.Subject, false)
		// The text is required (plain-text readers, and the layout's
		// source); the html is optional: without it the text is
		// Markdown-light, laid out in the brand's layout.
		if t.HTML != "" {
			v.template(p+".html", t.Name, "html", t.HTML, true)
		}
		v.template(p+".text", t.Name, "text", t.Text, false)
	}
}

// template checks a part of a template the definition carries, or a notify
// message: it must parse, and it may not loop, define templates or include
// them. Its data's one list is a survey's options (11 at most), so any other
// range can only count up to a number: a loop that writes nothing would burn
// CPU for as long as it likes, which no bound on the output stops; ranges
// over the options nested in one another multiply, so one is allowed, not
// inside another; an include can do the same by recursion. A part is
// rendered inside a {{define}}, where another define does not parse.
// Then opts.CheckTemplate type-checks it. Errors name the template, the part
// and its line, and are placed at that line of the source.
func (v *validator) template(p, name, part, src string, html bool) {
	if !v.text(p, src, "the "+part) {
		return
	}
	problem := func(line int, format string, args ...any) {
		where := fmt.Sprintf("line %d of the %s: ", line, part)
		if name != "" {
			where = fmt.Sprintf("template %q, %s", name, where)
		}
		v.errs.add(p, v.pos.textLine(p, line), where+format, args...)
	}
	// Render registers one function of its own (templateFuncs): a part
	// parses here as it does there. html/template parses the same syntax.
	t, err := texttemplate.New("part").Funcs(templateFuncs).Parse(src)
	if err != nil {
		line, msg := parseError(err)
		problem(line, "not a valid Go template: %s", msg)
		return
	}
	lineOf := func(n parse.Node) int { return 1 + strings.Count(src[:min(int(n.Position()), len(src))], "\n") }
	for _, d := range t.Templates() {
		if d.Name() != "part" {
			problem(lineOf(d.Tree.Root), "must not define templates ({{define}} or {{block}})")
			return
		}
	}
	switch n := forbidden(t.Tree.Root).(type) {
	case *parse.RangeNode:
		if surveyOptions(n.Pipe) {
			problem(lineOf(n), "must not use {{range}} inside a {{range}} over .Survey.Options")
		} else {
			problem(lineOf(n), "must not use {{range}} but over .Survey.Options: templates see no other list, and a loop over a number has no use in an email")
		}
		return
	case *parse.TemplateNode:
		problem(lineOf(n), "must not use {{template}}: a part cannot include another")
		return
	}
	if v.opts.CheckTemplate != nil {
		v.opts.CheckTemplate(src, html, func(line int, msg string) { problem(line, "%s", msg) })
	}
}

var parseErrorPattern = regexp.MustCompile(`^template: [^:]*:(\d+):\s*(.*)$`)

// parseError turns "template: part:3: message" into a line and a message.
func parseError(err error) (int, string) {
	if m := parseErrorPattern.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 1, err.Error()
}

// forbidden is the first {{range}} or {{template}} below n, or nil; a
// range over .Survey.Options is allowed where no range encloses it (what is
// returned inside one is the nested range).
func forbidden(n parse.Node) parse.Node {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if f := forbidden(c); f != nil {
				return f
			}
		}
	case *parse.RangeNode:
		if !surveyOptions(n.Pipe) {
			return n
		}
		return firstOf(firstRange(n.List, n.ElseList), forbidden(n.ElseList))
	case *parse.TemplateNode:
		return n
	case *parse.IfNode:
		return firstOf(forbidden(n.List), forbidden(n.ElseList))
	case *parse.WithNode:
		return firstOf(forbidden(n.List), forbidden(n.ElseList))
	}
	return nil
}

// surveyOptions reports whether a range's pipeline is .Survey.Options (or
// $.Survey.Options), maybe declaring variables: the one list the data has.
func surveyOptions(p *parse.PipeNode) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return slices.Equal(a.Ident, []string{"Survey", "Options"})
	case *parse.VariableNode:
		return slices.Equal(a.Ident, []string{"$", "Survey", "Options"})
	}
	return false
}

// firstRange is the first range or template in the lists: inside a range,
// every range is forbidden.
func firstRange(lists ...*parse.ListNode) parse.Node {
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, c := range l.Nodes {
			var f parse.Node
			switch c := c.(type) {
			case *parse.RangeNode, *parse.TemplateNode:
				return c
			case *parse.IfNode:
				f = firstRange(c.List, c.ElseList)
			case *parse.WithNode:
				f = firstRange(c.List, c.ElseList)
			}
			if f != nil {
				return f
			}
		}
	}
	return nil
}

func firstOf(a, b parse.Node) parse.Node {
	if a != nil {
		return a
	}
	return b
}

// knownTemplates lists the templates for messages; steps come after the
// templates, so the list is worked out once.
func (v *validator) knownTemplates() string {
	if v.known == "" {
		names := make([]string, 0, len(v.templates))
		for n := range v.templates {
			names = append(names, n)
		}
		sort.Strings(names)
		if extra := len(names) - maxListedTemplates; extra > 0 {
			names = append(names[:maxListedTemplates], fmt.Sprintf("and %d more", extra))
		}
		v.known = strings.Join(names, ", ")
	}
	return v.known
}
