package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods"
	"github.com/rpserver/rpserver/virtualauthn"
)

const (
	fido2Path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	tapPath   = "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass"
	aaAndroid = "de1e552d-db1d-4423-a619-566b625cdc84"
	aaIOS     = "90a3ccdf-635c-4729-a248-9b709135078f"
)

// policyLab is a lab whose server runs the methods policy as registration gate.
type policyLab struct {
	*lab
	methods *methods.Service
	ga      string
}

func newPolicyLab(t *testing.T) *policyLab {
	e := newEnv(t)
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	trust := attestation.NewTrustStore()
	if err := trust.AddPEM(uuid.Nil, ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	e.srv = e.newServer(trust)
	return &policyLab{lab: &lab{env: e, ca: ca}, methods: e.app.Methods, ga: e.token(directory.RoleGlobalAdministrator)}
}

func (l *policyLab) must(method, path, token, body string, status int) resp {
	l.t.Helper()
	r := l.do(method, path, token, body)
	if r.status != status {
		l.t.Fatalf("%s %s: got %d, want %d: %s", method, path, r.status, status, r.raw)
	}
	return r
}

func (l *policyLab) refused(method, path, token, body string, status int, code string) {
	l.t.Helper()
	r := l.do(method, path, token, body)
	if r.status != status || r.code() != code {
		l.t.Fatalf("%s %s: got %d %s, want %d %s: %s", method, path, r.status, r.code(), status, code, r.raw)
	}
}

func (l *policyLab) user(upn string, roles ...string) string {
	l.t.Helper()
	id := l.must("POST", "/v1.0/users", l.ga, `{"userPrincipalName":"`+upn+`","displayName":"`+upn+`"}`, 201).body["id"].(string)
	for _, role := range roles {
		l.must("POST", "/v1.0/roleManagement/directory/roleAssignments", l.ga,
			`{"principalId":"`+id+`","roleDefinitionId":"`+role+`","directoryScopeId":"/"}`, 201)
	}
	return id
}

func (l *policyLab) group(name string, members ...string) string {
	l.t.Helper()
	gid := l.must("POST", "/v1.0/groups", l.ga, `{"displayName":"`+name+`","mailNickname":"pilot"}`, 201).body["id"].(string)
	for _, m := range members {
		l.must("POST", "/v1.0/groups/"+gid+"/members/$ref", l.ga, `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/`+m+`"}`, 204)
	}
	return gid
}

func (l *policyLab) issueTAP(userID, token, body string) resp {
	l.t.Helper()
	return l.do("POST", "/v1.0/users/"+userID+"/authentication/temporaryAccessPassMethods", token, body)
}

func (l *policyLab) signInTAP(upn, pass string) resp {
	l.t.Helper()
	return l.do("POST", "/signin/tap", "", fmt.Sprintf(`{"userPrincipalName":%q,"temporaryAccessPass":%q}`, upn, pass))
}

// TestSeedScenarioSteps3To7 plays DESIGN.md's seed steps 3-7 over HTTP.
func TestSeedScenarioSteps3To7(t *testing.T) {
	l := newPolicyLab(t)
	apa := l.token(directory.RoleAuthenticationPolicyAdministrator)
	authAdmin := l.token(directory.RoleAuthenticationAdministrator)
	privAuthAdmin := l.token(directory.RolePrivilegedAuthenticationAdministrator)

	// Step 2: the pilot group with two admins.
	admin1 := l.user("admin1@lab.example", directory.RoleGlobalAdministrator)
	admin2 := l.user("admin2@lab.example", directory.RoleSecurityAdministrator)
	outsider := l.user("outsider@lab.example")
	pilot := l.group("GRP-Pilot-Passkey-Admins", admin1, admin2)

	// Least privilege on the policy.
	l.refused("PATCH", fido2Path, l.token(directory.RoleConditionalAccessAdministrator), `{"state":"enabled"}`, 403, api.CodeAuthorizationError)
	l.refused("GET", fido2Path, l.token(directory.RoleUserAdministrator), "", 403, api.CodeAuthorizationError)
	l.must("GET", fido2Path, l.token(directory.RoleSecurityReader), "", 200)
	if r := l.must("GET", fido2Path, l.token(directory.RoleGlobalReader), "", 200); r.body["state"] != "disabled" || r.body["defaultPasskeyProfile"] != nil {
		t.Fatalf("fresh policy: %s", r.raw)
	}

	// Legacy settings first: FIDO2 on for the pilot group, attestation
	// enforced, an AAGUID allow list. Unknown properties are refused.
	l.refused("PATCH", fido2Path, apa, `{"stateX":"enabled"}`, 400, api.CodeUnknownProperty)
	l.must("PATCH", fido2Path, apa, `{"state":"enabled","isAttestationEnforced":true,
		"keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["`+aaAndroid+`"]},
		"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false}]}`, 200)

	// Step 3: enabling profiles migrates the legacy settings into Default.
	r := l.must("PATCH", fido2Path, apa, `{"defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001"}`, 200)
	profs := r.body["passkeyProfiles"].([]any)
	def := profs[0].(map[string]any)
	kr := def["keyRestrictions"].(map[string]any)
	if len(profs) != 1 || def["name"] != "Default passkey profile" || def["attestationEnforcement"] != "registrationOnly" ||
		def["passkeyTypes"] != "deviceBound" || kr["isEnforced"] != true || kr["aaGuids"].([]any)[0] != aaAndroid {
		t.Fatalf("migrated Default profile: %s", r.raw)
	}
	if tg := r.body["includeTargets"].([]any)[0].(map[string]any); tg["allowedPasskeyProfiles"].([]any)[0] != "00000000-0000-0000-0000-000000000001" {
		t.Fatalf("targets not given Default: %s", r.raw)
	}
	// No going back.
	l.refused("PATCH", fido2Path, apa, `{"defaultPasskeyProfile":null}`, 400, "passkeyProfilesCannotBeDisabled")
	l.refused("PATCH", fido2Path, apa, `{"defaultPasskeyProfile":""}`, 400, "passkeyProfilesCannotBeDisabled")

	// Step 4: the admins' profile. At most 10 profiles.
	defJSON := `{"id":"00000000-0000-0000-0000-000000000001","name":"Default passkey profile","passkeyTypes":"deviceBound",
		"attestationEnforcement":"registrationOnly","keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["` + aaAndroid + `"]}}`
	adminsID := uuid.NewString()
	adminsJSON := `{"id":"` + adminsID + `","name":"Passkey – Admins – Microsoft Authenticator","passkeyTypes":"deviceBound",
		"attestationEnforcement":"registrationOnly","keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["` + aaAndroid + `","` + aaIOS + `"]}}`
	eleven := []string{defJSON, adminsJSON}
	for i := range 9 {
		eleven = append(eleven, fmt.Sprintf(`{"id":"%s","name":"extra %d","passkeyTypes":"deviceBound,synced","attestationEnforcement":"disabled",
			"keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}}`, uuid.NewString(), i))
	}
	l.refused("PATCH", fido2Path, apa, `{"passkeyProfiles":[`+strings.Join(eleven, ",")+`]}`, 400, "tooManyPasskeyProfiles")
	l.must("PATCH", fido2Path, apa, `{"passkeyProfiles":[`+defJSON+`,`+adminsJSON+`]}`, 200)

	// Step 5: the pilot group gets the admins' profile, self-service on.
	r = l.must("PATCH", fido2Path, apa, `{"isSelfServiceRegistrationAllowed":true,
		"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false,"allowedPasskeyProfiles":["`+adminsID+`"]}]}`, 200)
	if len(r.body["passkeyProfiles"].([]any)) != 2 || r.body["state"] != "enabled" {
		t.Fatalf("PATCH lost properties it did not name: %s", r.raw)
	}
	// A profile sent without an id gets a GUID, as the portal gives one;
	// profiles re-sent without ids keep theirs (matched by name), so the
	// targets' references still hold.
	withoutID := func(js string) string { return regexp.MustCompile(`"id":"[^"]*",`).ReplaceAllString(js, "") }
	std := `{"name":"Passkey – Standard users","passkeyTypes":"deviceBound,synced","attestationEnforcement":"disabled","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}}`
	r = l.must("PATCH", fido2Path, apa, `{"passkeyProfiles":[`+withoutID(defJSON)+`,`+withoutID(adminsJSON)+`,`+std+`]}`, 200)
	profs = r.body["passkeyProfiles"].([]any)
	stdID, _ := profs[2].(map[string]any)["id"].(string)
	if profs[0].(map[string]any)["id"] != "00000000-0000-0000-0000-000000000001" || profs[1].(map[string]any)["id"] != adminsID || uuid.Validate(stdID) != nil {
		t.Fatalf("profile ids: %s", r.raw)
	}
	l.must("PATCH", fido2Path, apa, `{"passkeyProfiles":[`+defJSON+`,`+adminsJSON+`]}`, 200)

	// Step 6: TAP policy for the pilot group.
	l.refused("PATCH", tapPath, apa, `{"defaultLifetimeInMinutes":500}`, 400, "defaultLifetimeOutOfRange")
	l.refused("PATCH", tapPath, l.token(directory.RoleAuthenticationAdministrator), `{"state":"enabled"}`, 403, api.CodeAuthorizationError)
	r = l.must("PATCH", tapPath, apa, `{"state":"enabled","minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480,"defaultLifetimeInMinutes":60,
		"isUsableOnce":true,"defaultLength":12,"includeTargets":[{"id":"`+pilot+`","targetType":"group","isRegistrationRequired":false}]}`, 200)
	if r.body["defaultLength"] != 12.0 || r.body["isUsableOnce"] != true {
		t.Fatalf("TAP policy: %s", r.raw)
	}
	if r := l.must("GET", tapPath, l.token(directory.RoleSecurityReader), "", 200); r.body["maximumLifetimeInMinutes"] != 480.0 {
		t.Fatal(r.raw)
	}

	// Issuing: bounds, targeting and who may issue to whom.
	for _, lt := range []int{59, 481} {
		r := l.issueTAP(admin1, privAuthAdmin, fmt.Sprintf(`{"lifetimeInMinutes":%d}`, lt))
		if r.status != 400 || r.code() != "lifetimeOutOfRange" {
			t.Fatalf("lifetime %d: %d %s", lt, r.status, r.raw)
		}
	}
	if r := l.issueTAP(outsider, privAuthAdmin, ""); r.status != 400 || r.code() != "temporaryAccessPassNotEnabledForUser" {
		t.Fatalf("outsider: %s", r.raw)
	}
	if r := l.issueTAP(admin1, authAdmin, ""); r.status != 403 || r.code() != api.CodeAuthorizationError {
		t.Fatalf("Authentication Administrator issued a TAP to a Global Administrator: %d %s", r.status, r.raw)
	}
	if r := l.issueTAP(admin1, apa, ""); r.status != 403 {
		t.Fatalf("Authentication Policy Administrator issued a TAP: %d %s", r.status, r.raw)
	}
	issued := l.issueTAP(admin1, privAuthAdmin, `{"lifetimeInMinutes":60,"isUsableOnce":false}`)
	if issued.status != 201 {
		t.Fatal(issued.raw)
	}
	pass, _ := issued.body["temporaryAccessPass"].(string)
	if len(pass) != 12 || issued.body["isUsableOnce"] != true || issued.body["isUsable"] != true {
		t.Fatalf("issued: %s", issued.raw)
	}
	if r := l.issueTAP(admin1, privAuthAdmin, ""); r.status != 409 || r.code() != methods.CodeTAPExists {
		t.Fatalf("second TAP: %d %s", r.status, r.raw)
	}
	list := l.must("GET", "/v1.0/users/"+admin1+"/authentication/temporaryAccessPassMethods", authAdmin, "", 200)
	if strings.Contains(list.raw, pass) || !strings.Contains(list.raw, `"temporaryAccessPass":null`) {
		t.Fatalf("the pass is shown again: %s", list.raw)
	}

	// Wrong pass and unknown user fail alike.
	for _, c := range [][2]string{{"admin1@lab.example", "WrongPass123"}, {"nobody@lab.example", pass}, {"outsider@lab.example", pass}} {
		if r := l.signInTAP(c[0], c[1]); r.status != 401 || r.code() != methods.CodeInvalidTAP {
			t.Fatalf("%s: %d %s", c[0], r.status, r.raw)
		}
	}
	// Step 6: the TAP lets the admin with no strong method sign in, once.
	res := l.rawSignIn("admin1@lab.example", pass)
	if res.status != 200 || res.body["userId"] != admin1 || res.body["sessionToken"] == "" || !res.cookie {
		t.Fatalf("TAP sign-in: %d %s", res.status, res.raw)
	}
	if r := l.signInTAP("ADMIN1@lab.example", pass); r.status != 401 || r.code() != methods.CodeTAPUsed {
		t.Fatalf("reuse: %d %s", r.status, r.raw)
	}
	l.session = res.body["sessionToken"].(string)
	l.userID, l.upn = admin1, "admin1@lab.example"

	// Step 7: the admin registers Microsoft Authenticator (Android and iOS) and names it.
	android := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorAndroid(l.ca)), "Pixel", virtualauthn.Tamper{})
	ios := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca)), "iPhone", virtualauthn.Tamper{})
	for _, reg := range []resp{android, ios} {
		if reg.status != 201 || reg.body["attestationLevel"] != "attested" || reg.body["passkeyType"] != "deviceBound" {
			t.Fatalf("registration: %d %s", reg.status, reg.raw)
		}
	}
	androidID := android.body["id"].(string)
	r = l.must("PATCH", "/me/authentication/fido2Methods/"+androidID, l.session, `{"displayName":"Admin phone (Android)"}`, 200)
	if r.body["displayName"] != "Admin phone (Android)" || r.body["model"] == "" {
		t.Fatalf("rename: %s", r.raw)
	}
	l.refused("PATCH", "/me/authentication/fido2Methods/"+androidID, l.session, `{"displayName":"  "}`, 400, "invalidDisplayName")

	// Step 4's refusals, each with its reason.
	rogue, _ := virtualauthn.NewTestCA()
	unattested := virtualauthn.MicrosoftAuthenticatorAndroid(l.ca)
	unattested.Format = virtualauthn.FormatNone
	refusals := []struct {
		name   string
		cfg    virtualauthn.Config
		tamper virtualauthn.Tamper
		code   string
	}{
		{"synced passkey", virtualauthn.GooglePasswordManager(), virtualauthn.Tamper{}, "syncedPasskeyNotAllowed"},
		{"another AAGUID", withResidentKey(virtualauthn.YubiKey5(l.ca)), virtualauthn.Tamper{}, "aaguidNotAllowed"},
		{"unattested", unattested, virtualauthn.Tamper{}, "attestationRequired"},
		{"untrusted attestation", virtualauthn.MicrosoftAuthenticatorIOS(l.ca), virtualauthn.Tamper{UntrustedCA: rogue}, "attestationUntrusted"},
	}
	for _, c := range refusals {
		r := l.register(l.authenticator(c.cfg), c.name, c.tamper)
		if r.status != 403 || r.code() != c.code || r.body["error"].(map[string]any)["message"] == "" {
			t.Errorf("%s: got %d %s, want 403 %s (%s)", c.name, r.status, r.code(), c.code, r.raw)
		}
	}

	// Admin view of the user's passkeys: model, attestation level, type.
	r = l.must("GET", "/v1.0/users/"+admin1+"/authentication/fido2Methods", authAdmin, "", 200)
	got := r.body["value"].([]any)
	if len(got) != 2 {
		t.Fatalf("fido2Methods: %s", r.raw)
	}
	for _, m := range got {
		m := m.(map[string]any)
		if m["model"] == "" || m["attestationLevel"] != "attested" || m["passkeyType"] != "deviceBound" {
			t.Fatalf("fido2Method: %v", m)
		}
	}
	one := l.must("GET", "/v1.0/users/"+admin1+"/authentication/fido2Methods/"+androidID, authAdmin, "", 200)
	if one.body["displayName"] != "Admin phone (Android)" || one.body["aaGuid"] != aaAndroid {
		t.Fatalf("fido2Method: %s", one.raw)
	}
	iosID := ios.body["id"].(string)
	l.refused("DELETE", "/v1.0/users/"+admin1+"/authentication/fido2Methods/"+iosID, authAdmin, "", 403, api.CodeAuthorizationError)
	l.must("DELETE", "/v1.0/users/"+admin1+"/authentication/fido2Methods/"+iosID, privAuthAdmin, "", 204)
	l.refused("GET", "/v1.0/users/"+admin1+"/authentication/fido2Methods/"+iosID, authAdmin, "", 404, "Request_ResourceNotFound")
	if r := l.must("GET", "/me/authentication/fido2Methods", l.session, "", 200); len(r.body["value"].([]any)) != 1 {
		t.Fatalf("me: %s", r.raw)
	}
	l.must("DELETE", "/me/authentication/fido2Methods/"+androidID, l.session, "", 204)
	l.refused("DELETE", "/me/authentication/fido2Methods/"+androidID, l.session, "", 404, "Request_ResourceNotFound")

	// Step 5: self-service off refuses registration at begin.
	l.must("PATCH", fido2Path, apa, `{"isSelfServiceRegistrationAllowed":false}`, 200)
	l.refused("POST", "/webauthn/registration/begin", l.session, `{"displayName":"x"}`, 403, "selfServiceRegistrationDisabled")
	// Outside the targeted group: not enabled for the user.
	l.session, l.userID = l.sessionFor(outsider), outsider
	l.must("PATCH", fido2Path, apa, `{"isSelfServiceRegistrationAllowed":true}`, 200)
	l.refused("POST", "/webauthn/registration/begin", l.session, `{}`, 403, "methodNotEnabledForUser")

	// Step 6: expired and not-yet-valid passes fail, with their reason.
	l.must("DELETE", "/v1.0/users/"+admin1+"/authentication/temporaryAccessPassMethods/"+issued.body["id"].(string), privAuthAdmin, "", 204)
	later := l.issueTAP(admin2, privAuthAdmin, `{"startDateTime":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"}`)
	if later.status != 201 {
		t.Fatal(later.raw)
	}
	if r := l.signInTAP("admin2@lab.example", later.body["temporaryAccessPass"].(string)); r.status != 401 || r.code() != methods.CodeTAPNotYetValid {
		t.Fatalf("not yet valid: %d %s", r.status, r.raw)
	}
	l.must("DELETE", "/v1.0/users/"+admin2+"/authentication/temporaryAccessPassMethods/"+later.body["id"].(string), privAuthAdmin, "", 204)
	now := l.issueTAP(admin2, privAuthAdmin, "")
	l.methods.Now = func() time.Time { return time.Now().Add(61 * time.Minute) }
	if r := l.signInTAP("admin2@lab.example", now.body["temporaryAccessPass"].(string)); r.status != 401 || r.code() != methods.CodeTAPExpired {
		t.Fatalf("expired: %d %s", r.status, r.raw)
	}
	l.methods.Now = time.Now
	r = l.must("GET", "/v1.0/users/"+admin2+"/authentication/temporaryAccessPassMethods/"+now.body["id"].(string), authAdmin, "", 200)
	if r.body["isUsable"] != true {
		t.Fatalf("fresh pass: %s", r.raw)
	}
}

