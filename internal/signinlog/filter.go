package signinlog

import (
	"strconv"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/ids"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Filter is the subset of Graph's $filter on signIns the lab serves. Zero
// fields do not filter.
type Filter struct {
	UserID            string
	UserPrincipalName string // compared case-insensitively, as Entra does
	AppID             string
	// Time bounds on createdDateTime; the *Exclusive flags turn ge/le into gt/lt.
	From, To                   time.Time
	FromExclusive, ToExclusive bool
	// ErrorCode filters on status/errorCode: equal to it, or different from
	// it when ErrorCodeNot (`status/errorCode ne 0` = failures).
	ErrorCode               *int
	ErrorCodeNot            bool
	ConditionalAccessStatus string
}

// conditionalAccessStatuses are Graph's conditionalAccessStatus values.
var conditionalAccessStatuses = map[string]bool{"success": true, "failure": true, "notApplied": true, "unknownFutureValue": true}

// FilterHelp lists what ParseFilter understands; it is quoted in errors so
// the caller learns the grammar from the first refusal.
const FilterHelp = "supported $filter on signIns: userId eq '{id}', userPrincipalName eq '{upn}', appId eq '{appId}', " +
	"createdDateTime ge|gt|le|lt {RFC 3339 time}, status/errorCode eq|ne {integer}, " +
	"conditionalAccessStatus eq 'success'|'failure'|'notApplied', joined with 'and'"

// ParseFilter parses a $filter expression: comparisons joined by `and`.
// Anything else (or, not, parentheses, functions, other properties or
// operators, a property given twice) is refused with invalidQueryParameter
// rather than ignored, so a caller never reads an unfiltered list believing
// it filtered.
func ParseFilter(expr string) (Filter, error) {
	var f Filter
	toks, err := tokenize(expr)
	if err != nil {
		return f, err
	}
	seen := map[string]bool{}
	for i := 0; ; {
		if len(toks)-i < 3 {
			return f, filterErr("expected <property> <operator> <value> at %q", rest(toks, i))
		}
		prop, op, val := toks[i], toks[i+1], toks[i+2]
		if prop.kind != tokIdent || op.kind != tokIdent {
			return f, filterErr("expected <property> <operator> <value> at %q", rest(toks, i))
		}
		// One comparison per property (per bound for createdDateTime): a
		// second one would either contradict or silently replace the first.
		key := strings.ToLower(prop.text)
		if key == "createddatetime" {
			key += map[bool]string{true: " lower", false: " upper"}[strings.EqualFold(op.text, "ge") || strings.EqualFold(op.text, "gt")]
		}
		if seen[key] {
			return f, filterErr("%s is compared twice", prop.text)
		}
		seen[key] = true
		if err := f.apply(prop.text, strings.ToLower(op.text), val); err != nil {
			return f, err
		}
		i += 3
		if i == len(toks) {
			break
		}
		if toks[i].kind != tokIdent || !strings.EqualFold(toks[i].text, "and") {
			return f, filterErr("only 'and' may join comparisons, found %q", toks[i].text)
		}
		i++
	}
	return f, nil
}

func (f *Filter) apply(prop, op string, v token) error {
	switch strings.ToLower(prop) {
	case "userid":
		s, err := stringEq(prop, op, v)
		if err == nil && !ids.Valid(s) {
			err = filterErr("userId must be a GUID, not %q", s)
		}
		f.UserID = s
		return err
	case "userprincipalname":
		s, err := stringEq(prop, op, v)
		f.UserPrincipalName = s
		return err
	case "appid":
		s, err := stringEq(prop, op, v)
		f.AppID = s
		return err
	case "conditionalaccessstatus":
		s, err := stringEq(prop, op, v)
		if err == nil && !conditionalAccessStatuses[s] {
			err = filterErr("conditionalAccessStatus must be success, failure or notApplied, not %q", s)
		}
		f.ConditionalAccessStatus = s
		return err
	case "createddatetime":
		if v.kind != tokLiteral {
			return filterErr("createdDateTime takes an unquoted RFC 3339 time, e.g. 2026-01-01T00:00:00Z")
		}
		t, err := time.Parse(time.RFC3339Nano, v.text)
		if err != nil {
			return filterErr("createdDateTime: %q is not an RFC 3339 time such as 2026-01-01T00:00:00Z", v.text)
		}
		switch op {
		case "ge", "gt":
			f.From, f.FromExclusive = t, op == "gt"
		case "le", "lt":
			f.To, f.ToExclusive = t, op == "lt"
		default:
			return filterErr("createdDateTime supports ge, gt, le and lt, not %q", op)
		}
		return nil
	case "status/errorcode":
		if op != "eq" && op != "ne" {
			return filterErr("status/errorCode supports eq and ne, not %q", op)
		}
		// Entra's error codes are 32-bit; the column is an integer too.
		n64, err := strconv.ParseInt(v.text, 10, 32)
		if v.kind != tokLiteral || err != nil {
			return filterErr("status/errorCode takes an unquoted 32-bit integer, not %q", v.text)
		}
		n := int(n64)
		f.ErrorCode, f.ErrorCodeNot = &n, op == "ne"
		return nil
	}
	return filterErr("property %q cannot be filtered on", prop)
}

func stringEq(prop, op string, v token) (string, error) {
	if op != "eq" {
		return "", filterErr("%s supports only eq, not %q", prop, op)
	}
	if v.kind != tokString {
		return "", filterErr("%s takes a quoted string, e.g. %s eq 'value'", prop, prop)
	}
	return v.text, nil
}

func filterErr(format string, args ...any) error {
	e := apperr.Invalid(CodeInvalidQuery, format, args...)
	e.Message += "; " + FilterHelp
	return e.WithTarget("$filter")
}

type tokKind int

const (
	tokIdent   tokKind = iota // property names, operators, and
	tokString                 // 'quoted', with '' for a quote
	tokLiteral                // numbers and times
)

type token struct {
	kind tokKind
	text string
}

func rest(toks []token, i int) string {
	var b []string
	for _, t := range toks[i:] {
		b = append(b, t.text)
	}
	return strings.Join(b, " ")
}

// maxFilterLen bounds the work one request can ask of the parser.
const maxFilterLen = 2048

func tokenize(s string) ([]token, error) {
	if len(s) > maxFilterLen {
		return nil, filterErr("$filter is longer than %d characters", maxFilterLen)
	}
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, filterErr("unterminated string starting at %q", s[i:])
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
			toks = append(toks, token{tokString, b.String()})
			i = j + 1
		case isLetter(c):
			j := i
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || s[j] == '/') {
				j++
			}
			toks = append(toks, token{tokIdent, s[i:j]})
			i = j
		case isDigit(c) || c == '-':
			j := i + 1
			for j < len(s) && (isLetter(s[j]) || isDigit(s[j]) || strings.IndexByte(":.+-", s[j]) >= 0) {
				j++
			}
			toks = append(toks, token{tokLiteral, s[i:j]})
			i = j
		default:
			return nil, filterErr("unexpected %q at position %d (parentheses, functions and 'or' are not supported)", string(c), i)
		}
	}
	if len(toks) == 0 {
		return nil, filterErr("$filter is empty")
	}
	return toks, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
