package policy

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	alice   = "u-alice"
	appPort = "app-portal"
	appMail = "app-mail"
	roleGA  = "62e90394-69f5-4237-9190-012177145e10" // Global Administrator template id
)

func basePolicy(id string) ConditionalAccessPolicy {
	return ConditionalAccessPolicy{
		ID: id, DisplayName: "policy " + id, State: StateEnabled,
		Conditions: ConditionalAccessConditionSet{
			Users:        ConditionalAccessUsers{IncludeUsers: []string{KeywordAll}},
			Applications: ConditionalAccessApplications{IncludeApplications: []string{KeywordAll}},
		},
		GrantControls: &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlMfa}},
	}
}

func baseCtx() *SignInContext {
	return &SignInContext{
		UserID: alice, GroupIDs: NewSet("g-staff", "g-123"), RoleTemplateIDs: []string{roleGA},
		ApplicationID: appPort, ClientAppType: "browser", Platform: "windows",
		LocationIDs: []string{"loc-office"}, IsTrustedLocation: true,
		Methods:           []SatisfiedMethod{{Mode: "password"}},
		RegisteredMethods: ModeSet(ModePassword | ModeFido2 | ModeMicrosoftAuthenticatorPush | ModeSMS),
	}
}

func evalOne(t *testing.T, p ConditionalAccessPolicy, ctx *SignInContext) (AppliedConditionalAccessPolicy, Evaluation) {
	t.Helper()
	if err := ValidateConditionalAccessPolicy(p, nil); err != nil {
		t.Fatalf("test policy invalid: %v", err)
	}
	c, err := Compile([]ConditionalAccessPolicy{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Evaluate(ctx)
	return e.AppliedConditionalAccessPolicies[0], e
}

func TestEvaluateScope(t *testing.T) {
	type mod func(*ConditionalAccessPolicy, *SignInContext)
	tests := []struct {
		name      string
		mod       mod
		result    string
		scopeText string
	}{
		{"all users applies", func(p *ConditionalAccessPolicy, c *SignInContext) {}, ResultFailure, "applied: user in includeUsers All"},
		{"included by user id", func(p *ConditionalAccessPolicy, c *SignInContext) { p.Conditions.Users.IncludeUsers = []string{alice} }, ResultFailure, "applied: user in includeUsers u-alice"},
		{"included by group", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeGroups: []string{"g-x", "g-staff"}}
		}, ResultFailure, "applied: user in includeGroups g-staff"},
		{"included by role", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeRoles: []string{roleGA}}
		}, ResultFailure, "applied: user in includeRoles " + roleGA},
		{"not included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeUsers: []string{"u-bob"}, IncludeGroups: []string{"g-x"}}
		}, ResultNotApplied, "not applied: user not in includeUsers, includeGroups"},
		{"None users", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users.IncludeUsers = []string{KeywordNone}
		}, ResultNotApplied, "not applied: user not in includeUsers"},
		{"a user-action policy applies to that action", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
			c.UserAction = UserActionRegisterSecurityInfo
		}, ResultFailure, "applied: user in includeUsers All"},
		{"a user-action policy does not apply to an application", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
		}, ResultNotApplied, "not applied: application app-portal not in includeUserActions"},
		{"an All-applications policy does not apply to a user action", func(p *ConditionalAccessPolicy, c *SignInContext) {
			c.UserAction = UserActionRegisterSecurityInfo
		}, ResultNotApplied, "not applied: application " + UserActionRegisterSecurityInfo + " not in includeApplications"},
		{"exclude user wins over include user", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeUsers: []string{alice}, ExcludeUsers: []string{alice}}
		}, ResultNotApplied, "excluded: user in excludeUsers u-alice"},
		{"exclude group wins over All", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users.ExcludeGroups = []string{"g-123"}
		}, ResultNotApplied, "excluded: user in excludeGroups g-123"},
		{"exclude group wins over include group", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Users = ConditionalAccessUsers{IncludeGroups: []string{"g-staff"}, ExcludeGroups: []string{"g-123"}}
		}, ResultNotApplied, "excluded: user in excludeGroups g-123"},
		{"exclude role", func(p *ConditionalAccessPolicy, c *SignInContext) { p.Conditions.Users.ExcludeRoles = []string{roleGA} }, ResultNotApplied, "excluded: user in excludeRoles " + roleGA},
		{"app included by id", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications.IncludeApplications = []string{appPort}
		}, ResultFailure, "applied: user in includeUsers All"},
		{"app not included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications.IncludeApplications = []string{appMail}
		}, ResultNotApplied, "not applied: application app-portal not in includeApplications"},
		{"app None", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications.IncludeApplications = []string{KeywordNone}
		}, ResultNotApplied, "not applied: application app-portal not in includeApplications"},
		{"app excluded wins over All", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications.ExcludeApplications = []string{appPort}
		}, ResultNotApplied, "excluded: application in excludeApplications app-portal"},
		{"authentication context requested", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeAuthenticationContextClassReferences: []string{"c1"}}
			c.AuthenticationContexts = []string{"c2", "c1"}
		}, ResultFailure, ""},
		{"authentication context not requested", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeAuthenticationContextClassReferences: []string{"c1"}}
			c.AuthenticationContexts = []string{"c2"}
		}, ResultNotApplied, "not applied: application c2 not in includeAuthenticationContextClassReferences"},
		{"client app matches", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.ClientAppTypes = []string{"browser", "mobileAppsAndDesktopClients"}
		}, ResultFailure, ""},
		{"client app all", func(p *ConditionalAccessPolicy, c *SignInContext) { p.Conditions.ClientAppTypes = []string{"all"} }, ResultFailure, ""},
		{"client app mismatch", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.ClientAppTypes = []string{"exchangeActiveSync", "other"}
		}, ResultNotApplied, "not applied: client app type browser not in clientAppTypes"},
		{"platform included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"windows", "macOS"}}
		}, ResultFailure, ""},
		{"platform not included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"android", "iOS"}}
		}, ResultNotApplied, "not applied: platform windows not in includePlatforms"},
		{"platform all with exclusion wins", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"windows"}}
		}, ResultNotApplied, "excluded: platform in excludePlatforms windows"},
		{"unknown platform matches all", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"all"}, ExcludePlatforms: []string{"iOS"}}
			c.Platform = ""
		}, ResultFailure, ""},
		{"unknown platform does not match a list", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"linux"}}
			c.Platform = ""
		}, ResultNotApplied, "not applied: platform not in includePlatforms"},
		{"location All excluding trusted, trusted sign-in", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{KeywordAllTrusted}}
		}, ResultNotApplied, "excluded: location in excludeLocations AllTrusted"},
		{"location All excluding trusted, untrusted sign-in", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{KeywordAllTrusted}}
			c.IsTrustedLocation = false
		}, ResultFailure, ""},
		{"location excluded by named id", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{"loc-office"}}
		}, ResultNotApplied, "excluded: location in excludeLocations loc-office"},
		{"location included by named id", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{"loc-office"}}
		}, ResultFailure, ""},
		{"location AllTrusted included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAllTrusted}}
		}, ResultFailure, ""},
		{"location not included", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{"loc-elsewhere"}}
		}, ResultNotApplied, "not applied: location not in includeLocations"},
		{"user risk matches", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.UserRiskLevels = []string{"high"}
			c.UserRiskLevel = "high"
		}, ResultFailure, ""},
		{"user risk none by default", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.UserRiskLevels = []string{"medium", "high"}
		}, ResultNotApplied, "not applied: user risk none not in userRiskLevels"},
		{"sign-in risk mismatch", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.SignInRiskLevels = []string{"high"}
			c.SignInRiskLevel = "low"
		}, ResultNotApplied, "not applied: sign-in risk low not in signInRiskLevels"},
		{"sign-in risk none configured", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.Conditions.SignInRiskLevels = []string{"none"}
		}, ResultFailure, ""},
		{"disabled", func(p *ConditionalAccessPolicy, c *SignInContext) { p.State = StateDisabled }, ResultNotEnabled, "not enabled: state disabled"},
		{"report-only not applied", func(p *ConditionalAccessPolicy, c *SignInContext) {
			p.State = StateReportOnly
			p.Conditions.Users.ExcludeUsers = []string{alice}
		}, ResultReportOnlyNotApplied, "excluded: user in excludeUsers u-alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ctx := basePolicy("p1"), baseCtx()
			tt.mod(&p, ctx)
			a, _ := evalOne(t, p, ctx)
			if a.Result != tt.result {
				t.Errorf("result = %s want %s (%s)", a.Result, tt.result, a.Explanation.Text())
			}
			if tt.scopeText != "" && a.Explanation.Scope.Text() != tt.scopeText {
				t.Errorf("scope = %q want %q", a.Explanation.Scope.Text(), tt.scopeText)
			}
			notApplied := a.Result == ResultNotApplied || a.Result == ResultReportOnlyNotApplied
			if notApplied != (a.ConditionsNotSatisfied.String() != "none") {
				t.Errorf("conditionsNotSatisfied = %q for %s", a.ConditionsNotSatisfied, a.Result)
			}
			if notApplied && len(a.EnforcedGrantControls) != 0 {
				t.Errorf("not applied policy reports enforced controls %v", a.EnforcedGrantControls)
			}
		})
	}
}

