package api_test

import (
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

// learnOptInBody is the request body of Microsoft Learn's "Update
// fido2AuthenticationMethodConfiguration" example (v1.0 and beta pages,
// identical): it opts the tenant into passkey profiles by sending the
// profile collection with the Default profile and pointing the target's
// allowedPasskeyProfiles at it, without defaultPasskeyProfile.
const learnOptInBody = `{
  "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
  "id": "Fido2",
  "state": "disabled",
  "isSelfServiceRegistrationAllowed": true,
  "isAttestationEnforced": true,
  "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []},
  "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false,
    "allowedPasskeyProfiles": ["00000000-0000-0000-0000-000000000001"]}],
  "excludeTargets": [],
  "passkeyProfiles": [{"id": "00000000-0000-0000-0000-000000000001", "name": "Default passkey profile",
    "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
    "keyRestrictions": {"isEnforced": false, "enforcementType": "allow", "aaGuids": []}}]
}`

// TestPasskeyProfileOptInAsLearnDocuments sends Learn's body as it is, under
// both versions, and reads the opted-in configuration back.
func TestPasskeyProfileOptInAsLearnDocuments(t *testing.T) {
	for _, version := range []string{"v1.0", "beta"} {
		t.Run(version, func(t *testing.T) {
			e := newEnv(t)
			apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
			path := "/" + version + "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
			r := e.do("PATCH", path, apa, learnOptInBody)
			if r.status != 200 {
				t.Fatalf("Learn's opt-in body: %d %s", r.status, r.raw)
			}
			got := e.do("GET", path, apa, "")
			profs, _ := got.body["passkeyProfiles"].([]any)
			if got.body["defaultPasskeyProfile"] != "00000000-0000-0000-0000-000000000001" || len(profs) != 1 {
				t.Fatalf("opted in: %s", got.raw)
			}
			p := profs[0].(map[string]any)
			if p["name"] != "Default passkey profile" || p["passkeyTypes"] != "deviceBound,synced" || p["attestationEnforcement"] != "disabled" {
				t.Errorf("Default profile: %v", p)
			}
			tg := got.body["includeTargets"].([]any)[0].(map[string]any)
			if a, _ := tg["allowedPasskeyProfiles"].([]any); len(a) != 1 || a[0] != "00000000-0000-0000-0000-000000000001" {
				t.Errorf("target: %v", tg)
			}
		})
	}
}
