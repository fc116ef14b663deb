package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/conditionalaccess"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/tokens"
)

// newCAEnv is newEnv: the server always serves Conditional Access.
func newCAEnv(t *testing.T) *env { return newEnv(t) }

// userToken mints an admin token naming a directory user, as `rpserver
// admin token` does: sub is the user id, wids the roles' template ids.
func (e *env) userToken(userID string, roles ...string) string {
	var wids []string
	for _, r := range roles {
		role, _ := directory.RoleByName(r)
		wids = append(wids, role.TemplateID)
	}
	tok, err := e.issuer.Mint(tokens.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: userID}, UPN: "caadmin@lab.example", Roles: roles, Wids: wids},
		tokens.AudienceAdmin, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) mustCreate(path, token, body string) string {
	e.t.Helper()
	r := e.do("POST", path, token, body)
	if r.status != 201 {
		e.t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
	}
	return r.body["id"].(string)
}

func (r resp) detailCodes() []string {
	var out []string
	if e, ok := r.body["error"].(map[string]any); ok {
		ds, _ := e["details"].([]any)
		for _, d := range ds {
			c, _ := d.(map[string]any)["code"].(string)
			out = append(out, c)
		}
	}
	return out
}

const caPolicies = "/v1.0/identity/conditionalAccess/policies"

// caLab is the directory of seed steps 1, 2 and 8: a pilot group holding
// the CA admin, an emergency group holding two break-glass accounts.
type caLab struct {
	*env
	ga, caAdmin                       string // tokens
	adminID, pilotID, emergencyID     string
	breakGlass1, breakGlass2, aliceID string
}