type rawResp struct {
	resp
	cookie bool // the session cookie was set, HttpOnly
}

// rawSignIn is signInTAP that also looks at the response's cookies.
func (l *policyLab) rawSignIn(upn, pass string) rawResp {
	l.t.Helper()
	req, _ := http.NewRequest("POST", l.srv.URL+"/signin/tap", strings.NewReader(fmt.Sprintf(`{"userPrincipalName":%q,"temporaryAccessPass":%q}`, upn, pass)))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := rawResp{resp: resp{status: res.StatusCode, raw: string(raw)}}
	_ = json.Unmarshal(raw, &out.body)
	for _, c := range res.Cookies() {
		if c.Name == api.SessionCookie && c.HttpOnly && c.Value == out.body["sessionToken"] {
			out.cookie = true
		}
	}
	return out
}

// tapLab enables TAP for every user and issues one to a fresh user.
func tapLab(t *testing.T, body string) (*policyLab, string) {
	l := newPolicyLab(t)
	l.must("PATCH", tapPath, l.token(directory.RoleAuthenticationPolicyAdministrator), `{"state":"enabled","isUsableOnce":true,"defaultLength":12}`, 200)
	id := l.user("user@lab.example")
	r := l.issueTAP(id, l.token(directory.RoleAuthenticationAdministrator), body)
	if r.status != 201 {
		t.Fatal(r.raw)
	}
	return l, r.body["temporaryAccessPass"].(string)
}

