package policy

import (
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/ids"
)

// ConditionalAccessPolicy is Graph's conditionalAccessPolicy. Optional
// sub-objects are pointers because Graph returns them as null and the HTTP
// layer encodes these structs directly.
type ConditionalAccessPolicy struct {
	ID               string                            `json:"id"`
	DisplayName      string                            `json:"displayName"`
	Description      string                            `json:"description,omitempty"`
	State            string                            `json:"state"`
	CreatedDateTime  time.Time                         `json:"createdDateTime,omitzero"`
	ModifiedDateTime time.Time                         `json:"modifiedDateTime,omitzero"`
	Conditions       ConditionalAccessConditionSet     `json:"conditions"`
	GrantControls    *ConditionalAccessGrantControls   `json:"grantControls"`
	SessionControls  *ConditionalAccessSessionControls `json:"sessionControls"`
}

// ConditionalAccessConditionSet is Graph's conditionalAccessConditionSet.
type ConditionalAccessConditionSet struct {
	Users            ConditionalAccessUsers        `json:"users"`
	Applications     ConditionalAccessApplications `json:"applications"`
	ClientAppTypes   []string                      `json:"clientAppTypes"`
	Platforms        *ConditionalAccessPlatforms   `json:"platforms"`
	Locations        *ConditionalAccessLocations   `json:"locations"`
	UserRiskLevels   []string                      `json:"userRiskLevels"`
	SignInRiskLevels []string                      `json:"signInRiskLevels"`
}

// ConditionalAccessUsers is Graph's conditionalAccessUsers.
type ConditionalAccessUsers struct {
	IncludeUsers  []string `json:"includeUsers"`
	ExcludeUsers  []string `json:"excludeUsers"`
	IncludeGroups []string `json:"includeGroups"`
	ExcludeGroups []string `json:"excludeGroups"`
	IncludeRoles  []string `json:"includeRoles"`
	ExcludeRoles  []string `json:"excludeRoles"`
}

// ConditionalAccessApplications is Graph's conditionalAccessApplications.
type ConditionalAccessApplications struct {
	IncludeApplications []string `json:"includeApplications"`
	ExcludeApplications []string `json:"excludeApplications"`
	// IncludeUserActions targets a user action instead of applications;
	// the lab models "Register security information"
	// (UserActionRegisterSecurityInfo), the action a TAP bootstrap needs.
	IncludeUserActions []string `json:"includeUserActions,omitempty"`
	// IncludeAuthenticationContextClassReferences (c1..c99) makes the
	// policy apply when an app asks for one of these authentication
	// contexts (a step-up for a sensitive action), whatever the app.
	IncludeAuthenticationContextClassReferences []string `json:"includeAuthenticationContextClassReferences"`
}

// CanonicalizeIDs lower-cases every GUID the conditions name (users,
// groups, roles, applications, locations, the strength), leaving keywords
// such as "All" as they are. Graph accepts a GUID in either case; the
// directory's ids are lower-case, and evaluation and lockout protection
// compare ids as strings, so a policy is canonicalised before it is checked
// and saved. It writes new slices and sub-objects, never the ones p shares
// with a copy (a cached snapshot), so it is safe on a value copy.
func (p *ConditionalAccessPolicy) CanonicalizeIDs() {
	u := &p.Conditions.Users
	for _, l := range []*[]string{&u.IncludeUsers, &u.ExcludeUsers, &u.IncludeGroups, &u.ExcludeGroups, &u.IncludeRoles, &u.ExcludeRoles,
		&p.Conditions.Applications.IncludeApplications, &p.Conditions.Applications.ExcludeApplications} {
		*l = ids.LowerAll(*l)
	}
	if l := p.Conditions.Locations; l != nil {
		p.Conditions.Locations = &ConditionalAccessLocations{IncludeLocations: ids.LowerAll(l.IncludeLocations), ExcludeLocations: ids.LowerAll(l.ExcludeLocations)}
	}
	if g := p.GrantControls; g != nil && g.AuthenticationStrength != nil {
		gc, st := *g, *g.AuthenticationStrength
		st.ID = ids.Lower(st.ID)
		gc.AuthenticationStrength = &st
		p.GrantControls = &gc
	}
}

