package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Scenarios are what one attempt of the timed phase does; a run mixes them
// by weight (-scenarios signin=8,register=1,stepup=1), in a fixed cycle so
// two runs with the same flags do the same work.
const (
	// ScenarioSignIn: a passkey sign-in naming the user (UPN first).
	ScenarioSignIn = "signin"
	// ScenarioDiscoverable: a passkey sign-in with an empty begin body, the
	// authenticator choosing the credential (passkey autofill).
	ScenarioDiscoverable = "discoverable"
	// ScenarioRegister: a registration storm; each attempt is a new user
	// bootstrapping as in Entra: created, issued a TAP, signed in with it,
	// registering a passkey.
	ScenarioRegister = "register"
	// ScenarioStepUp: password first, then Conditional Access; when the
	// policy set requires MFA, a Microsoft Authenticator push approved by
	// the emulated phone (number matching) completes the sign-in.
	ScenarioStepUp = "stepup"
)

// Scenarios lists the names, in display order.
var Scenarios = []string{ScenarioSignIn, ScenarioDiscoverable, ScenarioRegister, ScenarioStepUp, ScenarioOIDC}

// Operations of the scenarios beyond the passkey sign-in.
const (
	OpDiscoverable       = "discoverable"
	OpDiscoverableBegin  = "discoverable.begin"
	OpDiscoverableFinish = "discoverable.finish"
	OpOnboarding         = "onboarding" // a registration-storm attempt: user.create ... registration
	OpPushRegister       = "push.register"
	OpStepUp             = "stepup" // begin + password [+ push] until completed
	OpStepUpBegin        = "stepup.begin"
	OpStepUpPassword     = "stepup.password"
	OpPushBegin          = "stepup.push.begin"
	OpPushRespond        = "stepup.push.respond"
	OpPushComplete       = "stepup.push.complete"
	OpPolicyCreate       = "policy.create"
	OpGroupCreate        = "group.create"
)

// ScenarioEntry is one scenario with its relative weight.
type ScenarioEntry struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
}

// ParseScenarios reads "signin=8,discoverable=2,register=1,stepup=1"; a
// name without "=n" weighs 1.
func ParseScenarios(s string) ([]ScenarioEntry, error) {
	var out []ScenarioEntry
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, hasW := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !slices.Contains(Scenarios, name) {
			return nil, fmt.Errorf("scenarios: unknown scenario %q (known: %s)", name, strings.Join(Scenarios, ", "))
		}
		if slices.ContainsFunc(out, func(e ScenarioEntry) bool { return e.Name == name }) {
			return nil, fmt.Errorf("scenarios: %q given twice", name)
		}
		weight := 1
		if hasW {
			n, err := strconv.Atoi(strings.TrimSpace(w))
			if err != nil || n < 1 || n > 1000 {
				return nil, fmt.Errorf("scenarios: weight of %q must be an integer 1..1000", name)
			}
			weight = n
		}
		out = append(out, ScenarioEntry{Name: name, Weight: weight})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenarios: none given")
	}
	return out, nil
}

// cycle spreads the weights evenly (signin=2,register=1 gives signin,
// register, signin, ...) rather than in blocks, so a short run still mixes.
func cycle(entries []ScenarioEntry) []string {
	total := 0
	for _, e := range entries {
		total += e.Weight
	}
	out := make([]string, 0, total)
	credit := make([]int, len(entries))
	for range total {
		best := 0
		for i, e := range entries {
			credit[i] += e.Weight
			if credit[i] > credit[best] {
				best = i
			}
		}
		credit[best] -= total
		out = append(out, entries[best].Name)
	}
	return out
}

func has(entries []ScenarioEntry, name string) bool {
	return slices.ContainsFunc(entries, func(e ScenarioEntry) bool { return e.Name == name })
}

// scenarioOp is the operation that times a whole attempt of scenario.
func scenarioOp(scenario string, _ bool) string {
	switch scenario {
	case ScenarioDiscoverable:
		return OpDiscoverable
	case ScenarioRegister:
		return OpOnboarding
	case ScenarioStepUp:
		return OpStepUp
	case ScenarioOIDC:
		return OpOIDC
	}
	return OpSignIn
}

// scenarioOps are the whole-attempt operations of the configured scenarios.
func (e *engine) scenarioOps() []string {
	var ops []string
	for _, sc := range e.cfg.Scenarios {
		ops = append(ops, scenarioOp(sc.Name, e.cfg.Discoverable))
	}
	return ops
}

// needsUser: the scenario signs in one of the ready users (who then may not
// be in another ceremony); a registration storm makes its own.
func needsUser(scenario string) bool { return scenario != ScenarioRegister }

