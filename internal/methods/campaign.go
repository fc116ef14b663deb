package methods

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/targeting"

	"github.com/rpserver/rpserver/internal/methods/campaign"
	"github.com/rpserver/rpserver/internal/methods/preferred"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/profiles"
)

// ConfigRoot is the store key of the policy's own properties (the
// registration campaign); the method configurations keep their own rows.
const ConfigRoot = "root"

// Policy is Graph's authenticationMethodsPolicy as the lab serves it.
type Policy struct {
	ID                      string                           `json:"id"`
	DisplayName             string                           `json:"displayName"`
	Description             string                           `json:"description"`
	PolicyVersion           string                           `json:"policyVersion"`
	ReconfirmationInDays    int                              `json:"reconfirmationInDays"`
	RegistrationEnforcement campaign.RegistrationEnforcement `json:"registrationEnforcement"`
	// SystemCredentialPreferences is beta-only in Graph: the API leaves it
	// out of /v1.0 answers.
	SystemCredentialPreferences        *preferred.Preferences `json:"systemCredentialPreferences,omitempty"`
	AuthenticationMethodConfigurations []any                  `json:"authenticationMethodConfigurations"`
}

// PolicyPatch is what a PATCH of the policy may change.
type PolicyPatch struct {
	RegistrationEnforcement     *campaign.RegistrationEnforcement `json:"registrationEnforcement"`
	SystemCredentialPreferences *preferred.Preferences            `json:"systemCredentialPreferences"`
}

// rootDoc is the stored policy root: the registration campaign (at the top
// level, as before system-credential preferences were added) and the
// preferences, in one row so one PATCH changes both or neither.
type rootDoc struct {
	campaign.RegistrationEnforcement
	SystemCredentialPreferences *preferred.Preferences `json:"systemCredentialPreferences,omitempty"`
}

// preferences is the stored setting, Entra's default when never written.
func (d rootDoc) preferences() preferred.Preferences {
	if d.SystemCredentialPreferences == nil {
		return preferred.Default()
	}
	return *d.SystemCredentialPreferences
}

func (s *Service) root(ctx context.Context) (rootDoc, error) {
	d := rootDoc{RegistrationEnforcement: campaign.Default()}
	_, err := s.load(ctx, ConfigRoot, &d)
	return d, err
}

// AuthenticationMethodsPolicy returns the policy with its registration
// campaign (Entra's default until written) and the FIDO2 and TAP
// configurations, as Graph lists them.
func (s *Service) AuthenticationMethodsPolicy(ctx context.Context) (Policy, error) {
	root, err := s.root(ctx)
	if err != nil {
		return Policy{}, err
	}
	enf, prefs := root.RegistrationEnforcement, root.preferences()
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
		PolicyVersion: "1.5", RegistrationEnforcement: enf, SystemCredentialPreferences: &prefs,
		AuthenticationMethodConfigurations: []any{normalizeFido2(fido2), tapCfg},
	}, nil
}

// RegistrationEnforcement returns the stored campaign or Entra's default.
func (s *Service) RegistrationEnforcement(ctx context.Context) (campaign.RegistrationEnforcement, error) {
	d, err := s.root(ctx)
	return d.RegistrationEnforcement, err
}

// PatchPolicy applies a PATCH of the policy: registrationEnforcement
// merges property by property into the stored campaign, and
// systemCredentialPreferences into the stored preferences (null resets
// them to Entra's default). Both are validated before the one write.
func (s *Service) PatchPolicy(ctx context.Context, patch []byte) (Policy, error) {
	_, err := s.configs.UpdateConfig(ctx, ConfigRoot, func(cur []byte) ([]byte, error) {
		prevDoc := rootDoc{RegistrationEnforcement: campaign.Default()}
		if cur != nil {
			if err := json.Unmarshal(cur, &prevDoc); err != nil {
				return nil, fmt.Errorf("decode stored authentication methods policy: %w", err)
			}
		}
		fields, err := objectOf(patch)
		if err != nil {
			return nil, err
		}
		nextPrefs, err := patchPreferences(prevDoc.preferences(), fields)
		if err != nil {
			return nil, err
		}
		prev := prevDoc.RegistrationEnforcement
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
		for i := range c.IncludeTargets {
			c.IncludeTargets[i].ID = ids.Lower(c.IncludeTargets[i].ID)
		}
		for i := range c.ExcludeTargets {
			c.ExcludeTargets[i].ID = ids.Lower(c.ExcludeTargets[i].ID)
		}
		return json.Marshal(rootDoc{RegistrationEnforcement: next, SystemCredentialPreferences: nextPrefs})
	})
	if err != nil {
		return Policy{}, err
	}
	s.campaign.Store(nil) // this server sees its own write at once
	return s.AuthenticationMethodsPolicy(ctx)
}

// patchPreferences merges a PATCH's systemCredentialPreferences (absent:
// unchanged; null: Entra's default) and validates the result.
func patchPreferences(prev preferred.Preferences, fields map[string]json.RawMessage) (*preferred.Preferences, error) {
	raw, ok := fields["systemCredentialPreferences"]
	if !ok {
		return &prev, nil
	}
	next := preferred.Default()
	if string(raw) != "null" {
		pf, err := objectOf(raw)
		if err != nil {
			return nil, err
		}
		next = prev
		if err := merge(prev, pf, &next); err != nil {
			return nil, err
		}
	}
	if err := next.Validate(); err != nil {
		return nil, classify(err)
	}
	if next.IncludeTargets == nil {
		next.IncludeTargets = []preferred.Target{}
	}
	if next.ExcludeTargets == nil {
		next.ExcludeTargets = []preferred.Target{}
	}
	for _, l := range [][]preferred.Target{next.IncludeTargets, next.ExcludeTargets} {
		for i := range l {
			l[i].ID = ids.Lower(l[i].ID)
		}
	}
	return &next, nil
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
	c     campaign.Campaign
	prefs preferred.Preferences
	at    time.Time
}

// currentRoot is the policy root as the sign-in path sees it: the cached
// copy while younger than CampaignRefresh, else a fresh read.
func (s *Service) currentRoot(ctx context.Context) (*cachedCampaign, error) {
	now := s.Now()
	if c := s.campaign.Load(); c != nil && now.Sub(c.at) < CampaignRefresh && !now.Before(c.at) {
		return c, nil
	}
	d, err := s.root(ctx)
	if err != nil {
		return nil, err
	}
	c := &cachedCampaign{c: d.AuthenticationMethodsRegistrationCampaign, prefs: d.preferences(), at: now}
	s.campaign.Store(c)
	return c, nil
}

// currentCampaign is the campaign of currentRoot.
func (s *Service) currentCampaign(ctx context.Context) (campaign.Campaign, error) {
	c, err := s.currentRoot(ctx)
	if err != nil {
		return campaign.Campaign{}, err
	}
	return c.c, nil
}

// SystemPreferred reports whether the subject is prompted with the
// system-preferred method (systemCredentialPreferences), from the same
// cached copy as the campaign: no round trip on the sign-in path.
func (s *Service) SystemPreferred(ctx context.Context, subject targeting.Subject) (bool, error) {
	c, err := s.currentRoot(ctx)
	if err != nil {
		return true, err
	}
	return c.prefs.Applies(subject), nil
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