func TestEvaluateGrantAndResults(t *testing.T) {
	strength := func(id string) *ConditionalAccessGrantControls {
		return &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: id}}
	}
	every := &ConditionalAccessSessionControls{SignInFrequency: &SignInFrequencySessionControl{IsEnabled: true, FrequencyInterval: "everyTime"}}
	tests := []struct {
		name       string
		state      string
		grant      *ConditionalAccessGrantControls
		session    *ConditionalAccessSessionControls
		methods    []SatisfiedMethod
		registered ModeSet
		ctxMod     func(*SignInContext)
		result     string
		decision   Decision
		strength   string
		grantCode  string
		prompt     string
	}{
		{name: "mfa met by password+push", grant: basePolicy("").GrantControls, methods: []SatisfiedMethod{{Mode: "password"}, {Mode: "microsoftAuthenticatorPush"}},
			result: ResultSuccess, decision: DecisionAllow, grantCode: ReasonGrantSatisfied},
		{name: "mfa unmet prompts fido2 first", grant: basePolicy("").GrantControls,
			result: ResultFailure, decision: DecisionStepUpRequired, grantCode: ReasonGrantUnmet, prompt: "fido2"},
		{name: "block", grant: &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}},
			result: ResultFailure, decision: DecisionBlock, grantCode: ReasonGrantBlocked},
		{name: "phishing-resistant met by fido2", grant: strength(StrengthIDPhishingResistant), methods: []SatisfiedMethod{{Mode: "fido2"}},
			result: ResultSuccess, decision: DecisionAllow, strength: StrengthResultSatisfied, grantCode: ReasonGrantSatisfied},
		{name: "phishing-resistant unmet, fido2 registered", grant: strength(StrengthIDPhishingResistant), methods: []SatisfiedMethod{{Mode: "password"}, {Mode: "microsoftAuthenticatorPush"}},
			result: ResultFailure, decision: DecisionStepUpRequired, strength: StrengthResultSingleChallengeRequired, grantCode: ReasonGrantUnmet, prompt: "fido2"},
		{name: "phishing-resistant unmet, nothing registered", grant: strength(StrengthIDPhishingResistant), registered: ModeSet(ModePassword | ModeSMS),
			result: ResultFailure, decision: DecisionStepUpRequired, strength: StrengthResultSingleRegistrationRequired, grantCode: ReasonGrantUnmet},
		{name: "MFA strength needs two challenges", grant: strength(StrengthIDMultifactor), methods: []SatisfiedMethod{}, registered: ModeSet(ModePassword | ModeSMS),
			result: ResultFailure, decision: DecisionStepUpRequired, strength: StrengthResultMultipleChallengesRequired, grantCode: ReasonGrantUnmet, prompt: "sms"},
		{name: "previously satisfied counts", grant: strength(StrengthIDPhishingResistant), methods: []SatisfiedMethod{{Mode: "password"}, {Mode: "fido2", PreviouslySatisfied: true}},
			result: ResultSuccess, decision: DecisionAllow, strength: StrengthResultSatisfied, grantCode: ReasonGrantSatisfied},
		{name: "everyTime ignores previously satisfied", grant: strength(StrengthIDPhishingResistant), session: every, methods: []SatisfiedMethod{{Mode: "password"}, {Mode: "fido2", PreviouslySatisfied: true}},
			result: ResultFailure, decision: DecisionStepUpRequired, strength: StrengthResultSingleChallengeRequired, grantCode: ReasonReauthenticationRequired, prompt: "fido2"},
		{name: "everyTime with fresh fido2", grant: strength(StrengthIDPhishingResistant), session: every, methods: []SatisfiedMethod{{Mode: "fido2"}},
			result: ResultSuccess, decision: DecisionAllow, strength: StrengthResultSatisfied, grantCode: ReasonGrantSatisfied},
		{name: "TAP satisfies MFA", grant: basePolicy("").GrantControls, methods: []SatisfiedMethod{{Mode: "temporaryAccessPassOneTime"}},
			result: ResultSuccess, decision: DecisionAllow, grantCode: ReasonGrantSatisfied},
		{name: "compliant device unmet blocks", grant: &ConditionalAccessGrantControls{Operator: OperatorAND, BuiltInControls: []string{ControlCompliantDevice}},
			result: ResultFailure, decision: DecisionBlock, grantCode: ReasonGrantUnsatisfiable},
		{name: "OR mfa/compliantDevice met by device", grant: &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlMfa, ControlCompliantDevice}},
			ctxMod: func(c *SignInContext) { c.IsCompliantDevice = true }, result: ResultSuccess, decision: DecisionAllow, grantCode: ReasonGrantSatisfied},
		{name: "OR mfa/compliantDevice unmet is a step-up", grant: &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlMfa, ControlCompliantDevice}},
			result: ResultFailure, decision: DecisionStepUpRequired, grantCode: ReasonGrantUnmet, prompt: "fido2"},
		{name: "AND mfa+compliantDevice without device blocks", grant: &ConditionalAccessGrantControls{Operator: OperatorAND, BuiltInControls: []string{ControlMfa, ControlCompliantDevice}},
			methods: []SatisfiedMethod{{Mode: "fido2"}}, result: ResultFailure, decision: DecisionBlock, grantCode: ReasonGrantUnsatisfiable},
		{name: "report-only success", state: StateReportOnly, grant: basePolicy("").GrantControls, methods: []SatisfiedMethod{{Mode: "fido2"}},
			result: ResultReportOnlySuccess, decision: DecisionAllow, grantCode: ReasonGrantSatisfied},
		{name: "report-only interrupted does not change decision", state: StateReportOnly, grant: basePolicy("").GrantControls,
			result: ResultReportOnlyInterrupted, decision: DecisionAllow, grantCode: ReasonGrantUnmet},
		{name: "report-only block is reportOnlyFailure", state: StateReportOnly, grant: &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}},
			result: ResultReportOnlyFailure, decision: DecisionAllow, grantCode: ReasonGrantBlocked},
		{name: "session controls only", grant: nil, session: every, result: ResultSuccess, decision: DecisionAllow, grantCode: ReasonNoGrantControls},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePolicy("p1")
			if tt.state != "" {
				p.State = tt.state
			}
			p.GrantControls, p.SessionControls = tt.grant, tt.session
			ctx := baseCtx()
			if tt.methods != nil {
				ctx.Methods = tt.methods
			}
			if tt.registered != 0 {
				ctx.RegisteredMethods = tt.registered
			}
			if tt.ctxMod != nil {
				tt.ctxMod(ctx)
			}
			a, e := evalOne(t, p, ctx)
			if a.Result != tt.result || e.Decision != tt.decision {
				t.Errorf("result/decision = %s/%s want %s/%s (%s)", a.Result, e.Decision, tt.result, tt.decision, a.Explanation.Text())
			}
			if a.AuthenticationStrength.AuthenticationStrengthResult != tt.strength {
				t.Errorf("authenticationStrengthResult = %q want %q", a.AuthenticationStrength.AuthenticationStrengthResult, tt.strength)
			}
			if a.Explanation.Grant.Code != tt.grantCode {
				t.Errorf("grant code = %q want %q (%s)", a.Explanation.Grant.Code, tt.grantCode, a.Explanation.Text())
			}
			got := ""
			if e.Prompt != nil {
				got = e.Prompt.Method
			}
			if got != tt.prompt {
				t.Errorf("prompt = %q want %q", got, tt.prompt)
			}
		})
	}
}

