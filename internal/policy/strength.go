package policy

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AuthenticationStrengthPolicy is Graph's authenticationStrengthPolicy.
type AuthenticationStrengthPolicy struct {
	ID                        string                     `json:"id"`
	DisplayName               string                     `json:"displayName"`
	Description               string                     `json:"description"`
	PolicyType                string                     `json:"policyType"`            // builtIn, custom
	RequirementsSatisfied     string                     `json:"requirementsSatisfied"` // mfa, none
	AllowedCombinations       []string                   `json:"allowedCombinations"`
	CombinationConfigurations []CombinationConfiguration `json:"combinationConfigurations"`
	CreatedDateTime           time.Time                  `json:"createdDateTime,omitzero"`
	ModifiedDateTime          time.Time                  `json:"modifiedDateTime,omitzero"`
}

// CombinationConfiguration is Graph's authenticationCombinationConfiguration.
// Graph makes it polymorphic through "@odata.type"; rpserver supports only
// the fido2 variant (allowedAAGUIDs), which is what a passkey lab needs.
type CombinationConfiguration struct {
	ODataType             string   `json:"@odata.type"`
	ID                    string   `json:"id,omitempty"`
	AppliesToCombinations []string `json:"appliesToCombinations"`
	AllowedAAGUIDs        []string `json:"allowedAAGUIDs,omitempty"`
}

// ODataTypeFido2CombinationConfiguration is the @odata.type of the only
// supported combination configuration.
const ODataTypeFido2CombinationConfiguration = "#microsoft.graph.fido2CombinationConfiguration"

// Values of policyType and requirementsSatisfied.
const (
	PolicyTypeBuiltIn           = "builtIn"
	PolicyTypeCustom            = "custom"
	RequirementsSatisfiedMFA    = "mfa"
	RequirementsSatisfiedNone   = "none"
	StrengthIDMultifactor       = "00000000-0000-0000-0000-000000000002"
	StrengthIDPasswordlessMFA   = "00000000-0000-0000-0000-000000000003"
	StrengthIDPhishingResistant = "00000000-0000-0000-0000-000000000004"
)

// builtInCreated is the timestamp Graph reports for the built-in strengths.
var builtInCreated = time.Date(2021, 12, 1, 0, 0, 0, 0, time.UTC)

// BuiltInStrengths returns fresh copies of Entra's three built-in strengths
// with their well-known ids and combinations as Graph lists them.
func BuiltInStrengths() []AuthenticationStrengthPolicy {
	passwordless := []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"}
	return []AuthenticationStrengthPolicy{
		{
			ID:                    StrengthIDMultifactor,
			DisplayName:           "Multifactor authentication",
			Description:           "Combinations of methods that satisfy strong authentication, such as a password + SMS",
			PolicyType:            PolicyTypeBuiltIn,
			RequirementsSatisfied: RequirementsSatisfiedMFA,
			AllowedCombinations: append(append([]string{}, passwordless...),
				"temporaryAccessPassOneTime",
				"temporaryAccessPassMultiUse",
				"password,microsoftAuthenticatorPush",
				"password,softwareOath",
				"password,hardwareOath",
				"password,sms",
				"password,voice",
				"federatedMultiFactor",
				"microsoftAuthenticatorPush,federatedSingleFactor",
				"softwareOath,federatedSingleFactor",
				"hardwareOath,federatedSingleFactor",
				"sms,federatedSingleFactor",
				"voice,federatedSingleFactor",
			),
			CombinationConfigurations: []CombinationConfiguration{},
			CreatedDateTime:           builtInCreated,
			ModifiedDateTime:          builtInCreated,
		},
		{
			ID:                        StrengthIDPasswordlessMFA,
			DisplayName:               "Passwordless MFA",
			Description:               "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
			PolicyType:                PolicyTypeBuiltIn,
			RequirementsSatisfied:     RequirementsSatisfiedMFA,
			AllowedCombinations:       passwordless,
			CombinationConfigurations: []CombinationConfiguration{},
			CreatedDateTime:           builtInCreated,
			ModifiedDateTime:          builtInCreated,
		},
		{
			ID:                        StrengthIDPhishingResistant,
			DisplayName:               "Phishing-resistant MFA",
			Description:               "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
			PolicyType:                PolicyTypeBuiltIn,
			RequirementsSatisfied:     RequirementsSatisfiedMFA,
			AllowedCombinations:       []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
			CombinationConfigurations: []CombinationConfiguration{},
			CreatedDateTime:           builtInCreated,
			ModifiedDateTime:          builtInCreated,
		},
	}
}

