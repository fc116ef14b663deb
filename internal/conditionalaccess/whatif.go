package conditionalaccess

import (
	"context"
	"strconv"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
)

// WhatIf is a plain description of a sign-in for the lab's what-if
// evaluation (an rpserver extension: Entra's What If tool does not say why).
type WhatIf struct {
	UserID            string   `json:"userId"`
	ApplicationID     string   `json:"applicationId"`
	ClientAppType     string   `json:"clientAppType"` // conditionalAccessClientApp; default browser
	Platform          string   `json:"platform"`      // conditionalAccessDevicePlatform
	LocationIDs       []string `json:"locationIds"`
	IsTrustedLocation bool     `json:"isTrustedLocation"`
	UserRiskLevel     string   `json:"userRiskLevel"`   // none, low, medium, high
	SignInRiskLevel   string   `json:"signInRiskLevel"` // none, low, medium, high
	IsCompliantDevice bool     `json:"isCompliantDevice"`
	IsDomainJoined    bool     `json:"isDomainJoined"`
	PasswordChanged   bool     `json:"passwordChanged"`
	// Methods performed in this sign-in, as authenticationMethodModes.
	Methods []string `json:"methods"`
	// PreviouslySatisfied are methods carried over from the session.
	PreviouslySatisfied []string `json:"previouslySatisfied"`
	// Fido2AAGUID is the authenticator model of a fido2 method, for
	// strengths restricted to allowedAAGUIDs.
	Fido2AAGUID string `json:"fido2Aaguid"`
	// RegisteredMethods the user could perform; absent means "as registered
	// in the lab" (RegisteredModes), or every method when that is unknown.
	RegisteredMethods []string `json:"registeredMethods"`
}

// Evaluate runs the tenant's current policies against a described sign-in
// and returns every policy's result with its explanation.
func (s *Service) Evaluate(ctx context.Context, w WhatIf) (policy.Evaluation, error) {
	var err error
	if w.UserID, err = directory.CanonicalID(w.UserID); err != nil {
		return policy.Evaluation{}, apperr.Invalid(directory.CodeInvalidID, "userId must be a user's id (a GUID)").WithTarget("userId")
	}
	sc := &policy.SignInContext{
		UserID: w.UserID, ApplicationID: w.ApplicationID, ClientAppType: w.ClientAppType, Platform: w.Platform,
		LocationIDs: w.LocationIDs, IsTrustedLocation: w.IsTrustedLocation,
		UserRiskLevel: w.UserRiskLevel, SignInRiskLevel: w.SignInRiskLevel,
		IsCompliantDevice: w.IsCompliantDevice, IsDomainJoined: w.IsDomainJoined, PasswordChanged: w.PasswordChanged,
	}
	if sc.ClientAppType == "" {
		sc.ClientAppType = "browser"
	}
	for _, r := range []struct{ name, v string }{{"userRiskLevel", w.UserRiskLevel}, {"signInRiskLevel", w.SignInRiskLevel}} {
		switch r.v {
		case "", "none", "low", "medium", "high":
		default:
			return policy.Evaluation{}, apperr.Invalid(policy.CodeUnknownEnumValue, "%s must be none, low, medium or high", r.name).WithTarget(r.name)
		}
	}
	for _, l := range []struct {
		name     string
		vals     []string
		previous bool
	}{{"methods", w.Methods, false}, {"previouslySatisfied", w.PreviouslySatisfied, true}} {
		for i, m := range l.vals {
			if _, ok := policy.ParseMode(m); !ok {
				return policy.Evaluation{}, apperr.Invalid(policy.CodeUnknownEnumValue, "%q is not an authenticationMethodModes value", m).WithTarget(l.name + "[" + strconv.Itoa(i) + "]")
			}
			sm := policy.SatisfiedMethod{Mode: m, PreviouslySatisfied: l.previous}
			if m == "fido2" {
				sm.AAGUID = w.Fido2AAGUID
			}
			sc.Methods = append(sc.Methods, sm)
		}
	}

	u, err := s.dir.GetUser(ctx, w.UserID)
	if err != nil {
		return policy.Evaluation{}, err
	}
	sc.IsEmergencyAccount = u.IsEmergencyAccess
	groups, err := s.dir.GroupIDsOf(ctx, w.UserID)
	if err != nil {
		return policy.Evaluation{}, err
	}
	sc.GroupIDs = policy.NewSet(groups...)
	assignments, err := s.dir.ListRoleAssignments(ctx, directory.ByPrincipal(w.UserID))
	if err != nil {
		return policy.Evaluation{}, err
	}
	for _, a := range assignments {
		sc.RoleTemplateIDs = append(sc.RoleTemplateIDs, a.RoleDefinitionID)
	}
	switch {
	case w.RegisteredMethods != nil:
		set, bad, ok := policy.ModesFromStrings(w.RegisteredMethods)
		if !ok {
			return policy.Evaluation{}, apperr.Invalid(policy.CodeUnknownEnumValue, "%q is not an authenticationMethodModes value", bad).WithTarget("registeredMethods")
		}
		sc.RegisteredMethods = set
	default:
		if sc.RegisteredMethods, err = s.registered(ctx, w.UserID); err != nil {
			return policy.Evaluation{}, err
		}
	}

	cp, err := s.Compiled(ctx)
	if err != nil {
		return policy.Evaluation{}, err
	}
	return cp.Evaluate(sc), nil
}
