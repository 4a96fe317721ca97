package templates

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"text/template/parse"
)

// function is what Check knows of a function templates can call: text/template's
// built-ins, those that build text bounded (boundedFuncs) under the same
// names and types.
type function struct {
	min, max int // arguments; max -1: any number
	result   func(args []reflect.Type) reflect.Type
	check    func(c *checker, n parse.Node, name string, args []value)
}

var (
	stringType = reflect.TypeOf("")
	boolType   = reflect.TypeOf(false)
	intType    = reflect.TypeOf(0)
)

func always(t reflect.Type) func([]reflect.Type) reflect.Type {
	return func([]reflect.Type) reflect.Type { return t }
}

// same is the type of the arguments when they all have one (and, or).
func same(args []reflect.Type) reflect.Type {
	if len(args) == 0 {
		return nil
	}
	for _, t := range args[1:] {
		if t != args[0] {
			return nil
		}
	}
	return args[0]
}

var functions = map[string]function{
	"and":      {min: 1, max: -1, result: same},
	"or":       {min: 1, max: -1, result: same},
	"not":      {min: 1, max: 1, result: always(boolType)},
	"len":      {min: 1, max: 1, result: always(intType), check: checkLen},
	"index":    {min: 1, max: -1, result: indexResult, check: checkIndex},
	"slice":    {min: 1, max: 4, result: sliceResult},
	"call":     {min: 1, max: -1, result: always(nil), check: checkCall},
	"print":    {min: 0, max: -1, result: always(stringType)},
	"println":  {min: 0, max: -1, result: always(stringType)},
	"printf":   {min: 1, max: -1, result: always(stringType), check: checkPrintf},
	"html":     {min: 0, max: -1, result: always(stringType)},
	"js":       {min: 0, max: -1, result: always(stringType)},
	"urlquery": {min: 0, max: -1, result: always(stringType)},
	"eq":       {min: 2, max: -1, result: always(boolType), check: checkCompare(false)},
	"ne":       {min: 2, max: 2, result: always(boolType), check: checkCompare(false)},
	"lt":       {min: 2, max: 2, result: always(boolType), check: checkCompare(true)},
	"le":       {min: 2, max: 2, result: always(boolType), check: checkCompare(true)},
	"gt":       {min: 2, max: 2, result: always(boolType), check: checkCompare(true)},
	"ge":       {min: 2, max: 2, result: always(boolType), check: checkCompare(true)},
	// default "Standard" .Account.Fields.plan: the value or, when missing
	// or empty, the default; of their type when they have one.
	"default": {min: 2, max: 2, result: same},
}

// checkIndex holds index .Account.Fields "name" to the declared fields, as
// .Account.Fields.name is.
func checkIndex(c *checker, n parse.Node, name string, args []value) {
	if len(args) < 2 || args[0].typ != customFieldsType {
		return
	}
	if key, ok := constantString(args[1].node); ok {
		c.customField(n, args[0].node.String(), key)
	}
}

func functionNames() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// call checks a function call; final is the value a pipeline passes in as
// the last argument.
func (c *checker) call(dot reflect.Type, n *parse.IdentifierNode, args []parse.Node, final *value) reflect.Type {
	f, ok := functions[n.Ident]
	if !ok {
		c.errorf(n, "function %q not defined; functions: %s", n.Ident, strings.Join(functionNames(), ", "))
		return nil
	}
	vals := make([]value, 0, len(args)+1)
	for _, a := range args {
		vals = append(vals, value{a, c.arg(dot, a)})
	}
	if final != nil {
		vals = append(vals, *final)
	}
	switch {
	case len(vals) > MaxCallArgs:
		c.errorf(n, "%s takes %d arguments here; a call may take at most %d", n.Ident, len(vals), MaxCallArgs)
		return nil
	case len(vals) < f.min && f.min == f.max:
		c.errorf(n, "%s takes %d argument(s), not %d", n.Ident, f.min, len(vals))
		return nil
	case len(vals) < f.min:
		c.errorf(n, "%s takes at least %d argument(s), not %d", n.Ident, f.min, len(vals))
		return nil
	case f.max >= 0 && len(vals) > f.max:
		c.errorf(n, "%s takes at most %d argument(s), not %d", n.Ident, f.max, len(vals))
		return nil
	}
	if f.check != nil {
		f.check(c, n, n.Ident, vals)
	}
	types := make([]reflect.Type, len(vals))
	for i, v := range vals {
		types[i] = v.typ
	}
	return f.result(types)
}

func checkLen(c *checker, n parse.Node, name string, args []value) {
	t := args[0].typ
	if t == nil {
		return
	}
	switch indirect(t).Kind() {
	case reflect.Array, reflect.Chan, reflect.Map, reflect.Slice, reflect.String, reflect.Interface:
	default:
		c.errorf(n, "len of %s: %s has no length", args[0].node, describe(t))
	}
}

func checkCall(c *checker, n parse.Node, name string, args []value) {
	if t := args[0].typ; t != nil && t.Kind() != reflect.Func && t.Kind() != reflect.Interface {
		c.errorf(n, "call of %s: %s is not a function", args[0].node, describe(t))
	}
}

