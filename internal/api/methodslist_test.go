package api_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/virtualauthn"
)

// TestUserMethodsPolymorphic lists a user holding one method of every kind
// the lab has through /authentication/methods, each with its Graph
// @odata.type, and reads each by id there and under its own collection.
func TestUserMethodsPolymorphic(t *testing.T) {
	l := newLab(t)
	ga := l.token(directory.RoleGlobalAdministrator)
	if r := l.do("PATCH", "/v1.0/users/"+l.userID, ga, `{"passwordProfile":{"password":"correct horse battery"}}`); r.status != 200 {
		t.Fatalf("password: %d %s", r.status, r.raw)
	}
	if r := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca)), "iPhone", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatalf("passkey: %d %s", r.status, r.raw)
	}
	push := l.do("POST", "/me/authentication/microsoftAuthenticatorMethods", l.session, `{"displayName":"Work phone"}`)
	code := l.do("POST", "/me/authentication/softwareOathMethods", l.session, "")
	if push.status != 201 || code.status != 201 {
		t.Fatalf("push %d %s; totp %d %s", push.status, push.raw, code.status, code.raw)
	}
	l.do("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga,
		`{"state":"enabled","includeTargets":[{"id":"all_users","targetType":"group","isRegistrationRequired":false}]}`)
	if r := l.do("POST", "/v1.0/users/"+l.userID+"/authentication/temporaryAccessPassMethods", ga, `{}`); r.status != 201 {
		t.Fatalf("TAP: %d %s", r.status, r.raw)
	}

	reader := l.token(directory.RoleAuthenticationAdministrator)
	list := l.do("GET", "/v1.0/users/"+l.userPrincipalName()+"/authentication/methods", reader, "")
	if list.status != 200 {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	byType := map[string]map[string]any{}
	for _, v := range list.body["value"].([]any) {
		m := v.(map[string]any)
		byType[m["@odata.type"].(string)] = m
	}
	rel := map[string]string{
		methods.ODataPassword: "passwordMethods", methods.ODataFido2: "fido2Methods", methods.ODataAuthenticator: "microsoftAuthenticatorMethods",
		methods.ODataSoftwareOath: "softwareOathMethods", methods.ODataTAP: "temporaryAccessPassMethods",
	}
	if len(byType) != len(rel) {
		t.Fatalf("methods listed by type: %v", list.raw)
	}
	for typ, collection := range rel {
		m, ok := byType[typ]
		if !ok {
			t.Errorf("no %s listed", typ)
			continue
		}
		id, _ := m["id"].(string)
		if _, ok := m["createdDateTime"].(string); !ok {
			t.Errorf("%s has no createdDateTime: %v", typ, m)
		}
		paths := []string{"/methods/" + id, "/" + collection + "/" + id}
		if _, err := uuid.Parse(id); err == nil {
			// Graph takes a GUID in either case (these lookups compared with ==).
			paths = append(paths, "/methods/"+strings.ToUpper(id), "/"+collection+"/"+strings.ToUpper(id))
		}
		for _, path := range paths {
			r := l.do("GET", "/v1.0/users/"+l.userID+"/authentication"+path, reader, "")
			if r.status != 200 || r.body["id"] != id || r.body["@odata.type"] != typ {
				t.Errorf("GET %s: %d %s", path, r.status, r.raw)
			}
		}
	}
	if m := byType[methods.ODataPassword]; m["id"] != methods.PasswordMethodID || m["password"] != nil {
		t.Errorf("password method: %v", m)
	}
	if m := byType[methods.ODataSoftwareOath]; m["id"] != code.body["id"] || m["secretKey"] != nil {
		t.Errorf("secretKey is shown once, at registration: %v", m)
	}
	if m := byType[methods.ODataAuthenticator]; m["displayName"] != "Work phone" {
		t.Errorf("authenticator method: %v", m)
	}

	for _, c := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown method id", "/methods/00000000-0000-0000-0000-000000000000", 404, "Request_ResourceNotFound"},
		{"password under the wrong id", "/passwordMethods/" + code.body["id"].(string), 404, "Request_ResourceNotFound"},
		{"totp id under authenticator", "/microsoftAuthenticatorMethods/" + code.body["id"].(string), 404, "Request_ResourceNotFound"},
		{"unsupported query option", "/passwordMethods?$top=1", 400, "Request_UnsupportedQuery"},
		{"$select beyond authenticationMethod", "/methods?$select=displayName", 400, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := l.do("GET", "/v1.0/users/"+l.userID+"/authentication"+c.path, reader, "")
			if r.status != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, c.status, c.code)
			}
		})
	}
	// An Authentication Administrator removes the TOTP and push apps
	// (Graph's DELETE); readers may not, and nothing else is touched.
	admin := l.token(directory.RoleAuthenticationAdministrator)
	totpID, pushID := code.body["id"].(string), byType[methods.ODataAuthenticator]["id"].(string)
	for _, c := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"reader may not delete", "/softwareOathMethods/" + totpID, l.token(directory.RoleSecurityReader), 403, "Authorization_RequestDenied"},
		{"id not a GUID", "/softwareOathMethods/totp", admin, 400, directory.CodeInvalidID},
		{"push id under softwareOath", "/softwareOathMethods/" + pushID, admin, 404, "Request_ResourceNotFound"},
		{"no password DELETE in Graph", "/passwordMethods/" + methods.PasswordMethodID, admin, 400, "methodNotAllowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := l.do("DELETE", "/v1.0/users/"+l.userID+"/authentication"+c.path, c.token, "")
			if r.status != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, c.status, c.code)
			}
		})
	}
	for _, path := range []string{"/softwareOathMethods/" + totpID, "/microsoftAuthenticatorMethods/" + pushID} {
		if r := l.do("DELETE", "/v1.0/users/"+l.userID+"/authentication"+path, admin, ""); r.status != 204 {
			t.Fatalf("DELETE %s: %d %s", path, r.status, r.raw)
		}
		if r := l.do("GET", "/v1.0/users/"+l.userID+"/authentication"+path, reader, ""); r.status != 404 {
			t.Errorf("GET %s after delete: %d", path, r.status)
		}
	}
	if r := l.do("GET", "/v1.0/users/"+l.userID+"/authentication/methods", reader, ""); len(r.body["value"].([]any)) != 3 {
		t.Errorf("methods after deleting TOTP and push: %s", r.raw)
	}

	// Reading methods needs a methods reader role.
	if r := l.do("GET", "/v1.0/users/"+l.userID+"/authentication/passwordMethods", l.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Errorf("User Administrator read methods: %d", r.status)
	}
}

func (l *lab) userPrincipalName() string { return l.upn }
