package api_test

import (
	"slices"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/tokens"
)

// GET /admin/permissions reads the allow gates back from the router: what
// it says a role may call is what the role can call.
func TestAdminPermissions(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)

	cases := []struct {
		name, token, query string
		status             int
		code               string
		// route -> allowed, for the roles of the token
		want map[string]bool
	}{
		{"no token", "", "", 401, tokens.CodeInvalidToken, nil},
		{"query options refused", ga, "?$top=1", 400, odata.CodeBadRequest, nil},
		{"global administrator may call everything", ga, "", 200, "", map[string]bool{
			"POST /users": true, "PATCH /identity/conditionalAccess/policies/{id}": true, "POST /groups/{id}/members/$ref": true}},
		{"groups administrator: groups, not users or policies", e.token(directory.RoleGroupsAdministrator), "", 200, "", map[string]bool{
			"POST /groups": true, "POST /groups/{id}/members/$ref": true, "GET /users": true,
			"POST /users": false, "PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2": false}},
		{"global reader reads only", e.token(directory.RoleGlobalReader), "", 200, "", map[string]bool{
			"GET /users": true, "GET /identity/conditionalAccess/policies": true,
			"POST /users": false, "POST /users/{id}/authentication/temporaryAccessPassMethods": false, "POST /identityProtection/riskyUsers/dismiss": false}},
		{"authentication policy administrator writes method policies", e.token(directory.RoleAuthenticationPolicyAdministrator), "", 200, "", map[string]bool{
			"PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2":               true,
			"PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass": true,
			"POST /users/{id}/authentication/temporaryAccessPassMethods":                                         false}},
	}
	for _, c := range cases {
		r := e.do("GET", "/admin/permissions"+c.query, c.token, "")
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
			continue
		}
		if c.want == nil {
			continue
		}
		got := map[string]bool{}
		for _, v := range r.body["value"].([]any) {
			rp := v.(map[string]any)
			got[rp["method"].(string)+" "+rp["path"].(string)] = rp["allowed"].(bool)
			if roles := rp["roles"].([]any); !slices.Contains(roles, any(directory.RoleGlobalAdministrator)) {
				t.Errorf("%s: %s %s does not list Global Administrator: %v", c.name, rp["method"], rp["path"], roles)
			}
		}
		for route, allowed := range c.want {
			a, ok := got[route]
			if !ok {
				t.Errorf("%s: route %s not listed", c.name, route)
			} else if a != allowed {
				t.Errorf("%s: %s allowed = %v, want %v", c.name, route, a, allowed)
			}
		}
	}

	// The table is the gates: a route it says a Global Reader may not call
	// answers 403 to one.
	reader := e.token(directory.RoleGlobalReader)
	if r := e.do("POST", "/v1.0/groups", reader, `{"displayName":"x","mailEnabled":false,"securityEnabled":true,"mailNickname":"x"}`); r.status != 403 {
		t.Errorf("reader created a group: %d %s", r.status, r.raw)
	}
}
