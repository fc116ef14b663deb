package policy

import (
	"slices"
	"testing"
)

func TestValidateConditionalAccessPolicy(t *testing.T) {
	one := 1
	tests := []struct {
		name string
		mod  func(*ConditionalAccessPolicy)
		want []string
	}{
		{"valid", func(p *ConditionalAccessPolicy) {}, nil},
		{"valid strength", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
		}, nil},
		{"empty displayName", func(p *ConditionalAccessPolicy) { p.DisplayName = " " }, []string{CodeDisplayNameRequired}},
		{"unknown state", func(p *ConditionalAccessPolicy) { p.State = "on" }, []string{CodeInvalidState}},
		{"no users", func(p *ConditionalAccessPolicy) { p.Conditions.Users = ConditionalAccessUsers{} }, []string{CodeUsersConditionRequired}},
		{"All mixed with ids", func(p *ConditionalAccessPolicy) { p.Conditions.Users.IncludeUsers = []string{KeywordAll, alice} }, []string{CodeKeywordNotAlone}},
		{"exclude All users", func(p *ConditionalAccessPolicy) { p.Conditions.Users.ExcludeUsers = []string{KeywordAll} }, []string{CodeKeywordNotAlone}},
		{"no applications", func(p *ConditionalAccessPolicy) { p.Conditions.Applications = ConditionalAccessApplications{} }, []string{CodeApplicationsConditionRequired}},
		{"user action", func(p *ConditionalAccessPolicy) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeUserActions: []string{UserActionRegisterSecurityInfo}}
		}, nil},
		{"user action with applications", func(p *ConditionalAccessPolicy) {
			p.Conditions.Applications.IncludeUserActions = []string{UserActionRegisterSecurityInfo}
		}, []string{CodeUserActionsWithApplications}},
		{"unmodelled user action", func(p *ConditionalAccessPolicy) {
			p.Conditions.Applications = ConditionalAccessApplications{IncludeUserActions: []string{"urn:user:registerdevice"}}
		}, []string{CodeUnsupportedUserAction}},
		{"exclude All apps", func(p *ConditionalAccessPolicy) { p.Conditions.Applications.ExcludeApplications = []string{KeywordAll} }, []string{CodeKeywordNotAlone}},
		{"unknown client app", func(p *ConditionalAccessPolicy) { p.Conditions.ClientAppTypes = []string{"browser", "fax"} }, []string{CodeUnknownEnumValue}},
		{"unknown platform", func(p *ConditionalAccessPolicy) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{IncludePlatforms: []string{"amiga"}}
		}, []string{CodeUnknownEnumValue}},
		{"exclude platform without include", func(p *ConditionalAccessPolicy) {
			p.Conditions.Platforms = &ConditionalAccessPlatforms{ExcludePlatforms: []string{"iOS"}}
		}, []string{CodeUnknownEnumValue}},
		{"exclude All locations", func(p *ConditionalAccessPolicy) {
			p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: []string{KeywordAll}, ExcludeLocations: []string{KeywordAll}}
		}, []string{CodeInvalidLocationKeyword}},
		{"unknown risk", func(p *ConditionalAccessPolicy) { p.Conditions.SignInRiskLevels = []string{"hidden"} }, []string{CodeUnknownEnumValue}},
		{"no controls at all", func(p *ConditionalAccessPolicy) { p.GrantControls = nil }, []string{CodeControlsRequired}},
		{"empty grant", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR}
		}, []string{CodeEmptyGrantControls}},
		{"bad operator", func(p *ConditionalAccessPolicy) { p.GrantControls.Operator = "XOR" }, []string{CodeInvalidOperator}},
		{"unknown control", func(p *ConditionalAccessPolicy) { p.GrantControls.BuiltInControls = []string{"prayer"} }, []string{CodeUnknownEnumValue}},
		{"mfa with strength refused", func(p *ConditionalAccessPolicy) {
			p.GrantControls.AuthenticationStrength = &AuthenticationStrengthPolicy{ID: StrengthIDMultifactor}
		}, []string{CodeMfaWithAuthenticationStrength}},
		{"block with others", func(p *ConditionalAccessPolicy) {
			p.GrantControls.BuiltInControls = []string{ControlBlock, ControlMfa}
		}, []string{CodeBlockWithOtherControls}},
		{"block with strength", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDMultifactor}}
		}, []string{CodeBlockWithOtherControls}},
		{"strength not found", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: "nope"}}
		}, []string{CodeAuthenticationStrengthNotFound}},
		{"terms of use unsupported", func(p *ConditionalAccessPolicy) { p.GrantControls.TermsOfUse = []string{"tou"} }, []string{CodeUnsupportedControl}},
		{"passwordChange without risk", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorAND, BuiltInControls: []string{ControlMfa, ControlPasswordChange}}
		}, []string{CodePasswordChangeRequirements}},
		{"passwordChange valid", func(p *ConditionalAccessPolicy) {
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorAND, BuiltInControls: []string{ControlMfa, ControlPasswordChange}}
			p.Conditions.UserRiskLevels = []string{"high"}
		}, nil},
		{"session-only valid", func(p *ConditionalAccessPolicy) {
			p.GrantControls = nil
			p.SessionControls = &ConditionalAccessSessionControls{SignInFrequency: &SignInFrequencySessionControl{IsEnabled: true, Type: "hours", Value: &one, FrequencyInterval: "timeBased"}}
		}, nil},
		{"bad sign-in frequency", func(p *ConditionalAccessPolicy) {
			p.SessionControls = &ConditionalAccessSessionControls{SignInFrequency: &SignInFrequencySessionControl{IsEnabled: true, Type: "weeks", Value: &one}}
		}, []string{CodeInvalidSessionControl}},
		{"bad persistent browser", func(p *ConditionalAccessPolicy) {
			p.SessionControls = &ConditionalAccessSessionControls{PersistentBrowser: &PersistentBrowserSessionControl{IsEnabled: true, Mode: "sometimes"}}
		}, []string{CodeInvalidSessionControl}},
		{"several errors at once", func(p *ConditionalAccessPolicy) {
			p.DisplayName = ""
			p.State = "x"
		}, []string{CodeDisplayNameRequired, CodeInvalidState}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := basePolicy("p1")
			tt.mod(&p)
			if got := codesOf(ValidateConditionalAccessPolicy(p, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("codes = %v want %v", got, tt.want)
			}
		})
	}
}

