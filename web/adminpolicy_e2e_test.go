package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// signInWithPasskey signs upn in with their passkey; the page stops at the
// registration campaign's interrupt when wantInterrupt.
func (b *browser) signInWithPasskey(upn string, wantInterrupt bool) {
	b.t.Helper()
	b.goTo("/signin", "#upn")
	b.do("UPN "+upn, chromedp.SendKeys(chromedp.ID("upn"), upn), chromedp.Click(chromedp.CSS(`#upn-form button[type=submit]`)))
	b.waitFor("prompt for "+upn, `document.getElementById('upn-form').hidden`)
	if b.hidden("#passkey-form") { // another method was preferred: "Sign in another way"
		b.do("choose the passkey", chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('#alternatives-list button')].find(x => x.textContent.includes('Passkey'))`)),
			chromedp.WaitVisible(chromedp.ID("passkey-form")))
	}
	b.do("passkey "+upn, chromedp.Click(chromedp.ID("passkey-go")))
	if wantInterrupt {
		b.waitFor("campaign interrupt for "+upn, `!document.getElementById('campaign').hidden`)
		return
	}
	b.do("security info "+upn, chromedp.WaitVisible(chromedp.ID("register-form")))
	b.waitFor("signed in "+upn, `location.pathname === '/security-info' && !!document.querySelector('#who') && document.querySelector('#who').textContent.includes(`+jsString(upn)+`)`)
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// check ticks the checkbox of a checklist by its display name.
func check(name, label string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name=%q][data-name=%q]`, name, label)))
}

