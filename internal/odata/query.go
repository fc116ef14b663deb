package odata

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Stable codes. Graph answers Request_UnsupportedQuery for a query option,
// property or operator a resource does not support and BadRequest for one
// it cannot parse (both seen in Graph's error responses for /users).
const (
	CodeUnsupportedQuery = "Request_UnsupportedQuery"
	CodeBadRequest       = "BadRequest"
)

func unsupported(target, format string, args ...any) *apperr.Error {
	return apperr.Invalid(CodeUnsupportedQuery, format, args...).WithTarget(target)
}

func badRequest(target, format string, args ...any) *apperr.Error {
	return apperr.Invalid(CodeBadRequest, format, args...).WithTarget(target)
}

// OrderBy is one $orderby item.
type OrderBy struct {
	Prop string
	Desc bool
}

// Search is one `"property:term"` clause of $search.
type Search struct {
	Prop string
	Term string
}

// Query is a request's validated query options.
type Query struct {
	Filter    Expr
	Select    []string
	Top       int // 100 when absent
	SkipToken string
	Count     bool
	OrderBy   []OrderBy
	Search    []Search // clauses joined by AND
	Expand    []string
}

// DefaultTop is the page size when $top is absent.
const DefaultTop = 100

// Parse reads every query parameter of the request against the resource.
// System query options the resource does not declare, unknown $-options,
// unknown plain parameters and repeated parameters are all refused.
func Parse(values url.Values, h http.Header, res *Resource) (Query, error) {
	q := Query{Top: DefaultTop}
	advanced := strings.EqualFold(strings.TrimSpace(h.Get("ConsistencyLevel")), "eventual")
	for key, vals := range values {
		if len(vals) > 1 {
			return q, badRequest(key, "query option %s is given %d times", key, len(vals))
		}
		// Graph accepts system query options with or without the $ prefix
		// (OData 4.01); the SDK always sends the $.
		name := strings.ToLower(key)
		if !strings.HasPrefix(name, "$") {
			if slices.Contains(res.Extra, key) {
				continue
			}
			switch name {
			case "filter", "select", "top", "skiptoken", "count", "orderby", "search", "expand", "skip", "format":
				name = "$" + name
			default:
				return q, unsupported(key, "query parameter %q is not supported on %s", key, res.Name)
			}
		}
		v := vals[0]
		var err error
		switch name {
		case "$filter":
			q.Filter, err = parseFilter(v, res, advanced)
		case "$select":
			q.Select, err = parseSelect(v, res)
		case "$top":
			q.Top, err = parseTop(v, res)
		case "$skiptoken":
			if !res.Top || res.Unpaged {
				err = unsupported(key, "$skiptoken is not supported on %s: the list is not paged", res.Name)
			}
			q.SkipToken = v
		case "$count":
			q.Count, err = parseCount(v, res, advanced)
		case "$orderby":
			q.OrderBy, err = parseOrderBy(v, res)
		case "$search":
			q.Search, err = parseSearch(v, res, advanced)
		case "$expand":
			q.Expand, err = parseExpand(v, res)
		default:
			err = unsupported(key, "query option %s is not supported on %s", key, res.Name)
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

func parseTop(v string, res *Resource) (int, error) {
	if !res.Top || res.Unpaged {
		return 0, unsupported("$top", "$top is not supported on %s", res.Name)
	}
	limit := res.MaxTop
	if limit == 0 {
		limit = 999
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > limit {
		return 0, badRequest("$top", "$top must be a whole number from 1 to %d", limit)
	}
	return n, nil
}

func parseCount(v string, res *Resource, advanced bool) (bool, error) {
	if !res.Count {
		return false, unsupported("$count", "$count is not supported on %s", res.Name)
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("$count", "$count must be true or false")
	}
	if b && res.Directory && !advanced {
		return false, unsupported("$count", "$count on %s needs the ConsistencyLevel: eventual header (an advanced query)", res.Name)
	}
	return b, nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseSelect(v string, res *Resource) ([]string, error) {
	if !res.Select {
		return nil, unsupported("$select", "$select is not supported on %s", res.Name)
	}
	names := splitList(v)
	if len(names) == 0 {
		return nil, badRequest("$select", "$select names no property")
	}
	for _, n := range names {
		if !isName(n) {
			return nil, badRequest("$select", "$select: %q is not a property name", n)
		}
	}
	return names, nil
}

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}

func parseOrderBy(v string, res *Resource) ([]OrderBy, error) {
	if len(res.OrderBy) == 0 {
		return nil, unsupported("$orderby", "$orderby is not supported on %s", res.Name)
	}
	var out []OrderBy
	for _, item := range splitList(v) {
		f := strings.Fields(item)
		if len(f) == 0 || len(f) > 2 {
			return nil, badRequest("$orderby", "$orderby: %q is not '<property> [asc|desc]'", item)
		}
		ob := OrderBy{}
		i := slices.IndexFunc(res.OrderBy, func(p string) bool { return strings.EqualFold(p, f[0]) })
		if i < 0 {
			return nil, unsupported("$orderby", "$orderby on %s supports %s, not %q", res.Name, strings.Join(res.OrderBy, ", "), f[0])
		}
		ob.Prop = res.OrderBy[i]
		if len(f) == 2 {
			switch strings.ToLower(f[1]) {
			case "asc":
			case "desc":
				ob.Desc = true
			default:
				return nil, badRequest("$orderby", "$orderby direction must be asc or desc, not %q", f[1])
			}
		}
		out = append(out, ob)
	}
	if len(out) != 1 {
		return nil, unsupported("$orderby", "$orderby on %s takes exactly one property", res.Name)
	}
	return out, nil
}

// parseSearch reads Graph's directory $search: "property:term" clauses in
// double quotes, joined by AND.
func parseSearch(v string, res *Resource, advanced bool) ([]Search, error) {
	if len(res.Search) == 0 {
		return nil, unsupported("$search", "$search is not supported on %s", res.Name)
	}
	if res.Directory && !advanced {
		return nil, unsupported("$search", "$search on %s needs the ConsistencyLevel: eventual header (an advanced query)", res.Name)
	}
	var out []Search
	rest := strings.TrimSpace(v)
	for {
		if len(rest) < 2 || rest[0] != '"' {
			return nil, badRequest("$search", `$search takes "property:term" clauses in double quotes, e.g. "displayName:wave"`)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil, badRequest("$search", "$search: unterminated quote")
		}
		clause := rest[1 : end+1]
		rest = strings.TrimSpace(rest[end+2:])
		prop, term, ok := strings.Cut(clause, ":")
		if !ok || strings.TrimSpace(term) == "" {
			return nil, badRequest("$search", `$search clause %q is not "property:term"`, clause)
		}
		i := slices.IndexFunc(res.Search, func(p string) bool { return strings.EqualFold(p, strings.TrimSpace(prop)) })
		if i < 0 {
			return nil, unsupported("$search", "$search on %s supports %s, not %q", res.Name, strings.Join(res.Search, ", "), prop)
		}
		out = append(out, Search{Prop: res.Search[i], Term: strings.TrimSpace(term)})
		if rest == "" {
			return out, nil
		}
		after, ok := strings.CutPrefix(rest, "AND ")
		if !ok {
			return nil, unsupported("$search", "$search clauses may only be joined with AND")
		}
		rest = strings.TrimSpace(after)
	}
}

func parseExpand(v string, res *Resource) ([]string, error) {
	if len(res.Expand) == 0 {
		return nil, unsupported("$expand", "$expand is not supported on %s", res.Name)
	}
	var out []string
	for _, n := range splitList(v) {
		if strings.ContainsAny(n, "($/") {
			return nil, unsupported("$expand", "$expand options and paths are not supported: %q", n)
		}
		i := slices.IndexFunc(res.Expand, func(p string) bool { return strings.EqualFold(p, n) })
		if i < 0 {
			return nil, unsupported("$expand", "$expand on %s supports %s, not %q", res.Name, strings.Join(res.Expand, ", "), n)
		}
		out = append(out, res.Expand[i])
	}
	if len(out) == 0 {
		return nil, badRequest("$expand", "$expand names nothing")
	}
	return out, nil
}
