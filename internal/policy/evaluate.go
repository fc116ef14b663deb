package policy

import (
	"strings"
)

// SignInContext is everything evaluation needs to know about one sign-in,
// as plain data gathered by the caller.
type SignInContext struct {
	UserID             string
	GroupIDs           Set      // transitive group memberships
	RoleTemplateIDs    []string // directory role template ids
	IsEmergencyAccount bool
	ApplicationID      string
	// UserAction is set when the sign-in performs a user action rather
	// than reaching an application (UserActionRegisterSecurityInfo).
	UserAction string
	// AuthenticationContexts the app asked for (acr_values or a claims
	// challenge); policies targeting one of them apply.
	AuthenticationContexts []string
	ClientAppType          string // conditionalAccessClientApp value
	Platform               string // conditionalAccessDevicePlatform value
	LocationIDs            []string
	IsTrustedLocation      bool
	UserRiskLevel          string // riskLevel; "" means none
	SignInRiskLevel        string
	IsCompliantDevice      bool
	IsDomainJoined         bool
	PasswordChanged        bool
	// Methods the session holds, fresh or previously satisfied.
	Methods []SatisfiedMethod
	// RegisteredMethods are the authenticationMethodModes the user could
	// perform now; they drive step-up prompts and authenticationStrengthResult.
	RegisteredMethods ModeSet
	// Final says the sign-in is over and nothing more will be prompted, so a
	// report-only policy whose controls are unmet "would have failed" it
	// (reportOnlyFailure) rather than merely interrupted it.
	Final bool
}

// appliedConditionalAccessPolicyResult values.
const (
	ResultSuccess               = "success"
	ResultFailure               = "failure"
	ResultNotApplied            = "notApplied"
	ResultNotEnabled            = "notEnabled"
	ResultUnknown               = "unknown"
	ResultUnknownFutureValue    = "unknownFutureValue"
	ResultReportOnlySuccess     = "reportOnlySuccess"
	ResultReportOnlyFailure     = "reportOnlyFailure"
	ResultReportOnlyNotApplied  = "reportOnlyNotApplied"
	ResultReportOnlyInterrupted = "reportOnlyInterrupted"
)

// authenticationStrengthResult values.
const (
	StrengthResultNotSet                                     = "notSet"
	StrengthResultSkippedForProofUp                          = "skippedForProofUp"
	StrengthResultSatisfied                                  = "satisfied"
	StrengthResultSingleChallengeRequired                    = "singleChallengeRequired"
	StrengthResultMultipleChallengesRequired                 = "multipleChallengesRequired"
	StrengthResultSingleRegistrationRequired                 = "singleRegistrationRequired"
	StrengthResultMultipleRegistrationsRequired              = "multipleRegistrationsRequired"
	StrengthResultCannotSatisfyDueToCombinationConfiguration = "cannotSatisfyDueToCombinationConfiguration"
	StrengthResultCannotSatisfy                              = "cannotSatisfy"
)

// AuthenticationStrength is Graph's authenticationStrength as reported on an
// appliedConditionalAccessPolicy.
type AuthenticationStrength struct {
	AuthenticationStrengthID     string `json:"authenticationStrengthId"`
	DisplayName                  string `json:"displayName"`
	AuthenticationStrengthResult string `json:"authenticationStrengthResult"`
}

// AppliedConditionalAccessPolicy is Graph's appliedConditionalAccessPolicy
// plus rpserver's Explanation. EnforcedGrantControls/EnforcedSessionControls
// are shared with the compiled policy: treat them as read-only.
type AppliedConditionalAccessPolicy struct {
	ID                      string                 `json:"id"`
	DisplayName             string                 `json:"displayName"`
	Result                  string                 `json:"result"`
	EnforcedGrantControls   []string               `json:"enforcedGrantControls"`
	EnforcedSessionControls []string               `json:"enforcedSessionControls"`
	AuthenticationStrength  AuthenticationStrength `json:"authenticationStrength,omitzero"`
	// ConditionsSatisfied and ConditionsNotSatisfied are Graph's beta
	// flags: the policy's configured conditions that held, and the one that
	// kept it from applying ("none" when it applied). Include- and
	// ExcludeRulesSatisfied (beta) say which rule of a condition matched.
	// The API leaves all four out of v1.0, whose appliedConditionalAccessPolicy
	// lacks them.
	ConditionsSatisfied    Conditions  `json:"conditionsSatisfied,omitzero"`
	ConditionsNotSatisfied Conditions  `json:"conditionsNotSatisfied,omitzero"`
	IncludeRulesSatisfied  RuleSet     `json:"includeRulesSatisfied,omitzero"`
	ExcludeRulesSatisfied  RuleSet     `json:"excludeRulesSatisfied,omitzero"`
	Explanation            Explanation `json:"explanation"`
}

