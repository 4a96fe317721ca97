package playbook

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// scalarDecoder is implemented by types written as one YAML/JSON string.
type scalarDecoder interface {
	decodeScalar(s string) error
}

type decoder struct {
	errs Errors
	// aliasBytes is what alias uses add to the document: every use costs its
	// target's scalars again (and a byte a node), so a small document cannot
	// expand into a huge one. Plain content is bounded by MaxSourceBytes.
	aliasBytes int
	inAlias    int // > 0 while decoding the target of an alias
	tooLarge   bool
	structs    map[reflect.Type]structInfo
	pos        positions
}

// positions say where each path of a definition is in its source, so that
// every error, the validator's too, gives its line.
type positions struct {
	lines map[string]int       // path -> line of its key (a field) or of its item (a list)
	texts map[string]textStart // path of a string -> where its text begins
}

// textStart is where a string's text begins. In a literal block (|) line n
// of the text is line n of the source from there on; in other styles lines
// are folded or escaped, and the text is placed at its start.
type textStart struct {
	line    int
	literal bool
}

func (p *positions) at(path string, line int) {
	if p.lines == nil {
		p.lines = map[string]int{}
	}
	p.lines[path] = line
}

func (p *positions) text(path string, n *yaml.Node) {
	start := textStart{line: n.Line}
	switch n.Style {
	case yaml.LiteralStyle:
		start = textStart{line: n.Line + 1, literal: true}
	case yaml.FoldedStyle:
		start.line = n.Line + 1
	}
	if start == (textStart{line: p.lines[path]}) {
		return // on its key's line, where textLine looks next
	}
	if p.texts == nil {
		p.texts = map[string]textStart{}
	}
	p.texts[path] = start
}

// line is the line of path, or of the nearest path above it that the source
// has (a missing field is reported where its parent is); 0 without a source.
func (p *positions) line(path string) int {
	if p == nil || p.lines == nil {
		return 0
	}
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p.lines[""]
		}
		path = path[:i]
	}
}

// textLine is the source line of line n (from 1) of the string at path.
func (p *positions) textLine(path string, n int) int {
	if p != nil {
		if t, ok := p.texts[path]; ok {
			if t.literal && n > 0 {
				return t.line + n - 1
			}
			return t.line
		}
	}
	return p.line(path)
}

// structInfo is what decoding needs of a struct type, worked out once.
type structInfo struct {
	fields   map[string][]int // JSON name -> field index
	expected string           // the names, for "unknown field" errors
}

// decodeSource parses YAML or JSON (JSON is YAML) into v, strictly: unknown
// fields, wrong types and bad scalars are all reported, each with its path
// and line, and decoding goes on past them.
func decodeSource(src []byte, v any) (Errors, *positions) {
	var d decoder
	if len(src) > MaxSourceBytes {
		d.errs.add("", 1, "the definition is larger than the limit of %d bytes (%d MiB)", MaxSourceBytes, MaxSourceBytes>>20)
		return d.errs, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		d.errs.add("", yamlErrorLine(err), "not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return d.errs, nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.errs.add("", 1, "the definition is empty")
		return d.errs, nil
	}
	d.pos.at("", doc.Content[0].Line)
	d.decode(doc.Content[0], reflect.ValueOf(v).Elem(), "")
	if d.tooLarge {
		// What was decoded is cut short: only this error makes sense.
		return Errors{{Line: 1, Message: fmt.Sprintf("once its aliases are expanded, the definition is larger than the limit of %d bytes (%d KiB)",
			MaxDefinitionBytes, MaxDefinitionBytes>>10)}}, nil
	}
	return d.errs, &d.pos
}

var yamlLinePattern = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine is the line a YAML syntax error names, 1 when it names none.
func yamlErrorLine(err error) int {
	if m := yamlLinePattern.FindStringSubmatch(err.Error()); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return n
		}
	}
	return 1
}

// charge counts a node reached through an alias; false once over the limit.
func (d *decoder) charge(n *yaml.Node) bool {
	if d.tooLarge {
		return false
	}
	if d.inAlias > 0 {
		d.aliasBytes += len(n.Value) + 1
		d.tooLarge = d.aliasBytes > MaxDefinitionBytes
	}
	return !d.tooLarge
}