// IsBuiltInStrengthID reports whether id is one of the well-known built-in ids.
func IsBuiltInStrengthID(id string) bool {
	return id == StrengthIDMultifactor || id == StrengthIDPasswordlessMFA || id == StrengthIDPhishingResistant
}

// StrengthLookup resolves a strength id. Built-ins are always resolved by
// the package, so a lookup only needs to know the tenant's custom ones.
type StrengthLookup func(id string) (AuthenticationStrengthPolicy, bool)

// StrengthMap is the simplest StrengthLookup.
func StrengthMap(custom []AuthenticationStrengthPolicy) StrengthLookup {
	m := make(map[string]AuthenticationStrengthPolicy, len(custom))
	for _, s := range custom {
		m[s.ID] = s
	}
	return func(id string) (AuthenticationStrengthPolicy, bool) {
		s, ok := m[id]
		return s, ok
	}
}

var builtInByID = func() map[string]AuthenticationStrengthPolicy {
	m := map[string]AuthenticationStrengthPolicy{}
	for _, s := range BuiltInStrengths() {
		m[s.ID] = s
	}
	return m
}()

func resolveStrength(id string, lookup StrengthLookup) (AuthenticationStrengthPolicy, bool) {
	if s, ok := builtInByID[id]; ok {
		return s, true
	}
	if lookup == nil {
		return AuthenticationStrengthPolicy{}, false
	}
	return lookup(id)
}

