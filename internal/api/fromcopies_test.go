package api_test

import (
	"testing"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/virtualauthn"
)

// TestPasskeySignInFromCopiesSeesOtherServersChanges: once a server holds
// copies of a passkey, its owner's facts and the policies, its sign-ins
// skip the take (signin.Service.PasskeyStats) and take the challenge in
// the log's commit; a replay, a change of the owner's facts or of the
// policies made through another server is still seen, because the commit
// refuses the claim and the sign-in is decided the long way.
func TestPasskeySignInFromCopiesSeesOtherServersChanges(t *testing.T) {
	l := newLab(t)
	a := l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca))
	if r := l.register(a, "phone", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	// Without the failure limiter, so that every sign-in can skip the take:
	// with it, only those that find a settled success of their address to
	// take over (ratelimit's own tests), which timing decides here.
	other := l.newServer(nil)
	l.failureLimit = -1
	l.srv = l.newServer(nil)
	first := l.signIn
	admin := l.token(directory.RoleGlobalAdministrator)
	signIn := func() (resp, string) {
		t.Helper()
		assertion, err := a.Get([]byte(l.beginLogin(l.srv, l.upn)), testOrigin)
		if err != nil {
			t.Fatal(err)
		}
		return l.doOn(l.srv, "POST", "/webauthn/authentication/finish", "", string(assertion)), string(assertion)
	}
	stats := func(wantCopies, wantRefused int64, when string) {
		t.Helper()
		if c, r := first.PasskeyStats(); c != wantCopies || r != wantRefused {
			t.Fatalf("%s: %d sign-ins from copies, %d claims refused; want %d, %d", when, c, r, wantCopies, wantRefused)
		}
	}

	if r, _ := signIn(); r.status != 200 {
		t.Fatalf("first sign-in: %s", r.raw)
	}
	stats(0, 0, "the first sign-in (no copies yet)")
	r, assertion := signIn()
	if r.status != 200 {
		t.Fatalf("second sign-in: %s", r.raw)
	}
	stats(1, 0, "the second sign-in")
	if r := l.doOn(l.srv, "POST", "/webauthn/authentication/finish", "", assertion); r.status != 400 || r.code() != ceremony.CodeChallengeNotFound {
		t.Fatalf("a replay of a sign-in from copies: %d %s", r.status, r.raw)
	}
	stats(1, 1, "the replay")
	if r, _ := signIn(); r.status != 200 {
		t.Fatalf("after the replay: %s", r.raw)
	}
	stats(2, 1, "after the replay")

	// The owner disabled through the other server.
	if r := l.doOn(other, "PATCH", "/v1.0/users/"+l.userID, admin, `{"accountEnabled":false}`); r.status != 200 {
		t.Fatalf("disable: %d %s", r.status, r.raw)
	}
	if r, _ := signIn(); r.status != 403 || r.code() != ceremony.CodeUserDisabled {
		t.Fatalf("a disabled owner: %d %s", r.status, r.raw)
	}
	stats(2, 2, "the disabled owner")
	if r := l.doOn(other, "PATCH", "/v1.0/users/"+l.userID, admin, `{"accountEnabled":true}`); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.raw)
	}
	if r, _ := signIn(); r.status != 200 { // facts disabled in the copy: the long way, no claim
		t.Fatalf("enabled again: %s", r.raw)
	}
	stats(2, 2, "enabled again (the copy said disabled)")
	if r, _ := signIn(); r.status != 200 {
		t.Fatalf("from copies again: %s", r.raw)
	}
	stats(3, 2, "from copies again")

	// A policy created through the other server moves the policies' version.
	if r := l.doOn(other, "POST", "/v1.0/identity/conditionalAccess/policies", admin, `{"displayName":"report MFA","state":"enabledForReportingButNotEnforced",
		"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`); r.status != 201 {
		t.Fatalf("policy: %d %s", r.status, r.raw)
	}
	if r, _ := signIn(); r.status != 200 {
		t.Fatalf("after a policy change: %s", r.raw)
	}
	stats(3, 3, "after a policy change")
	if r, _ := signIn(); r.status != 200 {
		t.Fatalf("from copies after the policy change: %s", r.raw)
	}
	stats(4, 3, "from copies after the policy change")
}
