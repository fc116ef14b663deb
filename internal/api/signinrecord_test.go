package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

// postAs is a POST with a User-Agent (and optionally a bearer token), the
// way a browser or a script reaches the sign-in endpoints.
func (e *env) postAs(path, userAgent, bearer, body string) resp {
	e.t.Helper()
	st, _, out, raw := e.send("POST", path, bearer, map[string]string{"Content-Type": "application/json", "User-Agent": userAgent}, []byte(body))
	return resp{status: st, body: out, raw: raw}
}

// TestSignInRecordFields covers the signIn properties the lab fills from
// the request (deviceDetail and userAgent from the User-Agent header), from
// the app signed in to (resourceId, resourceDisplayName), and those it
// reports honestly empty (location null: no geolocation; riskDetail none
// and riskEventTypes_v2 []: no sign-in risk detection).
func TestSignInRecordFields(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	uid := e.mustCreateUser("dora@lab.example", false)
	role, _ := directory.RoleByName(directory.RoleReportsReader)
	if r := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", ga,
		`{"principalId":"`+uid+`","roleDefinitionId":"`+role.ID+`","directoryScopeId":"/"}`); r.status != 201 {
		t.Fatalf("role assignment: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga,
		`{"state":"enabled","includeTargets":[{"id":"all_users","targetType":"group","isRegistrationRequired":false}]}`); r.status != 200 {
		t.Fatalf("TAP policy: %d %s", r.status, r.raw)
	}
	tap := e.do("POST", "/v1.0/users/"+uid+"/authentication/temporaryAccessPassMethods", ga, `{"isUsableOnce":false}`)
	pass, _ := tap.body["temporaryAccessPass"].(string)
	if tap.status != 201 || pass == "" {
		t.Fatalf("TAP: %d %s", tap.status, tap.raw)
	}
	reader := e.token(directory.RoleReportsReader)
	record := func(id string) map[string]any {
		t.Helper()
		r := e.do("GET", "/v1.0/auditLogs/signIns/"+id, reader, "")
		if r.status != 200 {
			t.Fatalf("get sign-in %s: %d %s", id, r.status, r.raw)
		}
		return r.body
	}
	const portalApp, portalName = "00000000-0000-0000-0000-00000000a001", "rpserver lab portal"
	for _, tc := range []struct {
		name, userAgent, browser, os string
	}{
		{"edge on windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70", "Edge 131.0.2903", "Windows10"},
		{"safari on iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari 18.1", "Ios"},
		{"a script", "curl/8.5.0", "", ""},
		{"oversized header is cut", strings.Repeat("A", 600), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := e.postAs("/signin/tap", tc.userAgent, "", `{"userPrincipalName":"dora@lab.example","temporaryAccessPass":"`+pass+`"}`)
			id, _ := out.body["signInId"].(string)
			if out.status != 200 || id == "" {
				t.Fatalf("TAP sign-in: %d %s", out.status, out.raw)
			}
			rec := record(id)
			dev, _ := rec["deviceDetail"].(map[string]any)
			if got, _ := dev["browser"].(string); got != tc.browser {
				t.Errorf("deviceDetail.browser = %q, want %q", got, tc.browser)
			}
			if got, _ := dev["operatingSystem"].(string); got != tc.os {
				t.Errorf("deviceDetail.operatingSystem = %q, want %q", got, tc.os)
			}
			wantUA := tc.userAgent
			if len(wantUA) > 512 {
				wantUA = wantUA[:512]
			}
			if rec["userAgent"] != wantUA {
				t.Errorf("userAgent = %q, want %q", rec["userAgent"], wantUA)
			}
			if rec["resourceId"] != portalApp || rec["resourceDisplayName"] != portalName {
				t.Errorf("resource = %v %v, want the lab portal", rec["resourceId"], rec["resourceDisplayName"])
			}
			if loc, ok := rec["location"]; !ok || loc != nil {
				t.Errorf("location = %v (present %v), want null", loc, ok)
			}
			if rec["riskDetail"] != "none" {
				t.Errorf("riskDetail = %v, want none", rec["riskDetail"])
			}
			if ev, ok := rec["riskEventTypes_v2"].([]any); !ok || len(ev) != 0 {
				t.Errorf("riskEventTypes_v2 = %v, want []", rec["riskEventTypes_v2"])
			}
		})
	}

	// The platform a client declares at /signin/begin stands in for the
	// operating system when the User-Agent names none.
	begin := e.postAs("/signin/begin", "curl/8.5.0", "", `{"userPrincipalName":"dora@lab.example","platform":"linux"}`)
	flow, _ := begin.body["flowToken"].(string)
	if begin.status != 200 || flow == "" {
		t.Fatalf("begin: %d %s", begin.status, begin.raw)
	}
	out := e.postAs("/signin/tap", "Mozilla/5.0 (Macintosh) Firefox/133.0", "", `{"userPrincipalName":"dora@lab.example","temporaryAccessPass":"`+pass+`","flowToken":"`+flow+`"}`)
	if out.status != 200 {
		t.Fatalf("TAP in flow: %d %s", out.status, out.raw)
	}
	rec := record(out.body["signInId"].(string))
	if dev := rec["deviceDetail"].(map[string]any); dev["operatingSystem"] != "linux" || dev["browser"] != nil || rec["userAgent"] != "curl/8.5.0" {
		t.Errorf("within a flow the User-Agent where it began is kept: %v %v", dev, rec["userAgent"])
	}

	// The admin token is a sign-in to Microsoft Graph: its resource.
	session, _ := out.body["sessionToken"].(string)
	adm := e.postAs("/admin/token", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", session, "")
	sid, _ := adm.body["signInId"].(string)
	if adm.status != 200 || sid == "" {
		t.Fatalf("admin token: %d %s", adm.status, adm.raw)
	}
	rec = record(sid)
	if rec["resourceId"] != "00000003-0000-0000-c000-000000000000" || rec["resourceDisplayName"] != "Microsoft Graph" {
		t.Errorf("admin token resource = %v %v, want Microsoft Graph", rec["resourceId"], rec["resourceDisplayName"])
	}
	if dev := rec["deviceDetail"].(map[string]any); dev["browser"] != "Firefox 133.0" || dev["operatingSystem"] != "Linux" {
		t.Errorf("admin token deviceDetail = %v", dev)
	}
}