// Explanation says why a policy got its result — what the Entra portal
// leaves the administrator to reconstruct.
type Explanation struct {
	// Scope is the include/exclude or condition that decided whether the
	// policy applied.
	Scope Reason `json:"scope"`
	// Grant is how the grant controls came out, for applied policies.
	Grant Reason `json:"grant,omitzero"`
}

// Text renders both reasons for logs and the lab UI.
func (e Explanation) Text() string {
	if e.Grant.Code == "" {
		return e.Scope.Text()
	}
	return e.Scope.Text() + "; " + e.Grant.Text()
}

// Reason codes.
const (
	ReasonPolicyDisabled = "policyDisabled"
	ReasonExcluded       = "excluded"
	ReasonNotIncluded    = "notIncluded"
	ReasonIncluded       = "included"

	ReasonGrantSatisfied           = "grantSatisfied"
	ReasonGrantBlocked             = "grantBlocked"
	ReasonGrantUnmet               = "grantUnmet"
	ReasonGrantUnsatisfiable       = "grantUnsatisfiable"
	ReasonReauthenticationRequired = "reauthenticationRequired"
	ReasonRestrictedByCombination  = "restrictedByCombinationConfiguration"
	ReasonNoGrantControls          = "noGrantControls"

	ReasonEmergencyAccountAffected = "emergencyAccountAffected"
)

// Reason is one structured explanation step. Condition uses Graph's
// conditionalAccessConditions names (users, application, clientType,
// devicePlatform, location, userRisk, signInRisk) or "state"/"grantControls";
// Property is the Graph property that matched; Value the id or value.
type Reason struct {
	Code      string `json:"code"`
	Condition string `json:"condition,omitempty"`
	Property  string `json:"property,omitempty"`
	Value     string `json:"value,omitempty"`
	// ValueName is the display name of Value when it is a group the lab
	// knows, so the text names it as an admin would.
	ValueName string `json:"valueName,omitempty"`
	// Matched is the combination or control that satisfied a grant.
	Matched string `json:"matched,omitempty"`
	// Previously marks a grant met only thanks to a previously satisfied claim.
	Previously bool `json:"previouslySatisfied,omitempty"`
}

var subjects = map[string]string{
	"users": "user", "application": "application", "clientType": "client app type",
	"devicePlatform": "platform", "location": "location", "userRisk": "user risk",
	"signInRisk": "sign-in risk",
}

// Text renders the reason; it is built on demand so evaluation itself does
// not format strings.
func (r Reason) Text() string {
	subj := subjects[r.Condition]
	val := ""
	if r.Value != "" {
		val = " " + r.Value
	}
	if r.ValueName != "" {
		val = " " + r.ValueName + " (" + r.Value + ")"
	}
	switch r.Code {
	case ReasonPolicyDisabled:
		return "not enabled: state disabled"
	case ReasonExcluded:
		return "excluded: " + subj + " in " + r.Property + val
	case ReasonNotIncluded:
		return "not applied: " + subj + val + " not in " + r.Property
	case ReasonIncluded:
		return "applied: " + subj + " in " + r.Property + val
	case ReasonGrantSatisfied:
		s := "grant satisfied: " + r.Property + val
		if r.Matched != "" {
			s += " by " + r.Matched
		}
		if r.Previously {
			s += " (previously satisfied)"
		}
		return s
	case ReasonGrantBlocked:
		return "grant: block"
	case ReasonGrantUnmet:
		return "grant not satisfied: " + r.Property + val + " still required"
	case ReasonGrantUnsatisfiable:
		return "grant not satisfied: " + r.Property + val + " cannot be met in this sign-in"
	case ReasonReauthenticationRequired:
		return "grant not satisfied: signInFrequency everyTime requires " + r.Property + val + " to be performed in this sign-in"
	case ReasonRestrictedByCombination:
		return "grant not satisfied: " + r.Property + val + " allows only specific FIDO2 AAGUIDs"
	case ReasonNoGrantControls:
		return "grant: session controls only"
	case ReasonEmergencyAccountAffected:
		return "warning: emergency access account is not allowed by policy " + r.Value
	}
	return r.Code
}

