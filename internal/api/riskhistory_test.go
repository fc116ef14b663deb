package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/tokens"
)

// TestRiskyUserHistory: every risk action leaves a riskyUserHistoryItem
// (written with the action), newest first, with the activity and the
// admin who initiated it; a refused action leaves none.
func TestRiskyUserHistory(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.mustCreateUser("alice@lab.example", false), e.mustCreateUser("bob@lab.example", false)
	adminID := uuid.NewString()
	admin, err := e.issuer.Mint(tokens.Claims{UPN: "secadmin@lab.example", Roles: []string{directory.RoleSecurityAdministrator}}.WithSubject(adminID), tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	reader := e.token(directory.RoleSecurityReader)
	history := func(user, query string) resp {
		t.Helper()
		return e.do("GET", "/v1.0/identityProtection/riskyUsers/"+user+"/history"+query, reader, "")
	}

	// Before any action the user has no risk record, hence no history.
	if r := history(alice, ""); r.status != 404 {
		t.Fatalf("history of a user never at risk: %d %s", r.status, r.raw)
	}
	steps := []struct{ path, body string }{
		{"/v1.0/identityProtection/riskyUsers/" + alice + "/setRiskLevel", `{"riskLevel":"medium"}`},
		{"/v1.0/identityProtection/riskyUsers/confirmCompromised", `{"userIds":["` + alice + `","` + bob + `"]}`},
		{"/v1.0/identityProtection/riskyUsers/dismiss", `{"userIds":["` + alice + `"]}`},
	}
	for _, s := range steps {
		if r := e.do("POST", s.path, admin, s.body); r.status/100 != 2 {
			t.Fatalf("%s: %d %s", s.path, r.status, r.raw)
		}
		time.Sleep(2 * time.Millisecond) // distinct riskLastUpdatedDateTime, so the order is the actions'
	}
	// A refused action (an unknown user in the list) writes no history.
	if r := e.do("POST", "/v1.0/identityProtection/riskyUsers/dismiss", admin, `{"userIds":["`+bob+`","`+uuid.NewString()+`"]}`); r.status != 404 {
		t.Fatalf("refused dismiss: %d %s", r.status, r.raw)
	}

	r := history(alice, "")
	if r.status != 200 {
		t.Fatalf("history: %d %s", r.status, r.raw)
	}
	items := r.body["value"].([]any)
	want := []struct{ state, level, detail string }{
		{"dismissed", "none", "adminDismissedAllRiskForUser"},
		{"confirmedCompromised", "high", "adminConfirmedUserCompromised"},
		{"atRisk", "medium", "none"},
	}
	if len(items) != len(want) {
		t.Fatalf("history items: %d, want %d: %s", len(items), len(want), r.raw)
	}
	for i, w := range want {
		h := items[i].(map[string]any)
		act, _ := h["activity"].(map[string]any)
		if h["riskState"] != w.state || h["riskLevel"] != w.level || h["riskDetail"] != w.detail || h["userId"] != alice ||
			h["userPrincipalName"] != "alice@lab.example" || h["initiatedBy"] != adminID || act["detail"] != w.detail {
			t.Errorf("item %d = %v, want %+v", i, h, w)
		}
		if ev, ok := act["riskEventTypes"].([]any); !ok || len(ev) != 0 {
			t.Errorf("item %d riskEventTypes = %v", i, act["riskEventTypes"])
		}
		if _, err := time.Parse(time.RFC3339Nano, h["riskLastUpdatedDateTime"].(string)); err != nil {
			t.Errorf("item %d riskLastUpdatedDateTime: %v", i, err)
		}
	}
	// Bob's only change is his own.
	if b := history(bob, ""); b.status != 200 || len(b.body["value"].([]any)) != 1 {
		t.Fatalf("bob's history: %d %s", b.status, b.raw)
	}

	// By id, and not across users.
	first := items[0].(map[string]any)["id"].(string)
	if g := e.do("GET", "/v1.0/identityProtection/riskyUsers/"+alice+"/history/"+first, reader, ""); g.status != 200 || g.body["id"] != first {
		t.Fatalf("history item: %d %s", g.status, g.raw)
	}
	for _, c := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"another user's item", "/v1.0/identityProtection/riskyUsers/" + bob + "/history/" + first, reader, 404, "Request_ResourceNotFound"},
		{"item id not a GUID", "/v1.0/identityProtection/riskyUsers/" + alice + "/history/42", reader, 400, directory.CodeInvalidID},
		{"reports reader may not read risk", "/v1.0/identityProtection/riskyUsers/" + alice + "/history", e.token(directory.RoleReportsReader), 403, api.CodeAuthorizationError},
		{"filter by state", "/v1.0/identityProtection/riskyUsers/" + alice + "/history?$filter=" + url.QueryEscape("riskState eq 'atRisk'"), reader, 200, ""},
		{"unsupported option", "/v1.0/identityProtection/riskyUsers/" + alice + "/history?$orderby=riskLevel", reader, 400, odata.CodeUnsupportedQuery},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", c.path, c.token, "")
			if r.status != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, c.status, c.code)
			}
		})
	}
	if f := history(alice, "?$filter="+url.QueryEscape("riskState eq 'atRisk'")+"&$top=1"); f.status != 200 || len(f.body["value"].([]any)) != 1 {
		t.Fatalf("filtered history: %d %s", f.status, f.raw)
	}
}