// UserActionRegisterSecurityInfo is Entra's "Register security
// information" user action: a policy targeting it governs the sign-in with
// which a user registers their methods (as Security info), not sign-ins to
// applications; policies targeting applications do not apply to it.
const UserActionRegisterSecurityInfo = "urn:user:registersecurityinfo"

// ConditionalAccessPlatforms is Graph's conditionalAccessPlatforms.
type ConditionalAccessPlatforms struct {
	IncludePlatforms []string `json:"includePlatforms"`
	ExcludePlatforms []string `json:"excludePlatforms"`
}

// ConditionalAccessLocations is Graph's conditionalAccessLocations.
type ConditionalAccessLocations struct {
	IncludeLocations []string `json:"includeLocations"`
	ExcludeLocations []string `json:"excludeLocations"`
}

// ConditionalAccessGrantControls is Graph's conditionalAccessGrantControls.
// AuthenticationStrength is a full authenticationStrengthPolicy in Graph's
// responses; on write only its id matters.
type ConditionalAccessGrantControls struct {
	Operator                    string                        `json:"operator"`
	BuiltInControls             []string                      `json:"builtInControls"`
	CustomAuthenticationFactors []string                      `json:"customAuthenticationFactors"`
	TermsOfUse                  []string                      `json:"termsOfUse"`
	AuthenticationStrength      *AuthenticationStrengthPolicy `json:"authenticationStrength"`
}

// ConditionalAccessSessionControls is the subset of Graph's
// conditionalAccessSessionControls a lab RP can honour or at least record.
type ConditionalAccessSessionControls struct {
	ApplicationEnforcedRestrictions *ApplicationEnforcedRestrictionsSessionControl `json:"applicationEnforcedRestrictions"`
	CloudAppSecurity                *CloudAppSecuritySessionControl                `json:"cloudAppSecurity"`
	PersistentBrowser               *PersistentBrowserSessionControl               `json:"persistentBrowser"`
	SignInFrequency                 *SignInFrequencySessionControl                 `json:"signInFrequency"`
	DisableResilienceDefaults       *bool                                          `json:"disableResilienceDefaults"`
}

// ApplicationEnforcedRestrictionsSessionControl is Graph's type of that name.
type ApplicationEnforcedRestrictionsSessionControl struct {
	IsEnabled bool `json:"isEnabled"`
}

// CloudAppSecuritySessionControl is Graph's type of that name.
type CloudAppSecuritySessionControl struct {
	IsEnabled            bool   `json:"isEnabled"`
	CloudAppSecurityType string `json:"cloudAppSecurityType,omitempty"`
}

// PersistentBrowserSessionControl is Graph's type of that name.
type PersistentBrowserSessionControl struct {
	IsEnabled bool   `json:"isEnabled"`
	Mode      string `json:"mode"` // always, never
}

// SignInFrequencySessionControl is Graph's type of that name. It matters to
// evaluation: with frequencyInterval "everyTime" previously satisfied claims
// do not count.
type SignInFrequencySessionControl struct {
	IsEnabled          bool   `json:"isEnabled"`
	Type               string `json:"type,omitempty"`  // days, hours
	Value              *int   `json:"value,omitempty"` // with type
	AuthenticationType string `json:"authenticationType,omitempty"`
	FrequencyInterval  string `json:"frequencyInterval,omitempty"` // timeBased, everyTime
}

// Enum values used by conditional access.
const (
	StateEnabled    = "enabled"
	StateDisabled   = "disabled"
	StateReportOnly = "enabledForReportingButNotEnforced"

	KeywordAll                   = "All"
	KeywordNone                  = "None"
	KeywordAllTrusted            = "AllTrusted"
	KeywordGuestsOrExternalUsers = "GuestsOrExternalUsers"

	OperatorAND = "AND"
	OperatorOR  = "OR"

	ControlBlock                = "block"
	ControlMfa                  = "mfa"
	ControlCompliantDevice      = "compliantDevice"
	ControlDomainJoinedDevice   = "domainJoinedDevice"
	ControlApprovedApplication  = "approvedApplication"
	ControlCompliantApplication = "compliantApplication"
	ControlPasswordChange       = "passwordChange"
)