// TestSignInConditionsBetaOnly reads the beta appliedConditionalAccessPolicy
// fields of a real sign-in (which conditions held, which rule matched) and
// checks v1.0, whose type lacks them, does not show them.
func TestSignInConditionsBetaOnly(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	uid := e.mustCreateUser("ella@lab.example", false)
	e.do("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga,
		`{"state":"enabled","includeTargets":[{"id":"all_users","targetType":"group","isRegistrationRequired":false}]}`)
	tap := e.do("POST", "/v1.0/users/"+uid+"/authentication/temporaryAccessPassMethods", ga, `{}`)
	pass, _ := tap.body["temporaryAccessPass"].(string)
	if tap.status != 201 {
		t.Fatalf("TAP: %d %s", tap.status, tap.raw)
	}
	policies := map[string]string{
		"browsers": `{"displayName":"browsers","state":"enabledForReportingButNotEnforced","conditions":{"users":{"includeUsers":["All"]},
			"applications":{"includeApplications":["All"]},"clientAppTypes":["browser"]},"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`,
		"not ella": `{"displayName":"not ella","state":"enabledForReportingButNotEnforced","conditions":{"users":{"includeUsers":["All"],"excludeUsers":["` + uid + `"]},
			"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`,
	}
	ids := map[string]string{}
	for name, body := range policies {
		r := e.do("POST", "/v1.0/identity/conditionalAccess/policies", ga, body)
		if r.status != 201 {
			t.Fatalf("policy %s: %d %s", name, r.status, r.raw)
		}
		ids[r.body["id"].(string)] = name
	}
	out := e.do("POST", "/signin/tap", "", `{"userPrincipalName":"ella@lab.example","temporaryAccessPass":"`+pass+`"}`)
	sid, _ := out.body["signInId"].(string)
	if out.status != 200 || sid == "" {
		t.Fatalf("TAP sign-in: %d %s", out.status, out.raw)
	}
	reader := e.token(directory.RoleReportsReader)
	want := map[string]map[string]string{
		"browsers": {"result": "reportOnlySuccess", "conditionsSatisfied": "application,users,clientType", "conditionsNotSatisfied": "none",
			"includeRulesSatisfied": `[{"conditionalAccessCondition":"users","ruleSatisfied":"allUsers"},{"conditionalAccessCondition":"application","ruleSatisfied":"allApps"}]`,
			"excludeRulesSatisfied": `[]`},
		"not ella": {"result": "reportOnlyNotApplied", "conditionsSatisfied": "none", "conditionsNotSatisfied": "users",
			"includeRulesSatisfied": `[]`, "excludeRulesSatisfied": `[{"conditionalAccessCondition":"users","ruleSatisfied":"userId"}]`},
	}
	applied := func(path string) map[string]map[string]any {
		t.Helper()
		r := e.do("GET", path, reader, "")
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		rec := r.body
		if v, ok := r.body["value"].([]any); ok {
			if len(v) != 1 {
				t.Fatalf("%s: %d records", path, len(v))
			}
			rec = v[0].(map[string]any)
		}
		out := map[string]map[string]any{}
		for _, a := range rec["appliedConditionalAccessPolicies"].([]any) {
			m := a.(map[string]any)
			out[ids[m["id"].(string)]] = m
		}
		return out
	}
	for _, path := range []string{"/beta/auditLogs/signIns/" + sid, "/beta/auditLogs/signIns?$filter=" + url.QueryEscape("userId eq '"+uid+"'")} {
		got := applied(path)
		for name, fields := range want {
			for k, v := range fields {
				var s string
				switch x := got[name][k].(type) {
				case string:
					s = x
				default:
					b, _ := json.Marshal(x)
					s = string(b)
				}
				if s != v {
					t.Errorf("%s: policy %q %s = %s, want %s", path, name, k, s, v)
				}
			}
		}
	}
	for _, path := range []string{"/v1.0/auditLogs/signIns/" + sid, "/v1.0/auditLogs/signIns?$filter=" + url.QueryEscape("userId eq '"+uid+"'")} {
		for name, a := range applied(path) {
			for _, k := range []string{"conditionsSatisfied", "conditionsNotSatisfied", "includeRulesSatisfied", "excludeRulesSatisfied"} {
				if _, ok := a[k]; ok {
					t.Errorf("%s: policy %q shows beta-only %s", path, name, k)
				}
			}
			if a["result"] != want[name]["result"] {
				t.Errorf("%s: policy %q result %v", path, name, a["result"])
			}
		}
	}
}
