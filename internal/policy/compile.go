package policy

import (
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/ids"
)

// Set is a set of ids; group membership arrives as one so that checking a
// policy's handful of groups against a user in a thousand groups is a few
// hash lookups, not a scan.
type Set map[string]struct{}

// NewSet builds a Set.
func NewSet(ids ...string) Set {
	s := make(Set, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Has reports whether id is in s.
func (s Set) Has(id string) bool { _, ok := s[id]; return ok }

// idSet is a policy-side list of ids. Short lists are scanned, which beats
// hashing for the typical one-to-three entries; long ones get a map.
type idSet struct {
	list []string
	m    map[string]struct{}
}

const idSetMapThreshold = 8

// newIDSet lower-cases the GUIDs of list (a copy): policies are
// canonicalised when saved, but one stored before that must still match the
// directory's lower-case ids rather than silently never apply.
func newIDSet(list []string) idSet {
	s := idSet{list: ids.LowerAll(list)}
	if len(s.list) > idSetMapThreshold {
		s.m = make(map[string]struct{}, len(s.list))
		for _, id := range s.list {
			s.m[id] = struct{}{}
		}
	}
	return s
}

func (s *idSet) has(id string) bool {
	if s.m != nil {
		_, ok := s.m[id]
		return ok
	}
	for _, v := range s.list {
		if v == id {
			return true
		}
	}
	return false
}

// firstIn returns an element of s that is also in other, iterating the
// smaller side.
func (s *idSet) firstIn(other Set) (string, bool) {
	if len(s.list) == 0 || len(other) == 0 {
		return "", false
	}
	if len(s.list) <= len(other) {
		for _, v := range s.list {
			if _, ok := other[v]; ok {
				return v, true
			}
		}
		return "", false
	}
	for v := range other {
		if s.has(v) {
			return v, true
		}
	}
	return "", false
}

func (s *idSet) firstInList(other []string) (string, bool) {
	for _, v := range other {
		if s.has(v) {
			return v, true
		}
	}
	return "", false
}

type stateKind uint8

const (
	stEnabled stateKind = iota
	stDisabled
	stReportOnly
)

type controlKind uint8

const (
	ctlBlock controlKind = iota
	ctlMfa
	ctlStrength
	ctlCompliantDevice
	ctlDomainJoinedDevice
	ctlApprovedApplication
	ctlCompliantApplication
	ctlPasswordChange
)

type compiledControl struct {
	kind     controlKind
	name     string // Graph builtInControls value, or "authenticationStrength"
	strength *compiledStrength
}

type compiledPolicy struct {
	id, displayName string
	state           stateKind

	usersAll, usersNone    bool
	inclUsers, exclUsers   idSet
	inclGroups, exclGroups idSet
	inclRoles, exclRoles   idSet
	userIncludeProps       string // for "not in ..." explanations

	appsAll, appsNone  bool
	inclApps, exclApps idSet
	// userAction is the user action the policy targets instead of
	// applications; "" for an application policy.
	userAction string
	// authContexts: the policy targets these authentication contexts
	// instead of applications.
	authContexts []string

	clientApps uint8 // 0 = any

	platformsSet                 bool
	platformsAll                 bool
	inclPlatforms, exclPlatforms uint8

	locationsSet                  bool
	locAll, locTrusted, exTrusted bool
	inclLocs, exclLocs            idSet

	userRisk, signInRisk uint8 // 0 = any

	andOperator bool
	controls    []compiledControl
	strength    *compiledStrength // the policy's authenticationStrength, if any
	everyTime   bool
	// maxAge (signInFrequency timeBased): previously satisfied methods
	// older than this do not count for the policy.
	maxAge time.Duration
	// persistentBrowser is the session control's mode: always, never or "".
	persistentBrowser string

	enforcedGrant, enforcedSession []string

	// configured is the conditions the policy sets (users and application
	// always), for conditionsSatisfied.
	configured Conditions
}

// CompiledPolicies is the evaluation-ready form of a tenant's policies. It
// is immutable after Compile and safe for concurrent use.
type CompiledPolicies struct {
	policies  []compiledPolicy
	locations []compiledLocation // named locations, for Locate
	// names are display names of the groups the policies reference, so
	// explanations say "GRP-Pilot (<id>)" rather than a bare GUID.
	names map[string]string
}

// SetNames gives the display names of referenced groups (id → name), as of
// compile time; call it before the policies are shared.
func (c *CompiledPolicies) SetNames(names map[string]string) { c.names = names }

// GroupIDs lists the groups the policies include or exclude, for SetNames.
func GroupIDs(ps []ConditionalAccessPolicy) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		u := p.Conditions.Users
		for _, id := range append(append([]string(nil), u.IncludeGroups...), u.ExcludeGroups...) {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// Len is the number of compiled policies.
func (c *CompiledPolicies) Len() int { return len(c.policies) }

var builtInMFA = func() *compiledStrength {
	cs, err := compileStrength(builtInByID[StrengthIDMultifactor])
	if err != nil {
		panic(err)
	}
	return cs
}()

// Compile prepares policies for evaluation. Policies are expected to have
// passed ValidateConditionalAccessPolicy; Compile re-checks only what it
// cannot evaluate without (state, strengths) so a bad row fails loudly
// instead of silently not applying.
func Compile(policies []ConditionalAccessPolicy, strengths StrengthLookup) (*CompiledPolicies, error) {
	out := &CompiledPolicies{policies: make([]compiledPolicy, 0, len(policies))}
	var errs ValidationErrors
	strengthCache := map[string]*compiledStrength{}
	for i := range policies {
		p := &policies[i]
		cp, err := compileOne(p, strengths, strengthCache)
		if err != nil {
			for _, e := range err.(ValidationErrors) {
				e.Target = "policies[" + p.ID + "]." + e.Target
				errs = append(errs, e)
			}
			continue
		}
		out.policies = append(out.policies, cp)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func compileOne(p *ConditionalAccessPolicy, strengths StrengthLookup, cache map[string]*compiledStrength) (compiledPolicy, error) {
	var errs ValidationErrors
	cp := compiledPolicy{id: p.ID, displayName: p.DisplayName}
	switch p.State {
	case StateEnabled:
		cp.state = stEnabled
	case StateDisabled:
		cp.state = stDisabled
	case StateReportOnly:
		cp.state = stReportOnly
	default:
		errs.add(CodeInvalidState, "state", "unknown state \""+p.State+"\"")
	}

	u := p.Conditions.Users
	inclUsers := without(u.IncludeUsers, KeywordAll, KeywordNone, KeywordGuestsOrExternalUsers)
	cp.usersAll = contains(u.IncludeUsers, KeywordAll)
	cp.usersNone = contains(u.IncludeUsers, KeywordNone)
	cp.inclUsers = newIDSet(inclUsers)
	cp.exclUsers = newIDSet(without(u.ExcludeUsers, KeywordGuestsOrExternalUsers))
	cp.inclGroups, cp.exclGroups = newIDSet(u.IncludeGroups), newIDSet(u.ExcludeGroups)
	cp.inclRoles, cp.exclRoles = newIDSet(u.IncludeRoles), newIDSet(u.ExcludeRoles)
	var props []string
	for _, pr := range []struct {
		name string
		vals []string
	}{{"includeUsers", u.IncludeUsers}, {"includeGroups", u.IncludeGroups}, {"includeRoles", u.IncludeRoles}} {
		if len(pr.vals) > 0 {
			props = append(props, pr.name)
		}
	}
	cp.userIncludeProps = strings.Join(props, ", ")

	a := p.Conditions.Applications
	cp.appsAll = contains(a.IncludeApplications, KeywordAll)
	cp.appsNone = contains(a.IncludeApplications, KeywordNone) || len(a.IncludeApplications) == 0
	cp.inclApps = newIDSet(without(a.IncludeApplications, KeywordAll, KeywordNone))
	cp.exclApps = newIDSet(a.ExcludeApplications)
	if len(a.IncludeUserActions) > 0 {
		cp.userAction = a.IncludeUserActions[0] // validation allows only one action
	}
	cp.authContexts = a.IncludeAuthenticationContextClassReferences

	for _, t := range p.Conditions.ClientAppTypes {
		if t == clientAppAll {
			cp.clientApps = 0
			break
		}
		cp.clientApps |= clientAppBits[t]
	}
	if pl := p.Conditions.Platforms; pl != nil && (len(pl.IncludePlatforms) > 0 || len(pl.ExcludePlatforms) > 0) {
		cp.platformsSet = true
		for _, v := range pl.IncludePlatforms {
			cp.platformsAll = cp.platformsAll || v == platformAll
			cp.inclPlatforms |= platformBits[v]
		}
		for _, v := range pl.ExcludePlatforms {
			cp.exclPlatforms |= platformBits[v]
		}
	}
	if l := p.Conditions.Locations; l != nil && (len(l.IncludeLocations) > 0 || len(l.ExcludeLocations) > 0) {
		cp.locationsSet = true
		cp.locAll = contains(l.IncludeLocations, KeywordAll)
		cp.locTrusted = contains(l.IncludeLocations, KeywordAllTrusted)
		cp.exTrusted = contains(l.ExcludeLocations, KeywordAllTrusted)
		cp.inclLocs = newIDSet(without(l.IncludeLocations, KeywordAll, KeywordAllTrusted))
		cp.exclLocs = newIDSet(without(l.ExcludeLocations, KeywordAll, KeywordAllTrusted))
	}
	for _, r := range p.Conditions.UserRiskLevels {
		cp.userRisk |= riskBits[r]
	}
	for _, r := range p.Conditions.SignInRiskLevels {
		cp.signInRisk |= riskBits[r]
	}
	cp.configured = cp.configuredConditions()

	if g := p.GrantControls; g != nil {
		cp.andOperator = g.Operator != OperatorOR
		for _, name := range g.BuiltInControls {
			var k controlKind
			var cs *compiledStrength
			grantName := ""
			switch name {
			case ControlBlock:
				k, grantName = ctlBlock, "Block"
			case ControlMfa:
				k, cs, grantName = ctlMfa, builtInMFA, "Mfa"
			case ControlCompliantDevice:
				k, grantName = ctlCompliantDevice, "RequireCompliantDevice"
			case ControlDomainJoinedDevice:
				k, grantName = ctlDomainJoinedDevice, "RequireDomainJoinedDevice"
			case ControlApprovedApplication:
				k, grantName = ctlApprovedApplication, "RequireApprovedApp"
			case ControlCompliantApplication:
				k, grantName = ctlCompliantApplication, "RequireCompliantApp"
			case ControlPasswordChange:
				k, grantName = ctlPasswordChange, "PasswordChange"
			default:
				errs.add(CodeUnknownEnumValue, "grantControls.builtInControls", "unknown grant control \""+name+"\"")
				continue
			}
			cp.controls = append(cp.controls, compiledControl{kind: k, name: name, strength: cs})
			cp.enforcedGrant = append(cp.enforcedGrant, grantName)
		}
		if ref := g.AuthenticationStrength; ref != nil {
			cs, ok := cache[ref.ID]
			if !ok {
				s, found := resolveStrength(ref.ID, strengths)
				if !found && len(ref.AllowedCombinations) > 0 {
					// The policy carries the expanded strength, as Graph
					// returns it; trust it rather than fail.
					s, found = *ref, true
				}
				if !found {
					errs.add(CodeAuthenticationStrengthNotFound, "grantControls.authenticationStrength.id", "no authentication strength with id \""+ref.ID+"\"")
				} else if c, err := compileStrength(s); err != nil {
					errs = append(errs, err.(ValidationErrors)...)
				} else {
					cs = c
					cache[ref.ID] = cs
				}
			}
			if cs != nil {
				cp.strength = cs
				cp.controls = append(cp.controls, compiledControl{kind: ctlStrength, name: "authenticationStrength", strength: cs})
				cp.enforcedGrant = append(cp.enforcedGrant, "RequireAuthenticationStrength")
			}
		}
	}
	if s := p.SessionControls; s != nil {
		if s.SignInFrequency != nil && s.SignInFrequency.IsEnabled {
			cp.everyTime = s.SignInFrequency.FrequencyInterval == "everyTime"
			cp.maxAge = frequencyAge(s.SignInFrequency)
			cp.enforcedSession = append(cp.enforcedSession, "SignInFrequency")
		}
		if s.PersistentBrowser != nil && s.PersistentBrowser.IsEnabled {
			cp.persistentBrowser = s.PersistentBrowser.Mode
			cp.enforcedSession = append(cp.enforcedSession, "PersistentBrowserSessionMode")
		}
		if s.ApplicationEnforcedRestrictions != nil && s.ApplicationEnforcedRestrictions.IsEnabled {
			cp.enforcedSession = append(cp.enforcedSession, "AppEnforcedRestrictions")
		}
		if s.CloudAppSecurity != nil && s.CloudAppSecurity.IsEnabled {
			cp.enforcedSession = append(cp.enforcedSession, "CloudAppSecurity")
		}
	}
	if cp.enforcedGrant == nil {
		cp.enforcedGrant = []string{}
	}
	if cp.enforcedSession == nil {
		cp.enforcedSession = []string{}
	}
	return cp, errs.err()
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

func without(vals []string, drop ...string) []string {
	var out []string
	for _, v := range vals {
		if !contains(drop, v) {
			out = append(out, v)
		}
	}
	return out
}

func (cp *compiledPolicy) configuredConditions() Conditions {
	c := ConditionUsers | ConditionApplication
	if cp.clientApps != 0 {
		c |= ConditionClientType
	}
	if cp.platformsSet {
		c |= ConditionDevicePlatform
	}
	if cp.locationsSet {
		c |= ConditionLocation
	}
	if cp.userRisk != 0 {
		c |= ConditionUserRisk
	}
	if cp.signInRisk != 0 {
		c |= ConditionSignInRisk
	}
	return c
}
