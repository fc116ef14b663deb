package policy

import (
	"slices"
	"testing"
)

func TestParseCombination(t *testing.T) {
	tests := []struct {
		in   string
		want ModeSet
		ok   bool
	}{
		{"fido2", ModeSet(ModeFido2), true},
		{"password,sms", ModeSet(ModePassword | ModeSMS), true},
		{"password, sms", ModeSet(ModePassword | ModeSMS), true},
		{"sms,password", ModeSet(ModePassword | ModeSMS), true},
		{"password,bogus", 0, false},
		{"", 0, false},
		{" , ", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseCombination(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseCombination(%q) = %v,%v want %v,%v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if s := ModeSet(ModeSMS | ModePassword).String(); s != "password,sms" {
		t.Errorf("String = %q", s)
	}
	for m := Mode(1); m < modeEnd; m <<= 1 {
		back, ok := ParseMode(m.String())
		if !ok || back != m {
			t.Errorf("round trip %v failed", m)
		}
	}
}

func TestBuiltInStrengthsAreKnownAndMFA(t *testing.T) {
	b := BuiltInStrengths()
	if len(b) != 3 {
		t.Fatalf("want 3 built-ins")
	}
	wantIDs := []string{StrengthIDMultifactor, StrengthIDPasswordlessMFA, StrengthIDPhishingResistant}
	for i, s := range b {
		if s.ID != wantIDs[i] || s.PolicyType != PolicyTypeBuiltIn {
			t.Errorf("built-in %d = %s/%s", i, s.ID, s.PolicyType)
		}
		for _, c := range s.AllowedCombinations {
			set, ok := ParseCombination(c)
			if !ok || !IsKnownCombination(set) {
				t.Errorf("%s: combination %q not known", s.DisplayName, c)
			}
		}
		if got := RequirementsSatisfiedFor(s.AllowedCombinations); got != RequirementsSatisfiedMFA {
			t.Errorf("%s: requirementsSatisfied = %s", s.DisplayName, got)
		}
	}
	if !slices.Equal(b[2].AllowedCombinations, []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"}) {
		t.Errorf("phishing-resistant combinations = %v", b[2].AllowedCombinations)
	}
	if RequirementsSatisfiedFor([]string{"fido2", "password"}) != RequirementsSatisfiedNone {
		t.Error("a single-factor combination must make the strength non-MFA")
	}
}

func TestSatisfiesStrength(t *testing.T) {
	b := BuiltInStrengths()
	mfa, pwless, phish := b[0], b[1], b[2]
	yubi := "cb69481e-8ff7-4039-93ec-0a2729a154a8"
	other := "ee882879-721c-4913-9775-3dfcce97072a"
	custom := AuthenticationStrengthPolicy{
		ID: "c1", DisplayName: "YubiKeys only", PolicyType: PolicyTypeCustom,
		AllowedCombinations: []string{"fido2"},
		CombinationConfigurations: []CombinationConfiguration{{
			ODataType: ODataTypeFido2CombinationConfiguration, AppliesToCombinations: []string{"fido2"}, AllowedAAGUIDs: []string{yubi},
		}},
	}
	m := func(modes ...string) []SatisfiedMethod {
		out := make([]SatisfiedMethod, len(modes))
		for i, x := range modes {
			out[i] = SatisfiedMethod{Mode: x}
		}
		return out
	}
	tests := []struct {
		name     string
		strength AuthenticationStrengthPolicy
		methods  []SatisfiedMethod
		want     StrengthMatch
	}{
		{"password+push satisfies MFA", mfa, m("password", "microsoftAuthenticatorPush"), StrengthMatch{Satisfied: true, Combination: "password,microsoftAuthenticatorPush"}},
		{"fido2 satisfies MFA", mfa, m("fido2"), StrengthMatch{Satisfied: true, Combination: "fido2"}},
		{"TAP one-time satisfies MFA", mfa, m("temporaryAccessPassOneTime"), StrengthMatch{Satisfied: true, Combination: "temporaryAccessPassOneTime"}},
		{"password alone does not satisfy MFA", mfa, m("password"), StrengthMatch{}},
		{"password+push does not satisfy phishing-resistant", phish, m("password", "microsoftAuthenticatorPush"), StrengthMatch{}},
		{"TAP does not satisfy passwordless", pwless, m("temporaryAccessPassOneTime"), StrengthMatch{}},
		{"password then fido2 satisfies phishing-resistant", phish, m("password", "fido2"), StrengthMatch{Satisfied: true, Combination: "fido2"}},
		{"order of methods is irrelevant", mfa, m("sms", "password"), StrengthMatch{Satisfied: true, Combination: "password,sms"}},
		{"previously satisfied counts and is flagged", phish, []SatisfiedMethod{{Mode: "password"}, {Mode: "fido2", PreviouslySatisfied: true}}, StrengthMatch{Satisfied: true, Combination: "fido2", ByPreviouslySatisfied: true}},
		{"allowed AAGUID", custom, []SatisfiedMethod{{Mode: "fido2", AAGUID: yubi}}, StrengthMatch{Satisfied: true, Combination: "fido2"}},
		{"allowed AAGUID is case-insensitive", custom, []SatisfiedMethod{{Mode: "fido2", AAGUID: "CB69481E-8FF7-4039-93EC-0A2729A154A8"}}, StrengthMatch{Satisfied: true, Combination: "fido2"}},
		{"disallowed AAGUID", custom, []SatisfiedMethod{{Mode: "fido2", AAGUID: other}}, StrengthMatch{RestrictedByConfiguration: true}},
		{"unknown method names are ignored", mfa, m("carrierPigeon"), StrengthMatch{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SatisfiesStrength(tt.strength, tt.methods)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateCustomStrength(t *testing.T) {
	fidoCfg := func(aaguids ...string) CombinationConfiguration {
		return CombinationConfiguration{ODataType: ODataTypeFido2CombinationConfiguration, AppliesToCombinations: []string{"fido2"}, AllowedAAGUIDs: aaguids}
	}
	tests := []struct {
		name string
		s    AuthenticationStrengthPolicy
		want []string
	}{
		{"valid", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2", "password, sms"}}, nil},
		{"valid with aaguid", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2"}, CombinationConfigurations: []CombinationConfiguration{fidoCfg("cb69481e-8ff7-4039-93ec-0a2729a154a8")}}, nil},
		{"no name", AuthenticationStrengthPolicy{AllowedCombinations: []string{"fido2"}}, []string{CodeDisplayNameRequired}},
		{"no combinations", AuthenticationStrengthPolicy{DisplayName: "x"}, []string{CodeAllowedCombinationsRequired}},
		{"unknown mode", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"passkey"}}, []string{CodeUnknownCombination}},
		{"unoffered combination", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2,sms"}}, []string{CodeUnknownCombination}},
		{"duplicate", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"password,sms", "sms, password"}}, []string{CodeDuplicateCombination}},
		{"built-in id", AuthenticationStrengthPolicy{ID: StrengthIDPhishingResistant, DisplayName: "x", AllowedCombinations: []string{"fido2"}}, []string{CodeBuiltInReadOnly}},
		{"built-in type", AuthenticationStrengthPolicy{PolicyType: PolicyTypeBuiltIn, DisplayName: "x", AllowedCombinations: []string{"fido2"}}, []string{CodeBuiltInReadOnly}},
		{"bad type", AuthenticationStrengthPolicy{PolicyType: "fancy", DisplayName: "x", AllowedCombinations: []string{"fido2"}}, []string{CodeUnknownEnumValue}},
		{"aaguid without fido2 combination", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"password,sms"}, CombinationConfigurations: []CombinationConfiguration{fidoCfg("cb69481e-8ff7-4039-93ec-0a2729a154a8")}}, []string{CodeInvalidCombinationConfiguration}},
		{"bad aaguid", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2"}, CombinationConfigurations: []CombinationConfiguration{fidoCfg("yubikey")}}, []string{CodeInvalidCombinationConfiguration}},
		{"empty aaguids", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2"}, CombinationConfigurations: []CombinationConfiguration{fidoCfg()}}, []string{CodeInvalidCombinationConfiguration}},
		{"x509 config unsupported", AuthenticationStrengthPolicy{DisplayName: "x", AllowedCombinations: []string{"fido2"}, CombinationConfigurations: []CombinationConfiguration{{ODataType: "#microsoft.graph.x509CertificateCombinationConfiguration"}}}, []string{CodeUnsupportedCombinationConfiguration}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := codesOf(ValidateCustomStrength(tt.s)); !slices.Equal(got, tt.want) {
				t.Errorf("codes = %v want %v", got, tt.want)
			}
		})
	}
}

func codesOf(err error) []string {
	if err == nil {
		return nil
	}
	return err.(ValidationErrors).Codes()
}