func TestOneTimeTAPConcurrentRedemptionsExactlyOneSucceeds(t *testing.T) {
	l, pass := tapLab(t, "")
	// The attempt limit is not what this test is about.
	l.methods.MaxFailedAttempts = 0
	var wg sync.WaitGroup
	results := make(chan resp, 100)
	for range 100 {
		wg.Go(func() { results <- l.signInTAP("user@lab.example", pass) })
	}
	wg.Wait()
	close(results)
	ok := 0
	for r := range results {
		switch {
		case r.status == 200:
			ok++
		case r.status == 401 && r.code() == methods.CodeTAPUsed:
		default:
			t.Errorf("unexpected answer: %d %s", r.status, r.raw)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 100 concurrent redemptions succeeded, want exactly 1", ok)
	}
}

func TestTAPAttemptsAreLimitedPerUserAcrossServers(t *testing.T) {
	l, pass := tapLab(t, "")
	// A second server on the same database shares the count.
	first := l.app
	other := l.newServer(nil)
	l.app, l.methods = first, first.Methods
	for i := range methods.DefaultMaxFailedAttempts {
		srv := l.srv
		if i%2 == 1 {
			srv = other
		}
		r := l.doOn(srv, "POST", "/signin/tap", "", `{"userPrincipalName":"user@lab.example","temporaryAccessPass":"wrong-guess-`+fmt.Sprint(i)+`"}`)
		if r.status != 401 || r.code() != methods.CodeInvalidTAP {
			t.Fatalf("guess %d: %d %s", i, r.status, r.raw)
		}
	}
	// Now even the right pass is refused, on either server, until the window passes.
	for _, srv := range []*httptest.Server{l.srv, other} {
		r := l.doOn(srv, "POST", "/signin/tap", "", fmt.Sprintf(`{"userPrincipalName":"user@lab.example","temporaryAccessPass":%q}`, pass))
		if r.status != 429 || r.code() != methods.CodeTooManyAttempts {
			t.Fatalf("after the limit: %d %s", r.status, r.raw)
		}
	}
	l.methods.Now = func() time.Time { return time.Now().Add(methods.DefaultFailureWindow + time.Minute) }
	if r := l.signInTAP("user@lab.example", pass); r.status != 200 {
		t.Fatalf("after the window: %d %s", r.status, r.raw)
	}
}

// TestMethodConfigurationTargetsStoredLowerCase: target ids arrive in any
// case from Graph clients; they are stored as the directory returns them.
func TestMethodConfigurationTargetsStoredLowerCase(t *testing.T) {
	e := newEnv(t)
	apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
	grp := e.mustCreate("/v1.0/groups", e.token(directory.RoleGlobalAdministrator), `{"displayName":"Pilot"}`)
	const configs = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
	for _, c := range []struct{ id, body string }{
		{"temporaryAccessPass", `{"state":"enabled","includeTargets":[{"id":"` + strings.ToUpper(grp) + `","targetType":"group","isRegistrationRequired":false}]}`},
		{"fido2", `{"state":"enabled","includeTargets":[{"id":"` + strings.ToUpper(grp) + `","targetType":"group","isRegistrationRequired":false}]}`},
	} {
		r := e.do("PATCH", configs+c.id, apa, c.body)
		if r.status != 200 || !strings.Contains(r.raw, `"id":"`+grp+`"`) || strings.Contains(r.raw, strings.ToUpper(grp)) {
			t.Errorf("%s: %d %s, want the target id %s", c.id, r.status, r.raw, grp)
		}
	}
}
