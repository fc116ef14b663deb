package odata

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rpserver/rpserver/internal/apperr"
)

var people = &Resource{Name: "user", Directory: true, Or: true, Not: true, Select: true, Count: true, Top: true,
	OrderBy: []string{"displayName"}, Search: []string{"displayName"},
	Filter: []Property{
		{Name: "displayName", Type: String, Ops: []string{"eq", "ne", "startsWith", "in"}},
		{Name: "accountEnabled", Type: Bool, Ops: []string{"eq"}},
		{Name: "age", Type: Int, Ops: []string{"eq", "gt", "le"}},
		{Name: "state", Type: Enum, Ops: []string{"eq"}, Values: []string{"enabled", "disabled"}},
	}}

func parse(t *testing.T, q string, eventual bool) (Query, error) {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if eventual {
		h.Set("ConsistencyLevel", "eventual")
	}
	return Parse(v, h, people)
}

func TestFilterMatches(t *testing.T) {
	alice := Object{"displayName": "Alice O'Brien", "accountEnabled": true, "age": float64(40), "state": "enabled"}
	bob := Object{"displayName": "Bob", "accountEnabled": false, "age": float64(20), "state": "disabled"}
	for _, c := range []struct {
		filter   string
		eventual bool
		alice    bool
		bob      bool
	}{
		{"displayName eq 'alice o''brien'", false, true, false},
		{"startsWith(displayName,'AL')", false, true, false},
		{"displayName in ('Bob', 'Carol')", false, false, true},
		{"accountEnabled eq true and age gt 30", false, true, false},
		{"(age le 20 or state eq 'ENABLED') and accountEnabled eq false", false, false, true},
		{"displayName ne 'Bob'", true, true, false},
		{"not (age gt 30)", true, false, true},
	} {
		q, err := parse(t, "$filter="+url.QueryEscape(c.filter), c.eventual)
		if err != nil {
			t.Errorf("%q: %v", c.filter, err)
			continue
		}
		if Match(q.Filter, alice) != c.alice || Match(q.Filter, bob) != c.bob {
			t.Errorf("%q: alice %v bob %v", c.filter, Match(q.Filter, alice), Match(q.Filter, bob))
		}
	}
}

func TestRefusals(t *testing.T) {
	for q, code := range map[string]string{
		"$filter=" + url.QueryEscape("displayName ne 'Bob'"):            CodeUnsupportedQuery, // advanced without ConsistencyLevel
		"$filter=" + url.QueryEscape("age ne 3"):                        CodeUnsupportedQuery,
		"$filter=" + url.QueryEscape("endsWith(displayName,'b')"):       CodeUnsupportedQuery,
		"$filter=" + url.QueryEscape("mail eq 'x'"):                     CodeUnsupportedQuery,
		"$filter=" + url.QueryEscape("displayName eq 3"):                CodeBadRequest,
		"$filter=" + url.QueryEscape("age eq '3'"):                      CodeBadRequest,
		"$filter=" + url.QueryEscape("state eq 'paused'"):               CodeBadRequest,
		"$filter=" + url.QueryEscape("displayName eq 'a' and"):          CodeBadRequest,
		"$filter=" + url.QueryEscape("(displayName eq 'a'"):             CodeBadRequest,
		"$filter=" + url.QueryEscape("displayName eq 'a' xor age eq 1"): CodeBadRequest,
		"$filter=" + url.QueryEscape("tags/any(t:t eq 'x')"):            CodeUnsupportedQuery,
		"$filter=":                      CodeBadRequest,
		"$top=0":                        CodeBadRequest,
		"$top=1000":                     CodeBadRequest,
		"$count=true":                   CodeUnsupportedQuery,
		"$count=maybe":                  CodeBadRequest,
		"$orderby=age":                  CodeUnsupportedQuery,
		"$orderby=displayName sideways": CodeBadRequest,
		"$search=" + url.QueryEscape(`"displayName:a"`): CodeUnsupportedQuery,
		"$expand=manager":      CodeUnsupportedQuery,
		"$skip=2":              CodeUnsupportedQuery,
		"$apply=groupby":       CodeUnsupportedQuery,
		"color=blue":           CodeUnsupportedQuery,
		"$top=1&$top=2":        CodeBadRequest,
		"$select=display-name": CodeBadRequest,
	} {
		_, err := parse(t, q, false)
		if e, ok := apperr.As(err); !ok || e.Code != code {
			t.Errorf("%s: got %v, want %s", q, err, code)
		}
	}
}

func TestOptions(t *testing.T) {
	q, err := parse(t, "top=5&$select=id,displayName&$orderby=displayName%20desc&$count=true&$search="+url.QueryEscape(`"displayName:wave" AND "displayName:one"`), true)
	if err != nil {
		t.Fatal(err)
	}
	if q.Top != 5 || len(q.Select) != 2 || !q.OrderBy[0].Desc || !q.Count || len(q.Search) != 2 || q.Search[1].Term != "one" {
		t.Fatalf("%+v", q)
	}
	o := Project(Object{"id": "1", "displayName": "x", "mail": "m", "@odata.type": "#t"}, []string{"DisplayName", "surname"})
	if len(o) != 4 || o["displayName"] != "x" || o["surname"] != nil || o["mail"] != nil {
		t.Fatalf("project: %v", o)
	}
}
