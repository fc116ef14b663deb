package api_test

import (
	"net/url"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

func TestUserRegistrationDetailsAndUsersByMethod(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	pat := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"pat@lab.example","displayName":"Pat","passwordProfile":{"password":"correct horse battery"}}`)
	kim := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"kim@lab.example","displayName":"Kim"}`)
	if pat.status != 201 || kim.status != 201 {
		t.Fatal(pat.raw, kim.raw)
	}
	kimID := kim.body["id"].(string)
	// Kim registers the Authenticator app (push) from a session.
	reg := &browser{e: e, cookie: mustSession(t, e, kimID)}
	if r := reg.post("/me/authentication/microsoftAuthenticatorMethods", ""); r.status != 201 {
		t.Fatalf("register push: %s", r.raw)
	}
	if r := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"`+kimID+`","roleDefinitionId":"Helpdesk Administrator","directoryScopeId":"/"}`); r.status != 201 {
		t.Fatalf("role: %s", r.raw)
	}

	reader := e.token(directory.RoleReportsReader)
	const base = "/v1.0/reports/authenticationMethods/"
	r := e.do("GET", base+"userRegistrationDetails?$filter="+url.QueryEscape("isMfaRegistered eq true"), reader, "")
	list, _ := r.body["value"].([]any)
	if r.status != 200 || len(list) != 1 {
		t.Fatalf("mfa registered: %d %s", r.status, r.raw)
	}
	k := list[0].(map[string]any)
	if k["userPrincipalName"] != "kim@lab.example" || k["isAdmin"] != true || k["isPasswordlessCapable"] != false ||
		k["userPreferredMethodForSecondaryAuthentication"] != "push" || k["methodsRegistered"].([]any)[0] != "microsoftAuthenticatorPush" {
		t.Fatalf("kim: %v", k)
	}
	if r := e.do("GET", base+"userRegistrationDetails/"+pat.body["id"].(string), reader, ""); r.status != 200 || r.body["isMfaRegistered"] != false || r.body["methodsRegistered"].([]any)[0] != "password" {
		t.Fatalf("pat: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", base+"userRegistrationDetails?$orderby=userPrincipalName&$top=1", reader, ""); r.status != 200 || r.body["value"].([]any)[0].(map[string]any)["userPrincipalName"] != "kim@lab.example" || r.body["@odata.nextLink"] == nil {
		t.Fatalf("orderby/top: %s", r.raw)
	}
	for _, bad := range []string{"?$filter=" + url.QueryEscape("methodsRegistered/any(m: m eq 'fido2')"), "?$search=kim", "?$filter=" + url.QueryEscape("lastUpdatedDateTime ge 2026-01-01T00:00:00Z")} {
		if r := e.do("GET", base+"userRegistrationDetails"+bad, reader, ""); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}

	for path, want := range map[string]float64{
		"usersRegisteredByMethod":   2,
		"usersRegisteredByMethod()": 2,
		"usersRegisteredByMethod(includedUserTypes='all',includedUserRoles='admin')": 1,
		"usersRegisteredByMethod(includedUserRoles='user')":                          1,
	} {
		r := e.do("GET", base+path, reader, "")
		if r.status != 200 || r.body["totalUserCount"] != want {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
		}
	}
	if r := e.do("GET", base+"usersRegisteredByMethod(includedUserRoles='owners')", reader, ""); r.status != 400 {
		t.Errorf("bad role filter: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", base+"userRegistrationDetails", e.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Errorf("a User Administrator read the report: %d", r.status)
	}
}
