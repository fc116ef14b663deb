package graphschema

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Stable codes of Conform's refusals.
const (
	// CodeInvalidODataType: @odata.type names another type than the one
	// the request addresses (or one derived from it).
	CodeInvalidODataType = "invalidODataType"
	// CodePropertyNotSupported: a property Graph's schema has, set to a
	// value the lab cannot honour because it does not model it.
	CodePropertyNotSupported = "propertyNotSupported"
	// CodeUnknownProperty: a property the resource does not have; here one
	// spelled in another letter case than the schema's name.
	CodeUnknownProperty = "unknownProperty"
)

// Conform prepares a request body addressed to a resource of Graph type
// typeName for a strict decode into goType, so that the shape Graph itself
// returns can be sent back (GET, edit, PATCH/POST):
//
//   - @odata.type, at any depth, must name the expected type or one derived
//     from it (400 invalidODataType otherwise); it is removed where the Go
//     type has no field for it.
//   - read-only annotations (@odata.context, @odata.etag, and
//     property@odata.context / navigationLink / associationLink) are removed.
//   - server-assigned read-only properties (id, createdDateTime,
//     modifiedDateTime, ...) the Go type does not model are removed: the
//     stored values stand.
//   - a property spelled in another letter case than the Go type's name
//     for it is refused (400 unknownProperty, naming the right spelling).
//     encoding/json would match it case-insensitively and decode it, while
//     the PATCH merges, which look the raw body up by exact name, would
//     then ignore it: neither applied nor refused.
//   - any other property Graph's schema has and the Go type does not model is
//     removed when its value is null, empty or the type's default (false,
//     0, "", [], {} or an object of such), and refused with
//     propertyNotSupported, naming its path, otherwise.
//
// Anything else, including properties Graph does not have, is left for the
// strict decoder to refuse. The body must be one JSON object.
func Conform(body []byte, typeName string, goType reflect.Type, beta bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body, nil // malformed: the strict decoder reports it
	}
	if _, err := dec.Token(); err != io.EOF {
		return body, nil // trailing data: likewise
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return body, nil
	}
	c := conformer{beta: beta}
	if err := c.object(obj, Qualify(typeName), goType, ""); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, apperr.Invalid("invalidRequestBody", "the request body could not be re-encoded: %v", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

type conformer struct{ beta bool }

// readOnly are the server-assigned properties a GET returns and a client
// echoes back when it edits the read shape.
var readOnly = map[string]bool{"id": true, "createdDateTime": true, "modifiedDateTime": true, "lastModifiedDateTime": true, "deletedDateTime": true}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// readOnlyAnnotation reports annotations Graph emits on reads and that
// carry nothing a write could mean.
func readOnlyAnnotation(k string) bool {
	switch k {
	case "@odata.context", "@odata.etag", "@odata.editLink", "@odata.readLink":
		return true
	}
	for _, s := range []string{"@odata.context", "@odata.navigationLink", "@odata.associationLink"} {
		if strings.HasSuffix(k, s) && len(k) > len(s) {
			return true
		}
	}
	return false
}

func (c conformer) object(obj map[string]any, graphType string, goType reflect.Type, path string) error {
	goType = deref(goType)
	fields := jsonFields(goType)
	if raw, ok := obj["@odata.type"]; ok {
		s, isStr := raw.(string)
		if !isStr || !strings.HasPrefix(s, "#") && !strings.HasPrefix(s, Namespace) {
			return apperr.Invalid(CodeInvalidODataType, "@odata.type must be a string such as \"#%s\"", graphType).WithTarget(join(path, "@odata.type"))
		}
		actual := Qualify(s)
		if graphType != "" {
			// A derived type narrows the declared one; a base type of it is
			// accepted too (SDK models serialize some collections with their
			// base type) and checked as the declared, more specific type.
			_, known := Lookup(actual)
			switch {
			case known && IsA(actual, graphType):
				graphType = actual
			case known && IsA(graphType, actual):
			default:
				return apperr.Invalid(CodeInvalidODataType, "@odata.type %q is not #%s or a type derived from it", s, graphType).WithTarget(join(path, "@odata.type"))
			}
		}
		if _, has := fields["@odata.type"]; !has {
			delete(obj, "@odata.type")
		}
	}
	for k, val := range obj {
		if _, has := fields[k]; !has && readOnlyAnnotation(k) {
			delete(obj, k)
			continue
		}
		if _, has := fields[k]; !has {
			if right, ok := foldedName(fields, k); ok {
				return apperr.Invalid(CodeUnknownProperty, "property %q is not known on this resource: property names are case-sensitive, it is spelled %q", join(path, k), right).
					WithTarget(join(path, k))
			}
		}
		if ft, has := fields[k]; has {
			edm := ""
			if graphType != "" {
				edm, _ = Property(graphType, k, c.beta)
			}
			if err := c.value(val, edm, ft, join(path, k)); err != nil {
				return err
			}
			continue
		}
		if graphType == "" || strings.Contains(k, "@") {
			continue
		}
		if _, inGraph := Property(graphType, k, c.beta); !inGraph {
			continue // not Graph's either: the strict decoder refuses it
		}
		if readOnly[k] {
			// The server's own value stands, as for the read-only
			// properties the lab's types model (CA policy ids and times).
			delete(obj, k)
			continue
		}
		if !isDefault(val) {
			return apperr.Invalid(CodePropertyNotSupported,
				"property %q is part of Graph's %s but the lab does not model it; send null or its default, or leave it out", join(path, k), graphType).
				WithTarget(join(path, k))
		}
		delete(obj, k)
	}
	return nil
}

func (c conformer) value(val any, edm string, goType reflect.Type, path string) error {
	goType = deref(goType)
	if goType == nil {
		return nil
	}
	elem, _ := ElementType(edm)
	if _, known := Lookup(elem); !known {
		elem = ""
	}
	switch x := val.(type) {
	case map[string]any:
		if goType.Kind() == reflect.Struct {
			return c.object(x, elem, goType, path)
		}
	case []any:
		if goType.Kind() == reflect.Slice {
			for i, item := range x {
				if m, ok := item.(map[string]any); ok && deref(goType.Elem()).Kind() == reflect.Struct {
					if err := c.object(m, elem, goType.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isDefault: null, "", false, 0, [], {} or an object whose members all are.
func isDefault(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		for k, m := range x {
			if k == "@odata.type" {
				continue
			}
			if !isDefault(m) {
				return false
			}
		}
		return true
	}
	return false
}

// jsonFields maps the JSON member names of a struct to their Go types,
// following embedded structs as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(deref(f.Type)) {
				out[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// foldedName is the field name that k spells in another letter case, if
// any.
func foldedName(fields map[string]reflect.Type, k string) (string, bool) {
	for name := range fields {
		if strings.EqualFold(name, k) {
			return name, true
		}
	}
	return "", false
}