// Graph's conditionalAccessClientApp members.
var clientAppBits = map[string]uint8{
	"browser":                     1 << 0,
	"mobileAppsAndDesktopClients": 1 << 1,
	"exchangeActiveSync":          1 << 2,
	"easSupported":                1 << 3,
	"other":                       1 << 4,
}

const clientAppAll = "all"

// Graph's conditionalAccessDevicePlatform members (minus "all").
var platformBits = map[string]uint8{
	"android":      1 << 0,
	"iOS":          1 << 1,
	"windows":      1 << 2,
	"windowsPhone": 1 << 3,
	"macOS":        1 << 4,
	"linux":        1 << 5,
}

const platformAll = "all"

// Graph's riskLevel members that a policy may configure.
var riskBits = map[string]uint8{
	"low":    1 << 0,
	"medium": 1 << 1,
	"high":   1 << 2,
	"none":   1 << 3,
}

var grantControlNames = map[string]bool{
	ControlBlock: true, ControlMfa: true, ControlCompliantDevice: true, ControlDomainJoinedDevice: true,
	ControlApprovedApplication: true, ControlCompliantApplication: true, ControlPasswordChange: true,
}

// ValidateConditionalAccessPolicy checks a policy before it is saved. It
// refuses what Entra refuses (for instance "mfa" together with an
// authentication strength) and what rpserver cannot evaluate. strengths
// resolves custom strengths; built-ins are always known.
func ValidateConditionalAccessPolicy(p ConditionalAccessPolicy, strengths StrengthLookup) error {
	var errs ValidationErrors
	if strings.TrimSpace(p.DisplayName) == "" {
		errs.add(CodeDisplayNameRequired, "displayName", "a policy needs a displayName")
	}
	switch p.State {
	case StateEnabled, StateDisabled, StateReportOnly:
	default:
		errs.add(CodeInvalidState, "state", "state must be enabled, disabled or enabledForReportingButNotEnforced, got \""+p.State+"\"")
	}

	c := p.Conditions
	u := c.Users
	if len(u.IncludeUsers) == 0 && len(u.IncludeGroups) == 0 && len(u.IncludeRoles) == 0 {
		errs.add(CodeUsersConditionRequired, "conditions.users", "include at least one user, group or role (or \"All\"/\"None\")")
	}
	keywordAlone(&errs, "conditions.users.includeUsers", u.IncludeUsers, KeywordAll, KeywordNone)
	keywordAlone(&errs, "conditions.users.excludeUsers", u.ExcludeUsers)
	acrs := c.Applications.IncludeAuthenticationContextClassReferences
	if ua := c.Applications.IncludeUserActions; len(ua) > 0 {
		// A policy targets applications or a user action, never both.
		if len(c.Applications.IncludeApplications) > 0 || len(c.Applications.ExcludeApplications) > 0 || len(acrs) > 0 {
			errs.add(CodeUserActionsWithApplications, "conditions.applications.includeUserActions", "a policy targets either applications, authentication contexts or a user action, not several")
		}
		for _, a := range ua {
			if a != UserActionRegisterSecurityInfo {
				errs.add(CodeUnsupportedUserAction, "conditions.applications.includeUserActions",
					"user action \""+a+"\" is not modelled: the lab supports \""+UserActionRegisterSecurityInfo+"\"")
			}
		}
	} else if len(c.Applications.IncludeApplications) == 0 && len(acrs) == 0 {
		errs.add(CodeApplicationsConditionRequired, "conditions.applications.includeApplications", "include at least one application (or \"All\"/\"None\"), an authentication context in includeAuthenticationContextClassReferences, or a user action in includeUserActions")
	}
	if len(c.Applications.IncludeApplications) > 0 && len(acrs) > 0 {
		errs.add(CodeApplicationsConditionRequired, "conditions.applications.includeAuthenticationContextClassReferences", "a policy targets either applications or authentication contexts, not both")
	}
	for _, id := range acrs {
		if !validAuthContextID(id) {
			errs.add(CodeInvalidAuthenticationContext, "conditions.applications.includeAuthenticationContextClassReferences", "\""+id+"\" is not an authentication context id (c1..c99)")
		}
	}
	keywordAlone(&errs, "conditions.applications.includeApplications", c.Applications.IncludeApplications, KeywordAll, KeywordNone)
	for _, a := range c.Applications.ExcludeApplications {
		if a == KeywordAll || a == KeywordNone {
			errs.add(CodeKeywordNotAlone, "conditions.applications.excludeApplications", "\""+a+"\" cannot be excluded")
		}
	}

	enumList(&errs, "conditions.clientAppTypes", c.ClientAppTypes, func(v string) bool { _, ok := clientAppBits[v]; return ok || v == clientAppAll })
	if c.Platforms != nil {
		isPlatform := func(v string) bool { _, ok := platformBits[v]; return ok || v == platformAll }
		enumList(&errs, "conditions.platforms.includePlatforms", c.Platforms.IncludePlatforms, isPlatform)
		enumList(&errs, "conditions.platforms.excludePlatforms", c.Platforms.ExcludePlatforms, isPlatform)
		if len(c.Platforms.IncludePlatforms) == 0 && len(c.Platforms.ExcludePlatforms) > 0 {
			errs.add(CodeUnknownEnumValue, "conditions.platforms.includePlatforms", "excluding platforms requires including some (usually \"all\")")
		}
	}
	if c.Locations != nil {
		for _, l := range c.Locations.ExcludeLocations {
			if l == KeywordAll {
				errs.add(CodeInvalidLocationKeyword, "conditions.locations.excludeLocations", "\"All\" cannot be excluded; exclude \"AllTrusted\" or named locations")
			}
		}
		keywordAlone(&errs, "conditions.locations.includeLocations", c.Locations.IncludeLocations, KeywordAll)
		if len(c.Locations.IncludeLocations) == 0 && len(c.Locations.ExcludeLocations) > 0 {
			errs.add(CodeInvalidLocationKeyword, "conditions.locations.includeLocations", "excluding locations requires including some (usually \"All\")")
		}
	}
	isRisk := func(v string) bool { _, ok := riskBits[v]; return ok }
	enumList(&errs, "conditions.userRiskLevels", c.UserRiskLevels, isRisk)
	enumList(&errs, "conditions.signInRiskLevels", c.SignInRiskLevels, isRisk)

	validateGrant(&errs, p, strengths)
	validateSession(&errs, p.SessionControls)
	return errs.err()
}