// MarshalJSON adds the rendered text next to the structured fields.
func (r Reason) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }

// Decision is the overall outcome across enforced policies.
type Decision string

// Decisions.
const (
	DecisionAllow          Decision = "allow"
	DecisionBlock          Decision = "block"
	DecisionStepUpRequired Decision = "stepUpRequired"
)

// Requirement is something an enforced policy still needs.
type Requirement struct {
	PolicyID    string `json:"policyId"`
	DisplayName string `json:"displayName"`
	// Operator and Controls echo the policy's grant controls ("block",
	// "mfa", "authenticationStrength", "compliantDevice", ...), so the UI can
	// show the whole requirement, not only its missing half.
	Operator               string                  `json:"operator"`
	Controls               []string                `json:"controls"`
	AuthenticationStrength *AuthenticationStrength `json:"authenticationStrength,omitempty"`
	AllowedCombinations    []string                `json:"allowedCombinations,omitempty"`
	combos                 []ModeSet
	freshOnly              bool
}

// Evaluation is the result of evaluating all policies for one sign-in.
type Evaluation struct {
	Decision Decision `json:"decision"`
	// ConditionalAccessStatus is Graph's signIn.conditionalAccessStatus.
	ConditionalAccessStatus          string                           `json:"conditionalAccessStatus"`
	AppliedConditionalAccessPolicies []AppliedConditionalAccessPolicy `json:"appliedConditionalAccessPolicies"`
	// UnmetRequirements lists what enforced policies still need (for block,
	// the blocking policies).
	UnmetRequirements []Requirement `json:"unmetRequirements,omitempty"`
	// Prompt is the method to ask for next, chosen in system-preferred order.
	Prompt   *MethodChoice `json:"prompt,omitempty"`
	Warnings []Reason      `json:"warnings,omitempty"`
	// PersistentBrowser is the persistentBrowser session control of the
	// enforced policies that applied: never (the session ends with the
	// browser) wins over always; "" when none set it.
	PersistentBrowser string `json:"persistentBrowser,omitempty"`
}

// Evaluate evaluates every policy for ctx.
func (c *CompiledPolicies) Evaluate(ctx *SignInContext) Evaluation {
	var e Evaluation
	c.EvaluateInto(ctx, &e)
	return e
}

// EvaluateInto is Evaluate reusing out's slices, so a caller evaluating many
// sign-ins (or a benchmark) does not allocate per evaluation on the
// allow/report-only path.
func (c *CompiledPolicies) EvaluateInto(ctx *SignInContext, out *Evaluation) {
	applied := out.AppliedConditionalAccessPolicies[:0]
	if cap(applied) < len(c.policies) {
		applied = make([]AppliedConditionalAccessPolicy, 0, len(c.policies))
	}
	*out = Evaluation{UnmetRequirements: out.UnmetRequirements[:0], Warnings: out.Warnings[:0]}
	facts := factsOf(ctx.Methods)
	var anySuccess, anyFailure, blocked bool
	for i := range c.policies {
		cp := &c.policies[i]
		a, g := cp.evaluate(ctx, &facts)
		applied = append(applied, a)
		if cp.state == stEnabled && a.Result == ResultSuccess && cp.persistentBrowser != "" && out.PersistentBrowser != "never" {
			out.PersistentBrowser = cp.persistentBrowser
		}
		if cp.state != stEnabled || a.Result != ResultFailure {
			anySuccess = anySuccess || (cp.state == stEnabled && a.Result == ResultSuccess)
			continue
		}
		anyFailure = true
		blocked = blocked || !g.interactive
		out.UnmetRequirements = append(out.UnmetRequirements, cp.requirement(g, a.AuthenticationStrength))
	}
	if applied == nil {
		applied = []AppliedConditionalAccessPolicy{} // Graph's [] with no policies, never null
	}
	if c.names != nil {
		for i := range applied {
			if sc := &applied[i].Explanation.Scope; sc.Property == "includeGroups" || sc.Property == "excludeGroups" {
				sc.ValueName = c.names[sc.Value]
			}
		}
	}
	out.AppliedConditionalAccessPolicies = applied
	switch {
	case anyFailure:
		out.ConditionalAccessStatus = ResultFailure
	case anySuccess:
		out.ConditionalAccessStatus = ResultSuccess
	default:
		out.ConditionalAccessStatus = ResultNotApplied
	}
	switch {
	case blocked:
		out.Decision = DecisionBlock
	case anyFailure:
		out.Decision = DecisionStepUpRequired
		out.Prompt = promptFor(ctx, &facts, out.UnmetRequirements)
	default:
		out.Decision = DecisionAllow
	}
	if ctx.IsEmergencyAccount && out.Decision != DecisionAllow {
		for _, r := range out.UnmetRequirements {
			out.Warnings = append(out.Warnings, Reason{Code: ReasonEmergencyAccountAffected, Condition: "users", Value: r.PolicyID})
		}
	}
}

