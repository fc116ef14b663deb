package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

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

// TestBrowserPasskeyAutofill signs in by passkey autofill (conditional
// mediation): the sign-in page asks the browser for a passkey as soon as
// it loads, and Chromium's virtual authenticator, holding one for the
// site, answers without the user typing a name.
func TestBrowserPasskeyAutofill(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin
	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	_, pass := l.userWithTAP("autofill@lab.example", "Autofill User")

	b.goTo("/signin", "#upn")
	b.do("enter UPN", chromedp.SendKeys(chromedp.ID("upn"), "autofill@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), pass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
	b.do("register", chromedp.Click(chromedp.ID("register")))
	b.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)
	b.waitFor("the model's icon shown", `!!document.querySelector('#passkeys-body td.model')`)
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))

	// A fresh sign-in page: no name typed, no button pressed. The page may
	// be gone to Security info before #upn could be waited for.
	b.allowAutofill()
	b.do("open the sign-in page", chromedp.Navigate(b.origin+"/signin"))
	// The page navigates by itself, so an evaluation may hit the old
	// document: poll, tolerating that.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.pathname === '/security-info' && !!document.getElementById('who') && document.getElementById('who').textContent.includes('Passkey (FIDO2)')`))
		cancel()
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			b.shot("autofill-not-signed-in")
			t.Fatalf("not signed in by autofill: %v; status %q, alert %q", err, b.text("#status"), b.text("#alert"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if who := b.text("#who"); !strings.Contains(who, "autofill@lab.example") {
		t.Errorf("who after autofill: %q", who)
	}
	b.shot("passkey-autofill-signed-in")
}