func validateGrant(errs *ValidationErrors, p ConditionalAccessPolicy, strengths StrengthLookup) {
	g := p.GrantControls
	if g == nil {
		if !hasSessionControl(p.SessionControls) {
			errs.add(CodeControlsRequired, "grantControls", "a policy needs grant controls or session controls")
		}
		return
	}
	if g.Operator != OperatorAND && g.Operator != OperatorOR {
		errs.add(CodeInvalidOperator, "grantControls.operator", "operator must be AND or OR, got \""+g.Operator+"\"")
	}
	hasStrength := g.AuthenticationStrength != nil
	if len(g.BuiltInControls) == 0 && !hasStrength {
		errs.add(CodeEmptyGrantControls, "grantControls", "grant controls need builtInControls or an authenticationStrength")
	}
	var block, mfa, pwChange bool
	for i, ctl := range g.BuiltInControls {
		if !grantControlNames[ctl] {
			errs.add(CodeUnknownEnumValue, "grantControls.builtInControls["+itoa(i)+"]", "unknown grant control \""+ctl+"\"")
		}
		block = block || ctl == ControlBlock
		mfa = mfa || ctl == ControlMfa
		pwChange = pwChange || ctl == ControlPasswordChange
	}
	if block && (len(g.BuiltInControls) > 1 || hasStrength) {
		errs.add(CodeBlockWithOtherControls, "grantControls.builtInControls", "block cannot be combined with other grant controls")
	}
	if mfa && hasStrength {
		errs.add(CodeMfaWithAuthenticationStrength, "grantControls", "require either \"mfa\" or an authentication strength, not both")
	}
	if pwChange && (g.Operator != OperatorAND || !mfa || len(p.Conditions.UserRiskLevels) == 0) {
		errs.add(CodePasswordChangeRequirements, "grantControls.builtInControls", "passwordChange needs operator AND with \"mfa\" and a userRiskLevels condition")
	}
	if len(g.CustomAuthenticationFactors) > 0 || len(g.TermsOfUse) > 0 {
		errs.add(CodeUnsupportedControl, "grantControls", "customAuthenticationFactors and termsOfUse are not supported by rpserver")
	}
	if hasStrength {
		id := g.AuthenticationStrength.ID
		if _, ok := resolveStrength(id, strengths); !ok {
			errs.add(CodeAuthenticationStrengthNotFound, "grantControls.authenticationStrength.id", "no authentication strength with id \""+id+"\"")
		}
	}
}

