package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rpserver/rpserver/internal/demoapp"
	"github.com/rpserver/rpserver/internal/oidc"
)

// demo is a demoapp instance registered in the lab and served on
// http://localhost:<port> (same-site with the lab, as the session cookie is
// SameSite=Strict).
type demo struct {
	appID string
	url   string
}

func (l *lab) startDemo(t *testing.T, name string) demo {
	t.Helper()
	hs := httptest.NewUnstartedServer(nil)
	base := fmt.Sprintf("http://localhost:%d", hs.Listener.Addr().(*net.TCPAddr).Port)
	ctx := context.Background()
	reg, err := demoapp.Register(ctx, l.origin, l.ga, name, base)
	if err != nil {
		t.Fatal(err)
	}
	app, err := demoapp.New(ctx, demoapp.Config{Issuer: l.origin + "/" + oidc.DefaultTenantID + "/v2.0", ClientID: reg.AppID,
		ClientSecret: reg.Secret, BaseURL: base, Name: name, AuthContext: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = app
	hs.Start()
	t.Cleanup(hs.Close)
	return demo{appID: reg.AppID, url: base}
}

// newestSignIn is the latest sign-in log record for an app.
func (l *lab) newestSignIn(appID string) map[string]any {
	l.t.Helper()
	out := l.call("GET", "/v1.0/auditLogs/signIns?$top=1&$filter="+url.QueryEscape("appId eq '"+appID+"'"), "", 200)
	list, _ := out["value"].([]any)
	if len(list) == 0 {
		l.t.Fatalf("no sign-in logged for app %s", appID)
	}
	return list[0].(map[string]any)
}

func policyResult(rec map[string]any, policyID string) string {
	for _, p := range rec["appliedConditionalAccessPolicies"].([]any) {
		m := p.(map[string]any)
		if m["id"] == policyID {
			s, _ := m["result"].(string)
			return s
		}
	}
	return ""
}

func TestBrowserOIDCDemoApps(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin

	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	aliceID, alicePass := l.userWithTAP("alice@lab.example", "Alice")
	hr := l.startDemo(t, "Contoso HR")
	wiki := l.startDemo(t, "Contoso Wiki")

	// 1. Alice bootstraps a passkey with her TAP (portal, Security info).
	b.goTo("/signin", "#upn")
	b.do("enter UPN", chromedp.SendKeys(chromedp.ID("upn"), "alice@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), alicePass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
	b.do("register", chromedp.Click(chromedp.ID("register")))
	b.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))

	// 2. A report-only policy for Contoso HR (its real app id): MFA.
	pol := l.call("POST", "/v1.0/identity/conditionalAccess/policies", fmt.Sprintf(`{"displayName":"CA020-ContosoHR-RequireMFA","state":"enabledForReportingButNotEnforced",
		"conditions":{"users":{"includeUsers":[%q]},"applications":{"includeApplications":[%q]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`, aliceID, hr.appID), 201)
	polID := pol["id"].(string)

	// 3. Alice opens Contoso HR: the lab's sign-in, with her passkey, then
	// back to the app, which verified the id_token with go-oidc.
	signInWithPasskey := func(what string, known bool) {
		if !known { // a known user (login_hint, a session) skips this
			b.do(what+": UPN", chromedp.WaitVisible(chromedp.ID("upn")), chromedp.SendKeys(chromedp.ID("upn"), "alice@lab.example"),
				chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)))
		}
		b.do(what+": passkey", chromedp.WaitVisible(chromedp.ID("passkey-form")), chromedp.Click(chromedp.ID("passkey-go")))
	}
	b.do("open Contoso HR", chromedp.Navigate(hr.url+"/login"))
	signInWithPasskey("Contoso HR", false)
	b.do("signed in to Contoso HR", chromedp.WaitVisible(chromedp.ID("signed-in")))
	if upn := b.text("#upn"); upn != "alice@lab.example" {
		t.Fatalf("Contoso HR shows %q", upn)
	}
	if amr := b.text(`td[data-claim=amr]`); !strings.Contains(amr, "fido") || !strings.Contains(amr, "mfa") {
		t.Errorf("amr: %s", amr)
	}
	if oid := b.text(`td[data-claim=oid]`); !strings.Contains(oid, aliceID) {
		t.Errorf("oid: %s", oid)
	}
	b.shot("oidc-contoso-hr-signed-in")
	rec := l.newestSignIn(hr.appID)
	if got := policyResult(rec, polID); got != "reportOnlySuccess" || rec["appDisplayName"] != "Contoso HR" {
		t.Errorf("report-only policy in the log: %q, app %v", got, rec["appDisplayName"])
	}

	// 4. Enabled, the policy applies to the next sign-in (prompt=login).
	l.call("PATCH", "/v1.0/identity/conditionalAccess/policies/"+polID, `{"state":"enabled"}`, 200)
	b.do("sign in again", chromedp.Click(chromedp.ID("relogin")))
	signInWithPasskey("Contoso HR again", true)
	b.do("signed in to Contoso HR again", chromedp.WaitVisible(chromedp.ID("signed-in")))
	if got := policyResult(l.newestSignIn(hr.appID), polID); got != "success" {
		t.Errorf("enabled policy in the log: %q", got)
	}

	// 5. Contoso Wiki: single sign-on, "Previously satisfied" in its log.
	b.do("open Contoso Wiki: signed in without a prompt", chromedp.Navigate(wiki.url+"/login"), chromedp.WaitVisible(chromedp.ID("signed-in")))
	b.shot("oidc-contoso-wiki-sso")
	rec = l.newestSignIn(wiki.appID)
	details, _ := rec["authenticationDetails"].([]any)
	if len(details) == 0 || details[0].(map[string]any)["authenticationMethod"] != "Previously satisfied" {
		t.Errorf("SSO sign-in details: %v", details)
	}

	// 6. The sensitive action asks for c1; a policy for c1 wants
	// phishing-resistant MFA performed now: a fresh passkey.
	l.call("PATCH", "/v1.0/identity/conditionalAccess/authenticationContextClassReferences/c1", `{"displayName":"Sensitive actions","isAvailable":true}`, 201)
	l.call("POST", "/v1.0/identity/conditionalAccess/policies", fmt.Sprintf(`{"displayName":"CA030-c1-PhishingResistantEveryTime","state":"enabled",
		"conditions":{"users":{"includeUsers":[%q]},"applications":{"includeAuthenticationContextClassReferences":["c1"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":[],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}},
		"sessionControls":{"signInFrequency":{"isEnabled":true,"frequencyInterval":"everyTime","authenticationType":"primaryAndSecondaryAuthentication"}}}`, aliceID), 201)
	b.do("back to Contoso HR", chromedp.Navigate(hr.url+"/"), chromedp.WaitVisible(chromedp.ID("sensitive")))
	b.do("sensitive action", chromedp.Click(chromedp.ID("sensitive")), chromedp.WaitVisible(chromedp.ID("passkey-form")))
	b.shot("oidc-step-up")
	b.do("step up with the passkey", chromedp.Click(chromedp.ID("passkey-go")), chromedp.WaitVisible(chromedp.ID("done")))
	if acrs := b.text(`td[data-claim=acrs]`); !strings.Contains(acrs, "c1") {
		t.Errorf("acrs after step-up: %s", acrs)
	}
	b.shot("oidc-sensitive-done")
	rec = l.newestSignIn(hr.appID)
	if refs, _ := rec["authenticationContextClassReferences"].([]any); len(refs) != 1 || refs[0].(map[string]any)["id"] != "c1" {
		t.Errorf("authentication contexts in the log: %v", rec["authenticationContextClassReferences"])
	}

	// 7. Revocation: the next app sign-in is a fresh one, no SSO.
	l.call("POST", "/v1.0/users/"+aliceID+"/revokeSignInSessions", "", 200)
	b.do("open Contoso Wiki after revocation", chromedp.Navigate(wiki.url+"/login"), chromedp.WaitVisible(chromedp.ID("upn")))
	if u := b.text("#heading"); !strings.Contains(u, "Sign in") {
		t.Errorf("after revocation: %q", u)
	}
	b.shot("oidc-after-revocation")
}
