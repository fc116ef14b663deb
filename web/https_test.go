package web_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/labtls"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/tlsreload"
	"github.com/rpserver/rpserver/internal/tokens"
)

// TestBrowserHTTPSWithLabTLS signs in over HTTPS on a real RP ID, the way a
// phone or a laptop on the LAN would: the certificate comes from `rpserver
// lab tls` (its CA and a server certificate for passkeys.lab.example), the
// server serves it through serve's reloader with HTTP/2, and Chromium
// resolves the name to 127.0.0.1 (--host-resolver-rules) and trusts the lab
// CA by its key (--ignore-certificate-errors-spki-list, the headless
// stand-in for installing the CA; with an untrusted CA Chromium would
// refuse WebAuthn on the page). A TAP sign-in registers a passkey on the
// DevTools virtual authenticator, then the passkey signs in.
func TestBrowserHTTPSWithLabTLS(t *testing.T) {
	const rpID = "passkeys.lab.example"
	files, err := labtls.Generate(t.TempDir(), labtls.Options{RPID: rpID})
	if err != nil {
		t.Fatal(err)
	}
	reloader, err := tlsreload.New(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := servertest.NewTLS(t, server.Config{RPID: rpID}, reloader.TLSConfig())
	origin := srv.Config.Origins[0]
	if !strings.HasPrefix(origin, "https://"+rpID+":") {
		t.Fatalf("origin %s", origin)
	}
	caPEM, err := os.ReadFile(files.CA)
	if err != nil {
		t.Fatal(err)
	}

	// The admin's API client trusts the lab CA properly and reaches the
	// RP ID at 127.0.0.1, as a laptop with the hosts line would.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	port := srv.HTTP.Listener.Addr().(*net.TCPAddr).Port
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		},
	}}
	ga, err := srv.Issuer.Mint(tokens.Claims{UPN: "bootstrap@lab.example", Roles: []string{directory.RoleGlobalAdministrator}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, origin: origin, issuer: srv.Issuer, ga: ga, client: client}
	res, err := client.Get(origin + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the lab CA: %v", err)
	}
	res.Body.Close()
	if res.ProtoMajor != 2 {
		t.Fatalf("protocol %s, want HTTP/2", res.Proto)
	}

	block, _ := pem.Decode(caPEM)
	ca, _ := x509.ParseCertificate(block.Bytes)
	spki := sha256.Sum256(ca.RawSubjectPublicKeyInfo)
	b := newBrowser(t,
		chromedp.Flag("host-resolver-rules", "MAP "+rpID+" 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", base64.StdEncoding.EncodeToString(spki[:])))
	b.origin = origin

	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	_, pass := l.userWithTAP("phone@lab.example", "Phone User")

	b.goTo("/signin", "#upn")
	b.waitFor("secure context on the RP ID", `window.isSecureContext && location.hostname === '`+rpID+`' && location.protocol === 'https:'`)
	b.waitFor("served over HTTP/2", `performance.getEntriesByType('navigation')[0].nextHopProtocol === 'h2'`)
	b.shot("https-signin")
	b.do("enter UPN", chromedp.SendKeys(chromedp.ID("upn"), "phone@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), pass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
	b.do("register", chromedp.Click(chromedp.ID("register")))
	b.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)
	b.shot("https-passkey-registered")
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
	b.do("enter UPN again", chromedp.SendKeys(chromedp.ID("upn"), "phone@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("passkey-form")))
	b.do("use passkey", chromedp.Click(chromedp.ID("passkey-go")), chromedp.WaitVisible(chromedp.ID("register-form")))
	if who := b.text("#who"); !strings.Contains(who, "Passkey (FIDO2)") {
		t.Errorf("who after passkey sign-in over HTTPS: %q", who)
	}
	b.shot("https-signed-in-with-passkey")
}
