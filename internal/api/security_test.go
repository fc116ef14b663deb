package api_test

import (
	"context"
	"fmt"

	"github.com/go-chi/chi/v5"

	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signin"
)

// TestUserAdministratorCannotTakeOverAdmins: changing an admin's password,
// disabling, deleting them or revoking their sessions needs a Global
// Administrator or Privileged Authentication Administrator.
func TestUserAdministratorCannotTakeOverAdmins(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	admin := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"boss@lab.example","displayName":"Boss"}`).body["id"].(string)
	plain := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"pat@lab.example","displayName":"Pat"}`).body["id"].(string)
	if r := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"`+admin+`","roleDefinitionId":"Global Administrator"}`); r.status != 201 {
		t.Fatal(r.raw)
	}
	ua := e.token(directory.RoleUserAdministrator)
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", "/v1.0/users/" + admin, `{"passwordProfile":{"password":"attacker chosen pw"}}`},
		{"PATCH", "/v1.0/users/" + admin, `{"accountEnabled":false}`},
		{"DELETE", "/v1.0/users/" + admin, ""},
		{"POST", "/v1.0/users/" + admin + "/revokeSignInSessions", ""},
	} {
		if r := e.do(c.method, c.path, ua, c.body); r.status != 403 || r.code() != directory.CodeAuthorizationDenied {
			t.Errorf("%s %s by a User Administrator: %d %s", c.method, c.path, r.status, r.raw)
		}
	}
	// The same calls on a user without an admin role are fine.
	if r := e.do("PATCH", "/v1.0/users/"+plain, ua, `{"passwordProfile":{"password":"a fine password"}}`); r.status != 200 {
		t.Fatalf("User Administrator on a plain user: %s", r.raw)
	}
	if r := e.do("PATCH", "/v1.0/users/"+admin, ga, `{"accountEnabled":true}`); r.status != 200 {
		t.Fatalf("Global Administrator refused: %s", r.raw)
	}
}

// TestStolenPasswordCannotEnrolMethods: once a user has a second factor, a
// password-only session may not add another (TOTP, push or passkey).
func TestStolenPasswordCannotEnrolMethods(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	u := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"vic@lab.example","displayName":"Vic","passwordProfile":{"password":"correct horse battery"}}`)
	id := str(u.body, "id")
	owner := &browser{e: e, cookie: mustSession(t, e, id)}
	if r := owner.post("/me/authentication/microsoftAuthenticatorMethods", `{}`); r.status != 201 {
		t.Fatalf("first method: %s", r.raw)
	}
	// The attacker knows only the password: no policy asks for MFA here.
	thief := &browser{e: e}
	begin := thief.post("/signin/begin", `{"userPrincipalName":"vic@lab.example"}`)
	if r := thief.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`); str(r.body, "status") != "completed" {
		t.Fatalf("password sign-in: %s", r.raw)
	}
	for _, path := range []string{"/me/authentication/softwareOathMethods", "/me/authentication/microsoftAuthenticatorMethods", "/webauthn/registration/begin"} {
		if r := thief.post(path, `{}`); r.status != 403 || r.code() != methods.CodeMFARequiredToChangeMethods {
			t.Errorf("%s with a password-only session: %d %s", path, r.status, r.raw)
		}
	}
	// A push or a code is a second factor: it cannot start a sign-in.
	stranger := &browser{e: e}
	begin = stranger.post("/signin/begin", `{"userPrincipalName":"vic@lab.example"}`)
	if r := stranger.post("/signin/push/begin", `{"flowToken":"`+str(begin.body, "flowToken")+`"}`); r.code() != signin.CodeFirstFactorRequired {
		t.Fatalf("push before a first factor: %s", r.raw)
	}
}

// TestStolenPasswordCannotChangeOwnMethods: every route by which a user
// changes their own methods (add, rename, remove, whatever comes next) obeys
// the rule for adding one. Found by walking the route table, so a new route
// that skips the rule fails here. A stolen password must not remove the
// only second factor and then enrol the thief's passkey.
func TestStolenPasswordCannotChangeOwnMethods(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	id := str(e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"ivy@lab.example","displayName":"Ivy","passwordProfile":{"password":"correct horse battery"}}`).body, "id")
	owner := &browser{e: e, cookie: mustSession(t, e, id)}
	if r := owner.post("/me/authentication/microsoftAuthenticatorMethods", `{}`); r.status != 201 {
		t.Fatalf("first method: %s", r.raw)
	}
	thief := &browser{e: e}
	begin := thief.post("/signin/begin", `{"userPrincipalName":"ivy@lab.example"}`)
	if r := thief.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`); str(r.body, "status") != "completed" {
		t.Fatalf("password sign-in: %s", r.raw)
	}
	const someMethod = "6f1c2b0e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
	checked := 0
	err := chi.Walk(e.api.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		own := strings.HasPrefix(route, "/me/authentication/") || strings.HasPrefix(route, "/webauthn/registration/")
		if !own || method == http.MethodGet {
			return nil
		}
		checked++
		path := strings.ReplaceAll(route, "{methodId}", someMethod)
		r := e.doWithCookie(method, path, thief.cookie, `{"displayName":"mine now"}`)
		if r.status != 403 || r.code() != methods.CodeMFARequiredToChangeMethods {
			t.Errorf("%s %s with a password-only session: %d %s", method, route, r.status, r.raw)
		}
		return nil
	})
	if err != nil || checked < 6 {
		t.Fatalf("walked %d own-method routes (%v)", checked, err)
	}
	// The owner, signed in with a TAP, may still manage them.
	if r := e.doWithCookie("DELETE", "/me/authentication/fido2Methods/"+someMethod, owner.cookie, ""); r.status != 404 {
		t.Fatalf("owner with a TAP session: %d %s", r.status, r.raw)
	}
}

// TestFlowTokenDiesWithRevocation: a sign-in begun before revokeSignInSessions
// cannot be finished after it.
func TestFlowTokenDiesWithRevocation(t *testing.T) {
	e := newEnv(t)
	e.requireMFAForAll()
	ga := e.token(directory.RoleGlobalAdministrator)
	id := str(e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"rae@lab.example","displayName":"Rae","passwordProfile":{"password":"correct horse battery"}}`).body, "id")
	owner := &browser{e: e, cookie: mustSession(t, e, id)}
	oath := owner.post("/me/authentication/softwareOathMethods", "")
	if oath.status != 201 {
		t.Fatal(oath.raw)
	}
	secret := decodeB32(t, str(oath.body, "secretKey"))
	b := &browser{e: e}
	begin := b.post("/signin/begin", `{"userPrincipalName":"rae@lab.example"}`)
	r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
	flow := str(r.body, "flowToken")
	if str(r.body, "status") != "stepUpRequired" || flow == "" {
		t.Fatalf("step-up: %s", r.raw)
	}
	if r := e.do("POST", "/v1.0/users/"+id+"/revokeSignInSessions", ga, ""); r.status != 200 {
		t.Fatal(r.raw)
	}
	code := totp.Code(secret, totp.StepAt(time.Now()))
	if r := b.post("/signin/totp", `{"flowToken":"`+flow+`","code":"`+code+`"}`); r.code() != signin.CodeInvalidFlow {
		t.Fatalf("a flow from before the revocation went on: %s", r.raw)
	}
}

