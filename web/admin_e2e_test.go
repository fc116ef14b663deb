package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Admin-page helpers. Forms follow docs/web.md's selectors:
// [data-form=<name>], inputs named by the Graph property, buttons
// [data-action=<verb>], the result region [data-result], an error
// p.error[data-code].

func formSel(form string) string { return fmt.Sprintf(`[data-form=%q]`, form) }

// fill types value into a form's text or number input (emptied first).
func (b *browser) fill(form, name, value string) {
	b.t.Helper()
	sel := fmt.Sprintf(`%s [name=%q]`, formSel(form), name)
	b.waitFor("empty "+form+"."+name, fmt.Sprintf(`(() => { const i = document.querySelector(%q); if (!i) return false; i.value = ''; return true; })()`, sel))
	b.do("fill "+form+"."+name, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// choose selects the options with these labels in a form's select (all
// others deselected in a multiple select), as a person picking them would.
func (b *browser) choose(form, name string, labels ...string) {
	b.t.Helper()
	want, _ := json.Marshal(labels)
	js := fmt.Sprintf(`(() => {
		const s = document.querySelector(%q + ' select[name=%q]');
		if (!s) return false;
		const want = %s;
		let n = 0;
		for (const o of s.options) { o.selected = want.includes(o.textContent.trim()); if (o.selected) n++; }
		s.dispatchEvent(new Event('change', {bubbles: true}));
		return n === want.length;
	})()`, formSel(form), name, want)
	b.waitFor("choose "+form+"."+name+" "+strings.Join(labels, ", "), js)
}

// tick sets a form's checkbox.
func (b *browser) tick(form, name string, on bool) {
	b.t.Helper()
	b.waitFor("tick "+form+"."+name, fmt.Sprintf(`(() => { const c = document.querySelector(%q + ' input[type=checkbox][name=%q]'); if (!c) return false; c.checked = %v; return true; })()`, formSel(form), name, on))
}

// submit sends a form and waits until done (a JavaScript condition) holds;
// an error shown by the form instead fails the test with its code.
func (b *browser) submit(form, done string) {
	b.t.Helper()
	b.do("submit "+form, chromedp.Click(chromedp.CSS(formSel(form)+` button[type=submit]`)))
	b.waitFor("after "+form, fmt.Sprintf(`!!(%s) || !!document.querySelector(%q)`, done, formSel(form)+" p.error"))
	if e := b.text(formSel(form) + " p.error"); e != "" && !b.holds(done) {
		b.shot("failed-" + form)
		b.t.Fatalf("form %s refused: %s", form, e)
	}
}

// refused submits a form expecting the server's refusal with code.
func (b *browser) refused(form, code string) {
	b.t.Helper()
	b.do("submit "+form, chromedp.Click(chromedp.CSS(formSel(form)+` button[type=submit]`)))
	sel := formSel(form) + ` p.error`
	b.waitFor("refusal of "+form, fmt.Sprintf(`!!document.querySelector(%q)`, sel))
	if got := b.attr(sel, "data-code"); got != code {
		b.t.Fatalf("form %s: refused with %q (%s), want %s", form, got, b.text(sel), code)
	}
	if txt := b.text(sel); !strings.HasPrefix(txt, code+": ") || len(txt) <= len(code)+2 {
		b.t.Errorf("form %s: the error does not read 'code: message': %q", form, txt)
	}
}

func (b *browser) holds(js string) bool {
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+js+`)`))
	return err == nil && ok
}

func (b *browser) attr(sel, name string) string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{getAttribute:()=>''}).getAttribute(%q)||''`, sel, name)))
	return s
}

// click clicks an element found by a JavaScript expression.
func (b *browser) click(what, js string) {
	b.t.Helper()
	b.waitFor(what+" present", `!!(`+js+`)`)
	b.do(what, chromedp.Click(chromedp.JSPath(js)))
}

// follow opens the link a JavaScript expression finds, and waits for
// waitSel on the page it leads to (polling across a navigation that a
// click starts loses its JavaScript context).
func (b *browser) follow(what, js, waitSel string) {
	b.t.Helper()
	b.waitFor(what+" present", `!!(`+js+`)`)
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(`+js+`).getAttribute('href')`))
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	b.goTo(href, waitSel)
}