// adminPolicyRollout is the policy half of TestBrowserAdminRollout, in the
// pages only (results are read from the pages): b is the administrator's
// tab, u the pilot users' (megan signed in, her passkey on u's
// authenticator; adele has no method yet). It adds an emergency-access
// account and the next wave group, issues adele a pass, then: a
// report-only policy for the pilot group, a success and a would-be
// failure through the sign-in page, the impact report and the rollout view
// showing them, lockout warnings that save nothing, the policy switched on
// and the next wave added (forced only after the explicit tick), the
// registration campaign's interrupt, and the audit log with each change's
// old and new values.
func adminPolicyRollout(t *testing.T, b, u *browser) {
	const (
		name        = "CA010-Pilot-AllApps-RequirePhishingResistant"
		nextWave    = "GRP-Wave1-IT-Admins"
		admin       = "admin@lab.example"
		passkeyUser = "megan@lab.example"
		tapUser     = "adele@lab.example"
	)

	// 0. In the directory pages: a break-glass account, the next wave
	// (the IT admins, the administrator among them) and a pass for adele.
	b.goTo("/admin/users", formSel("create-user"))
	b.fill("create-user", "userPrincipalName", "breakglass1@lab.example")
	b.fill("create-user", "displayName", "Break Glass 1")
	b.tick("create-user", "isEmergencyAccess", true)
	b.submit("create-user", `document.querySelector('tr[data-user="breakglass1@lab.example"]')`)
	b.goTo("/admin/groups", formSel("create-group"))
	b.fill("create-group", "displayName", nextWave)
	b.submit("create-group", fmt.Sprintf(`document.querySelector('tr[data-group=%q] a')`, nextWave))
	b.follow("open the next wave", fmt.Sprintf(`document.querySelector('tr[data-group=%q] a')`, nextWave), formSel("add-member"))
	b.fill("add-member", "userPrincipalName", admin)
	b.submit("add-member", fmt.Sprintf(`document.querySelector('tr[data-member=%q]')`, admin))
	b.goTo("/admin/user?id="+tapUser, formSel("issue-tap"))
	b.submit("issue-tap", `document.querySelector('[data-tap-value]')`)
	tapPass := b.text("[data-tap-value]")

	// 1. A report-only policy for the pilot group requiring phishing-
	// resistant MFA, made in the editor.
	b.goTo("/admin/conditional-access", `[data-action=new]`)
	b.shot("admin-conditional-access-list")
	b.do("new policy", chromedp.Click(chromedp.CSS(`[data-action=new]`)), chromedp.WaitVisible(chromedp.CSS(`form[data-form=ca-policy]`)))
	b.do("fill policy", chromedp.SendKeys(chromedp.CSS(`form[data-form=ca-policy] input[name=displayName]`), name),
		check("includeGroups", pilotGroup),
		chromedp.SetValue(chromedp.CSS(`select[name=authenticationStrength]`), "00000000-0000-0000-0000-000000000004"))
	if !b.checked(`#state-enabledForReportingButNotEnforced`) || !b.checked(`input[name=includeApplications][value=All]`) {
		t.Fatal("a new policy does not start report-only for all resources")
	}
	b.shot("admin-conditional-access-editor")
	b.do("create policy", chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] [data-action=save]`)))
	b.do("policy listed", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-policy=%q]`, name))))
	if row := b.text(fmt.Sprintf(`tr[data-policy=%q]`, name)); !strings.Contains(row, "Report-only") || !strings.Contains(row, pilotGroup) || !strings.Contains(row, "Phishing-resistant MFA") {
		t.Errorf("policy row: %q", row)
	}
	b.shot("admin-conditional-access")

	// 2. Two pilot users sign in: a passkey (the strength is met) and a
	// TAP (it is not: a would-be failure). Report-only blocks neither.
	u.do("megan signs out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
	u.signInWithPasskey(passkeyUser, false)
	u.signInWithTAP(tapUser, tapPass)

	// 3. The impact report: one report-only success, one would-be failure,
	// and the TAP user named as who would be blocked.
	b.goTo("/admin/conditional-access", fmt.Sprintf(`tr[data-policy=%q] [data-action=impact]`, name))
	b.do("open impact report", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-policy=%q] [data-action=impact]`, name))),
		chromedp.WaitVisible(chromedp.CSS(`[data-table=results]`)))
	count := func(result string) string {
		return b.text(fmt.Sprintf(`tr[data-result-name=%q] td[data-count]`, result))
	}
	if count("reportOnlySuccess") != "1" || count("reportOnlyFailure") != "1" || count("success") != "0" || count("failure") != "0" {
		t.Errorf("impact results: %q", b.text(`[data-table=results]`))
	}
	if blocked := b.text(`[data-table=would-be-blocked]`); !strings.Contains(blocked, tapUser) || strings.Contains(blocked, passkeyUser) {
		t.Errorf("would be blocked: %q", blocked)
	}
	if !b.truthy(`document.querySelectorAll('svg[data-chart=impact] rect[data-result]').length >= 2`) {
		t.Error("the impact chart lacks a bar per result")
	}
	b.shot("admin-conditional-access-impact")

	// 4. The rollout view of the pilot wave agrees.
	// (The pilot group sorts first and is the view's default.)
	b.goTo("/admin/rollout", "#view dl")
	if h := b.text("#heading"); h != "Rollout: "+pilotGroup {
		t.Errorf("rollout view opens on %q", h)
	}
	if v := b.text("#view dl"); !strings.Contains(v, "1 of 2 (50%)") || b.text("[data-would-fail]") != "1" {
		t.Errorf("rollout view: %q", v)
	}
	b.shot("admin-rollout")

	// 5. Lockout protection warns before anything is saved: On for All
	// users without excluding the emergency account is refused, and
	// nothing changes until the box is ticked or the finding is gone.
	b.editPolicy(name)
	b.do("on for all users", chromedp.Click(chromedp.ID("state-enabled")), check("includeUsers", "All users"),
		chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] [data-action=save]`)))
	b.waitFor("lockout warning", `!!document.querySelector('[data-lockout] .error[data-code=emergencyAccountNotExcluded]')`)
	if !b.exists(`[data-lockout] input[name=force]`) || b.checked(`[data-lockout] input[name=force]`) {
		t.Error("the lockout warning offers no unticked confirmation")
	}
	b.shot("admin-conditional-access-lockout-warning")

	// 6. Switch it on for the pilot only (All users unticked, no force).
	b.do("untick all users", check("includeUsers", "All users"), chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] [data-action=save]`)))
	b.do("policy saved", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-policy=%q]`, name))))
	if row := b.text(fmt.Sprintf(`tr[data-policy=%q] td`, name)); row != "On" {
		t.Errorf("state after switching on: %q", row)
	}

	// 7. The next wave joins the policy. The administrator is in it and
	// signed in with a TAP, which phishing-resistant MFA refuses: the page
	// warns (wouldLockOutCaller), and only the explicit confirmation saves
	// it (?force=true, which raises a security alert).
	b.editPolicy(name)
	b.do("add the next wave, sign-in every 8 hours", check("includeGroups", nextWave),
		chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] input[name=signInFrequencyEnabled]`)),
		chromedp.SendKeys(chromedp.CSS(`form[data-form=ca-policy] input[name=signInFrequencyValue]`), "8"),
		chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] [data-action=save]`)))
	b.waitFor("lockout warning for the caller", `!!document.querySelector('[data-lockout] .error[data-code=wouldLockOutCaller]')`)
	b.do("confirm and save anyway", chromedp.Click(chromedp.CSS(`[data-lockout] input[name=force]`)), chromedp.Click(chromedp.CSS(`form[data-form=ca-policy] [data-action=save]`)))
	b.do("policy saved again", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-policy=%q]`, name))))
	if row := b.text(fmt.Sprintf(`tr[data-policy=%q]`, name)); strings.Contains(row, "All users") || !strings.Contains(row, pilotGroup) || !strings.Contains(row, nextWave) {
		t.Errorf("policy after the wave was added: %q", row)
	}

	// 8. The registration campaign for the pilot group.
	b.goTo("/admin/registration-campaign", `form[data-form=registration-campaign]`)
	b.do("campaign on for the pilot", chromedp.SetValue(chromedp.CSS(`form[data-form=registration-campaign] select[name=state]`), "enabled"),
		chromedp.Click(chromedp.CSS(`form[data-form=registration-campaign] input[name=allUsers]`)),                     // Entra's default targets all users
		chromedp.SetValue(chromedp.CSS(`form[data-form=registration-campaign] input[name=snoozeDurationInDays]`), "0"), // nudge at every sign-in
		check("includeGroups", pilotGroup), chromedp.Click(chromedp.CSS(`form[data-form=registration-campaign] [data-action=save]`)))
	b.waitFor("campaign saved", `(document.querySelector('form[data-form=registration-campaign] [data-result]')||{}).textContent === 'Campaign saved.'`)
	b.shot("admin-registration-campaign")

	// 9. The passkey user signs in (the policy is on and met) and is
	// interrupted; they skip it once and reach Security info.
	u.signInWithPasskey(passkeyUser, true)
	if txt := u.text("#campaign"); !strings.Contains(txt, "Set up a passkey") || !strings.Contains(txt, "Microsoft Authenticator") || !strings.Contains(txt, "skip this 3 more times") {
		t.Errorf("campaign interrupt: %q", txt)
	}
	u.shot("signin-registration-campaign")
	u.do("skip", chromedp.Click(chromedp.ID("campaign-skip")), chromedp.WaitVisible(chromedp.ID("register-form")))
	if !u.hidden("#campaign-note") {
		t.Error("Security info shows the set-up note after a skip")
	}
	// Next time (snoozes last 0 days here) set it up instead: Security info
	// says how, for this user.
	u.do("megan signs out again", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("upn")))
	u.signInWithPasskey(passkeyUser, true)
	if txt := u.text("#campaign"); !strings.Contains(txt, "skip this 2 more times") {
		t.Errorf("campaign interrupt after one snooze: %q", txt)
	}
	u.do("set it up", chromedp.Click(chromedp.ID("campaign-setup")), chromedp.WaitVisible(chromedp.ID("campaign-note")))
	if txt := u.text("#campaign-note"); !strings.Contains(txt, "rpserver phone -upn "+passkeyUser) {
		t.Errorf("set-up note: %q", txt)
	}
	u.shot("security-info-campaign-setup")

	// 10. A custom strength and a trusted named location, in their pages.
	b.goTo("/admin/authentication-strengths", formSel("strength"))
	b.fill("strength", "displayName", "Passkeys only (lab)")
	b.do("allow fido2", chromedp.Click(chromedp.CSS(formSel("strength")+` input[name=allowedCombinations][value=fido2]`)))
	b.fill("strength", "allowedAAGUIDs", msAuthIOS+"\n"+msAuthAndroid)
	b.submit("strength", `document.querySelector('tr[data-strength="Passkeys only (lab)"]')`)
	if row := b.text(`tr[data-strength="Passkeys only (lab)"]`); !strings.Contains(row, "Custom") || !strings.Contains(row, "fido2 only with models: "+msAuthIOS+", "+msAuthAndroid) {
		t.Errorf("custom strength row: %q", row)
	}
	b.shot("admin-authentication-strengths")
	b.goTo("/admin/named-locations", formSel("ip-location"))
	b.fill("ip-location", "displayName", "Head office")
	b.fill("ip-location", "ipRanges", "203.0.113.0/24")
	b.tick("ip-location", "isTrusted", true)
	b.submit("ip-location", `document.querySelector('tr[data-location="Head office"]')`)
	if row := b.text(`tr[data-location="Head office"]`); !strings.Contains(row, "203.0.113.0/24") || !strings.Contains(row, "Yes") {
		t.Errorf("named location row: %q", row)
	}
	b.fill("ip-location", "displayName", "Too wide")
	b.fill("ip-location", "ipRanges", "10.0.0.0/4")
	b.refused("ip-location", "invalidNamedLocation")
	b.shot("admin-named-locations")

	// 11. The audit log lists each change with its old and new values.
	b.goTo("/admin/audit-log?category=Policy", "#view [data-result]")
	audits := b.text("table.audits")
	for _, want := range []string{"Add conditional access policy", "Update conditional access policy", name,
		"enabledForReportingButNotEnforced", "Update authentication methods policy", admin,
		"Override Conditional Access lockout protection", "wouldLockOutCaller"} {
		if !strings.Contains(audits, want) {
			t.Errorf("audit log lacks %q: %q", want, audits)
		}
	}
	// The switch to On: state's old and new value on one row.
	if !b.truthy(`[...document.querySelectorAll('tr[data-property="state" i]')].some(r => r.querySelector('[data-old]').textContent.includes('enabledForReportingButNotEnforced') && r.querySelector('[data-new]').textContent.trim() === 'enabled')`) {
		t.Error("no audit record shows state going from report-only to on")
	}
	// Adding the wave: the conditions' old value has the pilot group
	// alone, the new one both groups.
	if !b.truthy(`[...document.querySelectorAll('tr[data-property="conditions" i]')].some(r => { const o = JSON.parse(r.querySelector('[data-old]').textContent), n = JSON.parse(r.querySelector('[data-new]').textContent); return o.users.includeGroups.length === 1 && n.users.includeGroups.length === 2; })`) {
		t.Error("no audit record shows the conditions changing")
	}
	b.shot("admin-audit-log")
	// The filters go to the server: only the policy's updates, the last
	// with the session control it gained.
	b.fill("audit-filter", "activity", "Update conditional access policy")
	b.do("filter", chromedp.Click(chromedp.CSS(formSel("audit-filter")+` [data-action=filter]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=activity][value="Update conditional access policy"]`)))
	if !b.truthy(`(() => { const rows = [...document.querySelectorAll('tr.audit')]; return rows.length === 2 && rows.every(r => r.dataset.activity === 'Update conditional access policy'); })()`) {
		t.Errorf("filtered audit log: %q", b.text("#view"))
	}
	if !b.truthy(`[...document.querySelectorAll('tr[data-property="sessionControls" i] [data-new]')].some(c => c.textContent.includes('"value": 8'))`) {
		t.Errorf("no audit record shows the sign-in frequency: %q", b.text("#view"))
	}
	b.shot("admin-audit-log-filtered")
}

// editPolicy opens the editor of the named policy from the list.
func (b *browser) editPolicy(name string) {
	b.t.Helper()
	b.goTo("/admin/conditional-access", fmt.Sprintf(`tr[data-policy=%q] [data-action=edit]`, name))
	b.do("edit "+name, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-policy=%q] [data-action=edit]`, name))),
		chromedp.WaitVisible(chromedp.CSS(`form[data-form=ca-policy]`)))
}