// TestAdminRoleProtectionCoversEveryRole: the probe's findings. An
// Authentication Administrator could issue a TAP to a Global Reader,
// Security Reader or Groups Administrator, and a User Administrator reset
// their passwords; Entra's table allows neither. Helpdesk and Password
// Administrators reset the passwords their columns allow, nothing else.
func TestAdminRoleProtectionCoversEveryRole(t *testing.T) {
	e := newEnv(t)
	l := &policyLab{lab: &lab{env: e}, ga: e.token(directory.RoleGlobalAdministrator)}
	authAdmin := e.token(directory.RoleAuthenticationAdministrator)
	userAdmin := e.token(directory.RoleUserAdministrator)
	helpdesk := e.token(directory.RoleHelpdeskAdministrator)
	pwdAdmin := e.token(directory.RolePasswordAdministrator)
	l.must("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", l.ga, `{"state":"enabled"}`, 200)
	for _, role := range []string{directory.RoleGlobalReader, directory.RoleSecurityReader, directory.RoleGroupsAdministrator} {
		id := l.user(strings.ReplaceAll(strings.ToLower(role), " ", ".")+"@lab.example", role)
		if r := l.issueTAP(id, authAdmin, ""); r.status != 403 || r.code() != directory.CodeAuthorizationDenied {
			t.Errorf("Authentication Administrator issued a TAP to a %s: %d %s", role, r.status, r.raw)
		}
		want := 403
		if role == directory.RoleGroupsAdministrator {
			want = 200 // the User Administrator column includes Groups Administrator
		}
		if r := e.do("PATCH", "/v1.0/users/"+id, userAdmin, `{"passwordProfile":{"password":"attacker chosen pw"}}`); r.status != want {
			t.Errorf("User Administrator reset a %s's password: %d %s", role, r.status, r.raw)
		}
	}
	plain := l.user("plain@lab.example")
	hd := l.user("helpdesk@lab.example", directory.RoleHelpdeskAdministrator)
	l.must("PATCH", "/v1.0/users/"+plain, helpdesk, `{"passwordProfile":{"password":"a fine password"}}`, 200)
	l.must("PATCH", "/v1.0/users/"+plain, pwdAdmin, `{"passwordProfile":{"password":"a fine password"}}`, 200)
	l.must("PATCH", "/v1.0/users/"+hd, helpdesk, `{"passwordProfile":{"password":"a fine password"}}`, 200)
	l.refused("PATCH", "/v1.0/users/"+hd, pwdAdmin, `{"passwordProfile":{"password":"a fine password"}}`, 403, directory.CodeAuthorizationDenied)
	// Resetting a password is not the right to disable or rename.
	l.refused("PATCH", "/v1.0/users/"+plain, helpdesk, `{"accountEnabled":false}`, 403, directory.CodeAuthorizationDenied)
	l.refused("PATCH", "/v1.0/users/"+plain, pwdAdmin, `{"displayName":"x"}`, 403, directory.CodeAuthorizationDenied)
	l.must("POST", "/v1.0/users/"+plain+"/authentication/temporaryAccessPassMethods", authAdmin, "", 201)
}

