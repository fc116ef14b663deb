package odata

import (
	"strconv"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/ids"
)

// Expr is a validated $filter expression: *Compare, *In, *Logical or *Not.
type Expr interface{ isExpr() }

// Op is a comparison operator or function of $filter.
type Op string

// The comparison operators and functions the lab implements.
const (
	Eq         Op = "eq"
	Ne         Op = "ne"
	Gt         Op = "gt"
	Ge         Op = "ge"
	Lt         Op = "lt"
	Le         Op = "le"
	StartsWith Op = "startsWith"
)

// Compare is `prop op value` or `startsWith(prop, value)`. Value is typed
// after validation: string, bool, int64, time.Time, or nil for null.
type Compare struct {
	Prop  string
	Op    Op
	Value any
}

// In is `prop in (v1, v2, ...)`.
type In struct {
	Prop   string
	Values []any
}

// Logical is `left and right` or `left or right`.
type Logical struct {
	And         bool
	Left, Right Expr
}

// Not is `not expr`.
type Not struct{ Expr Expr }

func (*Compare) isExpr() {}
func (*In) isExpr()      {}
func (*Logical) isExpr() {}
func (*Not) isExpr()     {}

// Conjuncts flattens a tree of `and` into its comparisons; ok is false when
// the expression holds `or` or `not` anywhere.
func Conjuncts(e Expr) (out []Expr, ok bool) {
	switch x := e.(type) {
	case nil:
		return nil, true
	case *Logical:
		if !x.And {
			return nil, false
		}
		l, ok1 := Conjuncts(x.Left)
		r, ok2 := Conjuncts(x.Right)
		return append(l, r...), ok1 && ok2
	case *Not:
		return nil, false
	}
	return []Expr{e}, true
}

// maxFilterLen and maxFilterTerms bound the work one request can ask of the
// parser and of the database.
const (
	maxFilterLen   = 2048
	maxFilterTerms = 32
)

// parseFilter parses and validates $filter against a resource.
func parseFilter(s string, res *Resource, advanced bool) (Expr, error) {
	if len(s) > maxFilterLen {
		return nil, badRequest("$filter", "$filter is longer than %d characters", maxFilterLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, res: res, advanced: advanced}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if !p.done() {
		return nil, badRequest("$filter", "Invalid filter clause: unexpected %q", p.peek().text)
	}
	return e, nil
}

type tokKind int

const (
	tIdent  tokKind = iota // names, operators, keywords, unquoted literals
	tString                // 'quoted' ('' is a quote)
	tPunct                 // ( ) ,
)

type token struct {
	kind tokKind
	text string
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{tPunct, string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, badRequest("$filter", "Invalid filter clause: unterminated string starting at %q", s[i:])
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{tString, b.String()})
			i = j + 1
		case isWordByte(c):
			j := i
			for j < len(s) && (isWordByte(s[j]) || strings.IndexByte("/:.+-_", s[j]) >= 0) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j]})
			i = j
		default:
			return nil, badRequest("$filter", "Invalid filter clause: unexpected %q at position %d", string(c), i)
		}
	}
	if len(toks) == 0 {
		return nil, badRequest("$filter", "$filter is empty")
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '$'
}

type parser struct {
	toks     []token
	i        int
	terms    int
	res      *Resource
	advanced bool
}

func (p *parser) done() bool { return p.i >= len(p.toks) }

func (p *parser) peek() token {
	if p.done() {
		return token{tPunct, "end of $filter"}
	}
	return p.toks[p.i]
}

