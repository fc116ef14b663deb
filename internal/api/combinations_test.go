package api_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// TestCombinationConfigurations covers a strength's combinationConfigurations
// as their own collection: POST a fido2CombinationConfiguration, GET,
// PATCH, DELETE by id, and every refusal with its code.
func TestCombinationConfigurations(t *testing.T) {
	e := newEnv(t)
	admin := e.token(directory.RoleConditionalAccessAdministrator)
	reader := e.token(directory.RoleSecurityReader)
	const strengths = "/v1.0/policies/authenticationStrengthPolicies/"
	st := e.do("POST", strings.TrimSuffix(strengths, "/"), admin, `{"displayName":"Passkeys or push","allowedCombinations":["fido2","password,microsoftAuthenticatorPush"]}`)
	noFido2 := e.do("POST", strings.TrimSuffix(strengths, "/"), admin, `{"displayName":"Push only","allowedCombinations":["password,microsoftAuthenticatorPush"]}`)
	if st.status != 201 || noFido2.status != 201 {
		t.Fatalf("strengths: %s %s", st.raw, noFido2.raw)
	}
	sid := str(st.body, "id")
	ccs := strengths + sid + "/combinationConfigurations"
	body := `{"@odata.type":"#microsoft.graph.fido2CombinationConfiguration","allowedAAGUIDs":["` + aaIOS + `"],"appliesToCombinations":["fido2"]}`

	created := e.do("POST", ccs, admin, body)
	cid := str(created.body, "id")
	if created.status != 201 || cid == "" || created.body["@odata.type"] != policy.ODataTypeFido2CombinationConfiguration {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	if r := e.do("GET", ccs+"/"+cid, reader, ""); r.status != 200 || r.body["allowedAAGUIDs"].([]any)[0] != aaIOS {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", strengths+sid, reader, ""); len(r.body["combinationConfigurations"].([]any)) != 1 {
		t.Fatalf("the strength does not carry it: %s", r.raw)
	}

	if r := e.do("PATCH", ccs+"/"+cid, admin, `{"allowedAAGUIDs":["`+aaAndroid+`","`+aaIOS+`"],"id":"`+cid+`"}`); r.status != 200 || len(r.body["allowedAAGUIDs"].([]any)) != 2 || r.body["id"] != cid {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	if r := e.doPlain("PATCH", ccs+"/"+cid, admin, `{"allowedAAGUIDs":["`+aaAndroid+`"]}`); r.status != 204 {
		t.Fatalf("patch without Prefer: %d %s", r.status, r.raw)
	}

	stranger := uuid.NewString()
	for _, c := range []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"second fido2 configuration", "POST", ccs, admin, body, 400, policy.CodeDuplicateCombinationConfiguration},
		{"fido2 not in allowedCombinations", "POST", strengths + str(noFido2.body, "id") + "/combinationConfigurations", admin, body, 400, policy.CodeInvalidCombinationConfiguration},
		{"applies to another combination", "PATCH", ccs + "/" + cid, admin, `{"appliesToCombinations":["password,microsoftAuthenticatorPush"]}`, 400, policy.CodeInvalidCombinationConfiguration},
		{"no AAGUID", "PATCH", ccs + "/" + cid, admin, `{"allowedAAGUIDs":[]}`, 400, policy.CodeInvalidCombinationConfiguration},
		{"AAGUID not a GUID", "PATCH", ccs + "/" + cid, admin, `{"allowedAAGUIDs":["yubikey"]}`, 400, policy.CodeInvalidCombinationConfiguration},
		{"other configuration type", "POST", ccs, admin, `{"@odata.type":"#microsoft.graph.x509CertificateCombinationConfiguration","appliesToCombinations":["x509CertificateMultiFactor"]}`, 400, ""},
		{"type that is no configuration", "POST", ccs, admin, `{"@odata.type":"#microsoft.graph.user","appliesToCombinations":["fido2"]}`, 400, "invalidODataType"},
		{"property Graph does not have", "POST", ccs, admin, `{"@odata.type":"#microsoft.graph.fido2CombinationConfiguration","appliesToCombinations":["fido2"],"allowedAAGUIDs":["` + aaIOS + `"],"shoeSize":44}`, 400, "unknownProperty"},
		{"built-in strength", "POST", strengths + policy.StrengthIDPhishingResistant + "/combinationConfigurations", admin, body, 400, policy.CodeBuiltInReadOnly},
		{"unknown strength", "POST", strengths + stranger + "/combinationConfigurations", admin, body, 404, "Request_ResourceNotFound"},
		{"unknown configuration", "GET", ccs + "/" + stranger, reader, "", 404, "Request_ResourceNotFound"},
		{"patch unknown configuration", "PATCH", ccs + "/" + stranger, admin, `{"allowedAAGUIDs":["` + aaIOS + `"]}`, 404, "Request_ResourceNotFound"},
		{"delete unknown configuration", "DELETE", ccs + "/" + stranger, admin, "", 404, "Request_ResourceNotFound"},
		{"reader may not add", "POST", ccs, reader, body, 403, "Authorization_RequestDenied"},
		// The configuration pins fido2 into the strength: removing it is refused.
		{"fido2 removed under a configuration", "POST", strengths + sid + "/updateAllowedCombinations", admin, `{"allowedCombinations":["password,microsoftAuthenticatorPush"]}`, 400, policy.CodeInvalidCombinationConfiguration},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.token, c.body)
			if r.status != c.status || (c.code != "" && r.code() != c.code) {
				t.Errorf("%d %s, want %d %s", r.status, r.raw, c.status, c.code)
			}
		})
	}
	// Refusals changed nothing.
	if r := e.do("GET", ccs, reader, ""); len(r.body["value"].([]any)) != 1 || r.body["value"].([]any)[0].(map[string]any)["allowedAAGUIDs"].([]any)[0] != aaAndroid {
		t.Fatalf("after refusals: %s", r.raw)
	}
	if r := e.doPlain("DELETE", ccs+"/"+cid, admin, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", ccs, reader, ""); r.status != 200 || len(r.body["value"].([]any)) != 0 {
		t.Fatalf("after delete: %s", r.raw)
	}
}