// TestAnonymousCeremonyBeginsStoreNothing: the probe left 300 challenge
// rows with 300 anonymous begins from one address. A sign-in challenge is
// now sealed (ceremony/seal.go): begins store nothing, so there is nothing
// for an anonymous caller to fill, and a forged challenge is refused
// without a database write.
func TestAnonymousCeremonyBeginsStoreNothing(t *testing.T) {
	e := newEnv(t)
	e.mustCreateUser("flow@lab.example", false)
	rows := func() int {
		var n int
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM webauthn_challenges) + (SELECT count(*) FROM webauthn_used_challenges)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := rows()
	for i := 0; i < 300; i++ {
		if r := e.do("POST", "/webauthn/authentication/begin", "", `{}`); r.status != 200 {
			t.Fatalf("begin %d: %d %s", i, r.status, r.raw)
		}
	}
	begin := e.do("POST", "/signin/begin", "", `{"userPrincipalName":"flow@lab.example"}`)
	if r := e.do("POST", "/signin/passkey/begin", "", `{"flowToken":"`+str(begin.body, "flowToken")+`"}`); r.status != 200 {
		t.Fatalf("passkey step: %d %s", r.status, r.raw)
	}
	if n := rows(); n != before {
		t.Fatalf("301 begins left %d challenge rows, want none", n-before)
	}
}

// TestPasswordGuessesLockTheAccountOut: per-user smart lockout. Ten wrong
// passwords lock the user (from this location) for a minute; even the
// right password is then refused unchecked with 429 accountLocked, and the
// sign-in log says 50053. (The probe saw 60 guesses from 3 addresses all
// checked.)
func TestPasswordGuessesLockTheAccountOut(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"guess@lab.example","displayName":"G","passwordProfile":{"password":"correct horse battery"}}`)
	try := func(pw string) resp {
		b := &browser{e: e}
		begin := b.post("/signin/begin", `{"userPrincipalName":"guess@lab.example"}`)
		return b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"`+pw+`"}`)
	}
	for i := 0; i < signin.DefaultLockout.Threshold; i++ {
		if r := try("wrong guess"); r.status != 401 || r.code() != signin.CodeInvalidPassword {
			t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
		}
	}
	if r := try("correct horse battery"); r.status != 429 || r.code() != signin.CodeAccountLocked {
		t.Fatalf("right password during the lockout: %d %s", r.status, r.raw)
	}
	reader := e.token(directory.RoleReportsReader)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := e.do("GET", "/v1.0/auditLogs/signIns?$filter=status/errorCode%20eq%2050053", reader, "")
		if v, _ := r.body["value"].([]any); len(v) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 50053 sign-in record: %s", r.raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAnonymousSignInCallsRevealAndWriteNothing: /signin/begin answered