func (p *parser) keyword(k string) bool {
	if !p.done() && p.toks[p.i].kind == tIdent && strings.EqualFold(p.toks[p.i].text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) punct(c string) bool {
	if !p.done() && p.toks[p.i].kind == tPunct && p.toks[p.i].text == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(c string) error {
	if !p.punct(c) {
		return badRequest("$filter", "Invalid filter clause: expected %q, found %q", c, p.peek().text)
	}
	return nil
}

func (p *parser) or() (Expr, error) {
	left, err := p.and()
	for err == nil && p.keyword("or") {
		if !p.res.Or {
			return nil, unsupported("$filter", "'or' is not supported in $filter on %s", p.res.Name)
		}
		var right Expr
		right, err = p.and()
		left = &Logical{And: false, Left: left, Right: right}
	}
	return left, err
}

func (p *parser) and() (Expr, error) {
	left, err := p.unary()
	for err == nil && p.keyword("and") {
		var right Expr
		right, err = p.unary()
		left = &Logical{And: true, Left: left, Right: right}
	}
	return left, err
}

func (p *parser) unary() (Expr, error) {
	if p.keyword("not") {
		// Graph treats not as an advanced query on directory objects.
		if !p.res.Not || (p.res.Directory && !p.advanced) {
			return nil, unsupported("$filter", "'not' in $filter on %s %s", p.res.Name, p.res.advancedHint())
		}
		e, err := p.unary()
		return &Not{Expr: e}, err
	}
	if p.punct("(") {
		e, err := p.or()
		if err == nil {
			err = p.expect(")")
		}
		return e, err
	}
	return p.term()
}

func (p *parser) term() (Expr, error) {
	p.terms++
	if p.terms > maxFilterTerms {
		return nil, badRequest("$filter", "$filter has more than %d comparisons", maxFilterTerms)
	}
	t := p.peek()
	if t.kind != tIdent {
		return nil, badRequest("$filter", "Invalid filter clause: expected a property, found %q", t.text)
	}
	p.i++
	// Function call: startsWith(prop, 'x'); other functions are refused.
	if p.punct("(") {
		if !strings.EqualFold(t.text, "startsWith") {
			return nil, unsupported("$filter", "function %s() is not supported in $filter on %s (supported: startsWith)", t.text, p.res.Name)
		}
		pt := p.peek()
		if pt.kind != tIdent {
			return nil, badRequest("$filter", "Invalid filter clause: startsWith needs a property first")
		}
		p.i++
		prop, err := p.res.property(pt.text)
		if err != nil {
			return nil, err
		}
		if !prop.allows("startsWith") {
			return nil, prop.refuse(p.res, "startsWith")
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		v, err := p.literal(prop, StartsWith)
		if err == nil {
			err = p.expect(")")
		}
		return &Compare{Prop: prop.Name, Op: StartsWith, Value: v}, err
	}
	if strings.Contains(t.text, "/any") || strings.Contains(t.text, "/all") {
		return nil, unsupported("$filter", "lambda operators (any, all) are not supported in $filter on %s", p.res.Name)
	}
	prop, err := p.res.property(t.text)
	if err != nil {
		return nil, err
	}
	opTok := p.peek()
	if opTok.kind != tIdent {
		return nil, badRequest("$filter", "Invalid filter clause: expected an operator after %s, found %q", t.text, opTok.text)
	}
	p.i++
	if strings.EqualFold(opTok.text, "in") {
		if !prop.allows("in") {
			return nil, prop.refuse(p.res, "in")
		}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		in := &In{Prop: prop.Name}
		for {
			v, err := p.literal(prop, Eq)
			if err != nil {
				return nil, err
			}
			in.Values = append(in.Values, v)
			if len(in.Values) > maxInValues {
				return nil, badRequest("$filter", "'in' takes at most %d values", maxInValues)
			}
			if p.punct(")") {
				return in, nil
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
	}
	op := Op(strings.ToLower(opTok.text))
	switch op {
	case Eq, Ne, Gt, Ge, Lt, Le:
	default:
		return nil, unsupported("$filter", "operator %q is not supported in $filter on %s", opTok.text, p.res.Name)
	}
	if !prop.allows(string(op)) {
		return nil, prop.refuse(p.res, string(op))
	}
	if op == Ne && p.res.Directory && !p.advanced {
		return nil, unsupported("$filter", "'ne' in $filter on %s %s", p.res.Name, p.res.advancedHint())
	}
	v, err := p.literal(prop, op)
	return &Compare{Prop: prop.Name, Op: op, Value: v}, err
}

// maxInValues is Graph's documented cap on the values of one `in` (15).
const maxInValues = 15

// literal reads one value and types it as the property requires.
func (p *parser) literal(prop Property, op Op) (any, error) {
	t := p.peek()
	if t.kind == tPunct {
		return nil, badRequest("$filter", "Invalid filter clause: expected a value for %s, found %q", prop.Name, t.text)
	}
	p.i++
	if t.kind == tIdent && t.text == "null" {
		if op != Eq && op != Ne {
			return nil, badRequest("$filter", "null can only be compared with eq or ne")
		}
		return nil, nil
	}
	wrong := func(want string) error {
		return badRequest("$filter", "%s takes %s, not %s", prop.Name, want, quote(t))
	}
	switch prop.Type {
	case String:
		if t.kind != tString {
			return nil, wrong("a quoted string such as 'value'")
		}
		return t.text, nil
	case Enum:
		if t.kind != tString {
			return nil, wrong("a quoted value such as '" + prop.Values[0] + "'")
		}
		for _, v := range prop.Values {
			if strings.EqualFold(v, t.text) {
				return v, nil
			}
		}
		return nil, badRequest("$filter", "%s must be one of %s, not '%s'", prop.Name, strings.Join(prop.Values, ", "), t.text)
	case GUID:
		// Graph accepts GUIDs quoted; unquoted ones are refused there too.
		if t.kind != tString || !ids.Valid(t.text) {
			return nil, wrong("a quoted GUID")
		}
		return strings.ToLower(t.text), nil
	case Bool:
		if t.kind != tIdent || (t.text != "true" && t.text != "false") {
			return nil, wrong("true or false")
		}
		return t.text == "true", nil
	case Int:
		n, err := strconv.ParseInt(t.text, 10, 32)
		if t.kind != tIdent || err != nil {
			return nil, wrong("an unquoted integer")
		}
		return n, nil
	case DateTime:
		tm, err := time.Parse(time.RFC3339Nano, t.text)
		if t.kind != tIdent || err != nil {
			return nil, wrong("an unquoted RFC 3339 time such as 2026-01-01T00:00:00Z")
		}
		return tm.UTC(), nil
	}
	return nil, wrong("a value")
}

func quote(t token) string {
	if t.kind == tString {
		return "'" + t.text + "'"
	}
	return t.text
}

// Comparisons returns the comparisons of a filter that is only comparisons
// joined by and, as the log resources (signIns, directoryAudits) accept,
// refusing anything else, a null literal, and a property compared twice (a
// second comparison would contradict or silently replace the first). The
// lower and upper bounds of the ranged property (a time) count apart.
func Comparisons(e Expr, resource, ranged string) ([]*Compare, error) {
	terms, ok := Conjuncts(e)
	if !ok {
		return nil, unsupported("$filter", "only 'and' may join comparisons on %s", resource)
	}
	out := make([]*Compare, 0, len(terms))
	seen := map[string]bool{}
	for _, t := range terms {
		c, ok := t.(*Compare)
		if !ok {
			return nil, unsupported("$filter", "only comparisons are supported on %s", resource)
		}
		key := c.Prop
		if key == ranged {
			key += map[bool]string{true: " lower", false: " upper"}[c.Op == Ge || c.Op == Gt]
		}
		if seen[key] {
			return nil, unsupported("$filter", "%s is compared twice", c.Prop)
		}
		seen[key] = true
		if c.Value == nil {
			return nil, unsupported("$filter", "%s cannot be compared with null", c.Prop)
		}
		out = append(out, c)
	}
	return out, nil
}
