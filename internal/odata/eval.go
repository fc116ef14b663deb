package odata

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Object is one resource as its JSON members, for in-memory evaluation and
// projection.
type Object map[string]any

// ToObject turns a resource into its JSON members.
func ToObject(v any) (Object, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("odata: encode %T: %w", v, err)
	}
	var o Object
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("odata: decode %T: %w", v, err)
	}
	return o, nil
}

// get follows a property path such as status/errorCode.
func (o Object) get(path string) (any, bool) {
	var cur any = map[string]any(o)
	for _, seg := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Match evaluates a validated filter on one object, with Graph's
// case-insensitive string comparison. A nil filter matches everything.
func Match(e Expr, o Object) bool {
	switch x := e.(type) {
	case nil:
		return true
	case *Logical:
		if x.And {
			return Match(x.Left, o) && Match(x.Right, o)
		}
		return Match(x.Left, o) || Match(x.Right, o)
	case *Not:
		return !Match(x.Expr, o)
	case *In:
		v, _ := o.get(x.Prop)
		for _, want := range x.Values {
			if compare(v, want) == 0 {
				return true
			}
		}
		return false
	case *Compare:
		v, _ := o.get(x.Prop)
		if x.Op == StartsWith {
			s, ok := v.(string)
			w, _ := x.Value.(string)
			return ok && strings.HasPrefix(strings.ToLower(s), strings.ToLower(w))
		}
		c := compare(v, x.Value)
		switch x.Op {
		case Eq:
			return c == 0
		case Ne:
			return c != 0
		case Gt:
			return c == 1
		case Ge:
			return c == 0 || c == 1
		case Lt:
			return c == -1
		case Le:
			return c == 0 || c == -1
		}
	}
	return false
}

// compare orders a JSON value against a typed literal: -1, 0, 1, or 2 when
// they are not comparable (which matches only ne).
func compare(v, lit any) int {
	if lit == nil {
		if v == nil {
			return 0
		}
		return 2
	}
	switch l := lit.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return 2
		}
		return strings.Compare(strings.ToLower(s), strings.ToLower(l))
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 2
		}
		if b == l {
			return 0
		}
		return 2
	case int64:
		f, ok := v.(float64)
		if !ok {
			return 2
		}
		return cmp3(f, float64(l))
	case time.Time:
		s, ok := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			return 2
		}
		return t.Compare(l)
	}
	return 2
}

func cmp3(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CompareProp orders two objects by one $orderby item, case-insensitively
// for strings; nulls sort last.
func CompareProp(a, b Object, ob OrderBy) int {
	x, _ := a.get(ob.Prop)
	y, _ := b.get(ob.Prop)
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return 1
	case y == nil:
		return -1
	}
	c := compareValues(x, y)
	if ob.Desc {
		return -c
	}
	return c
}

func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(strings.ToLower(x), strings.ToLower(y))
	case float64:
		y, _ := b.(float64)
		return cmp3(x, y)
	case bool:
		y, _ := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	}
	if a == nil && b != nil {
		return -1
	}
	return 0
}

// Fields lists the JSON member names of a struct type (after the first
// pointer), the properties $select may name.
func Fields(v any) []string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
				}
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out = append(out, name)
		}
	}
	walk(t)
	return out
}

// Project keeps the selected members of an object, plus @odata.type and id
// (Graph always returns both for entities).
func Project(o Object, sel []string) Object {
	if len(sel) == 0 {
		return o
	}
	out := Object{}
	for _, k := range []string{"@odata.type", "id"} {
		if v, ok := o[k]; ok {
			out[k] = v
		}
	}
	for _, s := range sel {
		key, val := s, any(nil) // a declared property omitted because it is empty reads as null
		for k, v := range o {
			if strings.EqualFold(k, s) {
				key, val = k, v
				break
			}
		}
		out[key] = val
	}
	return out
}

// CheckSelect refuses $select names that are not properties of the
// resource (Graph: "Could not find a property named ...").
func CheckSelect(sel []string, fields []string, typeName string) error {
	for _, s := range sel {
		ok := false
		for _, f := range fields {
			if strings.EqualFold(f, s) {
				ok = true
				break
			}
		}
		if !ok {
			return badRequest("$select", "Could not find a property named '%s' on type 'microsoft.graph.%s'", s, typeName)
		}
	}
	return nil
}