// grantOutcome is the internal result of evaluating grant controls.
type grantOutcome struct {
	ok          bool
	interactive bool // unmet, but the user can act (step-up, password change)
	reason      Reason
}

func (cp *compiledPolicy) evaluate(ctx *SignInContext, f *methodFacts) (AppliedConditionalAccessPolicy, grantOutcome) {
	if cp.maxAge > 0 {
		f = withinAge(f, cp.maxAge)
	}
	a := AppliedConditionalAccessPolicy{
		ID: cp.id, DisplayName: cp.displayName,
		EnforcedGrantControls: emptyStrings, EnforcedSessionControls: emptyStrings,
	}
	if cp.strength != nil {
		a.AuthenticationStrength = AuthenticationStrength{AuthenticationStrengthID: cp.strength.id, DisplayName: cp.strength.displayName, AuthenticationStrengthResult: StrengthResultNotSet}
	}
	a.ConditionsSatisfied, a.ConditionsNotSatisfied = reportedBit, reportedBit
	a.IncludeRulesSatisfied.reported, a.ExcludeRulesSatisfied.reported = true, true
	if cp.state == stDisabled {
		a.Result = ResultNotEnabled
		a.Explanation.Scope = Reason{Code: ReasonPolicyDisabled, Condition: "state", Property: "state", Value: StateDisabled}
		return a, grantOutcome{}
	}
	scope, applies := cp.scope(ctx, &a)
	a.Explanation.Scope = scope
	if !applies {
		a.Result = ResultNotApplied
		if cp.state == stReportOnly {
			a.Result = ResultReportOnlyNotApplied
		}
		failed := conditionOf(scope.Condition)
		a.ConditionsNotSatisfied |= failed
		a.ConditionsSatisfied |= cp.configured & checkedBefore(failed)
		return a, grantOutcome{}
	}
	a.ConditionsSatisfied |= cp.configured
	a.EnforcedGrantControls, a.EnforcedSessionControls = cp.enforcedGrant, cp.enforcedSession
	g := cp.grant(ctx, f)
	a.Explanation.Grant = g.reason
	if cp.strength != nil {
		a.AuthenticationStrength.AuthenticationStrengthResult = cp.strengthResult(f, ctx.RegisteredMethods)
	}
	switch {
	case g.ok && cp.state == stReportOnly:
		a.Result = ResultReportOnlySuccess
	case g.ok:
		a.Result = ResultSuccess
	case cp.state == stReportOnly && g.interactive && !ctx.Final:
		a.Result = ResultReportOnlyInterrupted
	case cp.state == stReportOnly:
		a.Result = ResultReportOnlyFailure
	default:
		a.Result = ResultFailure
	}
	return a, g
}

var emptyStrings = []string{}

