package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/playbookd/playbookd/accounts"
)

// Check type-checks a template source against Data, the way Render runs it,
// without running it: every field chain must exist, functions must get the
// number and kind of arguments they take, comparisons must compare like with
// like, and (html) html/template must be able to escape it. report is called
// for each problem, in line order, with its line in src (1-based).
// Any custom field is taken (Checker holds them to those declared).
func Check(src string, html bool, report func(line int, message string)) {
	checkWith(src, html, nil, report)
}

func checkWith(src string, html bool, declared []accounts.Field, report func(line int, message string)) {
	c := &checker{src: src, declared: declared}
	t, err := texttemplate.New("part").Funcs(boundedFuncs).Parse(src)
	if err != nil {
		line, msg := parseError(err)
		report(line, msg)
		return
	}
	trees := map[string]*parse.Tree{}
	for _, d := range t.Templates() {
		trees[d.Name()] = d.Tree
	}
	c.trees = trees
	for _, tree := range trees {
		if tree == nil || tree.Root == nil {
			continue
		}
		c.vars = []variable{{"$", dataType}}
		c.walk(dataType, tree.Root)
	}
	if html && len(c.problems) == 0 && !c.ranges {
		c.escape()
	}
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].line < c.problems[j].line })
	for i, p := range c.problems {
		if i > 0 && p == c.problems[i-1] {
			continue // the same mistake repeated on a line is said once
		}
		report(p.line, p.message)
	}
}

var dataType = reflect.TypeOf(Data{})

type problem struct {
	line    int
	message string
}

type variable struct {
	name string
	typ  reflect.Type // nil: not known before the template runs
}

type checker struct {
	src      string
	trees    map[string]*parse.Tree
	vars     []variable
	problems []problem
	depth    int              // of {{template}} calls being followed
	ranges   bool             // the source has a {{range}}
	declared []accounts.Field // custom fields; nil: any
}

func (c *checker) errorf(n parse.Node, format string, args ...any) {
	line := 1
	if pos := int(n.Position()); pos > 0 && pos <= len(c.src) {
		line += strings.Count(c.src[:pos], "\n")
	}
	c.problems = append(c.problems, problem{line, fmt.Sprintf(format, args...)})
}

var parseErrorPattern = regexp.MustCompile(`^template: [^:]*:(\d+):\s*(.*)$`)

// parseError turns text/template's "template: part:3: message" into a line
// and a message.
func parseError(err error) (int, string) {
	msg := err.Error()
	line := 1
	if m := parseErrorPattern.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if strings.HasPrefix(msg, "function ") && strings.HasSuffix(msg, " not defined") {
		msg += "; functions: " + strings.Join(functionNames(), ", ")
	}
	return line, msg
}

// escape has html/template escape the source, which it does before its first
// execution: the execution then stops at once, on nil data and a writer that
// refuses to write. A {{range}} over a number could run on without writing,
// so a source with such a range is not escaped here (definitions loop only
// over .Survey.Options).
func (c *checker) escape() {
	t, err := htmltemplate.New("part").Funcs(boundedFuncs).Parse(c.src)
	if err == nil {
		err = t.Execute(refusingWriter{}, nil)
	}
	var e *htmltemplate.Error
	if !errors.As(err, &e) {
		return
	}
	line := e.Line
	if line == 0 {
		line = 1 + strings.Count(strings.TrimRight(c.src, "\n"), "\n")
	}
	msg := e.Description
	if e.ErrorCode == htmltemplate.ErrEndContext {
		msg = "the html ends inside a tag, an attribute, a comment or a script: close it"
	}
	c.problems = append(c.problems, problem{line, msg})
}

type refusingWriter struct{}