// attempt runs one scenario; u is nil for ScenarioRegister.
func (e *engine) attempt(ctx context.Context, rec *Recorder, scenario string, u *vuser, intended time.Time) error {
	switch scenario {
	case ScenarioDiscoverable:
		return e.ceremony(ctx, rec, intended, OpDiscoverable, OpDiscoverableBegin, OpDiscoverableFinish,
			"/webauthn/authentication/begin", "/webauthn/authentication/finish", "", []byte(`{}`),
			func(opts []byte) ([]byte, error) { return u.auth.Get(opts, e.cfg.Origin) }, http.StatusOK)
	case ScenarioRegister:
		return e.onboard(ctx, rec, intended)
	case ScenarioStepUp:
		return e.stepUp(ctx, rec, u, intended)
	case ScenarioOIDC:
		return e.oidcSignIn(ctx, rec, u, intended)
	default:
		return e.signIn(ctx, rec, u, intended)
	}
}

// onboard is one registration-storm attempt: a new user through the whole
// Entra bootstrap. Each step is timed under its own operation as in setup;
// the whole is timed under OpOnboarding from intended.
func (e *engine) onboard(ctx context.Context, rec *Recorder, intended time.Time) error {
	if intended.IsZero() {
		intended = time.Now()
	}
	i := e.cfg.Users + int(e.stormed.Add(1)) - 1
	presets := assign(e.cfg.Mix, i+1)
	u, err := e.setupUser(ctx, rec, i, presets[i])
	if err != nil {
		if ctx.Err() == nil {
			rec.FailStep(OpOnboarding, ErrorCode(err))
		}
		return err
	}
	if u == nil {
		return nil
	}
	rec.Observe(OpOnboarding, time.Since(intended))
	return nil
}

// outcome is the part of a sign-in step's answer the generator follows.
type outcome struct {
	Status    string `json:"status"`
	FlowToken string `json:"flowToken"`
	ErrorCode string `json:"errorCode"`
}

// stepUp signs u in with the password and, when Conditional Access asks
// for more, a push the emulated phone approves with the displayed number.
// Steps go to the targets in turn, so with several servers a flow crosses
// them (its state is the signed flow token).
func (e *engine) stepUp(ctx context.Context, rec *Recorder, u *vuser, intended time.Time) error {
	if intended.IsZero() {
		intended = time.Now()
	}
	fail := func(err error) error {
		if ctx.Err() == nil {
			rec.Fail(OpStepUp, ErrorCode(err))
		}
		return err
	}
	step := func(op, path string, in any, want int, out any) error {
		return timed(ctx, rec, op, true, func() error { return e.c.callJSON(ctx, e.c.next(), path, "", in, want, out) })
	}
	var out outcome
	if err := step(OpStepUpBegin, "/signin/begin", map[string]string{"userPrincipalName": u.UserPrincipalName}, http.StatusOK, &out); err != nil {
		return fail(err)
	}
	if err := step(OpStepUpPassword, "/signin/password", map[string]string{"flowToken": out.FlowToken, "password": e.password}, http.StatusOK, &out); err != nil {
		return fail(err)
	}
	if out.Status == "stepUpRequired" {
		var push struct {
			ID     string `json:"pushRequestId"`
			Number int    `json:"numberMatch"`
		}
		if err := step(OpPushBegin, "/signin/push/begin", map[string]string{"flowToken": out.FlowToken}, http.StatusOK, &push); err != nil {
			return fail(err)
		}
		if err := step(OpPushRespond, "/authenticator/push/respond",
			map[string]any{"deviceToken": u.deviceToken, "pushRequestId": push.ID, "numberMatch": push.Number, "approve": true}, http.StatusNoContent, nil); err != nil {
			return fail(err)
		}
		if err := step(OpPushComplete, "/signin/push/complete", map[string]string{"flowToken": out.FlowToken, "pushRequestId": push.ID}, http.StatusOK, &out); err != nil {
			return fail(err)
		}
	}
	if out.Status != "completed" {
		code := out.ErrorCode
		if code == "" {
			code = "status_" + out.Status
		}
		return fail(&APIError{Status: http.StatusOK, Code: code, Message: "the sign-in did not complete"})
	}
	rec.Observe(OpStepUp, time.Since(intended))
	return nil
}

// registerPush enrols the emulated Authenticator app for u, with u's
// bootstrap session, and keeps its device token (the phone's secret).
func (e *engine) registerPush(ctx context.Context, rec *Recorder, u *vuser) error {
	return timed(ctx, rec, OpPushRegister, false, func() error {
		var m struct {
			DeviceToken string `json:"deviceToken"`
		}
		err := e.c.callJSON(ctx, e.c.next(), "/me/authentication/microsoftAuthenticatorMethods", u.session,
			map[string]string{"displayName": "Load phone"}, http.StatusCreated, &m)
		if err == nil && m.DeviceToken == "" {
			err = &badResponseError{msg: "push method registered without deviceToken"}
		}
		u.deviceToken = m.DeviceToken
		return err
	})
}

// Policy states of -ca-state.
const (
	CAStateEnabled    = "enabled"
	CAStateReportOnly = "enabledForReportingButNotEnforced"
)