func TestCheckLockout(t *testing.T) {
	const breakGlass1, breakGlass2, bgGroup = "u-bg1", "u-bg2", "g-breakglass"
	block := func() ConditionalAccessPolicy {
		p := basePolicy("p")
		p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, BuiltInControls: []string{ControlBlock}}
		return p
	}
	admin := func() *SignInContext {
		c := baseCtx()
		c.UserID = "u-admin"
		c.Methods = []SatisfiedMethod{{Mode: "fido2"}}
		return c
	}
	tests := []struct {
		name     string
		p        func() ConditionalAccessPolicy
		in       LockoutInput
		findings []string
		refused  bool
	}{
		{"all users, accounts not excluded", func() ConditionalAccessPolicy { return basePolicy("p") },
			LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1, breakGlass2}}, []string{CodeEmergencyAccountNotExcluded}, true},
		{"all users, only one account excluded", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.Conditions.Users.ExcludeUsers = []string{breakGlass1}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1, breakGlass2}}, []string{CodeEmergencyAccountNotExcluded}, true},
		{"all users, accounts excluded", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.Conditions.Users.ExcludeUsers = []string{breakGlass1, breakGlass2}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1, breakGlass2}}, nil, false},
		{"all users, group excluded", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.Conditions.Users.ExcludeGroups = []string{bgGroup}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, EmergencyAccountGroupID: bgGroup}, nil, false},
		{"group configured but not excluded", func() ConditionalAccessPolicy { return basePolicy("p") },
			LockoutInput{EmergencyAccountGroupID: bgGroup}, []string{CodeEmergencyAccountNotExcluded}, true},
		{"forced", func() ConditionalAccessPolicy { return basePolicy("p") },
			LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, Force: true}, []string{CodeEmergencyAccountNotExcluded}, false},
		{"report-only is never a lockout", func() ConditionalAccessPolicy {
			p := block()
			p.State = StateReportOnly
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, Caller: admin()}, nil, false},
		{"scoped policy need not exclude", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.Conditions.Users = ConditionalAccessUsers{IncludeGroups: []string{"g-sales"}}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}}, nil, false},
		{"block applying to caller", func() ConditionalAccessPolicy {
			p := block()
			p.Conditions.Users.ExcludeUsers = []string{breakGlass1}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, Caller: admin()}, []string{CodeWouldLockOutCaller}, true},
		{"block with caller excluded", func() ConditionalAccessPolicy {
			p := block()
			p.Conditions.Users.ExcludeUsers = []string{breakGlass1, "u-admin"}
			return p
		}, LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, Caller: admin()}, nil, false},
		{"strength the caller cannot register for", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
			return p
		}, LockoutInput{Caller: &SignInContext{UserID: "u-admin", ApplicationID: appPort, Methods: []SatisfiedMethod{{Mode: "password"}, {Mode: "sms"}}, RegisteredMethods: ModeSet(ModePassword | ModeSMS)}},
			[]string{CodeWouldLockOutCaller}, true},
		{"strength the caller can step up to", func() ConditionalAccessPolicy {
			p := basePolicy("p")
			p.GrantControls = &ConditionalAccessGrantControls{Operator: OperatorOR, AuthenticationStrength: &AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant}}
			return p
		}, LockoutInput{Caller: baseCtx()}, nil, false},
		{"both findings, forced", func() ConditionalAccessPolicy { return block() },
			LockoutInput{EmergencyAccountUserIDs: []string{breakGlass1}, Caller: admin(), Force: true},
			[]string{CodeEmergencyAccountNotExcluded, CodeWouldLockOutCaller}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := CheckLockout(tt.p(), tt.in)
			if got := findings.Codes(); !slices.Equal(got, tt.findings) && !(len(got) == 0 && len(tt.findings) == 0) {
				t.Errorf("findings = %v want %v", got, tt.findings)
			}
			if (err != nil) != tt.refused {
				t.Errorf("refused = %v want %v (%v)", err != nil, tt.refused, err)
			}
		})
	}
}

