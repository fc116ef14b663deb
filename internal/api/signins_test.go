package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/risk"
	"github.com/rpserver/rpserver/internal/signinlog"
)

// newReportsEnv is newEnv plus a writer to log sign-ins with directly; the
// risk service is the server's.
func newReportsEnv(t *testing.T) (*env, *signinlog.BatchWriter, *risk.Service) {
	e := newEnv(t)
	w := signinlog.NewBatchWriter(e.db.SignIns(), signinlog.Options{})
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return e, w, e.app.Risk
}

func (e *env) mustCreateUser(upn string, emergency bool) string {
	e.t.Helper()
	r := e.do("POST", "/v1.0/users", e.token(directory.RoleGlobalAdministrator),
		fmt.Sprintf(`{"userPrincipalName":%q,"displayName":%q,"isEmergencyAccess":%v}`, upn, upn, emergency))
	if r.status != 201 {
		e.t.Fatalf("create %s: %s", upn, r.raw)
	}
	return r.body["id"].(string)
}

func ids(r resp) []string {
	var out []string
	for _, v := range r.body["value"].([]any) {
		out = append(out, v.(map[string]any)["id"].(string))
	}
	return out
}

func TestSignInLogAPI(t *testing.T) {
	e, w, _ := newReportsEnv(t)
	ctx := context.Background()
	alice, bob := e.mustCreateUser("alice@lab.example", false), e.mustCreateUser("bob@lab.example", false)
	bg := e.mustCreateUser("bg1@lab.example", true)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

	// Seven sign-ins, one minute apart: alice 0,2,4; bob 1,3,5 (3 and 5 fail CA); the break-glass account at 6.
	var written []string // oldest first
	for i := range 7 {
		s := signinlog.SignIn{ID: uuid.NewString(), CreatedDateTime: base.Add(time.Duration(i) * time.Minute), UserID: alice,
			UserPrincipalName: "alice@lab.example", AppID: "portal", AppDisplayName: "Lab portal", ConditionalAccessStatus: "success"}
		if i%2 == 1 {
			s.UserID, s.UserPrincipalName, s.AppID = bob, "bob@lab.example", "ssh"
		}
		if i == 3 || i == 5 {
			s.ConditionalAccessStatus, s.Status = "failure", signinlog.SignInStatus{ErrorCode: 53003, FailureReason: "Blocked by Conditional Access"}
		}
		if i == 6 {
			s.UserID, s.UserPrincipalName, s.IsEmergencyAccess, s.RaisesAlert, s.ConditionalAccessStatus = bg, "bg1@lab.example", true, true, "notApplied"
		}
		if err := w.Write(ctx, s); err != nil {
			t.Fatal(err)
		}
		written = append(written, s.ID)
	}
	reader := e.token(directory.RoleReportsReader)

	// Newest first, paged by $top with @odata.nextLink carrying the filter along.
	var seen []string
	next := "/v1.0/auditLogs/signIns?$top=3"
	for pages := 0; next != ""; pages++ {
		r := e.do("GET", next, reader, "")
		if r.status != 200 || pages > 5 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		seen = append(seen, ids(r)...)
		next, _ = r.body["@odata.nextLink"].(string)
	}
	if len(seen) != 7 {
		t.Fatalf("paged %d records, want 7", len(seen))
	}
	for i := range seen {
		if seen[i] != written[6-i] {
			t.Fatalf("order: got %v, want newest first %v", seen, written)
		}
	}

	filters := []struct {
		filter string
		want   []int // indexes into written, newest first
	}{
		{"userId eq '" + alice + "'", []int{4, 2, 0}},
		{"userPrincipalName eq 'BOB@lab.example'", []int{5, 3, 1}},
		{"appId eq 'ssh' and status/errorCode eq 0", []int{1}},
		{"status/errorCode ne 0", []int{5, 3}},
		{"conditionalAccessStatus eq 'failure' and createdDateTime le 2026-03-01T09:04:00Z", []int{3}},
		{"createdDateTime ge 2026-03-01T09:05:00Z", []int{6, 5}},
		{"createdDateTime ge 2026-03-01T09:01:00Z and createdDateTime le 2026-03-01T09:03:00Z and userId eq '" + bob + "'", []int{3, 1}},
	}
	for _, f := range filters {
		r := e.do("GET", "/beta/auditLogs/signIns?$filter="+url.QueryEscape(f.filter), e.token(directory.RoleSecurityReader), "")
		got := ids(r)
		var want []string
		for _, i := range f.want {
			want = append(want, written[i])
		}
		if r.status != 200 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %d %v, want %v (%s)", f.filter, r.status, got, want, r.raw)
		}
	}
	// A filtered page's nextLink keeps the filter.
	r := e.do("GET", "/v1.0/auditLogs/signIns?$top=1&$filter="+url.QueryEscape("userId eq '"+alice+"'"), reader, "")
	r = e.do("GET", r.body["@odata.nextLink"].(string), reader, "")
	if got := ids(r); r.status != 200 || len(got) != 1 || got[0] != written[2] {
		t.Fatalf("filtered page 2: %s", r.raw)
	}

	one := e.do("GET", "/v1.0/auditLogs/signIns/"+written[3], e.token(directory.RoleGlobalReader), "")
	if one.status != 200 || one.body["status"].(map[string]any)["errorCode"] != float64(53003) || one.body["conditionalAccessStatus"] != "failure" {
		t.Fatalf("get: %s", one.raw)
	}

	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"or is refused", "GET", "/v1.0/auditLogs/signIns?$filter=" + url.QueryEscape("appId eq 'a' or appId eq 'b'"), reader, "", 400, odata.CodeUnsupportedQuery},
		{"unknown property", "GET", "/v1.0/auditLogs/signIns?$filter=" + url.QueryEscape("ipAddress eq '1.2.3.4'"), reader, "", 400, odata.CodeUnsupportedQuery},
		{"userId not a GUID", "GET", "/v1.0/auditLogs/signIns?$filter=" + url.QueryEscape("userId eq 'alice'"), reader, "", 400, odata.CodeBadRequest},
		{"bad time", "GET", "/v1.0/auditLogs/signIns?$filter=" + url.QueryEscape("createdDateTime ge yesterday"), reader, "", 400, odata.CodeBadRequest},
		{"empty filter", "GET", "/v1.0/auditLogs/signIns?$filter=", reader, "", 400, odata.CodeBadRequest},
		{"forged skiptoken", "GET", "/v1.0/auditLogs/signIns?$skiptoken=abc", reader, "", 400, odata.CodeBadRequest},
		{"bad $top", "GET", "/v1.0/auditLogs/signIns?$top=1000", reader, "", 400, odata.CodeBadRequest},
		{"id not a GUID", "GET", "/v1.0/auditLogs/signIns/42", reader, "", 400, directory.CodeInvalidID},
		{"unknown id", "GET", "/v1.0/auditLogs/signIns/" + uuid.NewString(), reader, "", 404, "Request_ResourceNotFound"},
		{"user admin may not read logs", "GET", "/v1.0/auditLogs/signIns", e.token(directory.RoleUserAdministrator), "", 403, api.CodeAuthorizationError},
		{"no token", "GET", "/v1.0/auditLogs/signIns", "", "", 401, "InvalidAuthenticationToken"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.token, c.body)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
}