func newCALab(t *testing.T) *caLab {
	l := &caLab{env: newCAEnv(t)}
	l.ga = l.token(directory.RoleGlobalAdministrator)
	l.adminID = l.mustCreate("/v1.0/users", l.ga, `{"userPrincipalName":"caadmin@lab.example","displayName":"CA Admin"}`)
	l.aliceID = l.mustCreate("/v1.0/users", l.ga, `{"userPrincipalName":"alice@lab.example","displayName":"Alice"}`)
	l.breakGlass1 = l.mustCreate("/v1.0/users", l.ga, `{"userPrincipalName":"bg1@lab.example","displayName":"Break glass 1","isEmergencyAccess":true}`)
	l.breakGlass2 = l.mustCreate("/v1.0/users", l.ga, `{"userPrincipalName":"bg2@lab.example","displayName":"Break glass 2","isEmergencyAccess":true}`)
	l.pilotID = l.mustCreate("/v1.0/groups", l.ga, `{"displayName":"GRP-Pilot-Passkey-Admins","mailNickname":"pilot"}`)
	l.emergencyID = l.mustCreate("/v1.0/groups", l.ga, `{"displayName":"GRP-Emergency-Access","mailNickname":"breakglass"}`)
	for _, m := range [][2]string{{l.pilotID, l.adminID}, {l.emergencyID, l.breakGlass1}, {l.emergencyID, l.breakGlass2}} {
		r := l.do("POST", "/v1.0/groups/"+m[0]+"/members/$ref", l.ga, `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+m[1]+`"}`)
		if r.status != 204 {
			t.Fatalf("add member: %d %s", r.status, r.raw)
		}
	}
	l.caAdmin = l.userToken(l.adminID, directory.RoleConditionalAccessAdministrator)
	return l
}

// caBody renders a policy body; users is the JSON of conditions.users.
func caBody(name, state, users, grant string) string {
	return fmt.Sprintf(`{"displayName":%q,"state":%q,"conditions":{"users":%s,"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},"grantControls":%s}`,
		name, state, users, grant)
}

const grantPhishingResistant = `{"operator":"OR","builtInControls":[],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}`

func TestConditionalAccessSeedStep8(t *testing.T) {
	l := newCALab(t)
	pilotUsers := fmt.Sprintf(`{"includeGroups":[%q],"excludeGroups":[%q]}`, l.pilotID, l.emergencyID)

	// Step 8: report-only, phishing-resistant strength for the pilot group.
	r := l.do("POST", caPolicies, l.caAdmin, caBody("CA0##-Admins-AllApps-RequirePhishingResistant_MFA-P2", policy.StateReportOnly, pilotUsers, grantPhishingResistant))
	if r.status != 201 {
		t.Fatalf("step 8 policy: %d %s", r.status, r.raw)
	}
	step8 := r.body["id"].(string)
	gc := r.body["grantControls"].(map[string]any)
	if st := gc["authenticationStrength"].(map[string]any); st["displayName"] != "Phishing-resistant MFA" || r.body["state"] != policy.StateReportOnly {
		t.Fatalf("strength not expanded or state wrong: %s", r.raw)
	}
	if got := l.do("GET", caPolicies+"/"+step8, l.token(directory.RoleGlobalReader), ""); got.status != 200 || got.body["displayName"] != "CA0##-Admins-AllApps-RequirePhishingResistant_MFA-P2" {
		t.Fatalf("get: %d %s", got.status, got.raw)
	}

	// MFA together with a strength is refused, every problem in details.
	r = l.do("POST", caPolicies, l.caAdmin, caBody("both", policy.StateReportOnly, pilotUsers,
		`{"operator":"OR","builtInControls":["mfa"],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}`))
	if r.status != 400 || r.code() != policy.CodeMfaWithAuthenticationStrength || len(r.detailCodes()) == 0 {
		t.Fatalf("mfa + strength: %d %s", r.status, r.raw)
	}
	r = l.do("POST", caPolicies, l.caAdmin, `{"displayName":"","state":"on","conditions":{"users":{},"applications":{}},"grantControls":null}`)
	if r.status != 400 || len(r.detailCodes()) < 3 {
		t.Fatalf("several problems should all be listed: %d %s", r.status, r.raw)
	}

	// Enabled, all users, no emergency exclusion: refused, then forced.
	allUsers := fmt.Sprintf(`{"includeUsers":["All"],"excludeUsers":[%q]}`, l.adminID)
	mfa := `{"operator":"OR","builtInControls":["mfa"]}`
	r = l.do("POST", caPolicies, l.caAdmin, caBody("Require MFA for all users", policy.StateEnabled, allUsers, mfa))
	if r.status != 409 || r.code() != policy.CodeEmergencyAccountNotExcluded {
		t.Fatalf("no emergency exclusion: %d %s", r.status, r.raw)
	}
	if msg := r.body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, l.breakGlass1) || !strings.Contains(msg, l.breakGlass2) {
		t.Fatalf("the refusal should name the accounts: %s", msg)
	}
	if r = l.do("POST", caPolicies+"?force=true", l.caAdmin, caBody("Require MFA for all users", policy.StateEnabled, allUsers, mfa)); r.status != 201 {
		t.Fatalf("forced: %d %s", r.status, r.raw)
	}
	if r = l.do("POST", caPolicies+"?force=maybe", l.caAdmin, caBody("x", policy.StateEnabled, allUsers, mfa)); r.status != 400 || r.code() != api.CodeBadQuery {
		t.Fatalf("bad force: %d %s", r.status, r.raw)
	}
	// Excluding the emergency group is enough.
	excluded := fmt.Sprintf(`{"includeUsers":["All"],"excludeUsers":[%q],"excludeGroups":[%q]}`, l.adminID, l.emergencyID)
	if r = l.do("POST", caPolicies, l.caAdmin, caBody("Require MFA for all users (baseline)", policy.StateEnabled, excluded, mfa)); r.status != 201 {
		t.Fatalf("emergency group excluded: %d %s", r.status, r.raw)
	}

	// A policy that would block the admin saving it.
	r = l.do("POST", caPolicies, l.caAdmin, caBody("Block pilot", policy.StateEnabled, pilotUsers, `{"operator":"OR","builtInControls":["block"]}`))
	if r.status != 409 || r.code() != policy.CodeWouldLockOutCaller {
		t.Fatalf("block the caller: %d %s", r.status, r.raw)
	}
	// Turning step 8 on would require a passkey the admin has not registered.
	r = l.do("PATCH", caPolicies+"/"+step8, l.caAdmin, `{"state":"enabled"}`)
	if r.status != 409 || r.code() != policy.CodeWouldLockOutCaller {
		t.Fatalf("enable step 8 without a passkey: %d %s", r.status, r.raw)
	}

	// A report-only all-users policy switched on without the exclusion.
	ro := l.mustCreate(caPolicies, l.caAdmin, caBody("Report-only all users", policy.StateReportOnly, allUsers, mfa))
	r = l.do("PATCH", caPolicies+"/"+ro, l.caAdmin, `{"state":"enabled"}`)
	if r.status != 409 || r.code() != policy.CodeEmergencyAccountNotExcluded {
		t.Fatalf("switch on: %d %s", r.status, r.raw)
	}
	if got := l.do("GET", caPolicies+"/"+ro, l.caAdmin, ""); got.body["state"] != policy.StateReportOnly {
		t.Fatalf("refused PATCH changed the policy: %s", got.raw)
	}
	// PATCH merges: adding the exclusion keeps includeUsers and the grant.
	r = l.do("PATCH", caPolicies+"/"+ro, l.caAdmin, fmt.Sprintf(`{"state":"enabled","conditions":{"users":{"excludeGroups":[%q]}}}`, l.emergencyID))
	users := r.body["conditions"].(map[string]any)["users"].(map[string]any)
	if r.status != 200 || r.body["state"] != policy.StateEnabled || users["includeUsers"].([]any)[0] != "All" || r.body["modifiedDateTime"] == nil {
		t.Fatalf("merge PATCH: %d %s", r.status, r.raw)
	}
	if r = l.do("PATCH", caPolicies+"/"+ro, l.caAdmin, `{"conditions":{"shoeSize":44}}`); r.status != 400 || r.code() != api.CodeUnknownProperty {
		t.Fatalf("unknown nested property: %d %s", r.status, r.raw)
	}

	// Least privilege.
	apa := l.token(directory.RoleAuthenticationPolicyAdministrator)
	if r = l.do("POST", caPolicies, apa, caBody("x", policy.StateReportOnly, pilotUsers, grantPhishingResistant)); r.status != 403 || r.code() != api.CodeAuthorizationError {
		t.Fatalf("Authentication Policy Administrator creating a CA policy: %d %s", r.status, r.raw)
	}
	reader := l.token(directory.RoleSecurityReader)
	if r = l.do("GET", caPolicies, reader, ""); r.status != 200 || len(r.body["value"].([]any)) != 4 {
		t.Fatalf("Security Reader list: %d %s", r.status, r.raw)
	}
	if r = l.do("DELETE", caPolicies+"/"+ro, reader, ""); r.status != 403 {
		t.Fatalf("Security Reader delete: %d", r.status)
	}
	if r = l.do("GET", caPolicies, l.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Fatalf("User Administrator list: %d", r.status)
	}
	sec := l.token(directory.RoleSecurityAdministrator)
	if r = l.do("DELETE", caPolicies+"/"+ro, sec, ""); r.status != 204 {
		t.Fatalf("Security Administrator delete: %d %s", r.status, r.raw)
	}
	if r = l.do("GET", caPolicies+"/"+ro, sec, ""); r.status != 404 {
		t.Fatalf("deleted policy: %d", r.status)
	}
	if r = l.do("GET", "/beta/identity/conditionalAccess/policies/not-a-guid", sec, ""); r.status != 400 || r.code() != directory.CodeInvalidID {
		t.Fatalf("bad id: %d %s", r.status, r.raw)
	}
}

