package api_test

import (
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods/password"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/signin"
)

// requireMFAForAll stores an enabled policy requiring multifactor
// authentication of every user for every app, through the API. It is saved
// with ?force=true: lockout protection would refuse it, as the lab has no
// emergency-access account to exclude.
func (e *env) requireMFAForAll() {
	e.t.Helper()
	body := `{"displayName":"Require MFA for all users","state":"enabled",
		"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`
	if r := e.do("POST", "/v1.0/identity/conditionalAccess/policies?force=true", e.token(directory.RoleGlobalAdministrator), body); r.status != 201 {
		e.t.Fatalf("storing the MFA policy: %d %s", r.status, r.raw)
	}
}

// browser keeps the session cookie like a browser would.
type browser struct {
	e      *env
	cookie string
}

func (b *browser) post(path, body string) resp {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", "rpserver_session="+b.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "rpserver_session" {
			b.cookie = c.Value
		}
	}
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (b *browser) get(path string) resp {
	req, _ := http.NewRequest("GET", b.e.srv.URL+path, nil)
	if b.cookie != "" {
		req.Header.Set("Cookie", "rpserver_session="+b.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// doWithCookie sends any method with a session cookie.
func (e *env) doWithCookie(method, path, cookie, body string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Cookie", "rpserver_session="+cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func TestPasswordSignInWithoutPolicies(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	if r := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"weak@lab.example","displayName":"W","passwordProfile":{"password":"short"}}`); r.code() != password.CodePolicyViolation {
		t.Fatalf("weak password: %s", r.raw)
	}
	if r := e.do("GET", "/v1.0/users/weak@lab.example", ga, ""); r.status != 404 {
		t.Fatal("a user with a refused password was created")
	}
	if r := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"pat@lab.example","displayName":"Pat","passwordProfile":{"password":"correct horse battery"}}`); r.status != 201 {
		t.Fatal(r.raw)
	}
	b := &browser{e: e}
	begin := b.post("/signin/begin", `{"userPrincipalName":"pat@lab.example"}`)
	if str(begin.body, "status") != "credentialRequired" || begin.body["prompt"].(map[string]any)["method"] != "password" {
		t.Fatalf("begin: %s", begin.raw)
	}
	flow := str(begin.body, "flowToken")
	if r := b.post("/signin/password", `{"flowToken":"`+flow+`","password":"wrong password"}`); r.status != 401 || r.code() != signin.CodeInvalidPassword {
		t.Fatalf("wrong password: %s", r.raw)
	}
	done := b.post("/signin/password", `{"flowToken":"`+flow+`","password":"correct horse battery"}`)
	if str(done.body, "status") != "completed" || b.cookie == "" {
		t.Fatalf("password: %s", done.raw)
	}
	if r := b.get("/me"); r.status != 200 || str(r.body, "userPrincipalName") != "pat@lab.example" {
		t.Fatalf("/me: %s", r.raw)
	}
	if r := b.post("/signin/begin", `{"userPrincipalName":"nobody@lab.example"}`); r.status != 404 || r.code() != signin.CodeUserNotFound {
		t.Fatalf("unknown user: %s", r.raw)
	}
	if r := b.post("/signin/password", `{"flowToken":"forged","password":"x"}`); r.code() != signin.CodeInvalidFlow {
		t.Fatalf("forged flow: %s", r.raw)
	}
}

func TestMFAStepUpPushTOTPPreviouslySatisfiedAndRevoke(t *testing.T) {
	e := newEnv(t)
	e.requireMFAForAll()
	ga := e.token(directory.RoleGlobalAdministrator)
	u := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"mia@lab.example","displayName":"Mia","passwordProfile":{"password":"correct horse battery"}}`)
	if u.status != 201 {
		t.Fatal(u.raw)
	}
	// Mia has only a password: the MFA policy cannot be met, she must register a method.
	b := &browser{e: e}
	begin := b.post("/signin/begin", `{"userPrincipalName":"mia@lab.example"}`)
	r := b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
	if str(r.body, "status") != "stepUpRequired" || str(r.body, "errorCode") != signin.CodeRegistrationRequired {
		t.Fatalf("no MFA method: %s", r.raw)
	}

	// An admin-issued session (as after a TAP) lets her register push and TOTP.
	reg := &browser{e: e, cookie: mustSession(t, e, str(u.body, "id"))}
	push := reg.post("/me/authentication/microsoftAuthenticatorMethods", `{"displayName":"Mia's phone"}`)
	oath := reg.post("/me/authentication/softwareOathMethods", "")
	if push.status != 201 || oath.status != 201 {
		t.Fatalf("register: %s %s", push.raw, oath.raw)
	}
	device := str(push.body, "deviceToken")

	begin = b.post("/signin/begin", `{"userPrincipalName":"mia@lab.example"}`)
	r = b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
	if str(r.body, "status") != "stepUpRequired" || str(r.body, "errorCode") != signin.CodeMFARequired || r.body["prompt"].(map[string]any)["method"] != "microsoftAuthenticatorPush" {
		t.Fatalf("step-up: %s", r.raw)
	}
	flow := str(r.body, "flowToken")
	ch := b.post("/signin/push/begin", `{"flowToken":"`+flow+`"}`)
	id, number := str(ch.body, "pushRequestId"), int(ch.body["numberMatch"].(float64))
	if r := b.post("/signin/push/complete", `{"flowToken":"`+flow+`","pushRequestId":"`+id+`"}`); r.code() != signin.CodePushPending {
		t.Fatalf("pending push: %s", r.raw)
	}
	wrong := (number-10+1)%90 + 10
	if r := b.post("/authenticator/push/respond", `{"deviceToken":"`+device+`","pushRequestId":"`+id+`","numberMatch":`+itoa(wrong)+`}`); r.code() != signin.CodePushNumberMismatch {
		t.Fatalf("wrong number: %s", r.raw)
	}
	if r := b.post("/signin/push/complete", `{"flowToken":"`+flow+`","pushRequestId":"`+id+`"}`); r.code() != signin.CodePushDenied {
		t.Fatalf("denied push: %s", r.raw)
	}
	ch = b.post("/signin/push/begin", `{"flowToken":"`+flow+`"}`)
	id, number = str(ch.body, "pushRequestId"), int(ch.body["numberMatch"].(float64))
	// The phone sees the pending request (without the number: the user reads it on the screen).
	pending := b.post("/authenticator/push/pending", `{"deviceToken":"`+device+`"}`)
	if list, _ := pending.body["value"].([]any); pending.status != 200 || len(list) != 1 || list[0].(map[string]any)["pushRequestId"] != id ||
		list[0].(map[string]any)["numberMatch"] != nil {
		t.Fatalf("pending pushes: %s", pending.raw)
	}
	if r := b.post("/authenticator/push/pending", `{"deviceToken":"not-a-device"}`); r.code() != "invalidDeviceToken" {
		t.Fatalf("pending with an unknown device: %s", r.raw)
	}
	if r := b.post("/authenticator/push/respond", `{"deviceToken":"`+device+`","pushRequestId":"`+id+`","numberMatch":`+itoa(number)+`}`); r.status != 204 {
		t.Fatalf("approve: %s", r.raw)
	}
	done := b.post("/signin/push/complete", `{"flowToken":"`+flow+`","pushRequestId":"`+id+`"}`)
	if str(done.body, "status") != "completed" {
		t.Fatalf("push complete: %s", done.raw)
	}
	detail := done.body["signIn"].(map[string]any)
	if detail["authenticationRequirement"] != "multiFactorAuthentication" || detail["conditionalAccessStatus"] != "success" {
		t.Fatalf("log: %v", detail)
	}

	// TOTP works as the second factor too, and a code works once.
	secret := decodeB32(t, str(oath.body, "secretKey"))
	begin = b.post("/signin/begin", `{"userPrincipalName":"mia@lab.example","applicationId":"00000003-0000-0ff1-ce00-000000000000"}`)
	if str(begin.body, "status") != "completed" {
		t.Fatalf("previously satisfied: %s", begin.raw)
	}
	steps := begin.body["signIn"].(map[string]any)["authenticationDetails"].([]any)
	if steps[0].(map[string]any)["authenticationMethod"] != "Previously satisfied" {
		t.Fatalf("details: %v", steps)
	}
	// A session from a sign-in to SharePoint does not open the portal's own
	// pages: Conditional Access was evaluated for SharePoint, not the portal.
	if r := b.get("/me"); r.status != 401 || r.code() != signin.CodeSessionNotForPortal {
		t.Fatalf("SharePoint session opened the portal: %s", r.raw)
	}
	if r := b.post("/signin/begin", `{"userPrincipalName":"mia@lab.example"}`); str(r.body, "status") != "completed" {
		t.Fatalf("portal sign-in with previously satisfied factors: %s", r.raw)
	}
	if r := b.get("/me"); r.status != 200 {
		t.Fatalf("portal session refused: %s", r.raw)
	}

	// Revoking ends the session: /me refuses it and sign-in starts afresh.
	if r := e.do("POST", "/v1.0/users/"+str(u.body, "id")+"/revokeSignInSessions", ga, ""); r.status != 200 || r.body["value"] != true {
		t.Fatalf("revoke: %s", r.raw)
	}
	if r := b.get("/me"); r.status != 401 || r.code() != signin.CodeSessionRevoked {
		t.Fatalf("revoked session accepted: %s", r.raw)
	}
	begin = b.post("/signin/begin", `{"userPrincipalName":"mia@lab.example"}`)
	if str(begin.body, "status") != "credentialRequired" {
		t.Fatalf("after revoke: %s", begin.raw)
	}
	r = b.post("/signin/password", `{"flowToken":"`+str(begin.body, "flowToken")+`","password":"correct horse battery"}`)
	flow = str(r.body, "flowToken")
	code := totp.Code(secret, totp.StepAt(time.Now()))
	if r := b.post("/signin/totp", `{"flowToken":"`+flow+`","code":"`+code+`"}`); str(r.body, "status") != "completed" {
		t.Fatalf("totp: %s", r.raw)
	}
	if r := b.post("/signin/totp", `{"flowToken":"`+flow+`","code":"`+code+`"}`); r.code() != signin.CodeCodeReused {
		t.Fatalf("replayed code: %s", r.raw)
	}
	if r := b.get("/me"); r.status != 200 {
		t.Fatalf("fresh session after revoke refused: %s", r.raw)
	}
}

func mustSession(t *testing.T, e *env, userID string) string {
	l := &lab{env: e}
	return l.sessionFor(userID)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func decodeB32(t *testing.T, s string) []byte {
	for _, enc := range []string{s, s + "===="} {
		if b, err := b32.DecodeString(enc); err == nil {
			return b
		}
	}
	t.Fatalf("bad base32 %q", s)
	return nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)
