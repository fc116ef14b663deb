package store

import (
	"fmt"
	"strings"

	"github.com/rpserver/rpserver/internal/odata"
)

// column maps a Graph property to SQL. fold compares case-insensitively
// (Graph's string comparisons are); array is a text[] column, whose eq
// means "contains".
type column struct {
	sql   string
	fold  bool
	array bool
}

// compileFilter turns a $filter that odata.Parse validated into a SQL
// condition on w's numbered parameters. Values only ever travel as
// parameters. A property without a column here is a programming error
// (the Resource declared a filter the store cannot serve), reported as one.
func compileFilter(e odata.Expr, cols map[string]column, w *where) (string, error) {
	switch x := e.(type) {
	case *odata.Logical:
		l, err := compileFilter(x.Left, cols, w)
		if err != nil {
			return "", err
		}
		r, err := compileFilter(x.Right, cols, w)
		if err != nil {
			return "", err
		}
		op := " OR "
		if x.And {
			op = " AND "
		}
		return "(" + l + op + r + ")", nil
	case *odata.Not:
		in, err := compileFilter(x.Expr, cols, w)
		return "NOT COALESCE(" + in + ", false)", err
	case *odata.In:
		c, ok := cols[x.Prop]
		if !ok {
			return "", fmt.Errorf("store: no column for filter property %s", x.Prop)
		}
		parts := make([]string, len(x.Values))
		for i, v := range x.Values {
			parts[i] = w.param(c, v)
		}
		if c.array {
			return c.sql + " && ARRAY[" + strings.Join(parts, ", ") + "]::text[]", nil
		}
		return lhs(c) + " IN (" + strings.Join(parts, ", ") + ")", nil
	case *odata.Compare:
		c, ok := cols[x.Prop]
		if !ok {
			return "", fmt.Errorf("store: no column for filter property %s", x.Prop)
		}
		if x.Value == nil {
			if x.Op == odata.Ne {
				return c.sql + " IS NOT NULL", nil
			}
			return c.sql + " IS NULL", nil
		}
		if c.array {
			p := w.param(c, x.Value)
			if x.Op == odata.Ne {
				return "NOT (" + p + " = ANY(" + c.sql + "))", nil
			}
			return p + " = ANY(" + c.sql + ")", nil
		}
		if x.Op == odata.StartsWith {
			s, _ := x.Value.(string)
			return "lower(" + c.sql + ") LIKE " + w.param(column{}, escapeLike(strings.ToLower(s))+"%") + ` ESCAPE '\'`, nil
		}
		op := map[odata.Op]string{odata.Eq: "=", odata.Ne: "IS DISTINCT FROM", odata.Gt: ">", odata.Ge: ">=", odata.Lt: "<", odata.Le: "<="}[x.Op]
		if op == "" {
			return "", fmt.Errorf("store: operator %s has no SQL", x.Op)
		}
		return lhs(c) + " " + op + " " + w.param(c, x.Value), nil
	}
	return "", fmt.Errorf("store: cannot compile filter %T", e)
}

func lhs(c column) string {
	if c.fold {
		return "lower(" + c.sql + ")"
	}
	return c.sql
}

// param adds a value and returns its placeholder, lower()ed for folded
// columns.
func (w *where) param(c column, v any) string {
	w.args = append(w.args, v)
	p := fmt.Sprintf("$%d", len(w.args))
	if c.fold {
		return "lower(" + p + ")"
	}
	return p
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// searchCondition is Graph's directory $search: a term matches the start of
// any word of the property, case-insensitively.
func searchCondition(col string, term string, w *where) string {
	t := escapeLike(strings.ToLower(term))
	a := w.param(column{}, t+"%")
	b := w.param(column{}, "% "+t+"%")
	return "(lower(" + col + `) LIKE ` + a + ` ESCAPE '\' OR lower(` + col + `) LIKE ` + b + ` ESCAPE '\')`
}