func TestConditionalAccessWhatIf(t *testing.T) {
	l := newCALab(t)
	l.mustCreate(caPolicies, l.caAdmin, caBody("CA0##-Admins-AllApps-RequirePhishingResistant_MFA-P2", policy.StateReportOnly,
		fmt.Sprintf(`{"includeGroups":[%q,%q],"excludeGroups":[%q]}`, l.pilotID, l.emergencyID, l.emergencyID), grantPhishingResistant))
	const eval = "/v1.0/identity/conditionalAccess/evaluate"
	reader := l.token(directory.RoleGlobalReader)

	result := func(r resp) (string, map[string]any) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("evaluate: %d %s", r.status, r.raw)
		}
		a := r.body["appliedConditionalAccessPolicies"].([]any)[0].(map[string]any)
		return a["result"].(string), a["explanation"].(map[string]any)
	}
	res, _ := result(l.do("POST", eval, reader, fmt.Sprintf(`{"userId":%q,"applicationId":"app","methods":["fido2"]}`, l.adminID)))
	if res != policy.ResultReportOnlySuccess {
		t.Fatalf("passkey: %s", res)
	}
	res, ex := result(l.do("POST", eval, reader, fmt.Sprintf(`{"userId":%q,"applicationId":"app","methods":["password","microsoftAuthenticatorPush"],"registeredMethods":["password","microsoftAuthenticatorPush"]}`, l.adminID)))
	if res != policy.ResultReportOnlyFailure && res != policy.ResultReportOnlyInterrupted {
		t.Fatalf("password + push: %s", res)
	}
	if g := ex["grant"].(map[string]any); g["property"] != "authenticationStrength" {
		t.Fatalf("explanation: %v", ex)
	}
	res, ex = result(l.do("POST", eval, reader, fmt.Sprintf(`{"userId":%q,"methods":["password"]}`, l.breakGlass1)))
	if sc := ex["scope"].(map[string]any); res != policy.ResultReportOnlyNotApplied || sc["code"] != policy.ReasonExcluded || sc["property"] != "excludeGroups" || sc["value"] != l.emergencyID {
		t.Fatalf("emergency account: %s %v", res, ex)
	}
	for _, c := range []struct{ body, code string }{
		{fmt.Sprintf(`{"userId":%q,"methods":["carrierPigeon"]}`, l.adminID), policy.CodeUnknownEnumValue},
		{`{"userId":"nobody"}`, directory.CodeInvalidID},
		{fmt.Sprintf(`{"userId":%q,"userRiskLevel":"extreme"}`, l.adminID), policy.CodeUnknownEnumValue},
	} {
		if r := l.do("POST", eval, reader, c.body); r.status != 400 || r.code() != c.code {
			t.Fatalf("%s: %d %s", c.body, r.status, r.raw)
		}
	}
	if r := l.do("POST", eval, reader, `{"userId":"6f1c2a1e-0000-4000-8000-000000000000"}`); r.status != 404 {
		t.Fatalf("unknown user: %d %s", r.status, r.raw)
	}
}

