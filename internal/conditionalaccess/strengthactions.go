package conditionalaccess

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rpserver/rpserver/internal/policy"
)

// StrengthUsage is Graph's authenticationStrengthUsage: the Conditional
// Access policies that require a strength, under the requirement the
// strength satisfies (mfa or none).
type StrengthUsage struct {
	MFA  []policy.ConditionalAccessPolicy `json:"mfa"`
	None []policy.ConditionalAccessPolicy `json:"none"`
}

// UpdateAllowedCombinationsResult is Graph's type of that name (v1.0 CSDL).
type UpdateAllowedCombinationsResult struct {
	AdditionalInformation       *string  `json:"additionalInformation"`
	ConditionalAccessReferences []string `json:"conditionalAccessReferences"`
	CurrentCombinations         []string `json:"currentCombinations"`
	PreviousCombinations        []string `json:"previousCombinations"`
}

// policiesUsing lists the policies whose grant names the strength.
func (s *Service) policiesUsing(ctx context.Context, id string) ([]policy.ConditionalAccessPolicy, error) {
	c, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	var out []policy.ConditionalAccessPolicy
	for _, p := range snap.Policies {
		if g := p.GrantControls; g != nil && g.AuthenticationStrength != nil && g.AuthenticationStrength.ID == id {
			out = append(out, s.expand(p, c.strengths))
		}
	}
	return out, nil
}

// StrengthUsage is GET .../authenticationStrengthPolicies/{id}/usage.
func (s *Service) StrengthUsage(ctx context.Context, id string) (StrengthUsage, error) {
	st, err := s.GetStrength(ctx, id)
	if err != nil {
		return StrengthUsage{}, err
	}
	ps, err := s.policiesUsing(ctx, id)
	if err != nil {
		return StrengthUsage{}, err
	}
	u := StrengthUsage{MFA: []policy.ConditionalAccessPolicy{}, None: []policy.ConditionalAccessPolicy{}}
	if st.RequirementsSatisfied == "mfa" {
		u.MFA = append(u.MFA, ps...)
	} else {
		u.None = append(u.None, ps...)
	}
	return u, nil
}

// UpdateAllowedCombinations is Graph's action of that name: it replaces
// the strength's combinations (validated as a PATCH would) and reports the
// policies that now require the new set.
func (s *Service) UpdateAllowedCombinations(ctx context.Context, id string, combos []string) (UpdateAllowedCombinationsResult, error) {
	prev, err := s.GetStrength(ctx, id)
	if err != nil {
		return UpdateAllowedCombinationsResult{}, err
	}
	patch, err := json.Marshal(map[string]any{"allowedCombinations": combos})
	if err != nil {
		return UpdateAllowedCombinationsResult{}, fmt.Errorf("updateAllowedCombinations: %w", err)
	}
	next, err := s.UpdateStrength(ctx, id, patch)
	if err != nil {
		return UpdateAllowedCombinationsResult{}, err
	}
	ps, err := s.policiesUsing(ctx, id)
	if err != nil {
		return UpdateAllowedCombinationsResult{}, err
	}
	out := UpdateAllowedCombinationsResult{ConditionalAccessReferences: []string{}, CurrentCombinations: next.AllowedCombinations, PreviousCombinations: prev.AllowedCombinations}
	for _, p := range ps {
		out.ConditionalAccessReferences = append(out.ConditionalAccessReferences, p.ID)
	}
	return out, nil
}

// AuthenticationMethodModeDetail is Graph's authenticationMethodModeDetail:
// one member of authenticationMethodModes with the method it belongs to
// (baseAuthenticationMethod). The display names are the lab's own: Graph's
// metadata does not carry them.
type AuthenticationMethodModeDetail struct {
	ID                   string `json:"id"`
	AuthenticationMethod string `json:"authenticationMethod"`
	DisplayName          string `json:"displayName"`
}

// AuthenticationMethodModes lists every mode, as
// /policies/authenticationStrengthPolicies/authenticationMethodModes does.
func AuthenticationMethodModes() []AuthenticationMethodModeDetail {
	// mode, baseAuthenticationMethod member (v1.0 CSDL), display name.
	rows := [][3]string{
		{"password", "password", "Password"},
		{"voice", "voice", "Voice call"},
		{"hardwareOath", "hardwareOath", "Hardware OATH token"},
		{"softwareOath", "softwareOath", "Software OATH token"},
		{"sms", "sms", "SMS"},
		{"fido2", "fido2", "FIDO2 security key or passkey"},
		{"windowsHelloForBusiness", "windowsHelloForBusiness", "Windows Hello for Business"},
		{"microsoftAuthenticatorPush", "microsoftAuthenticator", "Microsoft Authenticator (push notification)"},
		{"deviceBasedPush", "microsoftAuthenticator", "Microsoft Authenticator (phone sign-in)"},
		{"temporaryAccessPassOneTime", "temporaryAccessPass", "Temporary Access Pass (one-time use)"},
		{"temporaryAccessPassMultiUse", "temporaryAccessPass", "Temporary Access Pass (multi-use)"},
		{"email", "email", "Email one-time passcode"},
		{"x509CertificateSingleFactor", "x509Certificate", "Certificate-based authentication (single factor)"},
		{"x509CertificateMultiFactor", "x509Certificate", "Certificate-based authentication (multifactor)"},
		{"federatedSingleFactor", "federation", "Federated single factor"},
		{"federatedMultiFactor", "federation", "Federated multifactor"},
		{"qrCodePin", "qrCodePin", "QR code with PIN"},
	}
	out := make([]AuthenticationMethodModeDetail, len(rows))
	for i, r := range rows {
		out[i] = AuthenticationMethodModeDetail{ID: r[0], AuthenticationMethod: r[1], DisplayName: r[2]}
	}
	return out
}