func (b *browser) truthy(js string) bool {
	b.t.Helper()
	var ok bool
	b.do("evaluate", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := chromedp.Evaluate[bool](js)(ctx, t)
		ok = v
		return chromedp.Void{}, err
	})
	return ok
}

func (b *browser) checked(sel string) bool {
	return b.truthy(fmt.Sprintf(`!!(document.querySelector(%q)||{}).checked`, sel))
}

func (b *browser) exists(sel string) bool {
	return b.truthy(fmt.Sprintf(`!!document.querySelector(%q)`, sel))
}

// policyPagesReadOnly checks, with a Global Reader's token in b, that the
// policy pages show what they hold but refuse to change it, saying why.
func policyPagesReadOnly(t *testing.T, b *browser) {
	b.goTo("/admin/conditional-access", "#view [data-readonly]")
	if b.exists(`[data-action=new]`) || !strings.Contains(b.text("#view [data-readonly]"), "Conditional Access Administrator") {
		t.Errorf("a Global Reader is offered a new policy: %q", b.text("#view [data-readonly]"))
	}
	b.do("open the policy read-only", chromedp.Click(chromedp.CSS(`[data-action=edit]`)), chromedp.WaitVisible(chromedp.CSS(`form[data-form=ca-policy] [data-readonly]`)))
	if !b.truthy(`document.querySelector('form[data-form=ca-policy] [data-action=save]').disabled && [...document.querySelectorAll('form[data-form=ca-policy] input')].every(i => i.disabled)`) {
		t.Error("a Global Reader may edit a Conditional Access policy")
	}
	b.shot("admin-conditional-access-read-only")
	b.goTo("/admin/registration-campaign", formSel("registration-campaign")+" [data-readonly]")
	b.goTo("/admin/audit-log", "#view [data-result]")
}
