package api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/rpserver/rpserver/internal/graphschema"
	"github.com/rpserver/rpserver/internal/odata"
)

// decodeGraph reads a body addressed to a Graph resource of type typeName:
// graphschema.Conform checks @odata.type and accepts the read shape back
// (unmodelled properties when null or default), then decodeJSON decodes
// strictly into v.
func decodeGraph(r *http.Request, typeName string, v any) error {
	body, err := conformedBody(r, typeName, reflect.TypeOf(v))
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(r, v)
}

// decodeGraphPatch is decodeGraph for PATCH: the body is checked against
// typed and returned as conformed raw JSON, so the service can apply only
// the properties present.
func decodeGraphPatch(r *http.Request, typeName string, typed any) ([]byte, error) {
	body, err := conformedBody(r, typeName, reflect.TypeOf(typed))
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := decodeJSON(r, typed); err != nil {
		return nil, err
	}
	return body, nil
}

func conformedBody(r *http.Request, typeName string, t reflect.Type) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		// decodeJSON reports the content type; read nothing before it does.
		if err := checkContentType(ct); err != nil {
			return nil, err
		}
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, jsonError(err)
	}
	return graphschema.Conform(raw, typeName, t, apiVersion(r) == "beta")
}

// queryOf parses the request's query options for a resource.
func queryOf(r *http.Request, res *odata.Resource) (odata.Query, error) {
	return odata.Parse(r.URL.Query(), r.Header, res)
}

// entityRes accepts only $select, the one option Graph documents on reads
// of a single entity of the lab's resources.
var entityRes = &odata.Resource{Name: "entity", Select: true}

// listOut describes one collection response.
type listOut struct {
	context   string // @odata.context fragment: "users", "directoryObjects"
	odataType string // per-item @odata.type, where Graph emits one (polymorphic sets)
	next      string // $skiptoken of the next page; "" on the last
	count     *int   // @odata.count when $count=true
}

// writeList encodes a collection with @odata.context, $select applied,
// per-item @odata.type where Graph emits it, @odata.count and an absolute
// @odata.nextLink (the SDK's PageIterator follows it verbatim).
func (s *Server) writeList(w http.ResponseWriter, r *http.Request, items any, q odata.Query, out listOut) {
	rv := reflect.ValueOf(items)
	objs := make([]odata.Object, 0, rv.Len())
	var elem any
	if rv.Len() > 0 {
		elem = rv.Index(0).Interface()
	}
	if len(q.Select) > 0 && elem != nil {
		if err := odata.CheckSelect(q.Select, odata.Fields(elem), typeNameOf(out.odataType, out.context)); err != nil {
			writeError(w, r, err)
			return
		}
	}
	for i := 0; i < rv.Len(); i++ {
		o, err := odata.ToObject(rv.Index(i).Interface())
		if err != nil {
			writeError(w, r, err)
			return
		}
		if out.odataType != "" {
			if _, has := o["@odata.type"]; !has {
				o["@odata.type"] = "#" + graphschema.Qualify(out.odataType)
			}
		}
		objs = append(objs, odata.Project(o, q.Select))
	}
	body := map[string]any{"@odata.context": s.contextURL(r, out.context+selectSuffix(q.Select)), "value": objs}
	if out.count != nil {
		body["@odata.count"] = *out.count
	}
	if out.next != "" {
		u := url.URL{Path: r.URL.Path}
		v := r.URL.Query()
		v.Set("$skiptoken", out.next)
		u.RawQuery = v.Encode()
		body["@odata.nextLink"] = s.baseURL(r) + u.String()
	}
	writeJSON(w, http.StatusOK, body)
}

func selectSuffix(sel []string) string {
	if len(sel) == 0 {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

func typeNameOf(odataType, context string) string {
	if odataType != "" {
		return strings.TrimPrefix(graphschema.Qualify(odataType), graphschema.Namespace)
	}
	return strings.TrimSuffix(context, "s")
}

// writeEntity encodes one entity with @odata.context (context is the
// entity set path, e.g. "users"; "" omits it) and $select applied.
func (s *Server) writeEntity(w http.ResponseWriter, r *http.Request, status int, v any, context string, sel []string) {
	if context == "" && len(sel) == 0 {
		writeJSON(w, status, v)
		return
	}
	if len(sel) > 0 {
		if err := odata.CheckSelect(sel, odata.Fields(v), typeNameOf("", context)); err != nil {
			writeError(w, r, err)
			return
		}
	}
	o, err := odata.ToObject(v)
	if err != nil {
		writeError(w, r, err)
		return
	}
	o = odata.Project(o, sel)
	if context != "" {
		o["@odata.context"] = s.contextURL(r, context+selectSuffix(sel)+"/$entity")
	}
	writeJSON(w, status, o)
}

// getEntity answers a GET of one entity, honouring $select and refusing
// every other option.
func (s *Server) getEntity(w http.ResponseWriter, r *http.Request, v any, err error, context string) {
	var q odata.Query
	if err == nil {
		q, err = queryOf(r, entityRes)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeEntity(w, r, http.StatusOK, v, context, q.Select)
}

// countOf is the pointer writeList wants for @odata.count.
func countOf(q odata.Query, n int) *int {
	if !q.Count {
		return nil
	}
	return &n
}

// offsetToken pages lists whose order is not by id: the token is the offset
// of the next page, prefixed so it cannot be mistaken for an id.
func offsetToken(offset int) string { return "o" + strconv.Itoa(offset) }

func parseOffsetToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, "o")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}