// scope decides whether the policy applies. Within each condition exclusion
// is checked first because in Entra exclude always wins over include.
//
// It records in a the include and exclude rules that matched (Graph's beta
// includeRulesSatisfied/excludeRulesSatisfied, conditionalAccessRule
// values).
func (cp *compiledPolicy) scope(ctx *SignInContext, a *AppliedConditionalAccessPolicy) (Reason, bool) {
	const users = "users"
	in, ex := &a.IncludeRulesSatisfied, &a.ExcludeRulesSatisfied
	if cp.exclUsers.has(ctx.UserID) {
		ex.add(users, "userId")
		return Reason{Code: ReasonExcluded, Condition: users, Property: "excludeUsers", Value: ctx.UserID}, false
	}
	if g, ok := cp.exclGroups.firstIn(ctx.GroupIDs); ok {
		ex.add(users, "groupId")
		return Reason{Code: ReasonExcluded, Condition: users, Property: "excludeGroups", Value: g}, false
	}
	if r, ok := cp.exclRoles.firstInList(ctx.RoleTemplateIDs); ok {
		ex.add(users, "roleId")
		return Reason{Code: ReasonExcluded, Condition: users, Property: "excludeRoles", Value: r}, false
	}
	var included Reason
	switch {
	case cp.usersAll:
		in.add(users, "allUsers")
		included = Reason{Code: ReasonIncluded, Condition: users, Property: "includeUsers", Value: KeywordAll}
	case cp.inclUsers.has(ctx.UserID):
		in.add(users, "userId")
		included = Reason{Code: ReasonIncluded, Condition: users, Property: "includeUsers", Value: ctx.UserID}
	default:
		if g, ok := cp.inclGroups.firstIn(ctx.GroupIDs); ok {
			in.add(users, "groupId")
			included = Reason{Code: ReasonIncluded, Condition: users, Property: "includeGroups", Value: g}
		} else if r, ok := cp.inclRoles.firstInList(ctx.RoleTemplateIDs); ok {
			in.add(users, "roleId")
			included = Reason{Code: ReasonIncluded, Condition: users, Property: "includeRoles", Value: r}
		} else {
			r := Reason{Code: ReasonNotIncluded, Condition: users, Property: cp.userIncludeProps}
			if cp.usersNone {
				r.Property = "includeUsers"
			}
			return r, false
		}
	}

	const app = "application"
	if cp.userAction != "" || ctx.UserAction != "" {
		// User-action policies apply to that action only, application
		// policies never to an action.
		if cp.userAction != ctx.UserAction {
			prop, value := "includeUserActions", ctx.UserAction
			if cp.userAction == "" {
				prop = "includeApplications"
			}
			if value == "" {
				value = ctx.ApplicationID
			}
			return Reason{Code: ReasonNotIncluded, Condition: app, Property: prop, Value: value}, false
		}
	} else if cp.exclApps.has(ctx.ApplicationID) {
		ex.add(app, "appId")
		return Reason{Code: ReasonExcluded, Condition: app, Property: "excludeApplications", Value: ctx.ApplicationID}, false
	}
	if len(cp.authContexts) > 0 {
		if !anyOf(cp.authContexts, ctx.AuthenticationContexts) {
			return Reason{Code: ReasonNotIncluded, Condition: app, Property: "includeAuthenticationContextClassReferences", Value: strings.Join(ctx.AuthenticationContexts, ",")}, false
		}
		in.add(app, "acr")
	} else if cp.userAction == "" {
		if cp.appsNone || (!cp.appsAll && !cp.inclApps.has(ctx.ApplicationID)) {
			return Reason{Code: ReasonNotIncluded, Condition: app, Property: "includeApplications", Value: ctx.ApplicationID}, false
		}
		if cp.appsAll {
			in.add(app, "allApps")
		} else {
			in.add(app, "appId")
		}
	} // a user action has no conditionalAccessRule value

	if cp.clientApps != 0 && cp.clientApps&clientAppBits[ctx.ClientAppType] == 0 {
		return Reason{Code: ReasonNotIncluded, Condition: "clientType", Property: "clientAppTypes", Value: ctx.ClientAppType}, false
	}

	if cp.platformsSet {
		bit := platformBits[ctx.Platform]
		if bit != 0 && cp.exclPlatforms&bit != 0 {
			ex.add("devicePlatform", "devicePlatform")
			return Reason{Code: ReasonExcluded, Condition: "devicePlatform", Property: "excludePlatforms", Value: ctx.Platform}, false
		}
		if !cp.platformsAll && (bit == 0 || cp.inclPlatforms&bit == 0) {
			return Reason{Code: ReasonNotIncluded, Condition: "devicePlatform", Property: "includePlatforms", Value: ctx.Platform}, false
		}
		if cp.platformsAll {
			in.add("devicePlatform", "allDevicePlatforms")
		} else {
			in.add("devicePlatform", "devicePlatform")
		}
	}

	if cp.locationsSet {
		const loc = "location"
		if cp.exTrusted && ctx.IsTrustedLocation {
			ex.add(loc, "allTrustedLocations")
			return Reason{Code: ReasonExcluded, Condition: loc, Property: "excludeLocations", Value: KeywordAllTrusted}, false
		}
		if l, ok := cp.exclLocs.firstInList(ctx.LocationIDs); ok {
			ex.add(loc, "locationId")
			return Reason{Code: ReasonExcluded, Condition: loc, Property: "excludeLocations", Value: l}, false
		}
		switch {
		case cp.locAll:
			in.add(loc, "allLocations")
		case cp.locTrusted && ctx.IsTrustedLocation:
			in.add(loc, "allTrustedLocations")
		default:
			if _, ok := cp.inclLocs.firstInList(ctx.LocationIDs); !ok {
				return Reason{Code: ReasonNotIncluded, Condition: loc, Property: "includeLocations"}, false
			}
			in.add(loc, "locationId")
		}
	}

	if cp.userRisk != 0 && cp.userRisk&riskBit(ctx.UserRiskLevel) == 0 {
		return Reason{Code: ReasonNotIncluded, Condition: "userRisk", Property: "userRiskLevels", Value: riskName(ctx.UserRiskLevel)}, false
	}
	if cp.signInRisk != 0 && cp.signInRisk&riskBit(ctx.SignInRiskLevel) == 0 {
		return Reason{Code: ReasonNotIncluded, Condition: "signInRisk", Property: "signInRiskLevels", Value: riskName(ctx.SignInRiskLevel)}, false
	}
	return included, true
}