func TestChooseSystemPreferredMethod(t *testing.T) {
	b := BuiltInStrengths()
	combos := func(s AuthenticationStrengthPolicy) []ModeSet {
		var out []ModeSet
		for _, c := range s.AllowedCombinations {
			set, _ := ParseCombination(c)
			out = append(out, set)
		}
		return out
	}
	mfa, phish := combos(b[0]), combos(b[2])
	all := ModeSet(0)
	for _, m := range SystemPreferredOrder() {
		all = all.With(m)
	}
	tests := []struct {
		name       string
		registered ModeSet
		used       ModeSet
		pending    [][]ModeSet
		method     string
		alts       []string
		completes  bool
		register   bool
	}{
		{"TAP beats everything", all, ModeSet(ModePassword), [][]ModeSet{mfa}, "temporaryAccessPassOneTime", nil, true, false},
		{"passkey before push before TOTP before SMS",
			ModeSet(ModeFido2 | ModeMicrosoftAuthenticatorPush | ModeSoftwareOath | ModeSMS | ModeVoice), ModeSet(ModePassword), [][]ModeSet{mfa},
			"fido2", []string{"microsoftAuthenticatorPush", "softwareOath", "sms", "voice"}, true, false},
		{"certificate before push", ModeSet(ModeX509CertificateMultiFactor | ModeMicrosoftAuthenticatorPush), ModeSet(ModePassword), [][]ModeSet{mfa},
			"x509CertificateMultiFactor", []string{"microsoftAuthenticatorPush"}, true, false},
		{"push before hardware OATH", ModeSet(ModeHardwareOath | ModeMicrosoftAuthenticatorPush), ModeSet(ModePassword), [][]ModeSet{mfa},
			"microsoftAuthenticatorPush", []string{"hardwareOath"}, true, false},
		{"SMS before voice", ModeSet(ModeVoice | ModeSMS), ModeSet(ModePassword), [][]ModeSet{mfa}, "sms", []string{"voice"}, true, false},
		{"phishing-resistant skips push", ModeSet(ModeMicrosoftAuthenticatorPush | ModeFido2), ModeSet(ModePassword), [][]ModeSet{phish}, "fido2", nil, true, false},
		{"nothing useful registered", ModeSet(ModeMicrosoftAuthenticatorPush | ModeSMS), ModeSet(ModePassword), [][]ModeSet{phish}, "", nil, false, true},
		{"completing method beats more secure partial one", ModeSet(ModeSMS | ModePassword), 0, [][]ModeSet{{ModeSet(ModePassword | ModeSMS)}, {ModeSet(ModeSMS)}},
			"sms", []string{"password"}, false, false},
		{"already satisfied", all, ModeSet(ModeFido2), [][]ModeSet{phish}, "", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ChooseSystemPreferredMethod(tt.registered, tt.used, tt.pending)
			if c.Method != tt.method || c.Completes != tt.completes || c.RegistrationRequired != tt.register {
				t.Errorf("got %+v", c)
			}
			if tt.alts != nil && !slices.Equal(c.Alternatives, tt.alts) {
				t.Errorf("alternatives = %v want %v", c.Alternatives, tt.alts)
			}
		})
	}
	c, err := SystemPreferredMethodFor([]string{"sms", "fido2"}, []SatisfiedMethod{{Mode: "password"}}, b[0].AllowedCombinations)
	if err != nil || c.Method != "fido2" || !slices.Equal(c.Alternatives, []string{"sms"}) {
		t.Errorf("SystemPreferredMethodFor = %+v, %v", c, err)
	}
	if _, err := SystemPreferredMethodFor([]string{"passkey"}, nil, b[0].AllowedCombinations); err == nil {
		t.Error("unknown registered method accepted")
	}
}