func TestEmergencySignInAlertAPI(t *testing.T) {
	e, w, _ := newReportsEnv(t)
	bg := e.mustCreateUser("bg1@lab.example", true)
	s := signinlog.SignIn{ID: uuid.NewString(), UserID: bg, UserPrincipalName: "bg1@lab.example", AppID: "portal", AppDisplayName: "Lab portal",
		IPAddress: "192.0.2.7", IsEmergencyAccess: true, RaisesAlert: true, ConditionalAccessStatus: "notApplied"}
	if err := w.Write(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), signinlog.SignIn{UserPrincipalName: "someone@lab.example"}); err != nil {
		t.Fatal(err)
	}
	list := e.do("GET", "/v1.0/security/alerts_v2", e.token(directory.RoleSecurityReader), "")
	if list.status != 200 || len(list.body["value"].([]any)) != 1 {
		t.Fatalf("alerts: %s", list.raw)
	}
	a := list.body["value"].([]any)[0].(map[string]any)
	ev := a["evidence"].([]any)[0].(map[string]any)["userAccount"].(map[string]any)
	if a["title"] != "Emergency access account sign-in" || a["severity"] != "high" || a["status"] != "new" || a["signInId"] != s.ID ||
		ev["userPrincipalName"] != "bg1@lab.example" || ev["azureAdUserId"] != bg {
		t.Fatalf("alert: %s", list.raw)
	}
	id := a["id"].(string)
	admin := e.token(directory.RoleSecurityAdministrator)
	if r := e.do("PATCH", "/v1.0/security/alerts_v2/"+id, admin, `{"status":"resolved"}`); r.status != 200 || r.body["status"] != "resolved" || r.body["resolvedDateTime"] == nil {
		t.Fatalf("resolve: %s", r.raw)
	}
	if r := e.do("GET", "/beta/security/alerts_v2/"+id, admin, ""); r.status != 200 || r.body["status"] != "resolved" {
		t.Fatalf("get: %s", r.raw)
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"reports reader may not read alerts", "GET", "/v1.0/security/alerts_v2", e.token(directory.RoleReportsReader), "", 403, api.CodeAuthorizationError},
		{"security reader may not resolve", "PATCH", "/v1.0/security/alerts_v2/" + id, e.token(directory.RoleSecurityReader), `{"status":"resolved"}`, 403, api.CodeAuthorizationError},
		{"unknown status", "PATCH", "/v1.0/security/alerts_v2/" + id, admin, `{"status":"closed"}`, 400, signinlog.CodeInvalidAlertStatus},
		{"missing status", "PATCH", "/v1.0/security/alerts_v2/" + id, admin, `{}`, 400, signinlog.CodeInvalidAlertStatus},
		{"unknown property", "PATCH", "/v1.0/security/alerts_v2/" + id, admin, `{"severity":"low"}`, 400, api.CodeUnknownProperty},
		{"unknown alert", "PATCH", "/v1.0/security/alerts_v2/" + uuid.NewString(), admin, `{"status":"resolved"}`, 404, "Request_ResourceNotFound"},
		{"alert id not a GUID", "GET", "/v1.0/security/alerts_v2/x", admin, "", 400, directory.CodeInvalidID},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.token, c.body)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
}