// chargeTree charges the nodes below n, for values decoded by yaml itself.
func (d *decoder) chargeTree(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode {
		d.inAlias++
		defer func() { d.inAlias-- }()
		return d.charge(n.Alias) && d.chargeTree(n.Alias)
	}
	for _, c := range n.Content {
		if !d.charge(c) || !d.chargeTree(c) {
			return false
		}
	}
	return true
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.inAlias++
		d.decode(n.Alias, v, path)
		d.inAlias--
		return
	}
	if d.charge(n) {
		d.decodeValue(n, v, path)
	}
}

// decodeValue decodes a node that is not an alias and has been charged.
func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	if v.CanAddr() {
		if sd, ok := v.Addr().Interface().(scalarDecoder); ok {
			if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
				d.errs.add(path, n.Line, "must be a string such as \"3d\"")
				return
			}
			if err := sd.decodeScalar(n.Value); err != nil {
				d.errs.add(path, n.Line, "%s", err.Error())
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if isNull(n) && v.Type().Elem().Kind() == reflect.Struct {
			return // `check_health:` alone means "present, no options"
		}
		d.decodeValue(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Interface, reflect.Map:
		if !d.chargeTree(n) {
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.errs.add(path, n.Line, "cannot be read: %v", err)
			return
		}
		if !jsonable(x) {
			d.errs.add(path, n.Line, "must be plain data: mapping keys are strings, numbers are finite")
			return
		}
		if v.Kind() == reflect.Map {
			m, ok := x.(map[string]any)
			if !ok {
				d.errs.add(path, n.Line, "must be a mapping of names to values")
				return
			}
			v.Set(reflect.ValueOf(m))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			d.errs.add(path, n.Line, "must be a string")
			return
		}
		v.SetString(n.Value)
		d.pos.text(path, n)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			d.errs.add(path, n.Line, "must be a whole number")
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil ||
			math.IsNaN(f) || math.IsInf(f, 0) {
			d.errs.add(path, n.Line, "must be a number")
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.errs.add(path, n.Line, "must be true or false")
			return
		}
		v.SetBool(b)
	default:
		d.errs.add(path, n.Line, "cannot be decoded into %s", v.Type())
	}
}

// jsonable reports whether x can be written as JSON, which definitions are
// stored and sent as: YAML also allows non-string keys and NaN.
func jsonable(x any) bool {
	switch x := x.(type) {
	case map[string]any:
		for _, e := range x {
			if !jsonable(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !jsonable(e) {
				return false
			}
		}
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case map[any]any:
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errs.add(path, n.Line, "must be a mapping (key: value pairs)")
		return
	}
	info := d.structInfo(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if !d.charge(key) {
			return
		}
		name := key.Value
		p := join(path, name)
		d.pos.at(p, key.Line)
		index, ok := info.fields[name]
		if !ok || key.Kind != yaml.ScalarNode {
			d.errs = append(d.errs, FieldError{Path: p, Line: key.Line, Message: info.expected})
			continue
		}
		d.decode(val, v.FieldByIndex(index), p)
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && !isNull(n) && v.Type().Elem().Kind() == reflect.String {
		// A single value stands for a one-item list: `to: champion`.
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(n, elem, path)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), elem))
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errs.add(path, n.Line, "must be a list")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos.at(p, item.Line)
		d.decode(item, out.Index(i), p)
	}
	v.Set(out)
}

func (d *decoder) structInfo(t reflect.Type) structInfo {
	info, ok := d.structs[t]
	if !ok {
		if d.structs == nil {
			d.structs = map[reflect.Type]structInfo{}
		}
		// One message string shared by every unknown field of the type.
		info = structInfo{fields: fieldsOf(t), expected: "unknown field; expected one of " + strings.Join(fieldNames(t), ", ")}
		d.structs[t] = info
	}
	return info
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fieldsOf maps JSON names to struct field indexes, following embedded structs.
func fieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for name, idx := range fieldsOf(f.Type) {
				out[name] = append([]int{i}, idx...)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = []int{i}
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			names = append(names, fieldNames(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" && f.IsExported() {
			names = append(names, name)
		}
	}
	return names
}