// TestRiskyUserHistoryPages: the history stopped at the newest 500 items
// with no @odata.nextLink, so a client paging with $top ended there
// believing it had everything. It now pages by keyset to the oldest item,
// and a filter matching only items past the first 500 still finds them.
func TestRiskyUserHistoryPages(t *testing.T) {
	e := newEnv(t)
	alice := e.mustCreateUser("alice@lab.example", false)
	sec := e.token(directory.RoleSecurityAdministrator)
	if r := e.do("POST", "/v1.0/identityProtection/riskyUsers/"+alice+"/setRiskLevel", sec, `{"riskLevel":"medium"}`); r.status/100 != 2 {
		t.Fatalf("setRiskLevel: %d %s", r.status, r.raw)
	}
	// 700 older items, the oldest one "high": one per second before now.
	const older = 700
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO risky_user_history (id, user_id, user_principal_name, user_display_name,
		risk_level, risk_state, risk_detail, risk_last_updated_date_time)
		SELECT gen_random_uuid(), $1, 'alice@lab.example', 'Alice', CASE WHEN n = $2 THEN 'high' ELSE 'low' END, 'atRisk', 'none',
		       now() - make_interval(secs => n)
		FROM generate_series(1, $2) AS n`, alice, older); err != nil {
		t.Fatal(err)
	}
	reader := e.token(directory.RoleSecurityReader)
	all := func(query string) (items []map[string]any, pages int) {
		t.Helper()
		next := "/v1.0/identityProtection/riskyUsers/" + alice + "/history" + query
		for next != "" {
			if pages++; pages > 20 {
				t.Fatal("no end to the pages")
			}
			r := e.do("GET", next, reader, "")
			if r.status != 200 {
				t.Fatalf("GET %s: %d %s", next, r.status, r.raw)
			}
			for _, v := range r.body["value"].([]any) {
				items = append(items, v.(map[string]any))
			}
			next, _ = r.body["@odata.nextLink"].(string)
			next = strings.TrimPrefix(next, e.srv.URL)
		}
		return items, pages
	}
	items, pages := all("?$top=300")
	if len(items) != older+1 || pages != 3 {
		t.Fatalf("paged history: %d items in %d pages, want %d in 3", len(items), pages, older+1)
	}
	seen := map[string]bool{}
	for i, h := range items {
		if seen[h["id"].(string)] {
			t.Fatalf("item %v twice", h["id"])
		}
		seen[h["id"].(string)] = true
		if i > 0 && h["riskLastUpdatedDateTime"].(string) > items[i-1]["riskLastUpdatedDateTime"].(string) {
			t.Fatalf("item %d is newer than the one before it", i)
		}
	}
	if items[len(items)-1]["riskLevel"] != "high" {
		t.Fatalf("the oldest item is not last: %v", items[len(items)-1])
	}
	if items, _ := all(""); len(items) != older+1 {
		t.Fatalf("without $top: %d items", len(items))
	}
	high, _ := all("?$filter=" + url.QueryEscape("riskLevel eq 'high'"))
	if len(high) != 1 || high[0]["riskLevel"] != "high" {
		t.Fatalf("filtered past the first 500: %v", high)
	}
	if r := e.do("GET", "/v1.0/identityProtection/riskyUsers/"+alice+"/history?$skiptoken=nonsense", reader, ""); r.status != 400 {
		t.Fatalf("bad $skiptoken: %d %s", r.status, r.raw)
	}
}
