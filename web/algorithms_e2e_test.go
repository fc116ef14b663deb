package web_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/server"
)

// TestBrowserPasskeyAlgorithms registers and signs in with a passkey of
// each offered key algorithm, in Chromium with its virtual authenticator.
// Each lab offers one algorithm, so the authenticator must make that kind
// of key; the key the browser holds is checked afterwards.
func TestBrowserPasskeyAlgorithms(t *testing.T) {
	b := newBrowser(t)
	for _, alg := range []struct {
		name string
		cose int64
		is   func(any) bool
	}{
		{"ES256", ceremony.AlgES256, func(k any) bool { _, ok := k.(*ecdsa.PrivateKey); return ok }},
		{"EdDSA", ceremony.AlgEdDSA, func(k any) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
		{"RS256", ceremony.AlgRS256, func(k any) bool { _, ok := k.(*rsa.PrivateKey); return ok }},
	} {
		t.Run(alg.name, func(t *testing.T) {
			b.t = t
			l := newLabWith(t, server.Config{Algorithms: []int64{alg.cose}})
			b.origin = l.origin
			b.authenticator(false)
			// Every lab is on localhost, and cookies ignore the port: the
			// previous lab's session must not reach this one.
			if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatal(err)
			}
			l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
			upn := strings.ToLower(alg.name) + "@lab.example"
			_, pass := l.userWithTAP(upn, alg.name+" user")

			b.goTo("/signin", "#upn")
			b.do("enter UPN", chromedp.SendKeys(chromedp.ID("upn"), upn), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("tap-form")))
			b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), pass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("register-form")))
			b.do("register", chromedp.Click(chromedp.ID("register")))
			b.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)

			creds, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: b.authID})
			if err != nil || len(creds.Credentials) != 1 {
				t.Fatalf("WebAuthn.getCredentials: %v %+v", err, creds)
			}
			key, err := x509.ParsePKCS8PrivateKey(creds.Credentials[0].PrivateKey)
			if err != nil || !alg.is(key) {
				t.Fatalf("the authenticator made a %T key (%v), want %s", key, err, alg.name)
			}

			b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
			b.goTo("/signin", "#upn") // a fresh page: sign-out's re-render may still be replacing nodes
			b.do("enter UPN again", chromedp.SendKeys(chromedp.ID("upn"), upn), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("passkey-form")))
			b.do("use passkey", chromedp.Click(chromedp.ID("passkey-go")), chromedp.WaitVisible(chromedp.ID("register-form")))
			if who := b.text("#who"); !strings.Contains(who, "Passkey (FIDO2)") {
				t.Errorf("who after %s passkey sign-in: %q", alg.name, who)
			}
			b.shot(fmt.Sprintf("passkey-%s-signed-in", strings.ToLower(alg.name)))
		})
	}
}
