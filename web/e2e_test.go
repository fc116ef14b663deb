package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
)

func TestMain(m *testing.M) {
	// Request logs would drown the test output; failures still fail tests.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// lab is a real server on a loopback listener, wired as `rpserver serve`
// wires it, with the origin http://localhost:<port> and RP ID localhost
// (Chromium treats http://localhost as a secure context, so WebAuthn works
// without TLS).
type lab struct {
	t      *testing.T
	origin string
	issuer *tokens.Issuer
	ga     string       // a Global Administrator token, as `rpserver admin token` prints
	client *http.Client // nil: http.DefaultClient
}

func newLab(t *testing.T) *lab { return newLabWith(t, server.Config{}) }

// newLabWith is newLab with settings of its own (key algorithms, say).
func newLabWith(t *testing.T, c server.Config) *lab {
	srv := servertest.New(t, c)
	ga, err := srv.Issuer.Mint(tokens.Claims{UPN: "bootstrap@lab.example", Roles: []string{directory.RoleGlobalAdministrator}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &lab{t: t, origin: srv.Config.Origins[0], issuer: srv.Issuer, ga: ga}
}

// call is the admin's side, over HTTP like any API client (no Origin
// header, as curl sends none).
func (l *lab) call(method, path, body string, want int) map[string]any {
	l.t.Helper()
	req, _ := http.NewRequest(method, l.origin+path, strings.NewReader(body))
	if method == "PATCH" {
		// Graph answers PATCH with 204; these tests read the result back.
		req.Header.Set("Prefer", "return=representation")
	}
	req.Header.Set("Authorization", "Bearer "+l.ga)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := l.client
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		l.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func (l *lab) userWithTAP(upn, name string) (id, pass string) {
	u := l.call("POST", "/v1.0/users", fmt.Sprintf(`{"userPrincipalName":%q,"displayName":%q}`, upn, name), 201)
	id = u["id"].(string)
	tap := l.call("POST", "/v1.0/users/"+id+"/authentication/temporaryAccessPassMethods", `{}`, 201)
	return id, tap["temporaryAccessPass"].(string)
}

// chromium finds the browser. Missing, the test fails (CI must run it);
// only a developer who says so with RPSERVER_SKIP_BROWSER=1 may skip.
func chromium(t *testing.T) string {
	if os.Getenv("RPSERVER_SKIP_BROWSER") == "1" && os.Getenv("CI") != "true" {
		t.Skip("RPSERVER_SKIP_BROWSER=1: browser end-to-end test skipped")
	}
	for _, p := range []string{os.Getenv("RPSERVER_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
	}
	t.Fatal("Chromium is not installed: the browser end-to-end test needs it. Install it with " +
		"`scripts/ensure-deps.sh --browser` (or `apt-get install -y chromium`), point RPSERVER_CHROMIUM at a binary, " +
		"or set RPSERVER_SKIP_BROWSER=1 to skip this test locally (never honoured when CI=true)")
	return ""
}

// browser is one headless Chromium tab with a DevTools virtual
// authenticator: a platform authenticator (transport internal) that holds
// resident keys and always verifies the user.
type browser struct {
	t      *testing.T
	ctx    context.Context
	origin string
	authID webauthn.AuthenticatorID
	// autofillScript is the script that hides conditional mediation.
	autofillScript page.ScriptIdentifier
	shots          string
	n              *int // screenshots taken, shared by a browser's contexts
	mu             sync.Mutex
	console        []chromedp.ConsoleMessage
}

// newBrowser starts Chromium; extra adds flags (the HTTPS test's host
// resolver rule and certificate trust).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		// The machine's network is closed: keep Chromium from trying.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser with no deadline
		t.Fatalf("starting Chromium: %v", err)
	}
	return newTab(t, ctx)
}

// otherContext is a second person at another computer: a tab of the same
// Chromium in a browser context of its own (no shared cookies or storage),
// with its own virtual authenticator.
func (b *browser) otherContext() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a browser context: %v", err)
	}
	o := newTab(b.t, ctx)
	o.origin, o.n = b.origin, b.n
	return o
}

// newTab sets up a started tab: console capture, WebAuthn with a virtual
// authenticator, conditional mediation hidden.
func newTab(t *testing.T, ctx context.Context) *browser {
	b := &browser{t: t, ctx: ctx, shots: screenshotDir(t), n: new(int)}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	b.authenticator(false)
	// Chromium's virtual authenticator answers a conditional (autofill)
	// request at once, where a person would pick the passkey from the
	// username field's suggestions; the tests of the typed-name flows run
	// as in a browser without autofill. TestBrowserPasskeyAutofill turns
	// it back on.
	b.autofillScript = b.addScript(`Object.defineProperty(PublicKeyCredential, 'isConditionalMediationAvailable', {configurable: true, value: async () => false});`)
	return b
}

// addScript runs js in every document the tab loads from now on.
func (b *browser) addScript(js string) page.ScriptIdentifier {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
	if err != nil {
		b.t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	return res.Identifier
}

// allowAutofill undoes newBrowser's "no autofill" for the documents loaded
// from now on.
func (b *browser) allowAutofill() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: b.autofillScript}); err != nil {
		b.t.Fatalf("Page.removeScriptToEvaluateOnNewDocument: %v", err)
	}
}