func (refusingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func (c *checker) walk(dot reflect.Type, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, child := range n.Nodes {
			c.walk(dot, child)
		}
	case *parse.ActionNode:
		c.pipe(dot, n.Pipe)
	case *parse.IfNode:
		c.branch(dot, &n.BranchNode, false)
	case *parse.WithNode:
		c.branch(dot, &n.BranchNode, true)
	case *parse.RangeNode:
		c.rangeNode(dot, n)
	case *parse.TemplateNode:
		c.template(dot, n)
	}
}

// branch checks an if or a with: variables of its pipeline are seen by both
// lists, those declared in a list end with it.
func (c *checker) branch(dot reflect.Type, b *parse.BranchNode, with bool) {
	mark := len(c.vars)
	t := c.pipe(dot, b.Pipe)
	inner := dot
	if with {
		inner = t
	}
	c.lists(mark, inner, dot, b.List, b.ElseList)
}

// lists walks a control structure's list with dot inner, then its else list
// with dot, each with the variables declared before it; then the
// structure's own variables end.
func (c *checker) lists(mark int, inner, dot reflect.Type, list, elseList *parse.ListNode) {
	body := len(c.vars)
	c.walk(inner, list)
	c.vars = c.vars[:body]
	c.walk(dot, elseList)
	c.vars = c.vars[:mark]
}

func (c *checker) rangeNode(dot reflect.Type, n *parse.RangeNode) {
	mark := len(c.vars)
	t := c.commands(dot, n.Pipe)
	// A range over a list or a map of the data ends with it (escape runs
	// on nil data, where it is empty); over a number, or what is known only
	// when the template runs, it might not.
	if t == nil || !isCollection(indirect(t).Kind()) {
		c.ranges = true
	}
	var key, elem reflect.Type
	if t != nil {
		t = indirect(t)
		switch t.Kind() {
		case reflect.Slice, reflect.Array:
			key, elem = reflect.TypeOf(0), t.Elem()
		case reflect.Map:
			key, elem = t.Key(), t.Elem()
		case reflect.Chan:
			elem = t.Elem()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			key, elem = t, t
		case reflect.Interface:
		default:
			c.errorf(n, "{{range}} cannot go over %s (%s)", n.Pipe, describe(t))
		}
	}
	switch len(n.Pipe.Decl) {
	case 1:
		c.declare(n.Pipe, 0, elem)
	case 2:
		c.declare(n.Pipe, 0, key)
		c.declare(n.Pipe, 1, elem)
	}
	c.lists(mark, elem, dot, n.List, n.ElseList)
}

func isCollection(k reflect.Kind) bool {
	return k == reflect.Slice || k == reflect.Array || k == reflect.Map
}

// template follows {{template "name" pipeline}} into the named template,
// with dot the pipeline's type; a name the source does not define fails.
func (c *checker) template(dot reflect.Type, n *parse.TemplateNode) {
	var arg reflect.Type
	if n.Pipe != nil {
		arg = c.pipe(dot, n.Pipe)
	}
	tree, ok := c.trees[n.Name]
	if !ok {
		c.errorf(n, "no template %q: a template can only include one it defines", n.Name)
		return
	}
	if c.depth > 3 || tree.Root == nil { // deeper: checked on its own, with Data as dot
		return
	}
	saved := c.vars
	c.vars = []variable{{"$", arg}}
	c.depth++
	c.walk(arg, tree.Root)
	c.depth--
	c.vars = saved
}

func (c *checker) declare(p *parse.PipeNode, i int, t reflect.Type) {
	name := p.Decl[i].Ident[0]
	if p.IsAssign {
		for j := len(c.vars) - 1; j >= 0; j-- {
			if c.vars[j].name == name {
				c.vars[j].typ = t
				return
			}
		}
	}
	c.vars = append(c.vars, variable{name, t})
}

// pipe checks a pipeline and declares its variables; it returns the type of
// its value.
func (c *checker) pipe(dot reflect.Type, p *parse.PipeNode) reflect.Type {
	if p == nil {
		return nil
	}
	t := c.commands(dot, p)
	for i := range p.Decl {
		c.declare(p, i, t)
	}
	return t
}