func hasSessionControl(s *ConditionalAccessSessionControls) bool {
	if s == nil {
		return false
	}
	return (s.ApplicationEnforcedRestrictions != nil && s.ApplicationEnforcedRestrictions.IsEnabled) ||
		(s.CloudAppSecurity != nil && s.CloudAppSecurity.IsEnabled) ||
		(s.PersistentBrowser != nil && s.PersistentBrowser.IsEnabled) ||
		(s.SignInFrequency != nil && s.SignInFrequency.IsEnabled) ||
		(s.DisableResilienceDefaults != nil && *s.DisableResilienceDefaults)
}

func validateSession(errs *ValidationErrors, s *ConditionalAccessSessionControls) {
	if s == nil {
		return
	}
	if pb := s.PersistentBrowser; pb != nil && pb.IsEnabled && pb.Mode != "always" && pb.Mode != "never" {
		errs.add(CodeInvalidSessionControl, "sessionControls.persistentBrowser.mode", "mode must be always or never")
	}
	if f := s.SignInFrequency; f != nil && f.IsEnabled {
		switch f.FrequencyInterval {
		case "everyTime":
			if f.Type != "" || f.Value != nil {
				errs.add(CodeInvalidSessionControl, "sessionControls.signInFrequency", "everyTime takes no type/value")
			}
		case "timeBased", "":
			if (f.Type != "days" && f.Type != "hours") || f.Value == nil || *f.Value < 1 {
				errs.add(CodeInvalidSessionControl, "sessionControls.signInFrequency", "timeBased frequency needs type days|hours and a positive value")
			}
		default:
			errs.add(CodeInvalidSessionControl, "sessionControls.signInFrequency.frequencyInterval", "frequencyInterval must be timeBased or everyTime")
		}
	}
}

// keywordAlone refuses a keyword mixed with other values: ["All","u1"] is
// ambiguous and Entra rejects it. With no keywords given it refuses every
// keyword (used for exclude lists, where "All"/"None" make no sense).
func keywordAlone(errs *ValidationErrors, target string, vals []string, keywords ...string) {
	for _, v := range vals {
		if v != KeywordAll && v != KeywordNone {
			continue
		}
		allowed := false
		for _, k := range keywords {
			allowed = allowed || v == k
		}
		if !allowed {
			errs.add(CodeKeywordNotAlone, target, "\""+v+"\" is not allowed here")
		} else if len(vals) > 1 {
			errs.add(CodeKeywordNotAlone, target, "\""+v+"\" must be the only value")
		}
	}
}

func enumList(errs *ValidationErrors, target string, vals []string, ok func(string) bool) {
	for i, v := range vals {
		if !ok(v) {
			errs.add(CodeUnknownEnumValue, target+"["+itoa(i)+"]", "unknown value \""+v+"\"")
		}
	}
}