// authenticator replaces the tab's virtual authenticator by a fresh one;
// synced makes its credentials backup eligible and backed up (BE=BS=1), as
// a passkey in a cloud keychain is.
func (b *browser) authenticator(synced bool) {
	b.t.Helper()
	if b.authID != "" {
		if _, err := chromedp.Call(b.ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: b.authID}); err != nil {
			b.t.Fatalf("WebAuthn.removeVirtualAuthenticator: %v", err)
		}
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
			DefaultBackupEligibility: synced, DefaultBackupState: synced,
		}})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	b.authID = res.AuthenticatorID
}

// screenshotDir is artifacts/screenshots at the module root (gitignored),
// kept after the run for people and CI to look at.
func screenshotDir(t *testing.T) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "artifacts", "screenshots")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// do runs actions with a deadline of its own (the browser outlives it).
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed-" + strings.NewReplacer(" ", "-", "/", "-").Replace(what))
		b.t.Fatalf("%s: %v\nstatus: %q\nalert: %q\nconsole: %v", what, err, b.text("#status"), b.text("#alert"), b.consoleText())
	}
}

// waitFor polls a JavaScript condition in the page.
func (b *browser) waitFor(what, js string) {
	b.t.Helper()
	b.do(what, func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return chromedp.Void{}, err
	})
}

func (b *browser) text(sel string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return strings.TrimSpace(s)
}

func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	*b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("e2e-%02d-%s.png", *b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) consoleText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	for _, m := range b.console {
		fmt.Fprintf(&sb, "\n  [%s] %s %s:%d", m.Type, m.Text, m.URL, m.Line+1)
	}
	return sb.String()
}

func (b *browser) goTo(path, waitSel string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.origin+path), chromedp.WaitVisible(chromedp.CSS(waitSel)))
}

