package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
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