// riskBit treats an unreported risk as "none", which is what Identity
// Protection reports for a clean sign-in.
func riskBit(level string) uint8 { return riskBits[riskName(level)] }

func riskName(level string) string {
	if level == "" {
		return "none"
	}
	return level
}

func (cp *compiledPolicy) grant(ctx *SignInContext, f *methodFacts) grantOutcome {
	if len(cp.controls) == 0 {
		return grantOutcome{ok: true, reason: Reason{Code: ReasonNoGrantControls, Condition: "grantControls"}}
	}
	var firstOK, firstBad grantOutcome
	haveOK, haveBad := false, false
	allInteractive, anyInteractive := true, false
	for _, ctl := range cp.controls {
		o := cp.control(ctl, ctx, f)
		if o.ok {
			if !haveOK {
				firstOK, haveOK = o, true
			}
			if !cp.andOperator {
				return o
			}
			continue
		}
		if !haveBad {
			firstBad, haveBad = o, true
		}
		allInteractive = allInteractive && o.interactive
		anyInteractive = anyInteractive || o.interactive
	}
	if !haveBad {
		return firstOK
	}
	firstBad.ok = false
	if cp.andOperator {
		firstBad.interactive = allInteractive
	} else {
		firstBad.interactive = anyInteractive
	}
	return firstBad
}