// value is what a command passes on to the next in a pipeline.
type value struct {
	node parse.Node
	typ  reflect.Type
}

func (c *checker) commands(dot reflect.Type, p *parse.PipeNode) reflect.Type {
	var final *value
	for _, cmd := range p.Cmds {
		t := c.command(dot, cmd, final)
		final = &value{cmd, t}
	}
	if final == nil {
		return nil
	}
	return final.typ
}

func (c *checker) command(dot reflect.Type, cmd *parse.CommandNode, final *value) reflect.Type {
	args := cmd.Args[1:]
	if _, fn := cmd.Args[0].(*parse.IdentifierNode); !fn {
		for _, a := range args { // a method's arguments; call checks a function's
			c.arg(dot, a)
		}
	}
	switch n := cmd.Args[0].(type) {
	case *parse.FieldNode:
		return c.chain(n, dot, "", n.Ident, args, final)
	case *parse.ChainNode:
		if _, isNil := n.Node.(*parse.NilNode); isNil {
			c.errorf(n, "nil has no fields")
			return nil
		}
		return c.chain(n, c.arg(dot, n.Node), n.Node.String(), n.Field, args, final)
	case *parse.VariableNode:
		t := c.variable(n)
		if len(n.Ident) == 1 {
			c.notAFunction(n, args, final)
			return t
		}
		return c.chain(n, t, n.Ident[0], n.Ident[1:], args, final)
	case *parse.IdentifierNode:
		return c.call(dot, n, args, final)
	case *parse.PipeNode:
		c.notAFunction(n, args, final)
		return c.pipe(dot, n)
	case *parse.NilNode:
		c.errorf(n, "nil is not a command")
		return nil
	default:
		c.notAFunction(n, args, final)
		return c.arg(dot, n)
	}
}

func (c *checker) notAFunction(n parse.Node, args []parse.Node, final *value) {
	if len(args) > 0 || final != nil {
		c.errorf(n, "%s is not a function: it takes no arguments", n)
	}
}

func (c *checker) variable(n *parse.VariableNode) reflect.Type {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == n.Ident[0] {
			return c.vars[i].typ
		}
	}
	c.errorf(n, "undefined variable %s", n.Ident[0])
	return nil
}

// arg is the type of a command's argument.
func (c *checker) arg(dot reflect.Type, n parse.Node) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return c.chain(n, dot, "", n.Ident, nil, nil)
	case *parse.ChainNode:
		return c.command(dot, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{n}}, nil)
	case *parse.VariableNode:
		t := c.variable(n)
		if len(n.Ident) == 1 {
			return t
		}
		return c.chain(n, t, n.Ident[0], n.Ident[1:], nil, nil)
	case *parse.PipeNode:
		return c.pipe(dot, n)
	case *parse.IdentifierNode:
		return c.call(dot, n, nil, nil)
	case *parse.BoolNode:
		return reflect.TypeOf(false)
	case *parse.StringNode:
		return reflect.TypeOf("")
	case *parse.NumberNode:
		return numberType(n)
	}
	return nil
}

// numberType is the type text/template gives a number constant where any
// value is taken (the arguments of eq, lt and the like).
func numberType(n *parse.NumberNode) reflect.Type {
	switch {
	case n.IsComplex:
		return reflect.TypeOf(complex128(0))
	case n.IsFloat && !isHexInt(n.Text) && strings.ContainsAny(n.Text, ".eEpP"):
		return reflect.TypeOf(0.0)
	case n.IsInt:
		return reflect.TypeOf(0)
	case n.IsUint:
		return reflect.TypeOf(uint(0))
	}
	return reflect.TypeOf(0.0)
}

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

