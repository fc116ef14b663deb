package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/virtualauthn"
)

// TestSeedScenario plays ../shared/DESIGN.md's seed scenario, steps 1 to 12,
// end to end through the HTTP API of the server as `serve` builds it.
func TestSeedScenario(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	anchor := filepath.Join(t.TempDir(), "lab-ca.pem")
	if err := os.WriteFile(anchor, ca.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := config.Config{DataDir: t.TempDir(), Issuer: origin, RPID: "localhost", Origins: []string{origin}, AdminTokenTTL: 3600e9,
		MaxBodyBytes: 64 << 10, TrustAnchors: []string{anchor}}
	s := startLab(t, c, dsn)
	ga := s.ga

	// Step 1: two emergency-access accounts in their own group.
	bg1 := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"bg1@lab.example","displayName":"Break Glass 1","isEmergencyAccess":true,"passwordProfile":{"password":"break-glass-one-1"}}`, 201).id()
	bg2 := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"bg2@lab.example","displayName":"Break Glass 2","isEmergencyAccess":true}`, 201).id()
	emergency := s.group("GRP-Emergency-Access", bg1, bg2)
	allUsersMFA := caBody("Require MFA for all users", "enabled", `{"includeUsers":["All"]}`, `{"operator":"OR","builtInControls":["mfa"]}`)
	s.refused("POST", "/v1.0/identity/conditionalAccess/policies", ga, allUsersMFA, 409, "emergencyAccountNotExcluded")
	forced := s.must("POST", "/v1.0/identity/conditionalAccess/policies?force=true", ga, allUsersMFA, 201).id()
	s.must("DELETE", "/v1.0/identity/conditionalAccess/policies/"+forced, ga, "", 204)

	// Step 2: the pilot group with two admins.
	admin1 := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"admin1@lab.example","displayName":"Admin One","passwordProfile":{"password":"admin-one-password"}}`, 201).id()
	admin2 := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"admin2@lab.example","displayName":"Admin Two"}`, 201).id()
	for _, id := range []string{admin1, admin2} {
		s.must("POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"`+id+`","roleDefinitionId":"Conditional Access Administrator","directoryScopeId":"/"}`, 201)
	}
	pilot := s.group("GRP-Pilot-Passkey-Admins", admin1, admin2)

	// Step 3: profiles enabled; the global settings become Default; no way back.
	const fido2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	s.must("PATCH", fido2, ga, `{"state":"enabled","isAttestationEnforced":true,"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false}]}`, 200)
	r := s.must("PATCH", fido2, ga, `{"defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001"}`, 200)
	if p := r.body["passkeyProfiles"].([]any); len(p) != 1 || p[0].(map[string]any)["name"] != "Default passkey profile" {
		t.Fatalf("step 3: %s", r.raw)
	}
	s.refused("PATCH", fido2, ga, `{"defaultPasskeyProfile":null}`, 400, "passkeyProfilesCannotBeDisabled")

	// Steps 4-5: the admins' Microsoft Authenticator profile for the pilot group, self-service on.
	const adminsProfile = "5d1e7c8a-9f2b-4c3d-8e4f-a1b2c3d4e5f6"
	s.must("PATCH", fido2, ga, `{"isSelfServiceRegistrationAllowed":true,"passkeyProfiles":[
		{"id":"00000000-0000-0000-0000-000000000001","name":"Default passkey profile","passkeyTypes":"deviceBound","attestationEnforcement":"registrationOnly","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}},
		{"id":"`+adminsProfile+`","name":"Passkey – Admins – Microsoft Authenticator","passkeyTypes":"deviceBound","attestationEnforcement":"registrationOnly",
		 "keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["de1e552d-db1d-4423-a619-566b625cdc84","90a3ccdf-635c-4729-a248-9b709135078f"]}}],
		"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false,"allowedPasskeyProfiles":["`+adminsProfile+`"]}]}`, 200)

	// Step 6: TAP for the pilot group: 60..480 minutes, default 60, one-time, 12 characters.
	const tapPolicy = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass"
	s.must("PATCH", tapPolicy, ga, `{"state":"enabled","minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480,"defaultLifetimeInMinutes":60,
		"isUsableOnce":true,"defaultLength":12,"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false}]}`, 200)
	s.refused("POST", "/v1.0/users/"+admin1+"/authentication/temporaryAccessPassMethods", ga, `{"lifetimeInMinutes":30}`, 400, "lifetimeOutOfRange")
	pass := s.must("POST", "/v1.0/users/"+admin1+"/authentication/temporaryAccessPassMethods", ga, `{}`, 201).str("temporaryAccessPass")
	if len(pass) != 12 {
		t.Fatalf("TAP length %d", len(pass))
	}
	s.refused("POST", "/signin/tap", "", `{"userPrincipalName":"admin1@lab.example","temporaryAccessPass":"WRONG-PASS-1"}`, 401, "invalidTemporaryAccessPass")
	tapSession := s.must("POST", "/signin/tap", "", `{"userPrincipalName":"admin1@lab.example","temporaryAccessPass":"`+pass+`"}`, 200)
	if tapSession.str("status") != "completed" {
		t.Fatalf("TAP sign-in: %s", tapSession.raw)
	}
	session := tapSession.str("sessionToken")
	s.refused("POST", "/signin/tap", "", `{"userPrincipalName":"admin1@lab.example","temporaryAccessPass":"`+pass+`"}`, 401, "temporaryAccessPassAlreadyUsed")

	// Step 7: the admin registers Microsoft Authenticator and names it; other passkeys are refused with reasons.
	phone := s.authenticator(virtualauthn.MicrosoftAuthenticatorAndroid(ca))
	reg := s.register(session, phone, "Admin One – Android", virtualauthn.Tamper{}, 201, "")
	if reg.str("displayName") != "Admin One – Android" || reg.str("passkeyType") != "deviceBound" || reg.str("attestationLevel") != "attested" {
		t.Fatalf("step 7: %s", reg.raw)
	}
	unattested := virtualauthn.MicrosoftAuthenticatorIOS(ca)
	unattested.Format = virtualauthn.FormatNone
	rogue, _ := virtualauthn.NewTestCA()
	s.register(session, s.authenticator(virtualauthn.GooglePasswordManager()), "synced", virtualauthn.Tamper{}, 403, "syncedPasskeyNotAllowed")
	s.register(session, s.authenticator(withRK(virtualauthn.YubiKey5(ca))), "yubikey", virtualauthn.Tamper{}, 403, "aaguidNotAllowed")
	s.register(session, s.authenticator(unattested), "unattested", virtualauthn.Tamper{}, 403, "attestationRequired")
	s.register(session, s.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(ca)), "rogue", virtualauthn.Tamper{UntrustedCA: rogue}, 403, "attestationUntrusted")
	device := s.must("POST", "/me/authentication/microsoftAuthenticatorMethods", session, `{"displayName":"Admin One phone"}`, 201).str("deviceToken")

	// Step 8: the report-only phishing-resistant policy; MFA plus a strength is refused.
	pilotScope := fmt.Sprintf(`{"includeGroups":[%q],"excludeGroups":[%q]}`, pilot, emergency)
	s.refused("POST", "/v1.0/identity/conditionalAccess/policies", ga, caBody("bad", "enabledForReportingButNotEnforced", pilotScope,
		`{"operator":"AND","builtInControls":["mfa"],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}`), 400, "mfaWithAuthenticationStrength")
	step8 := s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, caBody("CA0##-Admins-AllApps-RequirePhishingResistant_MFA-P2",
		"enabledForReportingButNotEnforced", pilotScope, `{"operator":"OR","builtInControls":[],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}`), 201).id()

	// Step 9: report-only results.
	if got := s.passkeySignIn(phone, "admin1@lab.example"); got.policyResult(step8) != "reportOnlySuccess" {
		t.Fatalf("step 9 passkey: %s", got.raw)
	}
	if got := s.passwordPush("admin1@lab.example", "admin-one-password", device); got.policyResult(step8) != "reportOnlyFailure" || got.str("status") != "completed" {
		t.Fatalf("step 9 password+push: %s", got.raw)
	}
	if got := s.password("bg1@lab.example", "break-glass-one-1"); got.policyResult(step8) != "reportOnlyNotApplied" {
		t.Fatalf("step 9 excluded: %s", got.raw)
	}
	alerts := s.must("GET", "/v1.0/security/alerts_v2", ga, "", 200)
	if n := len(alerts.body["value"].([]any)); n < 1 {
		t.Fatalf("emergency sign-in raised no alert: %s", alerts.raw)
	}

	// Step 10: policy on.
	s.must("PATCH", "/v1.0/identity/conditionalAccess/policies/"+step8, ga, `{"state":"enabled"}`, 200)
	ok := s.passkeySignIn(phone, "admin1@lab.example")
	applied := ok.signIn()["appliedConditionalAccessPolicies"].([]any)
	var strength map[string]any
	for _, p := range applied {
		if p.(map[string]any)["id"] == step8 {
			strength = p.(map[string]any)["authenticationStrength"].(map[string]any)
		}
	}
	if ok.str("status") != "completed" || ok.policyResult(step8) != "success" || strength["authenticationStrengthResult"] != "satisfied" || ok.signIn()["conditionalAccessStatus"] != "success" {
		t.Fatalf("step 10 passkey: %s", ok.raw)
	}
	refused := s.passwordPush("admin1@lab.example", "admin-one-password", device)
	if refused.str("status") != "stepUpRequired" || refused.str("errorCode") != "authenticationStrengthRequired" || refused.policyResult(step8) != "failure" {
		t.Fatalf("step 10 password+push: %s", refused.raw)
	}

	// Step 11: previously satisfied within the session; after revocation, authenticate afresh.
	cookie := ok.str("sessionToken")
	again := s.withCookie(cookie).must("POST", "/signin/begin", "", `{"userPrincipalName":"admin1@lab.example"}`, 200)
	details := again.signIn()["authenticationDetails"].([]any)
	if again.str("status") != "completed" || details[0].(map[string]any)["authenticationMethod"] != "Previously satisfied" {
		t.Fatalf("step 11 previously satisfied: %s", again.raw)
	}
	s.must("POST", "/v1.0/users/"+admin1+"/revokeSignInSessions", ga, "", 200)
	if fresh := s.withCookie(cookie).must("POST", "/signin/begin", "", `{"userPrincipalName":"admin1@lab.example"}`, 200); fresh.str("status") != "credentialRequired" {
		t.Fatalf("step 11 after revoke: %s", fresh.raw)
	}

	// Step 12: a wave of standard users with synced passkeys allowed, a risky user, and a baseline MFA policy.
	std := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"user1@lab.example","displayName":"User One"}`, 201).id()
	wave := s.group("GRP-Wave1-Users", std)
	const stdProfile = "6e2f8d9b-0a3c-4d5e-9f60-b2c3d4e5f6a7"
	cfg := s.must("GET", fido2, ga, "", 200)
	profiles, _ := json.Marshal(append(cfg.body["passkeyProfiles"].([]any), map[string]any{"id": stdProfile, "name": "Passkey – Standard users",
		"passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled", "keyRestrictions": map[string]any{"isEnforced": false, "enforcementType": "block", "aaGuids": []string{}}}))
	s.must("PATCH", fido2, ga, `{"passkeyProfiles":`+string(profiles)+`,"includeTargets":[
		{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false,"allowedPasskeyProfiles":["`+adminsProfile+`"]},
		{"id":"`+wave+`","targetType":"group","isRegistrationRequired":false,"allowedPasskeyProfiles":["`+stdProfile+`"]}]}`, 200)
	s.must("PATCH", tapPolicy, ga, `{"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false},{"id":"`+wave+`","targetType":"group","isRegistrationRequired":false}]}`, 200)
	stdPass := s.must("POST", "/v1.0/users/"+std+"/authentication/temporaryAccessPassMethods", ga, `{}`, 201).str("temporaryAccessPass")
	stdSession := s.must("POST", "/signin/tap", "", `{"userPrincipalName":"user1@lab.example","temporaryAccessPass":"`+stdPass+`"}`, 200).str("sessionToken")
	synced := s.authenticator(virtualauthn.GooglePasswordManager())
	if r := s.register(stdSession, synced, "My phone", virtualauthn.Tamper{}, 201, ""); r.str("passkeyType") != "synced" {
		t.Fatalf("step 12 synced passkey: %s", r.raw)
	}
	// The admin saving an all-users MFA policy must be able to do MFA, or lockout protection refuses it.
	gaID := s.must("GET", "/v1.0/users/globaladmin@lab.example", ga, "", 200).id()
	s.must("PATCH", "/v1.0/users/"+gaID, ga, `{"passwordProfile":{"password":"global-admin-password"}}`, 200)
	gaSession := s.password("globaladmin@lab.example", "global-admin-password").str("sessionToken")
	s.must("POST", "/me/authentication/microsoftAuthenticatorMethods", gaSession, `{}`, 201)
	s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, caBody("Require MFA for all users", "enabled",
		fmt.Sprintf(`{"includeUsers":["All"],"excludeGroups":[%q]}`, emergency), `{"operator":"OR","builtInControls":["mfa"]}`), 201)
	s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, fmt.Sprintf(`{"displayName":"Block high user risk","state":"enabled",
		"conditions":{"users":{"includeUsers":["All"],"excludeGroups":[%q]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"],"userRiskLevels":["high"]},
		"grantControls":{"operator":"OR","builtInControls":["block"]}}`, emergency), 201)
	if got := s.passkeySignIn(synced, "user1@lab.example"); got.str("status") != "completed" {
		t.Fatalf("step 12 synced sign-in under the MFA baseline: %s", got.raw)
	}
	s.must("POST", "/v1.0/identityProtection/riskyUsers/"+std+"/setRiskLevel", ga, `{"riskLevel":"high"}`, 200)
	if got := s.passkeySignInRaw(synced, "user1@lab.example"); got.status != 403 || got.code() != "conditionalAccessBlocked" {
		t.Fatalf("step 12 risky user not blocked: %d %s", got.status, got.raw)
	}
	s.must("POST", "/v1.0/identityProtection/riskyUsers/dismiss", ga, `{"userIds":["`+std+`"]}`, 204)
	if got := s.passkeySignIn(synced, "user1@lab.example"); got.str("status") != "completed" {
		t.Fatalf("step 12 after dismiss: %s", got.raw)
	}
	// The baseline coexists with the pilot policy: the admin's passkey still satisfies both.
	if got := s.passkeySignIn(phone, "admin1@lab.example"); got.str("status") != "completed" {
		t.Fatalf("step 12 admin under both policies: %s", got.raw)
	}
	// The logs hold it all.
	logs := s.must("GET", "/v1.0/auditLogs/signIns?$filter=userId+eq+'"+admin1+"'", ga, "", 200)
	if n := len(logs.body["value"].([]any)); n < 6 {
		t.Fatalf("admin1 has %d sign-in records", n)
	}
}