// samplePolicies is a Conditional Access policy set of n policies in the
// five shapes of internal/policy's benchmark set (whose 195 is Entra's
// limit), each scoped to group so the run touches only its own users:
// MFA for the group; a block for another application (not applied); a
// phishing-resistant strength for Global Administrators, report-only
// always (as in the benchmark, and so an enabled set cannot lock the
// running admin out); MFA outside trusted locations; MFA on platforms other
// than Windows for browser and desktop clients. Enabled, all but the
// report-only and not-applied ones ask for MFA, which password + push meets.
func samplePolicies(n int, group, state, runID string) []map[string]any {
	const globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	out := make([]map[string]any, n)
	for i := range out {
		users := map[string]any{"includeGroups": []string{group}}
		apps := map[string]any{"includeApplications": []string{"All"}}
		conditions := map[string]any{"users": users, "applications": apps}
		grant := map[string]any{"operator": "OR", "builtInControls": []string{"mfa"}}
		st := state
		switch i % 5 {
		case 1:
			apps["includeApplications"] = []string{fmt.Sprintf("00000000-0000-4000-8000-%012d", 100000+i)}
			grant = map[string]any{"operator": "OR", "builtInControls": []string{"block"}}
		case 2:
			conditions["users"] = map[string]any{"includeRoles": []string{globalAdmin}}
			grant = map[string]any{"operator": "OR", "authenticationStrength": map[string]string{"id": "00000000-0000-0000-0000-000000000004"}}
			st = CAStateReportOnly
		case 3:
			conditions["locations"] = map[string]any{"includeLocations": []string{"All"}, "excludeLocations": []string{"AllTrusted"}}
		case 4:
			conditions["platforms"] = map[string]any{"includePlatforms": []string{"all"}, "excludePlatforms": []string{"windows"}}
			conditions["clientAppTypes"] = []string{"browser", "mobileAppsAndDesktopClients"}
		}
		out[i] = map[string]any{"displayName": fmt.Sprintf("load-%s policy %03d", runID, i), "state": st, "conditions": conditions, "grantControls": grant}
	}
	return out
}

// preparePolicySet creates the run's group (unless one was given) and its
// policy set, recording both for cleanup.
func (e *engine) preparePolicySet(ctx context.Context, rec *Recorder) error {
	if e.cfg.Group == "" {
		err := timed(ctx, rec, OpGroupCreate, false, func() error {
			var g struct {
				ID string `json:"id"`
			}
			err := e.c.callJSON(ctx, e.c.next(), "/v1.0/groups", e.cfg.AdminToken, map[string]any{
				"displayName": "load-" + e.cfg.RunID, "mailNickname": "load-" + e.cfg.RunID, "securityEnabled": true, "mailEnabled": false,
			}, http.StatusCreated, &g)
			if err == nil && g.ID == "" {
				err = &badResponseError{msg: "group created without an id"}
			}
			e.cfg.Group, e.createdGroup = g.ID, g.ID
			return err
		})
		if err != nil {
			return fmt.Errorf("creating the run's group: %w", err)
		}
	}
	for _, p := range samplePolicies(e.cfg.CAPolicies, e.cfg.Group, e.cfg.CAState, e.cfg.RunID) {
		err := timed(ctx, rec, OpPolicyCreate, false, func() error {
			var created struct {
				ID string `json:"id"`
			}
			err := e.c.callJSON(ctx, e.c.next(), "/v1.0/identity/conditionalAccess/policies", e.cfg.AdminToken, p, http.StatusCreated, &created)
			if err == nil {
				e.mu.Lock()
				e.createdPolicies = append(e.createdPolicies, created.ID)
				e.mu.Unlock()
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("creating the policy set: %w", err)
		}
	}
	return nil
}

// cleanupPolicySet removes what preparePolicySet made, policies first (a
// group still referenced by a policy is the admin's to judge, not ours).
func (e *engine) cleanupPolicySet(ctx context.Context, res *Cleanup) {
	for _, id := range e.createdPolicies {
		if _, err := e.c.do(ctx, http.MethodDelete, e.c.next(), "/v1.0/identity/conditionalAccess/policies/"+url.PathEscape(id), e.cfg.AdminToken, nil, http.StatusNoContent); err != nil {
			res.fail(err)
		} else {
			res.PoliciesDeleted++
		}
	}
	if e.createdGroup != "" {
		if _, err := e.c.do(ctx, http.MethodDelete, e.c.next(), "/v1.0/groups/"+url.PathEscape(e.createdGroup), e.cfg.AdminToken, nil, http.StatusNoContent); err != nil {
			res.fail(err)
		} else {
			res.GroupDeleted = true
		}
	}
}

func (c *Cleanup) fail(err error) {
	if c.Errors == nil {
		c.Errors = map[string]int{}
	}
	c.Errors[ErrorCode(err)]++
}