func TestAuthenticationStrengthsAPI(t *testing.T) {
	l := newCALab(t)
	for _, base := range []string{"/v1.0/identity/conditionalAccess/authenticationStrength/policies", "/beta/policies/authenticationStrengthPolicies"} {
		t.Run(base, func(t *testing.T) {
			r := l.do("GET", base, l.caAdmin, "")
			if r.status != 200 || len(r.body["value"].([]any)) < 3 {
				t.Fatalf("list: %d %s", r.status, r.raw)
			}
			builtIn := base + "/" + policy.StrengthIDPhishingResistant
			if r = l.do("GET", builtIn, l.caAdmin, ""); r.status != 200 || r.body["policyType"] != policy.PolicyTypeBuiltIn {
				t.Fatalf("get built-in: %d %s", r.status, r.raw)
			}
			if r = l.do("PATCH", builtIn, l.caAdmin, `{"description":"mine now"}`); r.status != 400 || r.code() != policy.CodeBuiltInReadOnly {
				t.Fatalf("patch built-in: %d %s", r.status, r.raw)
			}
			if r = l.do("DELETE", builtIn, l.caAdmin, ""); r.status != 400 || r.code() != policy.CodeBuiltInReadOnly {
				t.Fatalf("delete built-in: %d %s", r.status, r.raw)
			}
			if r = l.do("POST", base, l.caAdmin, `{"id":"00000000-0000-0000-0000-000000000002","displayName":"copy","allowedCombinations":["fido2"]}`); r.status != 400 || r.code() != policy.CodeBuiltInReadOnly {
				t.Fatalf("post with a built-in id: %d %s", r.status, r.raw)
			}
		})
	}

	const base = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"
	apa := l.token(directory.RoleAuthenticationPolicyAdministrator)
	r := l.do("POST", base, apa, `{"displayName":"Passkey - Microsoft Authenticator","description":"admins","allowedCombinations":["fido2"],
		"combinationConfigurations":[{"@odata.type":"#microsoft.graph.fido2CombinationConfiguration","appliesToCombinations":["fido2"],
		"allowedAAGUIDs":["de1e552d-db1d-4423-a619-566b625cdc84","90a3ccdf-635c-4729-a248-9b709135078f"]}]}`)
	if r.status != 201 || r.body["policyType"] != policy.PolicyTypeCustom || r.body["requirementsSatisfied"] != policy.RequirementsSatisfiedMFA {
		t.Fatalf("create custom: %d %s", r.status, r.raw)
	}
	custom := r.body["id"].(string)
	if r = l.do("POST", base, apa, `{"displayName":"PASSKEY - microsoft authenticator","allowedCombinations":["fido2"]}`); r.status != 409 || r.code() != conditionalaccess.CodeDuplicateStrengthName {
		t.Fatalf("duplicate name: %d %s", r.status, r.raw)
	}
	if r = l.do("POST", base, apa, `{"displayName":"weird","allowedCombinations":["fido2,sms"]}`); r.status != 400 || r.code() != policy.CodeUnknownCombination {
		t.Fatalf("unknown combination: %d %s", r.status, r.raw)
	}
	if r = l.do("POST", base, l.token(directory.RoleSecurityReader), `{"displayName":"x","allowedCombinations":["fido2"]}`); r.status != 403 {
		t.Fatalf("Security Reader creating a strength: %d", r.status)
	}
	r = l.do("PATCH", base+"/"+custom, apa, `{"description":"pilot admins","allowedCombinations":["fido2","windowsHelloForBusiness"]}`)
	if r.status != 200 || r.body["description"] != "pilot admins" || len(r.body["allowedCombinations"].([]any)) != 2 || len(r.body["combinationConfigurations"].([]any)) != 1 {
		t.Fatalf("patch custom: %d %s", r.status, r.raw)
	}
	if r = l.do("PATCH", base+"/"+custom, apa, `{"allowedCombinations":[]}`); r.status != 400 || r.code() != policy.CodeAllowedCombinationsRequired {
		t.Fatalf("patch to nothing: %d %s", r.status, r.raw)
	}

	// A policy requiring the custom strength holds it.
	users := fmt.Sprintf(`{"includeGroups":[%q],"excludeGroups":[%q]}`, l.pilotID, l.emergencyID)
	r = l.do("POST", caPolicies, l.caAdmin, caBody("custom", policy.StateReportOnly, users, `{"operator":"OR","authenticationStrength":{"id":"`+custom+`"}}`))
	if r.status != 201 || r.body["grantControls"].(map[string]any)["authenticationStrength"].(map[string]any)["displayName"] != "Passkey - Microsoft Authenticator" {
		t.Fatalf("policy with custom strength: %d %s", r.status, r.raw)
	}
	pol := r.body["id"].(string)
	if r = l.do("DELETE", base+"/"+custom, apa, ""); r.status != 409 || r.code() != conditionalaccess.CodeStrengthInUse {
		t.Fatalf("delete in use: %d %s", r.status, r.raw)
	}
	if r = l.do("POST", caPolicies, l.caAdmin, caBody("ghost", policy.StateReportOnly, users, `{"operator":"OR","authenticationStrength":{"id":"6f1c2a1e-0000-4000-8000-000000000000"}}`)); r.status != 400 || r.code() != policy.CodeAuthenticationStrengthNotFound {
		t.Fatalf("unknown strength: %d %s", r.status, r.raw)
	}
	if r = l.do("DELETE", caPolicies+"/"+pol, l.caAdmin, ""); r.status != 204 {
		t.Fatalf("delete policy: %d", r.status)
	}
	if r = l.do("DELETE", base+"/"+custom, apa, ""); r.status != 204 {
		t.Fatalf("delete unused: %d %s", r.status, r.raw)
	}
	if r = l.do("GET", base+"/"+custom, apa, ""); r.status != 404 {
		t.Fatalf("deleted strength: %d", r.status)
	}
}

