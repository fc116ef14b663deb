package methods

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/rpserver/rpserver/internal/methods/campaign"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/profiles"
)

// ConfigRoot is the store key of the policy's own properties (the
// registration campaign); the method configurations keep their own rows.
const ConfigRoot = "root"

// Policy is Graph's authenticationMethodsPolicy as the lab serves it.
type Policy struct {
	ID                                 string                           `json:"id"`
	DisplayName                        string                           `json:"displayName"`
	Description                        string                           `json:"description"`
	PolicyVersion                      string                           `json:"policyVersion"`
	ReconfirmationInDays               int                              `json:"reconfirmationInDays"`
	RegistrationEnforcement            campaign.RegistrationEnforcement `json:"registrationEnforcement"`
	AuthenticationMethodConfigurations []any                            `json:"authenticationMethodConfigurations"`
}

// PolicyPatch is what a PATCH of the policy may change.
type PolicyPatch struct {
	RegistrationEnforcement *campaign.RegistrationEnforcement `json:"registrationEnforcement"`
}

// AuthenticationMethodsPolicy returns the policy with its registration
// campaign (Entra's default until written) and the FIDO2 and TAP
// configurations, as Graph lists them.
func (s *Service) AuthenticationMethodsPolicy(ctx context.Context) (Policy, error) {
	enf, err := s.RegistrationEnforcement(ctx)
	if err != nil {
		return Policy{}, err
	}
	fido2, _, err := s.Fido2Config(ctx)
	if err != nil {
		return Policy{}, err
	}
	tapCfg, err := s.TAPConfig(ctx)
	if err != nil {
		return Policy{}, err
	}
	fido2.ODataType, tapCfg.ODataType = profiles.ODataTypeFido2Configuration, tap.ODataTypeConfiguration
	return Policy{
		ID: "authenticationMethodsPolicy", DisplayName: "Authentication Methods Policy",
		Description:   "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
		PolicyVersion: "1.5", RegistrationEnforcement: enf,
		AuthenticationMethodConfigurations: []any{normalizeFido2(fido2), tapCfg},
	}, nil
}

// RegistrationEnforcement returns the stored campaign or Entra's default.
func (s *Service) RegistrationEnforcement(ctx context.Context) (campaign.RegistrationEnforcement, error) {
	enf := campaign.Default()
	_, err := s.load(ctx, ConfigRoot, &enf)
	return enf, err
}

// PatchPolicy applies a PATCH of the policy: registrationEnforcement
// merges property by property into the stored campaign.
func (s *Service) PatchPolicy(ctx context.Context, patch []byte) (Policy, error) {
	_, err := s.configs.UpdateConfig(ctx, ConfigRoot, func(cur []byte) ([]byte, error) {
		prev := campaign.Default()
		if cur != nil {
			if err := json.Unmarshal(cur, &prev); err != nil {
				return nil, fmt.Errorf("decode stored registration campaign: %w", err)
			}
		}
		fields, err := objectOf(patch)
		if err != nil {
			return nil, err
		}
		next := prev
		if raw, ok := fields["registrationEnforcement"]; ok && string(raw) != "null" {
			enfFields, err := objectOf(raw)
			if err != nil {
				return nil, err
			}
			if rc, ok := enfFields["authenticationMethodsRegistrationCampaign"]; ok && string(rc) != "null" {
				cf, err := objectOf(rc)
				if err != nil {
					return nil, err
				}
				if err := merge(prev.AuthenticationMethodsRegistrationCampaign, cf, &next.AuthenticationMethodsRegistrationCampaign); err != nil {
					return nil, err
				}
			}
		}
		c := &next.AuthenticationMethodsRegistrationCampaign
		if err := c.Validate(); err != nil {
			return nil, classify(err)
		}
		if c.IncludeTargets == nil {
			c.IncludeTargets = []campaign.IncludeTarget{}
		}
		if c.ExcludeTargets == nil {
			c.ExcludeTargets = []campaign.ExcludeTarget{}
		}
		return json.Marshal(next)
	})
	if err != nil {
		return Policy{}, err
	}
	return s.AuthenticationMethodsPolicy(ctx)
}
