package api_test

import (
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

func TestApplicationsAPI(t *testing.T) {
	e := newEnv(t)
	admin := e.token(directory.RoleApplicationAdministrator)

	// Other admins may not register apps.
	if r := e.do("POST", "/v1.0/applications", e.token(directory.RoleUserAdministrator), `{"displayName":"x"}`); r.status != 403 {
		t.Fatalf("user admin created an app: %d %s", r.status, r.raw)
	}
	r := e.do("POST", "/v1.0/applications", admin, `{"displayName":"Demo app","web":{"redirectUris":["http://localhost:9090/callback"]},
		"spa":{"redirectUris":["https://spa.lab.example/cb"]},"requiredResourceAccess":[{"resourceAppId":"00000003-0000-0000-c000-000000000000","resourceAccess":[{"id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","type":"Scope"}]}]}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id, appID := r.body["id"].(string), r.body["appId"].(string)
	if appID == "" || id == appID || r.body["signInAudience"] != "AzureADMyOrg" {
		t.Fatalf("create body: %s", r.raw)
	}

	for _, bad := range []struct{ body, code string }{
		{`{"displayName":""}`, "invalidDisplayName"},
		{`{"displayName":"x","web":{"redirectUris":["http://evil.example/cb"]}}`, "invalidRedirectUri"},
		{`{"displayName":"x","web":{"redirectUris":["https://a.example/cb#frag"]}}`, "invalidRedirectUri"},
		{`{"displayName":"x","spa":{"redirectUris":["https://a.example/*"]}}`, "invalidRedirectUri"},
		{`{"displayName":"x","signInAudience":"AzureADMultipleOrgs"}`, "invalidSignInAudience"},
		{`{"displayName":"x","passwordCredentials":[{"displayName":"s"}]}`, "invalidPasswordCredential"},
		{`{"displayName":"x","unknownProperty":1}`, "unknownProperty"},
	} {
		if r := e.do("POST", "/v1.0/applications", admin, bad.body); r.status != 400 || r.code() != bad.code {
			t.Errorf("%s: %d %s", bad.body, r.status, r.raw)
		}
	}

	// addPassword shows the secret once; reads show only the hint.
	r = e.do("POST", "/v1.0/applications/"+id+"/addPassword", admin, `{"passwordCredential":{"displayName":"ci"}}`)
	secret, _ := r.body["secretText"].(string)
	if r.status != 200 || len(secret) != 40 || r.body["hint"] != secret[:3] || r.body["keyId"] == "" {
		t.Fatalf("addPassword: %d %s", r.status, r.raw)
	}
	keyID := r.body["keyId"].(string)
	r = e.do("GET", "/v1.0/applications/"+id, admin, "")
	if strings.Contains(r.raw, secret) || !strings.Contains(r.raw, `"secretText":null`) || !strings.Contains(r.raw, keyID) {
		t.Fatalf("read shows the secret or misses the credential: %s", r.raw)
	}
	if r := e.do("POST", "/v1.0/applications/"+id+"/addPassword", admin, `{"passwordCredential":{"secretText":"mine"}}`); r.status != 400 || r.code() != "invalidPasswordCredential" {
		t.Fatalf("client-chosen secret: %d %s", r.status, r.raw)
	}

	// PATCH is validated as a whole and answers 204.
	if r := e.do("PATCH", "/v1.0/applications/"+id, admin, `{"web":{"redirectUris":["ftp://x"]}}`); r.status != 400 {
		t.Fatalf("bad patch: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", "/v1.0/applications/"+id, admin, `{"displayName":"Demo app 2"}`); r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}

	// A service principal needs an application registered here.
	if r := e.do("POST", "/v1.0/servicePrincipals", admin, `{"appId":"`+strings.Repeat("1", 8)+`-1111-1111-1111-111111111111"}`); r.status != 400 || r.code() != "noBackingApplication" {
		t.Fatalf("orphan principal: %d %s", r.status, r.raw)
	}
	// Without app role assignments the lab cannot enforce "assignment
	// required": it refuses the setting rather than store and ignore it.
	if r := e.do("POST", "/v1.0/servicePrincipals", admin, `{"appId":"`+appID+`","appRoleAssignmentRequired":true}`); r.status != 400 || r.code() != "appRoleAssignmentNotSupported" {
		t.Fatalf("assignment required: %d %s", r.status, r.raw)
	}
	r = e.do("POST", "/v1.0/servicePrincipals", e.token(directory.RoleCloudApplicationAdministrator), `{"appId":"`+appID+`","appRoleAssignmentRequired":false}`)
	if r.status != 201 || r.body["displayName"] != "Demo app 2" || r.body["accountEnabled"] != true || r.body["appRoleAssignmentRequired"] != false {
		t.Fatalf("create principal: %d %s", r.status, r.raw)
	}
	spID := r.body["id"].(string)
	if r := e.do("POST", "/v1.0/servicePrincipals", admin, `{"appId":"`+appID+`"}`); r.status != 409 {
		t.Fatalf("duplicate principal: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", "/v1.0/servicePrincipals/"+spID, admin, `{"appRoleAssignmentRequired":true}`); r.status != 400 || r.code() != "appRoleAssignmentNotSupported" {
		t.Fatalf("patch assignment required: %d %s", r.status, r.raw)
	}
	if r := e.do("PATCH", "/v1.0/servicePrincipals/"+spID, admin, `{"accountEnabled":false}`); r.status != 204 {
		t.Fatalf("disable principal: %d %s", r.status, r.raw)
	}

	// The built-in apps are there and cannot be deleted.
	r = e.do("GET", "/v1.0/servicePrincipals", e.token(directory.RoleGlobalReader), "")
	for _, name := range []string{"Microsoft Graph", "Azure Portal", "Office 365 Exchange Online", "rpserver lab portal", "Demo app 2"} {
		if !strings.Contains(r.raw, `"displayName":"`+name+`"`) {
			t.Errorf("service principals miss %s: %s", name, r.raw)
		}
	}
	if r := e.do("DELETE", "/v1.0/servicePrincipals/5a1b0000-0000-4000-8000-000000000003", admin, ""); r.status != 400 || r.code() != "builtInServicePrincipal" {
		t.Fatalf("deleted Microsoft Graph: %d %s", r.status, r.raw)
	}

	if r := e.do("POST", "/v1.0/applications/"+id+"/removePassword", admin, `{"keyId":"`+keyID+`"}`); r.status != 204 {
		t.Fatalf("removePassword: %d %s", r.status, r.raw)
	}
	// Deleting the application takes its principal with it.
	if r := e.do("DELETE", "/v1.0/applications/"+id, admin, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/servicePrincipals/"+spID, admin, ""); r.status != 404 {
		t.Fatalf("principal outlived its app: %d %s", r.status, r.raw)
	}
}