// 403 userDisabled and wrote a sign-in record for every anonymous call, and
// every wrong password on an emergency account raised a high-severity
// alert. Now the account's state shows only after a right first factor,
// begin writes nothing, and an emergency account raises an alert when a
// right credential is used and once when a burst of failures locks it out.
func TestAnonymousSignInCallsRevealAndWriteNothing(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	mk := func(upn string, emergency, enabled bool) {
		body := `{"userPrincipalName":"` + upn + `","displayName":"x","isEmergencyAccess":` + fmt.Sprint(emergency) +
			`,"accountEnabled":` + fmt.Sprint(enabled) + `,"passwordProfile":{"password":"correct horse battery"}}`
		if r := e.do("POST", "/v1.0/users", ga, body); r.status != 201 {
			t.Fatal(r.raw)
		}
	}
	mk("off@lab.example", false, false)
	mk("bg1@lab.example", true, true)
	mk("bg2@lab.example", true, true)
	signIn := func(upn, pw string) resp {
		b := &browser{e: e}
		begin := b.post("/signin/begin", `{"userPrincipalName":"`+upn+`"}`)
		if begin.status != 200 || str(begin.body, "status") != "credentialRequired" {
			t.Fatalf("begin for %s: %d %s", upn, begin.status, begin.raw)
		}
		return b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"`+pw+`"}`)
	}
	reader := e.token(directory.RoleSecurityAdministrator)
	count := func(path string) int {
		r := e.do("GET", path, reader, "")
		v, _ := r.body["value"].([]any)
		return len(v)
	}
	// Begin tells nothing about a disabled account and writes nothing.
	for i := 0; i < 5; i++ {
		e.do("POST", "/signin/begin", "", `{"userPrincipalName":"off@lab.example"}`)
	}
	if n := count("/v1.0/auditLogs/signIns"); n != 0 {
		t.Fatalf("anonymous begins wrote %d sign-in records", n)
	}
	if r := signIn("off@lab.example", "wrong guess"); r.code() != signin.CodeInvalidPassword {
		t.Fatalf("wrong password on a disabled account: %s", r.raw)
	}
	if r := signIn("off@lab.example", "correct horse battery"); r.status != 403 || r.code() != signin.CodeUserDisabled {
		t.Fatalf("right password on a disabled account: %d %s", r.status, r.raw)
	}
	// Wrong guesses on an emergency account: no alert each, one when locked.
	for i := 0; i < signin.DefaultLockout.Threshold; i++ {
		signIn("bg1@lab.example", "wrong guess")
	}
	if n := count("/v1.0/security/alerts_v2"); n != 0 {
		t.Fatalf("%d alerts for anonymous wrong guesses", n)
	}
	for i := 0; i < 3; i++ {
		if r := signIn("bg1@lab.example", "wrong guess"); r.code() != signin.CodeAccountLocked {
			t.Fatalf("after the burst: %s", r.raw)
		}
	}
	if n := count("/v1.0/security/alerts_v2"); n != 1 {
		t.Fatalf("%d alerts for a burst of failures, want 1", n)
	}
	// Successful use raises one.
	if r := signIn("bg2@lab.example", "correct horse battery"); str(r.body, "status") != "completed" {
		t.Fatalf("emergency sign-in: %s", r.raw)
	}
	if n := count("/v1.0/security/alerts_v2"); n != 2 {
		t.Fatalf("%d alerts after an emergency sign-in, want 2", n)
	}
}

// TestLockoutProtectionGuardsDirectoryChanges: lockout protection ran only
// when a policy was saved, so removing the emergency account from the
// excluded group, or flagging a new emergency account, silently put it under
// an enabled policy. Every such change is now judged with the same rule and
// codes; force lets it through and raises an alert.
func TestLockoutProtectionGuardsDirectoryChanges(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	bg := e.mustCreateUser("bg1@lab.example", true)
	plain := e.mustCreateUser("pat@lab.example", false)
	group := e.mustCreate("/v1.0/groups", ga, `{"displayName":"Emergency access"}`)
	member := func(uid string) string {
		return `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + uid + `"}`
	}
	if r := e.do("POST", "/v1.0/groups/"+group+"/members/$ref", ga, member(bg)); r.status != 204 {
		t.Fatal(r.raw)
	}
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, caBody("Require MFA for all users", "enabled",
		`{"includeUsers":["All"],"excludeGroups":["`+group+`"]}`, `{"operator":"OR","builtInControls":["mfa"]}`))
	groupsAdmin := e.token(directory.RoleGroupsAdministrator)
	refused := func(name string, r resp, code string) {
		t.Helper()
		if r.status != 409 || r.code() != code {
			t.Errorf("%s: %d %s, want 409 %s", name, r.status, r.raw, code)
		}
	}
	refused("remove the emergency account from the excluded group",
		e.do("DELETE", "/v1.0/groups/"+group+"/members/"+bg+"/$ref", groupsAdmin, ""), policy.CodeEmergencyAccountNotExcluded)
	// Graph takes a GUID in either case: an upper-case id names the same
	// object and must not slip past the guard (it did: 204, no alert).
	refused("remove the emergency account by its UPPER-CASE id",
		e.do("DELETE", "/v1.0/groups/"+strings.ToUpper(group)+"/members/"+strings.ToUpper(bg)+"/$ref", groupsAdmin, ""), policy.CodeEmergencyAccountNotExcluded)
	refused("delete the excluded group by its UPPER-CASE id", e.do("DELETE", "/v1.0/groups/"+strings.ToUpper(group), groupsAdmin, ""), policy.CodeEmergencyAccountNotExcluded)
	refused("flag a user as emergency access by UPPER-CASE id",
		e.do("PATCH", "/v1.0/users/"+strings.ToUpper(plain), ga, `{"isEmergencyAccess":true}`), policy.CodeEmergencyAccountNotExcluded)
	refused("delete the excluded group", e.do("DELETE", "/v1.0/groups/"+group, groupsAdmin, ""), policy.CodeEmergencyAccountNotExcluded)
	refused("create a new emergency account outside the group",
		e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"bg2@lab.example","displayName":"bg2","isEmergencyAccess":true}`), policy.CodeEmergencyAccountNotExcluded)
	refused("flag an existing user as emergency access",
		e.do("PATCH", "/v1.0/users/"+plain, ga, `{"isEmergencyAccess":true}`), policy.CodeEmergencyAccountNotExcluded)
	// The admin disabling their own account.
	me := e.mustCreateUser("ua@lab.example", false)
	refused("disable yourself", e.do("PATCH", "/v1.0/users/"+me, e.userToken(me, directory.RoleUserAdministrator), `{"accountEnabled":false}`), policy.CodeWouldLockOutCaller)
	refused("disable yourself by your UPPER-CASE id", e.do("PATCH", "/v1.0/users/"+strings.ToUpper(me), e.userToken(me, directory.RoleUserAdministrator), `{"accountEnabled":false}`), policy.CodeWouldLockOutCaller)
	refused("delete yourself by your UPPER-CASE id", e.do("DELETE", "/v1.0/users/"+strings.ToUpper(me), e.userToken(me, directory.RoleUserAdministrator), ""), policy.CodeWouldLockOutCaller)
	// Changes that keep the emergency account excluded go through.
	if r := e.do("POST", "/v1.0/groups/"+group+"/members/$ref", groupsAdmin, member(plain)); r.status != 204 {
		t.Fatalf("adding a member to the excluded group: %s", r.raw)
	}
	// Forced: done, and an alert says so.
	if r := e.do("DELETE", "/v1.0/groups/"+group+"/members/"+bg+"/$ref?force=true", groupsAdmin, ""); r.status != 204 {
		t.Fatalf("forced removal: %d %s", r.status, r.raw)
	}
	alerts := e.do("GET", "/v1.0/security/alerts_v2", e.token(directory.RoleSecurityReader), "")
	v, _ := alerts.body["value"].([]any)
	if len(v) != 1 || !strings.Contains(alerts.raw, "lockout protection overridden") {
		t.Fatalf("forced override raised no alert: %s", alerts.raw)
	}
}

// TestLockoutProtectionGuardsRoleAssignments: a policy can include or
// exclude directory roles, so giving yourself a role a blocking policy
// targets, or taking away the role that exempts you, locked the admin out
// unchecked. Both are now judged like other directory changes.
func TestLockoutProtectionGuardsRoleAssignments(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	me := e.mustCreateUser("roles@lab.example", false)
	other := e.mustCreateUser("other@lab.example", false)
	gaRole, _ := directory.RoleByName(directory.RoleGlobalAdministrator)
	hdRole, _ := directory.RoleByName(directory.RoleHelpdeskAdministrator)
	assign := func(tok, uid, role string) resp {
		return e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", tok,
			`{"principalId":"`+uid+`","roleDefinitionId":"`+role+`","directoryScopeId":"/"}`)
	}
	mine := assign(ga, me, gaRole.TemplateID)
	if mine.status != 201 {
		t.Fatal(mine.raw)
	}
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, caBody("Block all but Global Administrators", "enabled",
		`{"includeUsers":["All"],"excludeRoles":["`+gaRole.TemplateID+`"]}`, `{"operator":"OR","builtInControls":["block"]}`))
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, caBody("Block helpdesk admins", "enabled",
		`{"includeRoles":["`+hdRole.TemplateID+`"]}`, `{"operator":"OR","builtInControls":["block"]}`))
	myToken := e.userToken(me, directory.RoleGlobalAdministrator)
	refused := func(name string, r resp) {
		t.Helper()
		if r.status != 409 || r.code() != policy.CodeWouldLockOutCaller {
			t.Errorf("%s: %d %s, want 409 %s", name, r.status, r.raw, policy.CodeWouldLockOutCaller)
		}
	}
	refused("take away your own exempting role", e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+str(mine.body, "id"), myToken, ""))
	refused("give yourself a blocked role (by name)", assign(myToken, me, directory.RoleHelpdeskAdministrator))
	refused("give yourself a blocked role by your UPPER-CASE id", assign(myToken, strings.ToUpper(me), hdRole.TemplateID))
	refused("give yourself a blocked role by its UPPER-CASE template id", assign(myToken, me, strings.ToUpper(hdRole.TemplateID)))
	refused("take away your own exempting role by its UPPER-CASE assignment id",
		e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+strings.ToUpper(str(mine.body, "id")), myToken, ""))
	// Someone else's roles do not lock the caller out.
	if r := assign(myToken, other, hdRole.TemplateID); r.status != 201 {
		t.Fatalf("assigning another user: %d %s", r.status, r.raw)
	}
	// Forced: done.
	if r := e.do("DELETE", "/v1.0/roleManagement/directory/roleAssignments/"+str(mine.body, "id")+"?force=true", myToken, ""); r.status != 204 {
		t.Fatalf("forced removal: %d %s", r.status, r.raw)
	}
}

// TestAdminTokenExchangeIsASignInToTheAdminAPI: a policy requiring MFA for
// Microsoft Graph applied to Graph sign-ins, but the same admin's
// single-factor portal session exchanged at POST /admin/token got a working
// admin token. The exchange is now a sign-in to Graph: step-up when a
// policy wants more, 403 when one blocks, logged like any sign-in.
func TestAdminTokenExchangeIsASignInToTheAdminAPI(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	admin := str(e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"reader@lab.example","displayName":"Reader","passwordProfile":{"password":"correct horse battery"}}`).body, "id")
	if r := e.do("POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"`+admin+`","roleDefinitionId":"Global Reader"}`); r.status != 201 {
		t.Fatal(r.raw)
	}
	const graph = "00000003-0000-0000-c000-000000000000"
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, fmt.Sprintf(`{"displayName":"MFA for Graph","state":"enabled",
		"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":[%q]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`, graph))
	owner := &browser{e: e, cookie: mustSession(t, e, admin)}
	oath := owner.post("/me/authentication/softwareOathMethods", "")
	if oath.status != 201 {
		t.Fatal(oath.raw)
	}
	secret := decodeB32(t, str(oath.body, "secretKey"))
	// A password-only portal session: the portal itself asks no MFA.
	b := &browser{e: e}
	begin := b.post("/signin/begin", `{"userPrincipalName":"reader@lab.example"}`)
	if r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`); str(r.body, "status") != "completed" {
		t.Fatalf("portal sign-in: %s", r.raw)
	}
	r := b.post("/admin/token", "")
	if r.status != 200 || str(r.body, "status") != "stepUpRequired" || str(r.body, "access_token") != "" || str(r.body, "flowToken") == "" {
		t.Fatalf("single-factor exchange under an MFA-for-Graph policy: %d %s", r.status, r.raw)
	}
	// The step-up: the code completes the sign-in to Graph, whose session
	// is then exchanged.
	code := totp.Code(secret, totp.StepAt(time.Now()))
	if up := b.post("/signin/totp", `{"flowToken":"`+str(r.body, "flowToken")+`","code":"`+code+`"}`); str(up.body, "status") != "completed" {
		t.Fatalf("step-up for Graph: %s", up.raw)
	}
	if r := b.post("/admin/token", ""); r.status != 200 || str(r.body, "access_token") == "" {
		t.Fatalf("exchange after the step-up: %d %s", r.status, r.raw)
	}
	// A multifactor session (a TAP one) passes, and the sign-in is logged
	// for Microsoft Graph.
	r = e.doWithCookie("POST", "/admin/token", mustSession(t, e, admin), "")
	if r.status != 200 || str(r.body, "access_token") == "" || str(r.body, "signInId") == "" {
		t.Fatalf("multifactor exchange: %d %s", r.status, r.raw)
	}
	rec := e.do("GET", "/v1.0/auditLogs/signIns/"+str(r.body, "signInId"), e.token(directory.RoleReportsReader), "")
	if rec.status != 200 || str(rec.body, "appId") != graph {
		t.Fatalf("sign-in record of the exchange: %s", rec.raw)
	}
	// A policy that blocks Graph blocks the exchange.
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, fmt.Sprintf(`{"displayName":"Block Graph for readers","state":"enabled",
		"conditions":{"users":{"includeUsers":[%q]},"applications":{"includeApplications":[%q]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["block"]}}`, admin, graph))
	if r := e.doWithCookie("POST", "/admin/token", mustSession(t, e, admin), ""); r.status != 403 || r.code() != signin.CodeBlocked {
		t.Fatalf("exchange under a block policy: %d %s", r.status, r.raw)
	}
}

// TestLockoutProtectionSerializesConcurrentChanges: the check read the
// directory before the write, outside its transaction, so two
// administrators on two servers could each remove the emergency account
// from one of the two excluded groups it is in: each check saw it still
// excluded through the other group, and together the changes put it under
// the policy. The change lock now serializes check and write: exactly one
// of the two removals goes through.
func TestLockoutProtectionSerializesConcurrentChanges(t *testing.T) {
	e := newEnv(t)
	first := e.srv
	second := e.newServer(nil)
	ga := e.token(directory.RoleGlobalAdministrator)
	bg := e.mustCreateUser("bg1@lab.example", true)
	g1 := e.mustCreate("/v1.0/groups", ga, `{"displayName":"Emergency access 1"}`)
	g2 := e.mustCreate("/v1.0/groups", ga, `{"displayName":"Emergency access 2"}`)
	member := `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + bg + `"}`
	add := func(g string) {
		t.Helper()
		if r := e.doOn(first, "POST", "/v1.0/groups/"+g+"/members/$ref", ga, member); r.status != 204 {
			t.Fatalf("adding the member: %d %s", r.status, r.raw)
		}
	}
	add(g1)
	add(g2)
	e.mustCreate("/v1.0/identity/conditionalAccess/policies", ga, caBody("Require MFA for all users", "enabled",
		`{"includeUsers":["All"],"excludeGroups":["`+g1+`","`+g2+`"]}`, `{"operator":"OR","builtInControls":["mfa"]}`))
	for round := range 5 {
		var results [2]resp
		var wg sync.WaitGroup
		for i, srv := range []*httptest.Server{first, second} {
			g := []string{g1, g2}[i]
			wg.Go(func() { results[i] = e.doOn(srv, "DELETE", "/v1.0/groups/"+g+"/members/"+bg+"/$ref", ga, "") })
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, r := range results {
			switch {
			case r.status == 204:
				ok++
			case r.status == 409 && r.code() == policy.CodeEmergencyAccountNotExcluded:
				refused++
			default:
				t.Fatalf("round %d: %d %s", round, r.status, r.raw)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d removals went through and %d were refused; want one each (%v)", round, ok, refused, results)
		}
		if results[0].status == 204 {
			add(g1)
		} else {
			add(g2)
		}
	}
}