const origin = "http://localhost:8080"

// startLab serves the application built from c (as serve builds it) on an
// httptest listener and returns a scenario holding a Global Administrator
// token; both stop with the test.
func startLab(t *testing.T, c config.Config, dsn string) *scenario {
	t.Helper()
	ctx := context.Background()
	ga, err := bootstrapAdminToken(ctx, c, dsn, "globaladmin@lab.example", []string{"Global Administrator"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newServer(ctx, c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &scenario{t: t, url: srv.URL, ga: ga}
}

type scenario struct {
	t      *testing.T
	url    string
	ga     string
	cookie string
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func (r reply) id() string          { return r.str("id") }
func (r reply) str(k string) string { s, _ := r.body[k].(string); return s }
func (r reply) code() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}
func (r reply) signIn() map[string]any { m, _ := r.body["signIn"].(map[string]any); return m }

// policyResult is the logged result of one Conditional Access policy.
func (r reply) policyResult(id string) string {
	for _, p := range r.signIn()["appliedConditionalAccessPolicies"].([]any) {
		if m := p.(map[string]any); m["id"] == id {
			return m["result"].(string)
		}
	}
	return ""
}

func (s *scenario) withCookie(c string) *scenario { x := *s; x.cookie = c; return &x }

func (s *scenario) do(method, path, token, body string) reply {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if method == "PATCH" {
		// Graph answers PATCH with 204; these tests read the result back.
		req.Header.Set("Prefer", "return=representation")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if s.cookie != "" {
		req.Header.Set("Cookie", "rpserver_session="+s.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := reply{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (s *scenario) must(method, path, token, body string, status int) reply {
	s.t.Helper()
	r := s.do(method, path, token, body)
	if r.status != status {
		s.t.Fatalf("%s %s: got %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

func (s *scenario) refused(method, path, token, body string, status int, code string) {
	s.t.Helper()
	if r := s.do(method, path, token, body); r.status != status || r.code() != code {
		s.t.Fatalf("%s %s: got %d %s, want %d %s: %s", method, path, r.status, r.code(), status, code, r.raw)
	}
}

func (s *scenario) group(name string, members ...string) string {
	s.t.Helper()
	id := s.must("POST", "/v1.0/groups", s.ga, `{"displayName":"`+name+`"}`, 201).id()
	for _, m := range members {
		s.must("POST", "/v1.0/groups/"+id+"/members/$ref", s.ga, `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+m+`"}`, 204)
	}
	return id
}

func (s *scenario) authenticator(cfg virtualauthn.Config) *virtualauthn.Authenticator {
	a, err := virtualauthn.New(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

func withRK(c virtualauthn.Config) virtualauthn.Config { c.ResidentKey = true; return c }

func (s *scenario) register(session string, a *virtualauthn.Authenticator, name string, tamper virtualauthn.Tamper, status int, code string) reply {
	s.t.Helper()
	begin := s.must("POST", "/webauthn/registration/begin", session, `{"displayName":"`+name+`"}`, 200)
	cred, err := a.CreateTampered([]byte(begin.raw), origin, tamper)
	if err != nil {
		s.t.Fatal(err)
	}
	r := s.do("POST", "/webauthn/registration/finish", session, string(cred))
	if r.status != status || r.code() != code {
		s.t.Fatalf("register %s: got %d %s, want %d %s: %s", name, r.status, r.code(), status, code, r.raw)
	}
	return r
}

func (s *scenario) passkeySignInRaw(a *virtualauthn.Authenticator, upn string) reply {
	s.t.Helper()
	begin := s.must("POST", "/signin/begin", "", `{"userPrincipalName":"`+upn+`"}`, 200)
	flow := begin.str("flowToken")
	opts := s.must("POST", "/signin/passkey/begin", "", `{"flowToken":"`+flow+`"}`, 200)
	cred, err := a.Get([]byte(opts.raw), origin)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", "/signin/passkey/finish", "", `{"flowToken":"`+flow+`","credential":`+string(cred)+`}`)
}

func (s *scenario) passkeySignIn(a *virtualauthn.Authenticator, upn string) reply {
	s.t.Helper()
	r := s.passkeySignInRaw(a, upn)
	if r.status != 200 {
		s.t.Fatalf("passkey sign-in %s: %d %s", upn, r.status, r.raw)
	}
	return r
}

func (s *scenario) password(upn, password string) reply {
	s.t.Helper()
	flow := s.must("POST", "/signin/begin", "", `{"userPrincipalName":"`+upn+`"}`, 200).str("flowToken")
	return s.must("POST", "/signin/password", "", `{"flowToken":"`+flow+`","password":"`+password+`"}`, 200)
}

// passwordPush signs in with password then Authenticator push, whatever the
// server prompts for, and returns the last answer.
func (s *scenario) passwordPush(upn, password, device string) reply {
	s.t.Helper()
	r := s.password(upn, password)
	if r.str("status") == "completed" {
		return r
	}
	flow := r.str("flowToken")
	ch := s.must("POST", "/signin/push/begin", "", `{"flowToken":"`+flow+`"}`, 200)
	s.must("POST", "/authenticator/push/respond", "", fmt.Sprintf(`{"deviceToken":%q,"pushRequestId":%q,"numberMatch":%v}`, device, ch.str("pushRequestId"), ch.body["numberMatch"]), 204)
	return s.must("POST", "/signin/push/complete", "", `{"flowToken":"`+flow+`","pushRequestId":"`+ch.str("pushRequestId")+`"}`, 200)
}

func caBody(name, state, users, grant string) string {
	return fmt.Sprintf(`{"displayName":%q,"state":%q,"conditions":{"users":%s,"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},"grantControls":%s}`,
		name, state, users, grant)
}
