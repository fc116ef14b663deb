package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/virtualauthn"
)

// TestTAPBootstrapUnderEnforcedPolicy: with a phishing-resistant policy on,
// a user with no passkey signs in with a one-time TAP. Without a policy for
// the "Register security information" user action the sign-in stops and the
// pass is not burned; with one that a TAP satisfies, the pass opens a
// registration-only session, is used up, and the passkey registered with it
// then satisfies the enforced policy.
func TestTAPBootstrapUnderEnforcedPolicy(t *testing.T) {
	c := config.Config{DataDir: t.TempDir(), Issuer: origin, RPID: "localhost", Origins: []string{origin}, AdminTokenTTL: 3600e9, MaxBodyBytes: 64 << 10, LabCA: true}
	s := startLab(t, c, testpg.NewDatabase(t))
	ga := s.ga

	bob := s.must("POST", "/v1.0/users", ga, `{"userPrincipalName":"bob@lab.example","displayName":"Bob"}`, 201).id()
	s.must("POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"`+bob+`","roleDefinitionId":"Security Reader","directoryScopeId":"/"}`, 201)
	pilot := s.group("GRP-Pilot", bob)
	s.must("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", ga,
		`{"state":"enabled","isUsableOnce":true,"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false}]}`, 200)
	s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, caBody("Admins require phishing-resistant MFA", "enabled",
		fmt.Sprintf(`{"includeGroups":[%q]}`, pilot), `{"operator":"OR","authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}`), 201)
	pass := s.must("POST", "/v1.0/users/"+bob+"/authentication/temporaryAccessPassMethods", ga, `{}`, 201).str("temporaryAccessPass")
	tapBody := `{"userPrincipalName":"bob@lab.example","temporaryAccessPass":"` + pass + `"}`

	// No user-action policy: stopped, and the one-time pass survives.
	for range 2 {
		r := s.must("POST", "/signin/tap", "", tapBody, 200)
		if r.str("status") != "stepUpRequired" || r.str("sessionToken") != "" || !strings.Contains(r.str("message"), "not used") {
			t.Fatalf("TAP under the enforced policy: %s", r.raw)
		}
	}

	// Entra's answer: a policy for "Register security information" that a TAP satisfies.
	s.refused("POST", "/v1.0/identity/conditionalAccess/policies", ga, fmt.Sprintf(`{"displayName":"bad","state":"enabled",
		"conditions":{"users":{"includeGroups":[%q]},"applications":{"includeApplications":["All"],"includeUserActions":["urn:user:registersecurityinfo"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`, pilot), 400, "userActionsWithApplications")
	s.must("POST", "/v1.0/identity/conditionalAccess/policies", ga, fmt.Sprintf(`{"displayName":"Register security info with MFA or TAP","state":"enabled",
		"conditions":{"users":{"includeGroups":[%q]},"applications":{"includeUserActions":["urn:user:registersecurityinfo"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`, pilot), 201)
	r := s.must("POST", "/signin/tap", "", tapBody, 200)
	session := r.str("sessionToken")
	if r.str("status") != "completed" || session == "" {
		t.Fatalf("TAP with the user-action policy: %s", r.raw)
	}
	s.refused("POST", "/signin/tap", "", tapBody, 401, "temporaryAccessPassAlreadyUsed")
	// The session registers a passkey but opens no admin pages.
	s.refused("POST", "/admin/token", session, "", 403, "registrationOnlySession")
	ca, _ := virtualauthn.NewTestCA()
	phone := s.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(ca))
	s.register(session, phone, "Bob's iPhone", virtualauthn.Tamper{}, 201, "")
	if got := s.passkeySignIn(phone, "bob@lab.example"); got.str("status") != "completed" {
		t.Fatalf("passkey sign-in under the enforced policy: %s", got.raw)
	}
}