// TestConditionalAccessUpperCaseIDsApply: Graph accepts a GUID in either
// case. A policy naming its users or groups in upper case was saved as given
// and then never applied (evaluate: notApplied), and an upper-case exclusion
// of the emergency account was refused as not excluding it. Ids are now
// lower-cased when a policy is saved and when it is compiled.
func TestConditionalAccessUpperCaseIDsApply(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	pat := e.mustCreateUser("pat@lab.example", false)
	bg := e.mustCreateUser("bg1@lab.example", true)
	grp := e.mustCreate("/v1.0/groups", ga, `{"displayName":"Pilot"}`)
	if r := e.do("POST", "/v1.0/groups/"+grp+"/members/$ref", ga, `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+strings.ToUpper(pat)+`"}`); r.status != 204 {
		t.Fatal(r.raw)
	}
	mfa := `{"operator":"OR","builtInControls":["mfa"]}`
	byUser := e.mustCreate(caPolicies, ga, caBody("MFA for PAT", policy.StateEnabled, `{"includeUsers":["`+strings.ToUpper(pat)+`"]}`, mfa))
	e.mustCreate(caPolicies, ga, caBody("MFA for PILOT", policy.StateEnabled, `{"includeGroups":["`+strings.ToUpper(grp)+`"]}`, mfa))
	if r := e.do("GET", caPolicies+"/"+strings.ToUpper(byUser), ga, ""); r.status != 200 || !strings.Contains(r.raw, `"includeUsers":["`+pat+`"]`) {
		t.Fatalf("stored policy does not name the user in lower case: %d %s", r.status, r.raw)
	}
	// The emergency account excluded by its upper-case id is excluded.
	if r := e.do("POST", caPolicies, ga, caBody("MFA for all", policy.StateEnabled,
		`{"includeUsers":["All"],"excludeUsers":["`+strings.ToUpper(bg)+`"]}`, mfa)); r.status != 201 {
		t.Fatalf("upper-case exclusion of the emergency account: %d %s", r.status, r.raw)
	}
	ev := e.do("POST", "/v1.0/identity/conditionalAccess/evaluate", ga, `{"userId":"`+strings.ToUpper(pat)+`","applicationId":"app","methods":["password"]}`)
	if ev.status != 200 {
		t.Fatalf("evaluate: %d %s", ev.status, ev.raw)
	}
	got := map[string]any{}
	for _, a := range ev.body["appliedConditionalAccessPolicies"].([]any) {
		m := a.(map[string]any)
		got[m["displayName"].(string)] = m["result"]
	}
	for _, name := range []string{"MFA for PAT", "MFA for PILOT", "MFA for all"} {
		if got[name] != policy.ResultFailure {
			t.Errorf("%s: %v, want %s (all: %v)", name, got[name], policy.ResultFailure, got)
		}
	}
}
