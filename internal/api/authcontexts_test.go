package api_test

import (
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

func TestAuthenticationContextsAPI(t *testing.T) {
	e := newEnv(t)
	ca := e.token(directory.RoleConditionalAccessAdministrator)
	const p = "/v1.0/identity/conditionalAccess/authenticationContextClassReferences"
	// PATCH creates (201), then updates (200 here: the test client asks for the representation).
	if r := e.do("PATCH", p+"/c1", ca, `{"displayName":"Sensitive actions","description":"HR payroll","isAvailable":true}`); r.status != 201 || r.body["id"] != "c1" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", p+"/c1", ca, `{"isAvailable":false}`); r.status != 200 || r.body["isAvailable"] != false {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	r := e.do("GET", p+"/c1", e.token(directory.RoleGlobalReader), "")
	if r.status != 200 || r.body["displayName"] != "Sensitive actions" || r.body["isAvailable"] != false {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	for _, bad := range []string{"c0", "c100", "C1", "x"} {
		if r := e.do("PATCH", p+"/"+bad, ca, `{"displayName":"x"}`); r.status != 400 || r.code() != "invalidAuthenticationContextId" {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}
	if r := e.do("PATCH", p+"/c2", ca, `{"description":"no name"}`); r.status != 400 || r.code() != "invalidDisplayName" {
		t.Errorf("no displayName: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", p+"/c2", e.token(directory.RoleUserAdministrator), `{"displayName":"x"}`); r.status != 403 {
		t.Errorf("user admin: %d %s", r.status, r.raw)
	}
	r = e.do("GET", p, ca, "")
	if r.status != 200 || !strings.Contains(r.raw, `"id":"c1"`) {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	if r := e.do("DELETE", p+"/c1", ca, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", p+"/c1", ca, ""); r.status != 404 {
		t.Fatalf("after delete: %d %s", r.status, r.raw)
	}
	// A policy may target an authentication context instead of apps.
	if r := e.do("POST", "/v1.0/identity/conditionalAccess/policies", ca, `{"displayName":"c1","state":"disabled",
		"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeAuthenticationContextClassReferences":["c100"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`); r.status != 400 || !strings.Contains(r.raw, "invalidAuthenticationContext") {
		t.Errorf("c100 in a policy: %d %s", r.status, r.raw)
	}
}
