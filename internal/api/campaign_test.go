package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
)

const methodsPolicyPath = "/v1.0/policies/authenticationMethodsPolicy"

func campaignOf(t *testing.T, r resp) map[string]any {
	t.Helper()
	enf, _ := r.body["registrationEnforcement"].(map[string]any)
	c, ok := enf["authenticationMethodsRegistrationCampaign"].(map[string]any)
	if !ok {
		t.Fatalf("no campaign: %s", r.raw)
	}
	return c
}

func TestRegistrationCampaignPolicyRoundTripAndValidation(t *testing.T) {
	e := newEnv(t)
	apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
	reader := e.token(directory.RoleSecurityReader)

	// Entra's default until written, with the method configurations listed.
	r := e.do("GET", methodsPolicyPath, reader, "")
	if r.status != 200 || campaignOf(t, r)["state"] != "default" || campaignOf(t, r)["snoozeDurationInDays"] != 1.0 {
		t.Fatalf("default: %d %s", r.status, r.raw)
	}
	if cfgs, _ := r.body["authenticationMethodConfigurations"].([]any); len(cfgs) != 2 {
		t.Fatalf("configurations: %s", r.raw)
	}

	// PATCH answers 204 without Prefer, like the method configurations.
	r = e.doPlain("PATCH", "/beta/policies/authenticationMethodsPolicy", apa, `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{
		"state":"enabled","snoozeDurationInDays":3,"enforceRegistrationAfterAllowedSnoozes":true,
		"includeTargets":[{"id":"all_users","targetType":"group","targetedAuthenticationMethod":"microsoftAuthenticator"}],
		"excludeTargets":[{"id":"11111111-1111-1111-1111-111111111111","targetType":"group"}]}}}`)
	if r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	c := campaignOf(t, e.do("GET", methodsPolicyPath, reader, ""))
	if c["state"] != "enabled" || c["snoozeDurationInDays"] != 3.0 || len(c["excludeTargets"].([]any)) != 1 {
		t.Fatalf("round trip: %v", c)
	}
	// A partial PATCH keeps what it does not name.
	r = e.do("PATCH", "/beta/policies/authenticationMethodsPolicy", apa, `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"snoozeDurationInDays":0}}}`)
	if c := campaignOf(t, r); r.status != 200 || c["state"] != "enabled" || c["snoozeDurationInDays"] != 0.0 || c["enforceRegistrationAfterAllowedSnoozes"] != true {
		t.Fatalf("partial: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct {
		name, body, code string
		status           int
	}{
		{"state", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"state":"on"}}}`, "", 400},
		{"snooze", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"snoozeDurationInDays":15}}}`, "invalidSnoozeDuration", 400},
		{"negative snooze", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"snoozeDurationInDays":-1}}}`, "invalidSnoozeDuration", 400},
		{"method", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"includeTargets":[{"id":"all_users","targetType":"group","targetedAuthenticationMethod":"sms"}]}}}`, "unsupportedTargetedAuthenticationMethod", 400},
		{"target type", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"excludeTargets":[{"id":"x","targetType":"role"}]}}}`, "", 400},
		{"empty id", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"excludeTargets":[{"id":"","targetType":"user"}]}}}`, "invalidCampaignTarget", 400},
		{"unknown property", `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"nagHarder":true}}}`, "", 400},
		{"unmodelled Graph property", `{"reconfirmationInDays":30}`, "propertyNotSupported", 400},
	} {
		r := e.do("PATCH", methodsPolicyPath, apa, tc.body)
		if r.status != tc.status || (tc.code != "" && r.code() != tc.code) || (tc.code == "" && r.code() == "") {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	// Properties Graph has and the lab does not model pass when default.
	if r := e.do("PATCH", methodsPolicyPath, apa, `{"reconfirmationInDays":null,"policyMigrationState":null}`); r.status != 200 {
		t.Fatalf("null unmodelled: %d %s", r.status, r.raw)
	}
	// Nothing of the refused bodies was written.
	if c := campaignOf(t, e.do("GET", methodsPolicyPath, reader, "")); c["snoozeDurationInDays"] != 0.0 || len(c["excludeTargets"].([]any)) != 1 {
		t.Fatalf("after refusals: %v", c)
	}

	// Roles: readers read, only the Authentication Policy Administrator writes.
	if r := e.do("PATCH", methodsPolicyPath, e.token(directory.RoleSecurityAdministrator), `{}`); r.status != 403 || r.code() != api.CodeAuthorizationError {
		t.Fatalf("security admin patch: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", methodsPolicyPath, e.token(directory.RoleUserAdministrator), ""); r.status != 403 {
		t.Fatalf("user admin get: %d %s", r.status, r.raw)
	}
}

// doPlain is do without Prefer: return=representation, to see Graph's 204.
func (e *env) doPlain(method, path, token, body string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, raw: string(raw)}
}

// campaignSignIn signs upn in with a password and returns the completed
// outcome and the browser holding the session.
func campaignSignIn(t *testing.T, e *env, upn string) (resp, *browser) {
	t.Helper()
	b := &browser{e: e}
	begin := b.post("/signin/begin", `{"userPrincipalName":"`+upn+`"}`)
	done := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
	if str(done.body, "status") != "completed" {
		t.Fatalf("sign-in %s: %s", upn, done.raw)
	}
	return done, b
}

func nudgeOf(r resp) map[string]any {
	n, _ := r.body["registrationCampaign"].(map[string]any)
	return n
}

func TestRegistrationCampaignNudgeSnoozeAndEnforcement(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	ids := map[string]string{}
	for _, upn := range []string{"pat@lab.example", "ex@lab.example"} {
		r := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"`+upn+`","displayName":"U","passwordProfile":{"password":"correct horse battery"}}`)
		if r.status != 201 {
			t.Fatal(r.raw)
		}
		ids[upn] = str(r.body, "id")
	}
	pat := ids["pat@lab.example"]

	// Off (Entra's default state): nobody is nudged.
	if done, _ := campaignSignIn(t, e, "pat@lab.example"); nudgeOf(done) != nil {
		t.Fatalf("nudged while default: %s", done.raw)
	}
	r := e.do("PATCH", methodsPolicyPath, e.token(directory.RoleAuthenticationPolicyAdministrator), `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{
		"state":"enabled","snoozeDurationInDays":1,
		"excludeTargets":[{"id":"`+ids["ex@lab.example"]+`","targetType":"user"}]}}}`)
	if r.status != 200 {
		t.Fatal(r.raw)
	}

	// An excluded user is never nudged, and has nothing to snooze.
	done, b := campaignSignIn(t, e, "ex@lab.example")
	if nudgeOf(done) != nil {
		t.Fatalf("excluded user nudged: %s", done.raw)
	}
	if r := b.post("/signin/registrationCampaign/snooze", ""); r.status != 409 || r.code() != methods.CodeCampaignNotApplicable {
		t.Fatalf("excluded snooze: %d %s", r.status, r.raw)
	}

	// A targeted user without Microsoft Authenticator is nudged; the
	// sign-in record says so.
	done, b = campaignSignIn(t, e, "pat@lab.example")
	if n := nudgeOf(done); n == nil || n["targetedAuthenticationMethod"] != "microsoftAuthenticator" || n["snoozesRemaining"] != 3.0 || n["canSnooze"] != true {
		t.Fatalf("nudge: %s", done.raw)
	}
	rec := e.do("GET", "/v1.0/auditLogs/signIns/"+str(done.body, "signInId"), e.token(directory.RoleSecurityReader), "")
	if st, _ := rec.body["status"].(map[string]any); !strings.Contains(str(st, "additionalDetails"), "Registration campaign") {
		t.Fatalf("sign-in record: %s", rec.raw)
	}

	// Snoozes: none within the window; each window's end brings the nudge
	// back with one snooze fewer; after three the snooze is refused.
	for i := 1; i <= 3; i++ {
		r := b.post("/signin/registrationCampaign/snooze", "")
		if r.status != 200 || r.body["snoozesRemaining"] != float64(3-i) {
			t.Fatalf("snooze %d: %d %s", i, r.status, r.raw)
		}
		if done, _ := campaignSignIn(t, e, "pat@lab.example"); nudgeOf(done) != nil {
			t.Fatalf("nudged within the snooze window: %s", done.raw)
		}
		if err := e.db.Methods().SetSnoozeTime(t.Context(), pat, time.Now().Add(-25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		done, b = campaignSignIn(t, e, "pat@lab.example")
		if n := nudgeOf(done); n == nil || n["snoozesRemaining"] != float64(3-i) || n["canSnooze"] != (i < 3) {
			t.Fatalf("after snooze %d: %s", i, done.raw)
		}
	}
	if r := b.post("/signin/registrationCampaign/snooze", ""); r.status != 409 || r.code() != methods.CodeSnoozesExhausted {
		t.Fatalf("fourth snooze: %d %s", r.status, r.raw)
	}
	if r := b.post("/signin/registrationCampaign/snooze", `{"days":30}`); r.status != 400 {
		t.Fatalf("snooze with a body: %d %s", r.status, r.raw)
	}
	if r := (&browser{e: e}).post("/signin/registrationCampaign/snooze", ""); r.status != 401 {
		t.Fatalf("snooze without a session: %d %s", r.status, r.raw)
	}

	// Registering Microsoft Authenticator ends the nudge.
	if r := b.post("/me/authentication/microsoftAuthenticatorMethods", ""); r.status/100 != 2 {
		t.Fatalf("register push: %d %s", r.status, r.raw)
	}
	if done, _ := campaignSignIn(t, e, "pat@lab.example"); nudgeOf(done) != nil {
		t.Fatalf("nudged with push registered: %s", done.raw)
	}
}

// TestSystemCredentialPreferences covers the beta systemCredentialPreferences
// on the policy root (GET/PATCH, validation, left out of v1.0) and its use:
// a user it leaves out is not prompted with the system-preferred method at
// step-up but offered every useful one.
func TestSystemCredentialPreferences(t *testing.T) {
	e := newEnv(t)
	apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
	reader := e.token(directory.RoleSecurityReader)
	const beta = "/beta/policies/authenticationMethodsPolicy"
	prefsOf := func(r resp) map[string]any {
		t.Helper()
		p, ok := r.body["systemCredentialPreferences"].(map[string]any)
		if !ok {
			t.Fatalf("no systemCredentialPreferences: %s", r.raw)
		}
		return p
	}

	// Entra's default; beta only.
	p := prefsOf(e.do("GET", beta, reader, ""))
	if p["state"] != "default" || len(p["includeTargets"].([]any)) != 1 || len(p["excludeTargets"].([]any)) != 0 {
		t.Fatalf("default: %v", p)
	}
	if r := e.do("GET", methodsPolicyPath, reader, ""); strings.Contains(r.raw, "systemCredentialPreferences") {
		t.Fatalf("v1.0 shows the beta property: %s", r.raw)
	}

	ga := e.token(directory.RoleGlobalAdministrator)
	u := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"finn@lab.example","displayName":"Finn","passwordProfile":{"password":"correct horse battery"}}`)
	uid := str(u.body, "id")
	owner := &browser{e: e, cookie: mustSession(t, e, uid)}
	if r := owner.post("/me/authentication/microsoftAuthenticatorMethods", `{}`); r.status != 201 {
		t.Fatalf("push: %s", r.raw)
	}
	if r := e.do("POST", "/v1.0/identity/conditionalAccess/policies", e.token(directory.RoleConditionalAccessAdministrator), `{"displayName":"MFA for Finn","state":"enabled",
		"conditions":{"users":{"includeUsers":["`+uid+`"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`); r.status != 201 {
		t.Fatalf("CA policy: %d %s", r.status, r.raw)
	}
	stepUp := func() map[string]any {
		t.Helper()
		b := &browser{e: e}
		begin := b.post("/signin/begin", `{"userPrincipalName":"finn@lab.example"}`)
		r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
		if str(r.body, "status") != "stepUpRequired" {
			t.Fatalf("password sign-in: %s", r.raw)
		}
		return r.body["prompt"].(map[string]any)
	}
	if pr := stepUp(); pr["method"] != "microsoftAuthenticatorPush" {
		t.Fatalf("system-preferred prompt: %v", pr)
	}

	// Excluding Finn: a partial PATCH keeps the include targets.
	r := e.doPlain("PATCH", beta, apa, `{"systemCredentialPreferences":{"state":"enabled","excludeTargets":[{"id":"`+uid+`","targetType":"user"}]}}`)
	if r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	p = prefsOf(e.do("GET", beta, reader, ""))
	if p["state"] != "enabled" || len(p["includeTargets"].([]any)) != 1 || len(p["excludeTargets"].([]any)) != 1 {
		t.Fatalf("round trip: %v", p)
	}
	if pr := stepUp(); pr["method"] != "" || len(pr["alternatives"].([]any)) == 0 || pr["alternatives"].([]any)[0] != "microsoftAuthenticatorPush" {
		t.Fatalf("excluded user's prompt: %v", pr)
	}

	campaignBefore := campaignOf(t, e.do("GET", beta, reader, ""))
	for _, tc := range []struct {
		name, path, body, code string
	}{
		{"unknown state", beta, `{"systemCredentialPreferences":{"state":"on"}}`, "invalidSystemCredentialPreferencesState"},
		{"bad target type", beta, `{"systemCredentialPreferences":{"includeTargets":[{"id":"all_users","targetType":"role"}]}}`, "invalidSystemCredentialPreferencesTarget"},
		{"empty target id", beta, `{"systemCredentialPreferences":{"excludeTargets":[{"id":"","targetType":"user"}]}}`, "invalidSystemCredentialPreferencesTarget"},
		{"property Graph does not have", beta, `{"systemCredentialPreferences":{"shoeSize":44}}`, api.CodeUnknownProperty},
		{"not an object", beta, `{"systemCredentialPreferences":"enabled"}`, ""},
		{"beta property under v1.0", methodsPolicyPath, `{"systemCredentialPreferences":{"state":"disabled"}}`, api.CodeUnknownProperty},
		{"invalid preferences refuse the campaign change too", beta, `{"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"state":"enabled"}},
			"systemCredentialPreferences":{"state":"on"}}`, "invalidSystemCredentialPreferencesState"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("PATCH", tc.path, apa, tc.body)
			if r.status != 400 || (tc.code != "" && r.code() != tc.code) {
				t.Errorf("%d %s, want 400 %s", r.status, r.raw, tc.code)
			}
		})
	}
	after := e.do("GET", beta, reader, "")
	if p := prefsOf(after); p["state"] != "enabled" || campaignOf(t, after)["state"] != campaignBefore["state"] {
		t.Fatalf("a refused PATCH changed the policy: %s", after.raw)
	}

	// null resets to Entra's default, and Finn is prompted again.
	if r := e.do("PATCH", beta, apa, `{"systemCredentialPreferences":null}`); r.status != 200 || prefsOf(r)["state"] != "default" {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if pr := stepUp(); pr["method"] != "microsoftAuthenticatorPush" {
		t.Fatalf("prompt after reset: %v", pr)
	}
	// Only an Authentication Policy Administrator writes it.
	if r := e.do("PATCH", beta, reader, `{"systemCredentialPreferences":{"state":"disabled"}}`); r.status != 403 {
		t.Errorf("Security Reader patched: %d", r.status)
	}
}