func TestEvaluateOverall(t *testing.T) {
	mfa := basePolicy("mfa")
	phish := basePolicy("phish")
	phish.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
	blockRO := basePolicy("block-ro")
	blockRO.State = StateReportOnly
	blockRO.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}}
	off := basePolicy("off")
	off.State = StateDisabled
	other := basePolicy("other-app")
	other.Conditions.Applications.IncludeApplications = []string{appMail}

	c, err := Compile([]ConditionalAccessPolicy{mfa, phish, blockRO, off, other}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baseCtx()
	ctx.Methods = []SatisfiedMethod{{Mode: "password"}, {Mode: "sms"}}
	ctx.IsEmergencyAccount = true
	e := c.Evaluate(ctx)
	results := []string{}
	for _, a := range e.AppliedConditionalAccessPolicies {
		results = append(results, a.Result)
	}
	want := []string{ResultSuccess, ResultFailure, ResultReportOnlyFailure, ResultNotEnabled, ResultNotApplied}
	if !slices.Equal(results, want) {
		t.Fatalf("results = %v want %v", results, want)
	}
	if e.Decision != DecisionStepUpRequired || e.ConditionalAccessStatus != ResultFailure {
		t.Errorf("decision = %s status = %s", e.Decision, e.ConditionalAccessStatus)
	}
	if len(e.UnmetRequirements) != 1 || e.UnmetRequirements[0].PolicyID != "phish" || e.UnmetRequirements[0].AuthenticationStrength == nil {
		t.Fatalf("unmet = %+v", e.UnmetRequirements)
	}
	if e.Prompt == nil || e.Prompt.Method != "fido2" || !e.Prompt.Completes {
		t.Errorf("prompt = %+v", e.Prompt)
	}
	if len(e.Warnings) != 1 || e.Warnings[0].Code != ReasonEmergencyAccountAffected {
		t.Errorf("warnings = %+v", e.Warnings)
	}

	// After the step-up everything enforced is satisfied.
	ctx.Methods = append(ctx.Methods, SatisfiedMethod{Mode: "fido2"})
	e = c.Evaluate(ctx)
	if e.Decision != DecisionAllow || e.ConditionalAccessStatus != ResultSuccess || len(e.Warnings) != 0 {
		t.Errorf("after step-up: %s %s %v", e.Decision, e.ConditionalAccessStatus, e.Warnings)
	}

	// Nothing applicable at all.
	ctx.ApplicationID = "app-unknown"
	ctx.UserID = "u-x"
	c2, _ := Compile([]ConditionalAccessPolicy{other}, nil)
	if e := c2.Evaluate(ctx); e.ConditionalAccessStatus != ResultNotApplied || e.Decision != DecisionAllow {
		t.Errorf("no policy applies: %s %s", e.ConditionalAccessStatus, e.Decision)
	}
}

