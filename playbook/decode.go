package playbook

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSourceBytes bounds a definition's source.
const MaxSourceBytes = 1 << 20

// maxNodes bounds how many nodes decoding visits, so aliases cannot blow a
// small document up into a huge one.
const maxNodes = 200_000

// scalarDecoder is implemented by types written as one YAML/JSON string.
type scalarDecoder interface {
	decodeScalar(s string) error
}

type decoder struct {
	errs  Errors
	nodes int
}

// decodeSource parses YAML or JSON (JSON is YAML) into v, strictly: unknown
// fields, wrong types and bad scalars are all reported, each with its path
// and line, and decoding goes on past them.
func decodeSource(src []byte, v any) Errors {
	var d decoder
	if len(src) > MaxSourceBytes {
		d.errs.add("", 0, "the definition is larger than %d bytes", MaxSourceBytes)
		return d.errs
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		d.errs.add("", 0, "not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return d.errs
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.errs.add("", 0, "the definition is empty")
		return d.errs
	}
	d.decode(doc.Content[0], reflect.ValueOf(v).Elem(), "")
	return d.errs
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errs.add(path, n.Line, "the definition is too large or nests aliases too deeply")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.decode(n.Alias, v, path)
		return
	}
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
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.Interface, reflect.Map:
		var x any
		if err := n.Decode(&x); err != nil {
			d.errs.add(path, n.Line, "cannot be read: %v", err)
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
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
			d.errs.add(path, n.Line, "must be a whole number")
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
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

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errs.add(path, n.Line, "must be a mapping (key: value pairs)")
		return
	}
	fields := fieldsOf(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		index, ok := fields[name]
		if !ok || key.Kind != yaml.ScalarNode {
			d.errs.add(join(path, name), key.Line, "unknown field; expected one of %s", strings.Join(fieldNames(v.Type()), ", "))
			continue
		}
		d.decode(val, v.FieldByIndex(index), join(path, name))
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
		d.decode(item, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(out)
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