func TestBrowserTAPThenPasskey(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin

	// The admin, through the API: one-time TAP on (seed step 6), a user and a pass for them, a
	// report-only phishing-resistant policy for that user (seed steps 6, 8, 9),
	// and an admin account of their own for the admin pages.
	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	aliceID, alicePass := l.userWithTAP("alice@lab.example", "Alice")
	const policyName = "CA001-Alice-AllApps-RequirePhishingResistant_MFA"
	l.call("POST", "/v1.0/identity/conditionalAccess/policies", fmt.Sprintf(`{"displayName":%q,"state":"enabledForReportingButNotEnforced",
		"conditions":{"users":{"includeUsers":[%q]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":[],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004"}}}`, policyName, aliceID), 201)
	adminID, adminPass := l.userWithTAP("admin@lab.example", "Lab Admin")
	l.call("POST", "/v1.0/roleManagement/directory/roleAssignments",
		fmt.Sprintf(`{"principalId":%q,"roleDefinitionId":"Global Administrator","directoryScopeId":"/"}`, adminID), 201)

	// 1. Alice signs in with her TAP: the server prompts for it, as it is
	// all she has.
	b.goTo("/signin", "#upn")
	b.shot("signin-upn")
	b.do("enter UPN", chromedp.SendKeys(chromedp.ID("upn"), "alice@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.shot("signin-tap")
	b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), alicePass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))

	// 2. Security Info: nothing strong yet, so the page nudges to register.
	b.waitFor("nudge shown", `!document.getElementById('nudge').hidden && !document.getElementById('empty').hidden`)
	if who := b.text("#who"); !strings.Contains(who, "alice@lab.example") || !strings.Contains(who, "Temporary Access Pass") {
		t.Errorf("who after TAP: %q", who)
	}
	b.shot("security-info-after-tap")

	// 3. Register a passkey on the virtual authenticator.
	b.do("register", chromedp.Click(chromedp.ID("register")))
	b.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)
	if s := b.text("#status"); !strings.Contains(s, "registered") {
		t.Errorf("status after registration: %q", s)
	}
	b.shot("passkey-registered")

	// 4. Name it.
	const name = "Work laptop passkey"
	b.do("rename", chromedp.Click(chromedp.CSS(`#passkeys-body button.rename`)), chromedp.WaitVisible(chromedp.CSS(`#passkeys-body form.inline input`)))
	b.do("type name", chromedp.Clear(chromedp.CSS(`#passkeys-body form.inline input`)),
		chromedp.SendKeys(chromedp.CSS(`#passkeys-body form.inline input`), name),
		chromedp.Click(chromedp.CSS(`#passkeys-body form.inline button[type=submit]`)))
	b.waitFor("renamed", fmt.Sprintf(`(document.querySelector('#passkeys-body th.name')||{}).textContent === %q`, name))
	b.shot("passkey-renamed")

	// 5. Sign out, then sign in with the passkey: now the server prefers it.
	b.do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
	b.do("enter UPN again", chromedp.SendKeys(chromedp.ID("upn"), "alice@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("passkey-form")))
	b.shot("signin-passkey")
	b.do("use passkey", chromedp.Click(chromedp.ID("passkey-go")), chromedp.WaitVisible(chromedp.ID("register-form")))

	// 6. The passkey is listed, used, and the session says fido2.
	b.waitFor("passkey listed after passkey sign-in", fmt.Sprintf(`(document.querySelector('#passkeys-body th.name')||{}).textContent === %q`, name))
	if who := b.text("#who"); !strings.Contains(who, "Passkey (FIDO2)") {
		t.Errorf("who after passkey sign-in: %q", who)
	}
	if row := b.text("#passkeys-body tr"); strings.Contains(row, "Never") || !strings.Contains(row, "Device-bound") {
		t.Errorf("passkey row after use: %q", row)
	}
	if !b.hidden("#nudge") {
		t.Error("the register nudge still shows after a passkey sign-in")
	}
	b.shot("security-info-after-passkey")

	// 7. Passkey profiles on (seed step 3), the Default profile device-bound
	// only: a synced passkey is refused, and the page shows the stable code.
	const fido2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	l.call("PATCH", fido2, `{"state":"enabled","defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001"}`, 200)
	l.call("PATCH", fido2, `{"passkeyProfiles":[{"id":"00000000-0000-0000-0000-000000000001","name":"Default passkey profile",
		"passkeyTypes":"deviceBound","attestationEnforcement":"disabled","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}},
		{"name":"Admins (not targeted)","passkeyTypes":"deviceBound","attestationEnforcement":"disabled",
		 "keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["90a3ccdf-635c-4729-a248-9b709135078f"]}}]}`, 200)
	b.authenticator(true)
	b.do("register a synced passkey", chromedp.SendKeys(chromedp.ID("passkey-name"), "Cloud keychain"), chromedp.Click(chromedp.ID("register")))
	b.waitFor("refusal shown", `!document.getElementById('alert').hidden`)
	if a := b.text("#alert"); !strings.Contains(a, "syncedPasskeyNotAllowed") {
		t.Errorf("refusal of a synced passkey: %q", a)
	}
	if n := b.text("#passkeys-body"); strings.Contains(n, "Cloud keychain") {
		t.Errorf("refused passkey listed: %q", n)
	}
	b.shot("registration-refused-synced")

	// 8. The admin signs in (TAP) and reads the sign-in logs through the
	// session-to-admin-token exchange, with each event's details.
	b.do("sign out alice", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
	b.do("admin UPN", chromedp.SendKeys(chromedp.ID("upn"), "admin@lab.example"), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.do("admin TAP", chromedp.SendKeys(chromedp.ID("tap"), adminPass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
	b.goTo("/admin/sign-ins", "#get-token")
	b.shot("admin-token")
	b.do("use my session", chromedp.Click(chromedp.ID("get-token")))
	b.waitFor("sign-in log rows", `document.querySelectorAll('table.signins tr.signin').length >= 3`)
	logs := b.text("table.signins")
	for _, want := range []string{"alice@lab.example", "admin@lab.example", "Report-only: success"} {
		if !strings.Contains(logs, want) {
			t.Errorf("sign-in logs lack %q: %q", want, logs)
		}
	}
	// Alice's passkey sign-in is the newest of hers: its details show the
	// policy as report-only success and the passkey step.
	b.do("expand alice's passkey sign-in", chromedp.Click(chromedp.JSPath(
		`[...document.querySelectorAll('tr.signin')].find(r => r.textContent.includes('alice@') && r.textContent.includes('Passkey')).querySelector('button.expand')`)))
	b.waitFor("details open", `[...document.querySelectorAll('tr.detail')].some(r => !r.hidden)`)
	detail := b.text("tr.detail:not([hidden])")
	for _, want := range []string{policyName, "Report-only: success", "Phishing-resistant MFA", "Authentication details", "Passkey (device-bound)", "MFA successfully completed"} {
		if !strings.Contains(detail, want) {
			t.Errorf("sign-in details lack %q: %q", want, detail)
		}
	}
	b.shot("admin-signins-details")

	// 9. The other admin views, with the token kept in sessionStorage.
	b.goTo("/admin/conditional-access", "#view table")
	if ca := b.text("#view"); !strings.Contains(ca, policyName) || !strings.Contains(ca, "Report-only") || !strings.Contains(ca, "alice@lab.example") {
		t.Errorf("CA view: %q", ca)
	}
	b.shot("admin-conditional-access")
	b.goTo("/admin/passkey-profiles", "#view dl")
	if pp := b.text("#view"); !strings.Contains(pp, "Allow only: Microsoft Authenticator (iOS) (90a3ccdf-635c-4729-a248-9b709135078f)") {
		t.Errorf("profiles view names no model: %q", pp)
	}
	b.shot("admin-passkey-profiles")
	b.goTo("/admin/temporary-access-pass", "#view dl")
	if tp := b.text("#view"); !strings.Contains(tp, "On") {
		t.Errorf("TAP view: %q", tp)
	}
	b.shot("admin-tap-policy")

	// 10. The fallback: forget the token, paste one from `rpserver admin token`.
	b.do("forget token", chromedp.Click(chromedp.ID("forget-token")), chromedp.WaitVisible(chromedp.ID("pasted")))
	b.do("paste token", chromedp.SendKeys(chromedp.ID("pasted"), l.ga), chromedp.Click(chromedp.CSS(`#paste-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#view dl")))

	// No page broke its own Content-Security-Policy or threw.
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
			t.Errorf("browser console: [%s] %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
		}
	}
}

func (b *browser) hidden(sel string) bool {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	h, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!(document.querySelector(%q)||{hidden:true}).hidden`, sel)))
	return err == nil && h
}
