package signinlog

import (
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/odata"
)

func TestParseFilter(t *testing.T) {
	id := "6f1c2a1e-0000-4000-8000-000000000000"
	ok := []struct {
		in    string
		check func(Filter) bool
	}{
		{"userId eq '" + id + "'", func(f Filter) bool { return f.UserID == id }},
		{"userPrincipalName eq 'O''Brien@lab.example'", func(f Filter) bool { return f.UserPrincipalName == "O'Brien@lab.example" }},
		{"appId eq 'portal' and conditionalAccessStatus eq 'notApplied'", func(f Filter) bool { return f.AppID == "portal" && f.ConditionalAccessStatus == "notApplied" }},
		{"createdDateTime ge 2026-01-01T00:00:00Z and createdDateTime lt 2026-01-02T00:00:00.5+01:00", func(f Filter) bool {
			return f.From.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) && !f.FromExclusive && f.ToExclusive &&
				f.To.Equal(time.Date(2026, 1, 1, 23, 0, 0, 5e8, time.UTC))
		}},
		{"status/errorCode ne 0", func(f Filter) bool { return f.ErrorCode != nil && *f.ErrorCode == 0 && f.ErrorCodeNot }},
		{"STATUS/ERRORCODE EQ 53003 AND userid eq '" + id + "'", func(f Filter) bool { return *f.ErrorCode == 53003 && !f.ErrorCodeNot && f.UserID == id }},
	}
	for _, c := range ok {
		f, err := ParseFilter(c.in)
		if err != nil || !c.check(f) {
			t.Errorf("%q: %+v %v", c.in, f, err)
		}
	}
	bad := []string{
		"", "   ", "userId eq 'not-a-guid'", "userId eq " + id, "userId ne '" + id + "'",
		"userPrincipalName eq 'a' or appId eq 'b'", "startswith(userPrincipalName,'a')",
		"createdDateTime ge '2026-01-01T00:00:00Z'", "createdDateTime ge 2026-01-01", "createdDateTime eq 2026-01-01T00:00:00Z",
		"createdDateTime ge 2026-01-01T00:00:00Z and createdDateTime gt 2026-01-02T00:00:00Z",
		"status/errorCode eq 'x'", "status/errorCode gt 0", "status/errorCode eq 0 and status/errorCode ne 0",
		"conditionalAccessStatus eq 'reportOnlySuccess'", "ipAddress eq '1.2.3.4'", "appId eq 'portal' and",
		"appId eq 'portal' appId eq 'x'", "appId eq 'unterminated", "appId eq 'a'; DROP TABLE signin_logs",
		"appId eq", "not appId eq 'a'",
	}
	for _, in := range bad {
		_, err := ParseFilter(in)
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || (e.Code != odata.CodeUnsupportedQuery && e.Code != odata.CodeBadRequest) || e.Target != "$filter" {
			t.Errorf("%q: want Request_UnsupportedQuery or BadRequest on $filter, got %v", in, err)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := CursorAfter(time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC), "6f1c2a1e-0000-4000-8000-000000000000")
	got, err := DecodeCursor(c.Encode())
	if err != nil || !got.CreatedDateTime.Equal(c.CreatedDateTime) || got.ID != c.ID {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "!!", "bm90LWEtY3Vyc29y", c.Encode() + "x"} {
		if _, err := DecodeCursor(bad); apperr.CodeOf(err) != CodeInvalidQuery {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