func TestRiskyUsersAPI(t *testing.T) {
	e, _, rs := newReportsEnv(t)
	ctx := context.Background()
	alice, bob := e.mustCreateUser("alice@lab.example", false), e.mustCreateUser("bob@lab.example", false)
	admin, reader := e.token(directory.RoleSecurityAdministrator), e.token(directory.RoleSecurityReader)

	if lvl, err := rs.UserRisk(ctx, alice); err != nil || lvl != "none" {
		t.Fatalf("fresh user: %q %v", lvl, err)
	}
	r := e.do("POST", "/v1.0/identityProtection/riskyUsers/"+alice+"/setRiskLevel", admin, `{"riskLevel":"high"}`)
	if r.status != 200 || r.body["riskLevel"] != "high" || r.body["riskState"] != "atRisk" || r.body["userPrincipalName"] != "alice@lab.example" {
		t.Fatalf("setRiskLevel: %s", r.raw)
	}
	if lvl, _ := rs.UserRisk(ctx, alice); lvl != "high" {
		t.Fatalf("user risk after set: %q", lvl)
	}
	if r := e.do("GET", "/v1.0/identityProtection/riskyUsers", e.token(directory.RoleGlobalReader), ""); r.status != 200 || len(ids(r)) != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	if r := e.do("POST", "/v1.0/identityProtection/riskyUsers/dismiss", admin, `{"userIds":["`+alice+`"]}`); r.status != 204 {
		t.Fatalf("dismiss: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/identityProtection/riskyUsers/"+alice, reader, ""); r.status != 200 || r.body["riskState"] != "dismissed" ||
		r.body["riskLevel"] != "none" || r.body["riskDetail"] != "adminDismissedAllRiskForUser" {
		t.Fatalf("after dismiss: %s", r.raw)
	}
	if lvl, _ := rs.UserRisk(ctx, alice); lvl != "none" {
		t.Fatalf("user risk after dismiss: %q", lvl)
	}
	if r := e.do("POST", "/beta/identityProtection/riskyUsers/confirmCompromised", admin, `{"userIds":["`+bob+`","`+bob+`"]}`); r.status != 204 {
		t.Fatalf("confirmCompromised: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/identityProtection/riskyUsers/"+bob, reader, ""); r.body["riskState"] != "confirmedCompromised" || r.body["riskLevel"] != "high" {
		t.Fatalf("after confirm: %s", r.raw)
	}

	stranger := uuid.NewString()
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"unknown risk level", "POST", "/v1.0/identityProtection/riskyUsers/" + alice + "/setRiskLevel", admin, `{"riskLevel":"extreme"}`, 400, risk.CodeInvalidRiskLevel},
		{"hidden is not settable", "POST", "/v1.0/identityProtection/riskyUsers/" + alice + "/setRiskLevel", admin, `{"riskLevel":"hidden"}`, 400, risk.CodeInvalidRiskLevel},
		{"user id not a GUID", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", admin, `{"userIds":["alice"]}`, 400, directory.CodeInvalidID},
		{"empty userIds", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", admin, `{"userIds":[]}`, 400, risk.CodeInvalidUserIDs},
		{"userIds wrong type", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", admin, `{"userIds":"` + alice + `"}`, 400, api.CodeBadJSON},
		{"unknown user changes nothing", "POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised", admin, `{"userIds":["` + alice + `","` + stranger + `"]}`, 404, "Request_ResourceNotFound"},
		{"reader may not dismiss", "POST", "/v1.0/identityProtection/riskyUsers/dismiss", reader, `{"userIds":["` + bob + `"]}`, 403, api.CodeAuthorizationError},
		{"reports reader may not read risk", "GET", "/v1.0/identityProtection/riskyUsers", e.token(directory.RoleReportsReader), "", 403, api.CodeAuthorizationError},
		{"no risk record", "GET", "/v1.0/identityProtection/riskyUsers/" + stranger, reader, "", 404, "Request_ResourceNotFound"},
		{"risky user id not a GUID", "GET", "/v1.0/identityProtection/riskyUsers/42", reader, "", 400, directory.CodeInvalidID},
		{"setRiskLevel on unknown user", "POST", "/v1.0/identityProtection/riskyUsers/" + stranger + "/setRiskLevel", admin, `{"riskLevel":"low"}`, 404, "Request_ResourceNotFound"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.token, c.body)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
	// The refused confirmCompromised left alice dismissed.
	if lvl, _ := rs.UserRisk(ctx, alice); lvl != "none" {
		t.Fatalf("a refused action changed alice: %q", lvl)
	}
}
