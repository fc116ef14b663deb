package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
)

const urnID = "urn:uuid:6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

// TestOddInputsAreRefusedNotFailed: the probe's inputs that passed
// validation and then failed in the database (500). Each is a 400 with a
// stable code.
func TestOddInputsAreRefusedNotFailed(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	uid := e.mustCreateUser("odd@lab.example", false)
	gid := str(e.do("POST", "/v1.0/groups", ga, `{"displayName":"Odd"}`).body, "id")
	session := mustSession(t, e, uid)
	for _, c := range []struct {
		name, method, path, body string
		cookie                   bool
		code                     string
	}{
		{"NUL in a UPN", "POST", "/v1.0/users", `{"userPrincipalName":"a\u0000@lab.example","displayName":"A"}`, false, api.CodeNULCharacter},
		{"NUL in a display name", "POST", "/v1.0/users", `{"userPrincipalName":"b@lab.example","displayName":"B\u0000"}`, false, api.CodeNULCharacter},
		{"NUL in a PATCH", "PATCH", "/v1.0/users/" + uid, `{"displayName":"\u0000"}`, false, api.CodeNULCharacter},
		{"NUL in a group name", "PATCH", "/v1.0/groups/" + gid, `{"description":"x\u0000y"}`, false, api.CodeNULCharacter},
		{"NUL in a passkey name", "PATCH", "/me/authentication/fido2Methods/6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b", `{"displayName":"key\u0000"}`, true, api.CodeNULCharacter},
		{"NUL in a property name", "POST", "/v1.0/users", `{"user\u0000PrincipalName":"c@lab.example"}`, false, api.CodeNULCharacter},
		{"NUL in a $filter literal", "GET", "/v1.0/auditLogs/signIns?$filter=userPrincipalName%20eq%20%27a%00%27", "", false, api.CodeNULCharacter},
		{"NUL in a path id", "GET", "/v1.0/users/a%00@lab.example", "", false, api.CodeNULCharacter},
		{"NUL in anonymous /signin/begin", "POST", "/signin/begin", `{"userPrincipalName":"a\u0000@lab.example"}`, false, api.CodeNULCharacter},
		{"NUL in anonymous /signin/password", "POST", "/signin/password", `{"flowToken":"x","password":"\u0000"}`, false, api.CodeNULCharacter},
		{"NUL in anonymous /signin/tap", "POST", "/signin/tap", `{"userPrincipalName":"a\u0000@lab.example","temporaryAccessPass":"x"}`, false, api.CodeNULCharacter},
		{"NUL in anonymous passkey begin", "POST", "/webauthn/authentication/begin", `{"userPrincipalName":"a\u0000"}`, false, api.CodeNULCharacter},
		{"NUL in a credential", "POST", "/webauthn/authentication/finish", `{"id":"\u0000","type":"public-key"}`, false, api.CodeNULCharacter},
		{"urn:uuid user id", "GET", "/v1.0/users/" + urnID, "", false, directory.CodeInvalidID},
		{"urn:uuid member", "POST", "/v1.0/groups/" + gid + "/members/$ref", `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + urnID + `"}`, false, directory.CodeInvalidID},
		{"urn:uuid principal", "POST", "/v1.0/roleManagement/directory/roleAssignments", `{"principalId":"` + urnID + `","roleDefinitionId":"Global Reader"}`, false, directory.CodeInvalidID},
		{"urn:uuid method id", "DELETE", "/me/authentication/fido2Methods/" + urnID, "", true, directory.CodeInvalidID},
		{"urn:uuid $skiptoken", "GET", "/v1.0/users?$skiptoken=" + urnID, "", false, odata.CodeBadRequest},
		{"urn:uuid in $filter", "GET", "/v1.0/auditLogs/signIns?$filter=userId%20eq%20%27" + urnID + "%27", "", false, odata.CodeBadRequest},
		{"urn:uuid application", "POST", "/signin/begin", `{"userPrincipalName":"odd@lab.example","applicationId":"` + urnID + `"}`, false, "invalidApplicationId"},
		{"errorCode beyond int32", "GET", "/v1.0/auditLogs/signIns?$filter=status/errorCode%20eq%204294967296", "", false, odata.CodeBadRequest},
		{"errorCode below int32", "GET", "/v1.0/auditLogs/signIns?$filter=status/errorCode%20ne%20-2147483649", "", false, odata.CodeBadRequest},
	} {
		var r resp
		if c.cookie {
			r = e.doWithCookie(c.method, c.path, session, c.body)
		} else {
			r = e.do(c.method, c.path, ga, c.body)
		}
		if r.status != 400 || r.code() != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.name, r.status, r.raw, c.code)
		}
	}
}

