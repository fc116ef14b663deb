package methods

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/methods/targeting"

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
	s.campaign.Store(nil) // this server sees its own write at once
	return s.AuthenticationMethodsPolicy(ctx)
}

// SnoozeStore persists the campaign's per-user snoozes.
type SnoozeStore interface {
	SnoozesOf(ctx context.Context, userID string) (campaign.Snoozes, error)
	// RecordSnooze counts one snooze at now unless limit > 0 and the user
	// already used limit of them (ok false, nothing written).
	RecordSnooze(ctx context.Context, userID string, now time.Time, limit int) (sn campaign.Snoozes, ok bool, err error)
}

// Stable codes of the snooze call.
const (
	CodeCampaignNotApplicable = "registrationCampaignNotApplicable"
	CodeSnoozesExhausted      = "registrationCampaignSnoozesExhausted"
)

// CampaignRefresh bounds how stale the sign-in path's copy of the campaign
// may be on a server that did not write it: the copy is re-read at most
// this often, so the campaign costs passkey sign-in no database round trip
// (a nudge is not a security control; Entra itself takes minutes).
const CampaignRefresh = 10 * time.Second

type cachedCampaign struct {
	c  campaign.Campaign
	at time.Time
}

// currentCampaign is the campaign as the sign-in path sees it: the cached
// copy while younger than CampaignRefresh, else a fresh read.
func (s *Service) currentCampaign(ctx context.Context) (campaign.Campaign, error) {
	now := s.Now()
	if c := s.campaign.Load(); c != nil && now.Sub(c.at) < CampaignRefresh && !now.Before(c.at) {
		return c.c, nil
	}
	enf, err := s.RegistrationEnforcement(ctx)
	if err != nil {
		return campaign.Campaign{}, err
	}
	s.campaign.Store(&cachedCampaign{c: enf.AuthenticationMethodsRegistrationCampaign, at: now})
	return enf.AuthenticationMethodsRegistrationCampaign, nil
}

// RegistrationNudge decides the interrupt of a completed sign-in: nil
// unless the campaign is enabled, the user is targeted and not excluded,
// lacks the targeted method (Microsoft Authenticator push) and is not
// inside a snooze window. The snoozes are read only for such a user.
func (s *Service) RegistrationNudge(ctx context.Context, subject targeting.Subject, hasPush bool) (*campaign.Nudge, error) {
	c, err := s.currentCampaign(ctx)
	if err != nil || !c.Enabled() || hasPush {
		return nil, err
	}
	method, ok := c.Targeted(subject)
	if !ok {
		return nil, nil
	}
	sn, err := s.Snoozes.SnoozesOf(ctx, subject.UserID)
	if err != nil {
		return nil, err
	}
	return c.Decide(method, sn, s.Now()), nil
}

// SnoozeCampaign records that the signed-in user skipped the nudge. It is
// refused when the campaign does not apply to them and, with
// enforceRegistrationAfterAllowedSnoozes, once the allowed snoozes are used.
func (s *Service) SnoozeCampaign(ctx context.Context, subject targeting.Subject, hasPush bool) (campaign.Nudge, error) {
	enf, err := s.RegistrationEnforcement(ctx)
	if err != nil {
		return campaign.Nudge{}, err
	}
	c := enf.AuthenticationMethodsRegistrationCampaign
	userID := subject.UserID
	method, ok := c.Targeted(subject)
	if !ok || hasPush {
		return campaign.Nudge{}, apperr.Conflict(CodeCampaignNotApplicable, "the registration campaign does not ask this user to register a method")
	}
	limit := 0
	if c.EnforceRegistrationAfterAllowedSnoozes {
		limit = campaign.AllowedSnoozes
	}
	sn, ok, err := s.Snoozes.RecordSnooze(ctx, userID, s.Now(), limit)
	if err != nil {
		return campaign.Nudge{}, err
	}
	if !ok {
		return campaign.Nudge{}, apperr.Conflict(CodeSnoozesExhausted, "all %d snoozes are used: register %s to continue", campaign.AllowedSnoozes, method)
	}
	n := campaign.Nudge{TargetedAuthenticationMethod: method, SnoozesRemaining: -1, CanSnooze: true}
	if limit > 0 {
		n.SnoozesRemaining = max(limit-sn.Count, 0)
		n.CanSnooze = n.SnoozesRemaining > 0
	}
	return n, nil
}