// chain follows .A.B.C from a value of type t; written is how the template
// wrote that value ("" for dot, "$x", "(pipeline)"). The last name gets the
// command's arguments.
func (c *checker) chain(n parse.Node, t reflect.Type, written string, names []string, args []parse.Node, final *value) reflect.Type {
	for i, name := range names {
		last := i == len(names)-1
		var a []parse.Node
		var f *value
		if last {
			a, f = args, final
		}
		t = c.field(n, t, written, name, a, f)
		written += "." + name
		if t == nil {
			return nil
		}
	}
	return t
}

// field is the type of receiver.name, the way text/template looks it up: a
// method first, then a struct field or a map key.
func (c *checker) field(n parse.Node, t reflect.Type, written, name string, args []parse.Node, final *value) reflect.Type {
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Interface && t.NumMethod() == 0 {
		return nil // known when the template runs
	}
	if m, ok := t.MethodByName(name); ok && m.IsExported() {
		return c.method(n, written+"."+name, m.Type, t.Kind() != reflect.Interface, args, final)
	}
	hasArgs := len(args) > 0 || final != nil
	s := indirect(t)
	switch s.Kind() {
	case reflect.Struct:
		if f, ok := s.FieldByName(name); ok && f.IsExported() {
			if hasArgs {
				c.errorf(n, "%s.%s is a value, not a function: it takes no arguments", written, name)
			}
			return f.Type
		}
		msg := fmt.Sprintf("%s is not a field of %s; fields: %s", written+"."+name, owner(written, t), strings.Join(fieldsOf(t), ", "))
		for _, f := range fieldsOf(t) {
			if strings.EqualFold(f, name) {
				msg += fmt.Sprintf(" (names are case-sensitive: %s.%s)", written, f)
			}
		}
		c.errorf(n, "%s", msg)
		return nil
	case reflect.Map:
		if reflect.TypeOf(name).AssignableTo(s.Key()) {
			if hasArgs {
				c.errorf(n, "%s.%s is a value, not a function: it takes no arguments", written, name)
			}
			if s == customFieldsType {
				c.customField(n, written, name)
			}
			return s.Elem()
		}
	}
	c.errorf(n, "%s is %s: it has no field %s", nonEmpty(written), describe(t), name)
	return nil
}

// owner names the value whose field is missing: as written, or by its type
// when the template wrote it as dot.
func owner(written string, t reflect.Type) string {
	if written == "" {
		return describe(t)
	}
	return written
}

func nonEmpty(written string) string {
	if written == "" {
		return "."
	}
	return written
}

// fieldsOf lists the names a template can use on a value of type t.
func fieldsOf(t reflect.Type) []string {
	var names []string
	if s := indirect(t); s.Kind() == reflect.Struct {
		for i := 0; i < s.NumField(); i++ {
			if s.Field(i).IsExported() {
				names = append(names, s.Field(i).Name)
			}
		}
	}
	for i := 0; i < t.NumMethod(); i++ {
		if m := t.Method(i); m.IsExported() {
			names = append(names, m.Name)
		}
	}
	return names
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// method checks a call of a method of type ft (with its receiver first when
// hasReceiver) and returns its result's type.
func (c *checker) method(n parse.Node, written string, ft reflect.Type, hasReceiver bool, args []parse.Node, final *value) reflect.Type {
	in := ft.NumIn()
	first := 0
	if hasReceiver {
		first = 1
	}
	got := len(args)
	if final != nil {
		got++
	}
	want := in - first
	if ft.IsVariadic() {
		if got < want-1 {
			c.errorf(n, "%s takes at least %d argument(s), not %d", written, want-1, got)
		}
	} else if got != want {
		c.errorf(n, "%s takes %d argument(s), not %d", written, want, got)
	}
	switch {
	case ft.NumOut() == 1:
	case ft.NumOut() == 2 && ft.Out(1) == errorType:
	default:
		c.errorf(n, "%s cannot be used in a template: it must return one value (and maybe an error)", written)
		return nil
	}
	return ft.Out(0)
}

var errorType = reflect.TypeOf((*error)(nil)).Elem()