// RequirementsSatisfiedFor computes requirementsSatisfied the way Graph
// derives it (it is read-only there): "mfa" only if every allowed
// combination is multifactor, because one weak combination is enough to get
// through the strength.
func RequirementsSatisfiedFor(combinations []string) string {
	if len(combinations) == 0 {
		return RequirementsSatisfiedNone
	}
	for _, c := range combinations {
		set, ok := ParseCombination(c)
		if !ok || !IsMultifactor(set) {
			return RequirementsSatisfiedNone
		}
	}
	return RequirementsSatisfiedMFA
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidateCustomStrength checks a custom strength an administrator wants to
// create or update. Built-ins are read-only in Entra and so here.
func ValidateCustomStrength(s AuthenticationStrengthPolicy) error {
	var errs ValidationErrors
	if strings.TrimSpace(s.DisplayName) == "" {
		errs.add(CodeDisplayNameRequired, "displayName", "a strength needs a displayName")
	}
	if s.PolicyType == PolicyTypeBuiltIn || IsBuiltInStrengthID(s.ID) {
		errs.add(CodeBuiltInReadOnly, "policyType", "built-in authentication strengths cannot be created or modified")
	} else if s.PolicyType != "" && s.PolicyType != PolicyTypeCustom {
		errs.add(CodeUnknownEnumValue, "policyType", "policyType must be builtIn or custom, got "+s.PolicyType)
	}
	if len(s.AllowedCombinations) == 0 {
		errs.add(CodeAllowedCombinationsRequired, "allowedCombinations", "at least one combination is required")
	}
	seen := map[ModeSet]bool{}
	for i, c := range s.AllowedCombinations {
		target := "allowedCombinations[" + itoa(i) + "]"
		set, ok := ParseCombination(c)
		if !ok || !IsKnownCombination(set) {
			errs.add(CodeUnknownCombination, target, "\""+c+"\" is not an authenticationMethodModes combination Entra offers")
			continue
		}
		if seen[set] {
			errs.add(CodeDuplicateCombination, target, "\""+c+"\" is listed twice")
		}
		seen[set] = true
	}
	fido2Configs := 0
	for i, cc := range s.CombinationConfigurations {
		target := "combinationConfigurations[" + itoa(i) + "]"
		if cc.ODataType != ODataTypeFido2CombinationConfiguration && cc.ODataType != "fido2CombinationConfiguration" {
			errs.add(CodeUnsupportedCombinationConfiguration, target+".@odata.type", "only fido2CombinationConfiguration is supported, got \""+cc.ODataType+"\"")
			continue
		}
		if fido2Configs++; fido2Configs > 1 {
			errs.add(CodeDuplicateCombinationConfiguration, target, "the strength already has a fido2 combination configuration; change it instead")
		}
		if len(cc.AppliesToCombinations) != 1 || strings.TrimSpace(cc.AppliesToCombinations[0]) != "fido2" {
			errs.add(CodeInvalidCombinationConfiguration, target+".appliesToCombinations", "a fido2 configuration applies to exactly [\"fido2\"]")
		} else if !seen[ModeSet(ModeFido2)] {
			errs.add(CodeInvalidCombinationConfiguration, target+".appliesToCombinations", "\"fido2\" is not in allowedCombinations")
		}
		if len(cc.AllowedAAGUIDs) == 0 {
			errs.add(CodeInvalidCombinationConfiguration, target+".allowedAAGUIDs", "at least one AAGUID is required")
		}
		for j, a := range cc.AllowedAAGUIDs {
			if !guidRE.MatchString(a) {
				errs.add(CodeInvalidCombinationConfiguration, target+".allowedAAGUIDs["+itoa(j)+"]", "\""+a+"\" is not a GUID")
			}
		}
	}
	return errs.err()
}

// compiledStrength is a strength reduced to bit masks for the sign-in path.
type compiledStrength struct {
	id, displayName string
	combos          []ModeSet
	names           []string // the policy's own spelling, parallel to combos
	// fido2AAGUIDs restricts which keys count for the "fido2" combination;
	// nil means any key.
	fido2AAGUIDs map[string]struct{}
}

func compileStrength(s AuthenticationStrengthPolicy) (*compiledStrength, error) {
	cs := &compiledStrength{id: s.ID, displayName: s.DisplayName}
	var errs ValidationErrors
	for i, c := range s.AllowedCombinations {
		set, ok := ParseCombination(c)
		if !ok {
			errs.add(CodeUnknownCombination, "allowedCombinations["+itoa(i)+"]", "\""+c+"\" is not a combination of authenticationMethodModes")
			continue
		}
		cs.combos = append(cs.combos, set)
		cs.names = append(cs.names, c)
	}
	for _, cc := range s.CombinationConfigurations {
		if len(cc.AllowedAAGUIDs) == 0 {
			continue
		}
		if cs.fido2AAGUIDs == nil {
			cs.fido2AAGUIDs = map[string]struct{}{}
		}
		for _, a := range cc.AllowedAAGUIDs {
			cs.fido2AAGUIDs[strings.ToLower(a)] = struct{}{}
		}
	}
	if len(cs.combos) == 0 {
		errs.add(CodeAllowedCombinationsRequired, "allowedCombinations", "strength "+s.ID+" has no usable combination")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return cs, nil
}

// SatisfiedMethod is one method the session holds. PreviouslySatisfied marks
// a claim carried over from an earlier sign-in of the session (Entra's
// "Previously satisfied") rather than performed now.
type SatisfiedMethod struct {
	Mode                string `json:"mode"`
	PreviouslySatisfied bool   `json:"previouslySatisfied,omitempty"`
	// AAGUID identifies the authenticator model for fido2, so strengths with
	// allowedAAGUIDs can be checked.
	AAGUID string `json:"aaguid,omitempty"`
	// Age of a previously satisfied method (how long ago the user proved
	// it), for signInFrequency timeBased; zero when unknown.
	Age time.Duration `json:"-"`
}

// methodFacts is what the matcher needs from a session's methods.
type methodFacts struct {
	fresh, all ModeSet
	// fido2Allowed/fido2Any track whether a fido2 method with an allowed
	// AAGUID was used, per strength; computed lazily because only strengths
	// with restrictions care.
	methods []SatisfiedMethod
}

func factsOf(methods []SatisfiedMethod) methodFacts {
	f := methodFacts{methods: methods}
	for _, m := range methods {
		mode, ok := ParseMode(m.Mode)
		if !ok {
			continue
		}
		f.all = f.all.With(mode)
		if !m.PreviouslySatisfied {
			f.fresh = f.fresh.With(mode)
		}
	}
	return f
}

// match returns the index of the first combination satisfied by used, or
// -1. restricted reports that a fido2 combination would have matched but the
// key's AAGUID is not allowed, which Graph reports distinctly.
func (cs *compiledStrength) match(used ModeSet, f *methodFacts, freshOnly bool) (idx int, restricted bool) {
	for i, c := range cs.combos {
		if !used.Contains(c) {
			continue
		}
		if c.Has(ModeFido2) && cs.fido2AAGUIDs != nil && !cs.fido2KeyAllowed(f, freshOnly) {
			restricted = true
			continue
		}
		return i, false
	}
	return -1, restricted
}

func (cs *compiledStrength) fido2KeyAllowed(f *methodFacts, freshOnly bool) bool {
	for _, m := range f.methods {
		if m.Mode != "fido2" || (freshOnly && m.PreviouslySatisfied) {
			continue
		}
		if _, ok := cs.fido2AAGUIDs[strings.ToLower(m.AAGUID)]; ok {
			return true
		}
	}
	return false
}

// StrengthMatch is the outcome of checking methods against a strength.
type StrengthMatch struct {
	Satisfied bool `json:"satisfied"`
	// Combination is the allowed combination that matched, spelled as in
	// the strength.
	Combination string `json:"combination,omitempty"`
	// ByPreviouslySatisfied is true when the match needed a previously
	// satisfied claim, i.e. fresh methods alone would not have matched.
	ByPreviouslySatisfied bool `json:"byPreviouslySatisfied,omitempty"`
	// RestrictedByConfiguration is true when only combinationConfigurations
	// (allowedAAGUIDs) stood in the way.
	RestrictedByConfiguration bool `json:"restrictedByConfiguration,omitempty"`
}

// SatisfiesStrength decides whether a session's methods satisfy a strength.
// A combination is satisfied when every one of its modes was used; extra
// methods do not hurt (someone who typed a password and then used a passkey
// satisfies "fido2").
func SatisfiesStrength(s AuthenticationStrengthPolicy, methods []SatisfiedMethod) (StrengthMatch, error) {
	cs, err := compileStrength(s)
	if err != nil {
		return StrengthMatch{}, err
	}
	f := factsOf(methods)
	return cs.check(&f, false), nil
}

func (cs *compiledStrength) check(f *methodFacts, freshOnly bool) StrengthMatch {
	if i, _ := cs.match(f.fresh, f, true); i >= 0 {
		return StrengthMatch{Satisfied: true, Combination: cs.names[i]}
	}
	if freshOnly {
		_, restricted := cs.match(f.fresh, f, true)
		return StrengthMatch{RestrictedByConfiguration: restricted}
	}
	i, restricted := cs.match(f.all, f, false)
	if i >= 0 {
		return StrengthMatch{Satisfied: true, Combination: cs.names[i], ByPreviouslySatisfied: true}
	}
	return StrengthMatch{RestrictedByConfiguration: restricted}
}

func itoa(i int) string { return strconv.Itoa(i) }
