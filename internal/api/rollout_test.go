package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/virtualauthn"
)

// The rollout view of a wave group counts its members, those holding a
// passkey the group's profile accepts, and their sign-ins the wave's
// policies failed or would fail, from the same log the impact report reads.
func TestGroupRolloutView(t *testing.T) {
	l := newLab(t)
	ga := l.token(directory.RoleGlobalAdministrator)
	id := map[string]string{}
	for _, name := range []string{"authn", "synced", "nopasskey", "outsider"} {
		u := l.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"`+name+`@lab.example","displayName":"`+name+`","passwordProfile":{"password":"correct horse battery"}}`)
		if u.status != 201 {
			t.Fatal(u.raw)
		}
		id[name] = u.body["id"].(string)
	}
	// Passkeys first, while no FIDO2 policy is written (the open gate):
	// one from Microsoft Authenticator (device-bound), one synced.
	for name, cfg := range map[string]virtualauthn.Config{"authn": virtualauthn.MicrosoftAuthenticatorIOS(l.ca), "synced": virtualauthn.GooglePasswordManager()} {
		l.session = l.sessionFor(id[name])
		if r := l.register(l.authenticator(cfg), name, virtualauthn.Tamper{}); r.status != 200 && r.status != 201 {
			t.Fatalf("register %s: %d %s", name, r.status, r.raw)
		}
	}
	group := func(name string, members ...string) string {
		var ids []string
		for _, m := range members {
			ids = append(ids, `"https://graph.microsoft.com/v1.0/directoryObjects/`+id[m]+`"`)
		}
		g := l.do("POST", "/v1.0/groups", ga, fmt.Sprintf(`{"displayName":%q,"mailNickname":%q,"securityEnabled":true,"mailEnabled":false,"members@odata.bind":%s}`, name, name, "["+strings.Join(ids, ",")+"]"))
		if g.status != 201 {
			t.Fatal(g.raw)
		}
		return g.body["id"].(string)
	}
	wave := group("GRP-Wave1", "authn", "synced", "nopasskey")
	other := group("GRP-Other", "outsider")
	empty := group("GRP-Empty")

	// The wave's profile: device-bound Microsoft Authenticator only.
	const fido2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	if r := l.do("PATCH", fido2, ga, `{"state":"enabled","defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001"}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	if r := l.do("PATCH", fido2, ga, `{"passkeyProfiles":[{"id":"00000000-0000-0000-0000-000000000001","name":"Default passkey profile",
		"passkeyTypes":"deviceBound,synced","attestationEnforcement":"disabled","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}},
		{"id":"11111111-1111-1111-1111-111111111111","name":"Authenticator only","passkeyTypes":"deviceBound","attestationEnforcement":"disabled",
		 "keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["90a3ccdf-635c-4729-a248-9b709135078f","de1e552d-db1d-4423-a619-566b625cdc84"]}}],
		"includeTargets":[{"id":"`+wave+`","targetType":"group","isRegistrationRequired":false,"allowedPasskeyProfiles":["11111111-1111-1111-1111-111111111111"]}]}`); r.status != 200 {
		t.Fatal(r.raw)
	}
	// Wave policies: a report-only block for the wave, a report-only MFA
	// policy for the wave that excludes one member, and a policy for
	// another group (not the wave's).
	policy := func(name, users string, grant string) string {
		p := l.do("POST", "/v1.0/identity/conditionalAccess/policies", ga, `{"displayName":"`+name+`","state":"enabledForReportingButNotEnforced",
			"conditions":{"users":`+users+`,"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
			"grantControls":{"operator":"OR","builtInControls":["`+grant+`"]}}`)
		if p.status != 201 {
			t.Fatalf("policy %s: %s", name, p.raw)
		}
		return p.body["id"].(string)
	}
	block := policy("CA-Wave1-Block", `{"includeGroups":["`+wave+`"]}`, "block")
	mfa := policy("CA-Wave1-MFA", `{"includeGroups":["`+wave+`"],"excludeUsers":["`+id["nopasskey"]+`"]}`, "mfa")
	otherBlock := policy("CA-Other-Block", `{"includeGroups":["`+other+`"]}`, "block")

	signIn := func(name string) {
		t.Helper()
		b := &browser{e: l.env}
		begin := b.post("/signin/begin", `{"userPrincipalName":"`+name+`@lab.example"}`)
		if r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`); str(r.body, "status") != "completed" {
			t.Fatalf("%s: report-only must not block: %s", name, r.raw)
		}
	}
	signIn("nopasskey")
	signIn("nopasskey")
	signIn("outsider")

	reader := l.token(directory.RoleReportsReader)
	past := "?startDateTime=" + time.Now().Add(-72*time.Hour).UTC().Format(time.RFC3339) + "&endDateTime=" + time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339)
	type member struct{ passkeys, allowed, signIns, fail int }
	tests := []struct {
		name, path, token string
		status            int
		code              string
		members, allowed  int
		signIns, fail     int
		policies          map[string]map[string]int // policy id -> result -> count
		memberStatus      map[string]member
		notApplicable     string
	}{
		{name: "the wave, last 7 days", path: "/v1.0/groups/" + wave + "/passkeyRollout", token: reader, status: 200,
			members: 3, allowed: 1, signIns: 2, fail: 2,
			policies:     map[string]map[string]int{block: {"reportOnlyFailure": 2}, mfa: {"reportOnlyNotApplied": 2, "reportOnlyFailure": 0}},
			memberStatus: map[string]member{"authn@lab.example": {1, 1, 0, 0}, "synced@lab.example": {1, 0, 0, 0}, "nopasskey@lab.example": {0, 0, 2, 2}}},
		{name: "the wave, a window before the sign-ins", path: "/beta/groups/" + wave + "/passkeyRollout" + past, token: ga, status: 200,
			members: 3, allowed: 1, policies: map[string]map[string]int{block: {"reportOnlyFailure": 0}, mfa: {}}},
		{name: "a group the passkey method does not target", path: "/v1.0/groups/" + other + "/passkeyRollout", token: reader, status: 200,
			members: 1, signIns: 1, fail: 1, notApplicable: "methodNotEnabledForUser", policies: map[string]map[string]int{otherBlock: {"reportOnlyFailure": 1}}, memberStatus: map[string]member{"outsider@lab.example": {0, 0, 1, 1}}},
		{name: "no members, no wave policy", path: "/v1.0/groups/" + empty + "/passkeyRollout", token: reader, status: 200, notApplicable: "methodNotEnabledForUser"},
		{name: "unknown group", path: "/v1.0/groups/00000000-0000-0000-0000-0000000000aa/passkeyRollout", token: reader, status: 404},
		{name: "not a group id", path: "/v1.0/groups/wave1/passkeyRollout", token: reader, status: 400, code: directory.CodeInvalidID},
		{name: "unknown query option", path: "/v1.0/groups/" + wave + "/passkeyRollout?$top=1", token: reader, status: 400, code: "Request_UnsupportedQuery"},
		{name: "window too long", path: "/v1.0/groups/" + wave + "/passkeyRollout?startDateTime=2020-01-01T00:00:00Z", token: reader, status: 400, code: "invalidReportWindow"},
		{name: "bad time", path: "/v1.0/groups/" + wave + "/passkeyRollout?endDateTime=tomorrow", token: reader, status: 400, code: "BadRequest"},
		{name: "a role that reads no reports", path: "/v1.0/groups/" + wave + "/passkeyRollout", token: l.token(directory.RoleUserAdministrator), status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := l.do("GET", tc.path, tc.token, "")
			if r.status != tc.status || (tc.code != "" && r.code() != tc.code) {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if r.status != 200 {
				return
			}
			num := func(k string) int { f, _ := r.body[k].(float64); return int(f) }
			if num("members") != tc.members || num("membersWithAllowedPasskey") != tc.allowed || num("signIns") != tc.signIns || num("signInsThatWouldFail") != tc.fail {
				t.Fatalf("counts: %s", r.raw)
			}
			if got, _ := r.body["passkeyNotApplicableReason"].(string); got != tc.notApplicable {
				t.Fatalf("passkey reason %q: %s", got, r.raw)
			}
			if r.body["readyToEnforce"] != false {
				t.Fatalf("ready with members lacking passkeys or failing sign-ins: %s", r.raw)
			}
			ps := r.body["policies"].([]any)
			if len(ps) != len(tc.policies) {
				t.Fatalf("wave policies: %s", r.raw)
			}
			for _, p := range ps {
				p := p.(map[string]any)
				want, ok := tc.policies[p["id"].(string)]
				if !ok {
					t.Fatalf("not a wave policy: %v", p)
				}
				for res, n := range want {
					if got := p["results"].(map[string]any)[res]; got != float64(n) {
						t.Errorf("%s %s: %v, want %d", p["displayName"], res, got, n)
					}
				}
			}
			for _, m := range r.body["memberStatus"].([]any) {
				m := m.(map[string]any)
				want, ok := tc.memberStatus[m["userPrincipalName"].(string)]
				if tc.memberStatus == nil {
					continue
				}
				got := member{int(m["passkeys"].(float64)), int(m["allowedPasskeys"].(float64)), int(m["signIns"].(float64)), int(m["signInsThatWouldFail"].(float64))}
				if !ok || got != want {
					t.Errorf("member %v: %+v, want %+v", m["userPrincipalName"], got, want)
				}
			}
		})
	}
}