// TestNoRouteFailsOnOddStringsOrIds walks the whole route table: every
// path parameter as a urn:uuid id, and a body whose every string is
// stuffed with NUL, must be refused (4xx), never fail (5xx).
func TestNoRouteFailsOnOddStringsOrIds(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	uid := e.mustCreateUser("walker@lab.example", false)
	session := mustSession(t, e, uid)
	param := regexp.MustCompile(`\{[^}]+\}`)
	// One body naming the string and id properties the API's bodies use,
	// so a handler that decodes leniently still meets them.
	nulBody := `{"displayName":"x\u0000","userPrincipalName":"u\u0000@lab.example","description":"\u0000","flowToken":"\u0000","password":"\u0000","code":"\u0000","pushRequestId":"\u0000","temporaryAccessPass":"\u0000","applicationId":"\u0000","principalId":"\u0000","roleDefinitionId":"\u0000","@odata.id":"\u0000","userId":"\u0000","name":"\u0000"}`
	// Routes that read no body at all.
	noBody := map[string]bool{"/signout": true, "/admin/token": true}
	routes := 0
	err := chi.Walk(e.api.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch {
		case strings.HasSuffix(route, "/*"), route == "/metrics":
			return nil
		case route == "/me/revokeSignInSessions":
			return nil // it would end the walk's session
		}
		routes++
		path := param.ReplaceAllString(route, urnID)
		bodies := []string{""}
		if method != http.MethodGet && method != http.MethodDelete {
			bodies = []string{nulBody, `{"x":"\u0000"}`}
		}
		for _, body := range bodies {
			var r resp
			if strings.HasPrefix(route, "/v1.0/") || strings.HasPrefix(route, "/beta/") {
				r = e.do(method, path, ga, body)
			} else {
				r = e.doWithCookie(method, path, session, body)
			}
			if r.status >= 500 {
				t.Errorf("%s %s with %q: %d %s", method, path, body, r.status, r.raw)
			}
			if body != "" && !noBody[route] && r.status != 400 && r.status != 404 && r.status != 405 {
				t.Errorf("%s %s took a body with NUL strings: %d %s", method, path, r.status, r.raw)
			}
		}
		return nil
	})
	if err != nil || routes < 50 {
		t.Fatalf("walked %d routes (%v)", routes, err)
	}
}

// TestPropertyNamesAreCaseSensitive: encoding/json matches property names
// case-insensitively, so "State" passed the strict decode while the PATCH
// merges, which read the body by exact name, ignored it: 200 and nothing
// changed, or, for systemCredentialPreferences on v1.0, past the beta-only
// refusal. A name in another case is now refused, naming the right one.
func TestPropertyNamesAreCaseSensitive(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	uid := e.mustCreateUser("case@lab.example", false)
	const configs = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
	prefs := `{"state":"disabled","includeTargets":[{"id":"all_users","targetType":"group"}],"excludeTargets":[]}`
	for _, c := range []struct {
		name, method, path, body, target, right string
	}{
		{"v1.0 beta-only property", "PATCH", "/v1.0/policies/authenticationMethodsPolicy", `{"SystemCredentialPreferences":` + prefs + `}`, "SystemCredentialPreferences", "systemCredentialPreferences"},
		{"beta policy property", "PATCH", "/beta/policies/authenticationMethodsPolicy", `{"SystemCredentialPreferences":` + prefs + `}`, "SystemCredentialPreferences", "systemCredentialPreferences"},
		{"nested campaign", "PATCH", "/v1.0/policies/authenticationMethodsPolicy", `{"registrationEnforcement":{"AuthenticationMethodsRegistrationCampaign":{"state":"enabled"}}}`,
			"registrationEnforcement.AuthenticationMethodsRegistrationCampaign", "authenticationMethodsRegistrationCampaign"},
		{"fido2 state", "PATCH", configs + "fido2", `{"State":"enabled"}`, "State", "state"},
		{"TAP lifetime", "PATCH", configs + "temporaryAccessPass", `{"DefaultLifetimeInMinutes":120}`, "DefaultLifetimeInMinutes", "defaultLifetimeInMinutes"},
		{"user", "PATCH", "/v1.0/users/" + uid, `{"DisplayName":"Changed"}`, "DisplayName", "displayName"},
		{"group create", "POST", "/v1.0/groups", `{"displayname":"Lower"}`, "displayname", "displayName"},
		{"CA policy nested", "POST", caPolicies, caBody("Case", "disabled", `{"IncludeUsers":["All"]}`, `{"operator":"OR","builtInControls":["mfa"]}`), "conditions.users.IncludeUsers", "includeUsers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.do("GET", c.path, ga, "")
			r := e.do(c.method, c.path, ga, c.body)
			if r.status != 400 || r.code() != "unknownProperty" || !strings.Contains(r.raw, `"target":"`+c.target+`"`) || !strings.Contains(r.raw, `\"`+c.right+`\"`) {
				t.Fatalf("%d %s, want 400 unknownProperty at %s naming %q", r.status, r.raw, c.target, c.right)
			}
			if c.method == "PATCH" {
				if after := e.do("GET", c.path, ga, ""); after.raw != before.raw {
					t.Errorf("a refused PATCH changed the resource:\n%s\n%s", before.raw, after.raw)
				}
			}
		})
	}
	// The schema's own spelling still goes through.
	if r := e.do("PATCH", "/v1.0/users/"+uid, ga, `{"displayName":"Changed"}`); r.status != 200 {
		t.Fatalf("exact spelling: %d %s", r.status, r.raw)
	}
}