func TestEvaluateJSONShape(t *testing.T) {
	p := basePolicy("p1")
	p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
	p.Conditions.Users.ExcludeGroups = []string{"g-123"}
	a, _ := evalOne(t, p, baseCtx())
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"id":"p1"`, `"result":"notApplied"`, `"enforcedGrantControls":[]`, `"enforcedSessionControls":[]`,
		`"authenticationStrength":{"authenticationStrengthId":"00000000-0000-0000-0000-000000000004","displayName":"Phishing-resistant MFA","authenticationStrengthResult":"notSet"}`,
		`"conditionsNotSatisfied":"users"`,
		`"scope":{"code":"excluded","condition":"users","property":"excludeGroups","value":"g-123","text":"excluded: user in excludeGroups g-123"}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s\n%s", want, s)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	p := basePolicy("p1")
	p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: "missing"}}
	q := basePolicy("p2")
	q.State = "on"
	_, err := Compile([]ConditionalAccessPolicy{p, q}, nil)
	if got := codesOf(err); !slices.Equal(got, []string{CodeAuthenticationStrengthNotFound, CodeInvalidState}) {
		t.Errorf("codes = %v", got)
	}
	custom := AuthenticationStrengthPolicy{ID: "c1", DisplayName: "Keys", AllowedCombinations: []string{"fido2"}}
	p.GrantControls.AuthenticationStrength.ID = "c1"
	c, err := Compile([]ConditionalAccessPolicy{p}, StrengthMap([]AuthenticationStrengthPolicy{custom}))
	if err != nil || c.Len() != 1 {
		t.Fatalf("custom strength: %v", err)
	}
}