// checkPrintf wants the format written in the template, within the bounds
// of checkFormat: a format made as the template runs (from a variable or
// the data) could hold any width, and only rendering would tell.
func checkPrintf(c *checker, n parse.Node, name string, args []value) {
	a := args[0]
	if a.typ != nil && (isNumberNode(a.node) || a.typ.Kind() != reflect.String) {
		c.errorf(n, "printf takes its format first, as a string such as \"%%.0f\"; %s is %s", a.node, describe(a.typ))
		return
	}
	format, ok := constantString(a.node)
	if !ok {
		c.errorf(n, "printf takes its format as a quoted string such as \"%%.0f\", not %s: the widths of a format made as the template runs cannot be checked", a.node)
		return
	}
	if _, err := checkFormat(format); err != nil {
		c.errorf(n, "printf: %v", err)
	}
}

// constantString is the text of a quoted string, also when piped in
// ({{"%d" | printf}}) or in parentheses.
func constantString(n parse.Node) (string, bool) {
	switch n := n.(type) {
	case *parse.StringNode:
		return n.Text, true
	case *parse.CommandNode:
		if len(n.Args) == 1 {
			return constantString(n.Args[0])
		}
	case *parse.PipeNode:
		if len(n.Cmds) == 1 && len(n.Decl) == 0 {
			return constantString(n.Cmds[0])
		}
	}
	return "", false
}

func isNumberNode(n parse.Node) bool {
	_, ok := n.(*parse.NumberNode)
	return ok
}

func indexResult(args []reflect.Type) reflect.Type {
	t := args[0]
	for range args[1:] {
		if t == nil {
			return nil
		}
		switch s := indirect(t); s.Kind() {
		case reflect.String:
			t = reflect.TypeOf(byte(0))
		case reflect.Slice, reflect.Array, reflect.Map:
			t = s.Elem()
		default:
			return nil
		}
	}
	return t
}

func sliceResult(args []reflect.Type) reflect.Type {
	t := args[0]
	if t != nil && indirect(t).Kind() == reflect.Array {
		return reflect.SliceOf(indirect(t).Elem())
	}
	return t
}

// Kinds text/template compares: values of different kinds do not compare
// (an int and a uint do), and only numbers and strings are ordered.
const (
	otherKind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

func basicKind(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Bool:
		return boolKind
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intKind
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintKind
	case reflect.Float32, reflect.Float64:
		return floatKind
	case reflect.Complex64, reflect.Complex128:
		return complexKind
	case reflect.String:
		return stringKind
	}
	return otherKind
}

func checkCompare(ordered bool) func(c *checker, n parse.Node, name string, args []value) {
	return func(c *checker, n parse.Node, name string, args []value) {
		first := args[0]
		for _, a := range args {
			if a.typ == nil || a.typ.Kind() == reflect.Interface {
				continue
			}
			k := basicKind(a.typ)
			if ordered && (k == otherKind || k == boolKind || k == complexKind) {
				c.errorf(n, "%s cannot order %s: %s has no order", name, a.node, describe(a.typ))
				return
			}
		}
		if first.typ == nil || first.typ.Kind() == reflect.Interface {
			return
		}
		k1 := basicKind(first.typ)
		for _, a := range args[1:] {
			if a.typ == nil || a.typ.Kind() == reflect.Interface {
				continue
			}
			k2 := basicKind(a.typ)
			if k1 == k2 && (k1 != otherKind || a.typ == first.typ) {
				continue
			}
			if (k1 == intKind && k2 == uintKind) || (k1 == uintKind && k2 == intKind) {
				continue
			}
			msg := fmt.Sprintf("%s cannot compare %s (%s) with %s (%s)", name, first.node, describe(first.typ), a.node, describe(a.typ))
			if num, ok := a.node.(*parse.NumberNode); ok && k1 == floatKind && k2 == intKind {
				msg += fmt.Sprintf("; write %s.0", num.Text)
			} else if num, ok := first.node.(*parse.NumberNode); ok && k2 == floatKind && k1 == intKind {
				msg += fmt.Sprintf("; write %s.0", num.Text)
			}
			c.errorf(n, "%s", msg)
			return
		}
	}
}

// describe names a type for CS ops.
func describe(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t {
	case dataType:
		return "the data"
	case reflect.TypeOf(Account{}):
		return "an account"
	case reflect.TypeOf(Person{}):
		return "a person"
	case reflect.TypeOf(Health{}):
		return "a health snapshot"
	case reflect.TypeOf(Metrics{}):
		return "the metrics"
	case customFieldsType:
		return "the account's custom fields"
	}
	if t.Kind() == reflect.Pointer && basicKind(t.Elem()) != otherKind {
		return "a measure, which may be missing: print it inside {{with}}"
	}
	switch basicKind(t) {
	case boolKind:
		return "true or false"
	case intKind, uintKind:
		return "a whole number"
	case floatKind:
		return "a decimal number"
	case stringKind:
		return "a string"
	}
	return "a " + t.String()
}