func (cp *compiledPolicy) control(ctl compiledControl, ctx *SignInContext, f *methodFacts) grantOutcome {
	const gc = "grantControls"
	switch ctl.kind {
	case ctlBlock:
		return grantOutcome{reason: Reason{Code: ReasonGrantBlocked, Condition: gc, Property: ControlBlock}}
	case ctlMfa, ctlStrength:
		prop, val := ControlMfa, ""
		if ctl.kind == ctlStrength {
			prop, val = "authenticationStrength", ctl.strength.displayName
		}
		m := ctl.strength.check(f, cp.everyTime)
		if m.Satisfied {
			return grantOutcome{ok: true, reason: Reason{Code: ReasonGrantSatisfied, Condition: gc, Property: prop, Value: val, Matched: m.Combination, Previously: m.ByPreviouslySatisfied}}
		}
		code := ReasonGrantUnmet
		switch {
		case m.RestrictedByConfiguration:
			code = ReasonRestrictedByCombination
		case cp.everyTime && ctl.strength.check(f, false).Satisfied:
			code = ReasonReauthenticationRequired
		}
		return grantOutcome{interactive: true, reason: Reason{Code: code, Condition: gc, Property: prop, Value: val}}
	case ctlCompliantDevice:
		return boolControl(ctx.IsCompliantDevice, ctl.name, false)
	case ctlDomainJoinedDevice:
		return boolControl(ctx.IsDomainJoined, ctl.name, false)
	case ctlPasswordChange:
		return boolControl(ctx.PasswordChanged, ctl.name, true)
	default: // approvedApplication, compliantApplication: no MAM in the lab
		return grantOutcome{reason: Reason{Code: ReasonGrantUnsatisfiable, Condition: gc, Property: ctl.name}}
	}
}

func boolControl(ok bool, name string, interactive bool) grantOutcome {
	if ok {
		return grantOutcome{ok: true, reason: Reason{Code: ReasonGrantSatisfied, Condition: "grantControls", Property: name}}
	}
	code := ReasonGrantUnsatisfiable
	if interactive {
		code = ReasonGrantUnmet
	}
	return grantOutcome{interactive: interactive, reason: Reason{Code: code, Condition: "grantControls", Property: name}}
}

// strengthResult computes Graph's authenticationStrengthResult: whether the
// user is one challenge, several challenges or a registration away.
func (cp *compiledPolicy) strengthResult(f *methodFacts, registered ModeSet) string {
	cs := cp.strength
	m := cs.check(f, cp.everyTime)
	if m.Satisfied {
		return StrengthResultSatisfied
	}
	used := f.all
	if cp.everyTime {
		used = f.fresh
	}
	bestChallenges, bestRegistrations := 99, 99
	for _, c := range cs.combos {
		missing := c &^ used
		if missing == 0 {
			// Used in full yet unsatisfied: only allowedAAGUIDs can do that.
			continue
		}
		if registered.Contains(missing) {
			bestChallenges = min(bestChallenges, missing.Len())
		} else {
			bestRegistrations = min(bestRegistrations, (missing &^ registered).Len())
		}
	}
	switch {
	case bestChallenges == 1:
		return StrengthResultSingleChallengeRequired
	case bestChallenges < 99:
		return StrengthResultMultipleChallengesRequired
	case m.RestrictedByConfiguration:
		return StrengthResultCannotSatisfyDueToCombinationConfiguration
	case bestRegistrations == 1:
		return StrengthResultSingleRegistrationRequired
	case bestRegistrations < 99:
		return StrengthResultMultipleRegistrationsRequired
	}
	return StrengthResultCannotSatisfy
}

func (cp *compiledPolicy) requirement(g grantOutcome, as AuthenticationStrength) Requirement {
	r := Requirement{PolicyID: cp.id, DisplayName: cp.displayName, Operator: OperatorAND, freshOnly: cp.everyTime}
	if !cp.andOperator {
		r.Operator = OperatorOR
	}
	for _, ctl := range cp.controls {
		if ctl.kind == ctlBlock {
			r.Controls = append(r.Controls, ControlBlock)
			continue
		}
		if ctl.strength != nil {
			r.Controls = append(r.Controls, ctl.name)
			r.combos = append(r.combos, ctl.strength.combos...)
			r.AllowedCombinations = append(r.AllowedCombinations, ctl.strength.names...)
			if ctl.kind == ctlStrength {
				a := as
				r.AuthenticationStrength = &a
			}
			continue
		}
		r.Controls = append(r.Controls, ctl.name)
	}
	return r
}

func promptFor(ctx *SignInContext, f *methodFacts, reqs []Requirement) *MethodChoice {
	var pending [][]ModeSet
	used := f.all
	for _, r := range reqs {
		if len(r.combos) == 0 {
			continue
		}
		if r.freshOnly {
			used = f.fresh
		}
		pending = append(pending, r.combos)
	}
	if len(pending) == 0 {
		return nil
	}
	c := ChooseSystemPreferredMethod(ctx.RegisteredMethods, used, pending)
	return &c
}