func (b *browser) signInWithTAP(upn, pass string) {
	b.t.Helper()
	b.goTo("/signin", "#upn")
	b.do("enter UPN "+upn, chromedp.SendKeys(chromedp.ID("upn"), upn), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("tap-form")))
	b.do("enter TAP", chromedp.SendKeys(chromedp.ID("tap"), pass), chromedp.Click(chromedp.CSS(`#tap-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("register-form")))
}

const (
	pilotGroup     = "GRP-Pilot-Passkey-Users"
	pilotProfile   = "Passkey – Admins – Microsoft Authenticator"
	msAuthIOS      = "90a3ccdf-635c-4729-a248-9b709135078f"
	msAuthAndroid  = "de1e552d-db1d-4423-a619-566b625cdc84"
	defaultProfile = "Default passkey profile"
)

// TestBrowserAdminRollout plays the seed scenario's admin side in the
// admin pages (docs/web.md): after the bootstrap every change is made in
// the pages; the API is only read, to check results.
// adminSignsIn bootstraps as the other browser tests do (TAP on, an
// administrator with a pass and the Global Administrator role), signs the
// administrator in with the pass and takes an admin token in the page.
func (b *browser) adminSignsIn(l *lab) (adminID string) {
	b.t.Helper()
	l.call("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled","isUsableOnce":true}`, 200)
	adminID, adminPass := l.userWithTAP("admin@lab.example", "Lab Admin")
	l.call("POST", "/v1.0/roleManagement/directory/roleAssignments",
		fmt.Sprintf(`{"principalId":%q,"roleDefinitionId":"Global Administrator","directoryScopeId":"/"}`, adminID), 201)
	b.signInWithTAP("admin@lab.example", adminPass)
	b.goTo("/admin", "#get-token")
	b.do("use my session", chromedp.Click(chromedp.ID("get-token")))
	b.waitFor("overview tiles", `document.querySelectorAll('#view .tiles li').length >= 7`)
	return adminID
}

func TestBrowserAdminRollout(t *testing.T) {
	b := newBrowser(t)
	l := newLab(t)
	b.origin = l.origin

	// 1. The admin signs in with a pass and takes an admin token.
	b.adminSignsIn(l)
	b.shot("admin-overview")

	// 2. Users: the pilot users.
	b.goTo("/admin/users", formSel("create-user"))
	for _, u := range [][2]string{{"megan@lab.example", "Megan Bowen"}, {"adele@lab.example", "Adele Vance"}} {
		b.fill("create-user", "userPrincipalName", u[0])
		b.fill("create-user", "displayName", u[1])
		b.submit("create-user", fmt.Sprintf(`document.querySelector('tr[data-user=%q]')`, u[0]))
	}
	// A refusal shows the server's code: the UPN is taken.
	b.fill("create-user", "userPrincipalName", "MEGAN@lab.example")
	b.fill("create-user", "displayName", "Megan again")
	b.refused("create-user", "duplicateUserPrincipalName")
	// Disabling asks in the page first; then Adele is enabled again.
	b.click("disable adele", `document.querySelector('tr[data-user="adele@lab.example"] button[data-action="disable"]')`)
	b.click("confirm", `document.querySelector('tr[data-user="adele@lab.example"] button[data-action="confirm"]')`)
	b.waitFor("adele disabled", `!!document.querySelector('tr[data-user="adele@lab.example"] button[data-action="enable"]')`)
	if row := b.text(`tr[data-user="adele@lab.example"]`); !strings.Contains(row, "Off") {
		t.Errorf("adele's row after disabling: %q", row)
	}
	b.click("enable adele", `document.querySelector('tr[data-user="adele@lab.example"] button[data-action="enable"]')`)
	b.waitFor("adele enabled", `!!document.querySelector('tr[data-user="adele@lab.example"] button[data-action="disable"]')`)
	b.shot("admin-users")

	// 3. The pilot group with both users.
	b.goTo("/admin/groups", formSel("create-group"))
	b.fill("create-group", "displayName", pilotGroup)
	b.submit("create-group", fmt.Sprintf(`document.querySelector('tr[data-group=%q] a')`, pilotGroup))
	b.follow("open the group", fmt.Sprintf(`document.querySelector('tr[data-group=%q] a')`, pilotGroup), formSel("add-member"))
	for _, upn := range []string{"megan@lab.example", "adele@lab.example"} {
		b.fill("add-member", "userPrincipalName", upn)
		b.submit("add-member", fmt.Sprintf(`document.querySelector('tr[data-member=%q]')`, upn))
	}
	b.fill("add-member", "userPrincipalName", "admin@lab.example")
	b.submit("add-member", `document.querySelector('tr[data-member="admin@lab.example"]')`)
	b.click("remove admin from the group", `document.querySelector('tr[data-member="admin@lab.example"] button[data-action="remove-member"]')`)
	b.waitFor("admin removed", `!document.querySelector('tr[data-member="admin@lab.example"]') && document.querySelectorAll('tr[data-member]').length === 2`)
	b.fill("add-member", "userPrincipalName", "nobody@lab.example")
	b.refused("add-member", "Request_ResourceNotFound")
	b.shot("admin-group")

	// 4. TAP policy for the pilot group (seed step 6): 60..480 minutes,
	// default 60, one-time, 12 characters; out of bounds is refused.
	b.goTo("/admin/temporary-access-pass", formSel("tap-policy"))
	b.fill("tap-policy", "defaultLength", "7")
	b.refused("tap-policy", "lengthOutOfBounds")
	b.fill("tap-policy", "minimumLifetimeInMinutes", "60")
	b.fill("tap-policy", "maximumLifetimeInMinutes", "480")
	b.fill("tap-policy", "defaultLifetimeInMinutes", "60")
	b.fill("tap-policy", "defaultLength", "12")
	b.tick("tap-policy", "isUsableOnce", true)
	b.choose("tap-policy", "state", "On")
	b.choose("tap-policy", "includeTargets", pilotGroup)
	b.submit("tap-policy", `document.getElementById('status').textContent.includes('TAP policy saved')`)
	if v := b.text("#view dl"); !strings.Contains(v, "Length12") || !strings.Contains(v, "One-time useYes") {
		t.Errorf("TAP policy after saving: %q", v)
	}
	b.shot("admin-temporary-access-pass")

	// 5. Passkey profiles (seed steps 3-5): the method on with self-service
	// setup, profiles enabled, the Microsoft Authenticator profile picked
	// from the catalog, targeted at the pilot group instead of everyone.
	b.goTo("/admin/passkey-profiles", formSel("fido2-settings"))
	b.choose("fido2-settings", "state", "On")
	b.tick("fido2-settings", "isSelfServiceRegistrationAllowed", true)
	b.tick("fido2-settings", "enablePasskeyProfiles", true)
	b.submit("fido2-settings", `document.querySelector('[data-form="passkey-profile"]')`)
	b.fill("passkey-profile", "name", pilotProfile)
	b.choose("passkey-profile", "passkeyTypes", "Device-bound only")
	b.choose("passkey-profile", "attestationEnforcement", "Enforced at registration")
	b.tick("passkey-profile", "isEnforced", true)
	b.choose("passkey-profile", "enforcementType", "Allow only these models")
	b.do("search the catalog", chromedp.SendKeys(chromedp.CSS(`[data-picker-search]`), "Microsoft Authenticator"))
	for _, a := range []string{msAuthIOS, msAuthAndroid} {
		b.click("pick "+a, fmt.Sprintf(`document.querySelector('[data-picker-results] button[data-action="pick"][data-aaguid=%q]')`, a))
		b.waitFor("chip "+a, fmt.Sprintf(`!!document.querySelector('[data-picked] li[data-aaguid=%q]')`, a))
	}
	if chips := b.text("[data-picked]"); !strings.Contains(chips, "Microsoft Authenticator (iOS)") || !strings.Contains(chips, "Microsoft Authenticator (Android)") {
		t.Errorf("picked models: %q", chips)
	}
	b.shot("admin-passkey-profiles-picker")
	b.submit("passkey-profile", fmt.Sprintf(`document.querySelector('tr[data-profile=%q]')`, pilotProfile))
	row := b.text(fmt.Sprintf(`tr[data-profile=%q]`, pilotProfile))
	for _, want := range []string{"Device-bound", "Enforced at registration", "Allow only", "Microsoft Authenticator (iOS) (" + msAuthIOS + ")", "Microsoft Authenticator (Android) (" + msAuthAndroid + ")"} {
		if !strings.Contains(row, want) {
			t.Errorf("profile row lacks %q: %q", want, row)
		}
	}
	// Editing shows the stored models and saves them back unchanged.
	b.click("edit the profile", fmt.Sprintf(`document.querySelector('tr[data-profile=%q] button[data-action="edit"]')`, pilotProfile))
	b.waitFor("editor filled", fmt.Sprintf(`document.querySelectorAll('[data-form="passkey-profile"] [data-picked] li[data-aaguid]').length === 2 && document.querySelector('[data-form="passkey-profile"] input[name="name"]').value === %q`, pilotProfile))
	b.submit("passkey-profile", `document.getElementById('status').textContent.includes('Profile saved')`)
	if r := b.text(fmt.Sprintf(`tr[data-profile=%q]`, pilotProfile)); r != row {
		t.Errorf("profile row changed by an unchanged edit: %q, was %q", r, row)
	}
	// A profile that is not wanted after all is deleted (asked first).
	b.fill("passkey-profile", "name", "Scratch profile")
	b.submit("passkey-profile", `document.querySelector('tr[data-profile="Scratch profile"]')`)
	b.click("delete the scratch profile", `document.querySelector('tr[data-profile="Scratch profile"] button[data-action="delete"]')`)
	b.click("confirm deletion", `document.querySelector('tr[data-profile="Scratch profile"] button[data-action="confirm"]')`)
	b.waitFor("scratch profile gone", `!document.querySelector('tr[data-profile="Scratch profile"]') && !!document.querySelector('tr[data-profile]')`)
	b.click("remove the all-users target", `document.querySelector('tr[data-target="All users"] button[data-action="remove-target"]')`)
	b.waitFor("all users no longer targeted", `!document.querySelector('tr[data-target="All users"]')`)
	b.choose("passkey-target", "id", pilotGroup)
	b.choose("passkey-target", "allowedPasskeyProfiles", pilotProfile)
	b.submit("passkey-target", fmt.Sprintf(`document.querySelector('tr[data-target=%q]')`, pilotGroup))
	b.shot("admin-passkey-profiles")

	// 6. A pass for Megan, from her page: shown once, with a copy button.
	b.goTo("/admin/users", `tr[data-user="megan@lab.example"]`)
	b.follow("open megan", `document.querySelector('tr[data-user="megan@lab.example"] a')`, formSel("issue-tap"))
	b.shot("admin-user")
	b.submit("issue-tap", `document.querySelector('[data-tap-value]')`)
	pass := b.text("[data-tap-value]")
	if len(pass) != 12 {
		t.Fatalf("TAP %q: want the policy's 12 characters", pass)
	}
	b.do("copy", chromedp.Click(chromedp.CSS(`[data-tap] button[data-action="copy"]`)))
	b.waitFor("copied", `/Copied|Selected/.test(document.querySelector('[data-tap]').textContent)`)
	b.shot("admin-user-tap")
	// Never kept by the page: gone after leaving, in no storage.
	b.goTo("/admin/users", `tr[data-user="megan@lab.example"]`)
	b.do("back to megan", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS(formSel("issue-tap"))))
	if b.holds(fmt.Sprintf(`document.body.textContent.includes(%q) || JSON.stringify(Object.assign({}, sessionStorage, localStorage)).includes(%q)`, pass, pass)) {
		t.Error("the pass is still in the page or its storage after leaving it")
	}

	// 7. Megan, at her own computer, signs in with the pass. The lab
	// browser's authenticator is no Microsoft Authenticator: the pilot
	// profile refuses it with its reason.
	u := b.otherContext()
	u.signInWithTAP("megan@lab.example", pass)
	u.shot("pilot-security-info")
	u.do("register refused", chromedp.Click(chromedp.ID("register")))
	u.waitFor("refusal shown", `!document.getElementById('alert').hidden`)
	if a := u.text("#alert"); !strings.Contains(a, "aaguidNotAllowed") {
		t.Errorf("registration under the Microsoft Authenticator profile: %q", a)
	}
	u.shot("pilot-registration-refused")

	// 8. The admin lets the pilot group use the Default profile too, then
	// Megan registers.
	b.goTo("/admin/passkey-profiles", formSel("passkey-target"))
	b.choose("passkey-target", "id", pilotGroup)
	b.choose("passkey-target", "allowedPasskeyProfiles", pilotProfile, defaultProfile)
	b.submit("passkey-target", fmt.Sprintf(`(document.querySelector('tr[data-target=%q]')||{textContent:''}).textContent.includes(%q)`, pilotGroup, defaultProfile))
	u.do("register", chromedp.Click(chromedp.ID("register")))
	u.waitFor("passkey listed", `document.querySelectorAll('#passkeys-body tr').length === 1`)
	u.shot("pilot-passkey-registered")

	// 9. The results, read: Megan's page lists the passkey; the API agrees.
	b.goTo("/admin/user?id=megan@lab.example", `table[data-methods]`)
	b.waitFor("megan's passkey in her methods", `!!document.querySelector('tr[data-method="fido2AuthenticationMethod"]')`)
	b.shot("admin-user-methods")
	fido := l.call("GET", "/v1.0/users/megan@lab.example/authentication/fido2Methods", "", 200)
	if v, _ := fido["value"].([]any); len(v) != 1 {
		t.Errorf("megan's passkeys through the API: %v", fido)
	}
	cfg := l.call("GET", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2", "", 200)
	raw, _ := json.Marshal(cfg)
	for _, want := range []string{msAuthIOS, msAuthAndroid, `"isSelfServiceRegistrationAllowed":true`, `"state":"enabled"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("fido2 configuration lacks %s: %s", want, raw)
		}
	}
	// Megan's used pass is still listed: delete it, asked first.
	b.click("delete the used pass", `document.querySelector('tr[data-method="temporaryAccessPassAuthenticationMethod"] button[data-action="delete-method"]')`)
	b.click("confirm", `document.querySelector('tr[data-method="temporaryAccessPassAuthenticationMethod"] button[data-action="confirm"]')`)
	b.waitFor("pass gone", `!document.querySelector('tr[data-method="temporaryAccessPassAuthenticationMethod"]') && !!document.querySelector('tr[data-method="fido2AuthenticationMethod"]')`)
	if taps := l.call("GET", "/v1.0/users/megan@lab.example/authentication/temporaryAccessPassMethods", "", 200); len(taps["value"].([]any)) != 0 {
		t.Errorf("megan's passes after deleting: %v", taps)
	}

	// Adele's sessions revoked from her page.
	b.goTo("/admin/user?id=adele@lab.example", `button[data-action="revoke-sessions"]`)
	b.do("revoke", chromedp.Click(chromedp.CSS(`button[data-action="revoke-sessions"]`)))
	b.click("confirm revoke", `document.querySelector('button[data-action="revoke-sessions"] + [data-result] button[data-action="confirm"]')`)
	b.waitFor("revoked", `document.querySelector('button[data-action="revoke-sessions"] + [data-result]').textContent.includes('Sessions revoked')`)

	// Risky users: a simulated detection on Adele, confirmed compromised,
	// then dismissed.
	b.goTo("/admin/risky-users", formSel("set-risk"))
	b.fill("set-risk", "userPrincipalName", "adele@lab.example")
	b.choose("set-risk", "riskLevel", "Medium")
	b.submit("set-risk", `document.querySelector('tr[data-risky="adele@lab.example"]')`)
	b.click("confirm compromised", `document.querySelector('tr[data-risky="adele@lab.example"] button[data-action="confirm-compromised"]')`)
	b.click("confirm", `document.querySelector('tr[data-risky="adele@lab.example"] button[data-action="confirm"]')`)
	b.waitFor("compromised", `(document.querySelector('tr[data-risky="adele@lab.example"]')||{textContent:''}).textContent.includes('confirmedCompromised')`)
	if r := b.text(`tr[data-risky="adele@lab.example"]`); !strings.Contains(r, "high") {
		t.Errorf("adele after confirming compromised: %q", r)
	}
	b.shot("admin-risky-users")
	b.click("dismiss", `document.querySelector('tr[data-risky="adele@lab.example"] button[data-action="dismiss"]')`)
	b.waitFor("dismissed", `(document.querySelector('tr[data-risky="adele@lab.example"]')||{textContent:''}).textContent.includes('dismissed')`)
	if ru := l.call("GET", "/v1.0/identityProtection/riskyUsers", "", 200); !strings.Contains(fmt.Sprint(ru), "dismissed") {
		t.Errorf("risky users after dismissing: %v", ru)
	}

	// The policy half (web/adminpolicy_e2e_test.go): Conditional Access,
	// impact, rollout view, campaign interrupt, audit log.
	adminPolicyRollout(t, b, u)

	// A Global Reader's token: the same pages, read-only, saying why.
	reader, err := l.issuer.Mint(tokens.Claims{UPN: "auditor@lab.example", Roles: []string{directory.RoleGlobalReader}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b.do("forget token", chromedp.Click(chromedp.ID("forget-token")), chromedp.WaitVisible(chromedp.ID("pasted")))
	b.do("paste a reader's token", chromedp.SendKeys(chromedp.ID("pasted"), reader), chromedp.Click(chromedp.CSS(`#paste-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("who")))
	b.goTo("/admin/passkey-profiles", formSel("fido2-settings")+" [data-readonly]")
	if ro := b.text(formSel("fido2-settings") + " [data-readonly]"); !strings.Contains(ro, "Global Reader") || !strings.Contains(ro, "Authentication Policy Administrator") {
		t.Errorf("read-only note: %q", ro)
	}
	if !b.holds(`document.querySelector('[data-form="fido2-settings"] button[type=submit]').disabled`) {
		t.Error("a Global Reader may submit the FIDO2 settings")
	}
	b.shot("admin-passkey-profiles-read-only")
	// Every directory view's forms are read-only for the reader too, each
	// naming the role that could change it (from GET /admin/permissions).
	for _, v := range []struct{ path, form, needs string }{
		{"/admin/users", "create-user", "User Administrator"},
		{"/admin/groups", "create-group", "Groups Administrator"},
		{"/admin/temporary-access-pass", "tap-policy", "Authentication Policy Administrator"},
		{"/admin/temporary-access-pass", "issue-tap", "Authentication Administrator"},
		{"/admin/user?id=megan@lab.example", "issue-tap", "Privileged Authentication Administrator"},
		{"/admin/risky-users", "set-risk", "Security Administrator"},
	} {
		b.goTo(v.path, formSel(v.form)+" [data-readonly]")
		if ro := b.text(formSel(v.form) + " [data-readonly]"); !strings.Contains(ro, "Global Reader") || !strings.Contains(ro, v.needs) {
			t.Errorf("%s %s read-only note: %q", v.path, v.form, ro)
		}
		if !b.holds(fmt.Sprintf(`document.querySelector(%q).disabled`, formSel(v.form)+" button[type=submit]")) {
			t.Errorf("%s: a Global Reader may submit %s", v.path, v.form)
		}
	}
	policyPagesReadOnly(t, b)

	for _, br := range []*browser{b, u} {
		br.mu.Lock()
		for _, m := range br.console {
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
				t.Errorf("browser console: [%s] %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
			}
		}
		br.mu.Unlock()
	}
}