// TestEvaluateNoPoliciesAndGroupNames: with no policy the applied list is
// [] (Graph's shape), and explanations name groups by name and id.
func TestEvaluateNoPoliciesAndGroupNames(t *testing.T) {
	none, err := Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(none.Evaluate(baseCtx()).AppliedConditionalAccessPolicies)
	if string(raw) != "[]" {
		t.Fatalf("no policies: %s", raw)
	}
	p := basePolicy("p1")
	p.Conditions.Users.ExcludeGroups = []string{"g-123"}
	c, err := Compile([]ConditionalAccessPolicy{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetNames(map[string]string{"g-123": "GRP-Emergency-Access"})
	if got := c.Evaluate(baseCtx()).AppliedConditionalAccessPolicies[0].Explanation.Scope.Text(); got != "excluded: user in excludeGroups GRP-Emergency-Access (g-123)" {
		t.Fatalf("explanation %q", got)
	}
	if ids := GroupIDs([]ConditionalAccessPolicy{p, p}); len(ids) != 1 || ids[0] != "g-123" {
		t.Fatalf("GroupIDs %v", ids)
	}
}

func TestSignInFrequencyTimeBased(t *testing.T) {
	hours := 1
	p := basePolicy("p-freq")
	p.SessionControls = &ConditionalAccessSessionControls{SignInFrequency: &SignInFrequencySessionControl{
		IsEnabled: true, Type: "hours", Value: &hours, FrequencyInterval: "timeBased", AuthenticationType: "primaryAndSecondaryAuthentication"}}
	for _, tc := range []struct {
		age  time.Duration
		want string
	}{{30 * time.Minute, ResultSuccess}, {2 * time.Hour, ResultFailure}} {
		ctx := baseCtx()
		ctx.Methods = []SatisfiedMethod{{Mode: "password", PreviouslySatisfied: true, Age: tc.age}, {Mode: "fido2", PreviouslySatisfied: true, Age: tc.age}}
		applied, _ := evalOne(t, p, ctx)
		if applied.Result != tc.want {
			t.Errorf("previously satisfied %s ago: %s, want %s", tc.age, applied.Result, tc.want)
		}
	}
}

func TestPersistentBrowserOfAppliedPolicies(t *testing.T) {
	never := basePolicy("p-never")
	never.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlMfa}}
	never.SessionControls = &ConditionalAccessSessionControls{PersistentBrowser: &PersistentBrowserSessionControl{IsEnabled: true, Mode: "never"}}
	always := basePolicy("p-always")
	always.SessionControls = &ConditionalAccessSessionControls{PersistentBrowser: &PersistentBrowserSessionControl{IsEnabled: true, Mode: "always"}}
	c, err := Compile([]ConditionalAccessPolicy{always, never}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baseCtx()
	ctx.Methods = []SatisfiedMethod{{Mode: "fido2"}}
	if e := c.Evaluate(ctx); e.PersistentBrowser != "never" {
		t.Errorf("never and always: %q", e.PersistentBrowser)
	}
	c, _ = Compile([]ConditionalAccessPolicy{always}, nil)
	if e := c.Evaluate(ctx); e.PersistentBrowser != "always" {
		t.Errorf("always: %q", e.PersistentBrowser)
	}
}
