package methods

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/methods/tap"
	"github.com/rpserver/rpserver/internal/profiles"
)

// Defaults of the TAP attempt limit.
const (
	DefaultMaxFailedAttempts = 5
	DefaultFailureWindow     = 15 * time.Minute
)

// Service is the authentication methods policy.
type Service struct {
	configs   ConfigStore
	taps      TAPStore
	creds     CredentialStore
	directory *directory.Service

	// MaxFailedAttempts wrong passes per user per FailureWindow, then 429.
	MaxFailedAttempts int
	FailureWindow     time.Duration
	Now               func() time.Time

	// secondFactors tells AuthorizeOwnChange whether a user holds a second
	// factor (a passkey, a verification-code app, a push app).
	secondFactors SecondFactors
	// factors reads the password, TOTP and push methods for Graph's
	// polymorphic methods list.
	factors FactorStore

	// Snoozes keeps the registration campaign's snoozes; campaign is the
	// sign-in path's copy of the campaign (see CampaignRefresh).
	Snoozes  SnoozeStore
	campaign atomic.Pointer[cachedCampaign]
}

// New builds the service.
func New(configs ConfigStore, taps TAPStore, creds CredentialStore, dir *directory.Service, secondFactors SecondFactors, factors FactorStore) *Service {
	return &Service{
		configs: configs, taps: taps, creds: creds, directory: dir, secondFactors: secondFactors, factors: factors,
		MaxFailedAttempts: DefaultMaxFailedAttempts, FailureWindow: DefaultFailureWindow, Now: time.Now,
	}
}

var _ ceremony.RegistrationGate = (*Service)(nil)

// Fido2Config returns the FIDO2 configuration; configured is false while it
// has never been written (the document is then Entra's default).
func (s *Service) Fido2Config(ctx context.Context) (cfg profiles.Fido2AuthenticationMethodConfiguration, configured bool, err error) {
	cfg = profiles.NewFido2Configuration()
	configured, err = s.load(ctx, ConfigFido2, &cfg)
	return cfg, configured, err
}

// ResetFido2 reverts the FIDO2 configuration to Entra's default, as Graph's
// DELETE .../authenticationMethodConfigurations/fido2 does: passkey
// profiles, targets and restrictions are gone and the state is disabled.
// The default is stored as a written document, not removed: "never
// written" is the fresh lab's open registration gate, and a reset must make
// the gate enforce what GET then shows (registration refused,
// methodDisabled), not open it to everyone. Registered passkeys are kept.
func (s *Service) ResetFido2(ctx context.Context) error {
	return s.reset(ctx, ConfigFido2, profiles.NewFido2Configuration())
}

// ResetTAP reverts the Temporary Access Pass configuration to Entra's
// default (Graph's DELETE .../temporaryAccessPass), stored like FIDO2's so
// both read and enforce the same way. Issued passes are kept.
func (s *Service) ResetTAP(ctx context.Context) error {
	return s.reset(ctx, ConfigTAP, tap.NewMethodConfiguration())
}

func (s *Service) reset(ctx context.Context, id string, def any) error {
	doc, err := json.Marshal(def)
	if err != nil {
		return fmt.Errorf("encode default %s configuration: %w", id, err)
	}
	return s.configs.ResetConfig(ctx, id, doc)
}

// TAPConfig returns the TAP configuration (Entra's default until written).
func (s *Service) TAPConfig(ctx context.Context) (tap.MethodConfiguration, error) {
	cfg := tap.NewMethodConfiguration()
	_, err := s.load(ctx, ConfigTAP, &cfg)
	return cfg, err
}

func (s *Service) load(ctx context.Context, id string, into any) (bool, error) {
	doc, _, err := s.configs.GetConfig(ctx, id)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(doc, into); err != nil {
		return false, fmt.Errorf("decode stored %s configuration: %w", id, err)
	}
	return true, nil
}

// optsIntoProfiles reports whether a PATCH turns passkey profiles on: it
// sets defaultPasskeyProfile, or, as Microsoft Learn's "Update
// fido2AuthenticationMethodConfiguration" example does, sends
// passkeyProfiles holding the Default profile (its well-known id) without
// naming defaultPasskeyProfile.
func optsIntoProfiles(fields map[string]json.RawMessage) bool {
	if raw, ok := fields["defaultPasskeyProfile"]; ok {
		var v string
		return json.Unmarshal(raw, &v) == nil && v != ""
	}
	var sent []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(fields["passkeyProfiles"], &sent) != nil {
		return false
	}
	for _, p := range sent {
		if strings.EqualFold(p.ID, profiles.DefaultPasskeyProfileID) {
			return true
		}
	}
	return false
}

// PatchFido2 applies a Graph PATCH body (a JSON object whose properties and
// types the caller has already checked) to the FIDO2 configuration.
// Setting defaultPasskeyProfile, or sending the Default profile in
// passkeyProfiles, while profiles are off enables them (the one-way
// migration runs first, then the body's values apply); clearing it
// afterwards is refused.
func (s *Service) PatchFido2(ctx context.Context, patch []byte) (profiles.Fido2AuthenticationMethodConfiguration, error) {
	var out profiles.Fido2AuthenticationMethodConfiguration
	_, err := s.configs.UpdateConfig(ctx, ConfigFido2, func(cur []byte) ([]byte, error) {
		prev := profiles.NewFido2Configuration()
		if cur != nil {
			if err := json.Unmarshal(cur, &prev); err != nil {
				return nil, fmt.Errorf("decode stored fido2 configuration: %w", err)
			}
		}
		fields, err := objectOf(patch)
		if err != nil {
			return nil, err
		}
		base := prev
		if !prev.ProfilesEnabled() && optsIntoProfiles(fields) {
			base = profiles.EnablePasskeyProfiles(prev)
		}
		var next profiles.Fido2AuthenticationMethodConfiguration
		if err := merge(base, fields, &next); err != nil {
			return nil, err
		}
		next.ODataType, next.ID = profiles.ODataTypeFido2Configuration, profiles.Fido2ConfigurationID
		assignProfileIDs(base, &next)
		if err := profiles.ValidateUpdate(prev, next); err != nil {
			return nil, classify(err)
		}
		out = normalizeFido2(next)
		return json.Marshal(out)
	})
	return out, err
}

// PatchTAP applies a Graph PATCH body to the TAP configuration.
func (s *Service) PatchTAP(ctx context.Context, patch []byte) (tap.MethodConfiguration, error) {
	var out tap.MethodConfiguration
	_, err := s.configs.UpdateConfig(ctx, ConfigTAP, func(cur []byte) ([]byte, error) {
		prev := tap.NewMethodConfiguration()
		if cur != nil {
			if err := json.Unmarshal(cur, &prev); err != nil {
				return nil, fmt.Errorf("decode stored TAP configuration: %w", err)
			}
		}
		fields, err := objectOf(patch)
		if err != nil {
			return nil, err
		}
		var next tap.MethodConfiguration
		if err := merge(prev, fields, &next); err != nil {
			return nil, err
		}
		next.ODataType, next.ID = tap.ODataTypeConfiguration, tap.ConfigurationID
		if err := next.Validate(); err != nil {
			return nil, classify(err)
		}
		if next.IncludeTargets == nil {
			next.IncludeTargets = []tap.AuthenticationMethodTarget{}
		}
		if next.ExcludeTargets == nil {
			next.ExcludeTargets = []tap.ExcludeTarget{}
		}
		for i := range next.IncludeTargets {
			next.IncludeTargets[i].ID = ids.Lower(next.IncludeTargets[i].ID)
		}
		for i := range next.ExcludeTargets {
			next.ExcludeTargets[i].ID = ids.Lower(next.ExcludeTargets[i].ID)
		}
		out = next
		return json.Marshal(out)
	})
	return out, err
}

// assignProfileIDs gives a passkey profile sent without an id one, as the
// portal does: the id of the stored profile of the same name (so re-sending
// the list without ids keeps the targets' references), else a new GUID.
func assignProfileIDs(base profiles.Fido2AuthenticationMethodConfiguration, next *profiles.Fido2AuthenticationMethodConfiguration) {
	byName := map[string]string{}
	for _, p := range base.PasskeyProfiles {
		byName[strings.ToLower(p.Name)] = p.ID
	}
	for i := range next.PasskeyProfiles {
		p := &next.PasskeyProfiles[i]
		if p.ID != "" {
			continue
		}
		if id, ok := byName[strings.ToLower(p.Name)]; ok && p.Name != "" {
			p.ID = id
		} else {
			p.ID = uuid.NewString()
		}
	}
}

func normalizeFido2(c profiles.Fido2AuthenticationMethodConfiguration) profiles.Fido2AuthenticationMethodConfiguration {
	if c.IncludeTargets == nil {
		c.IncludeTargets = []profiles.PasskeyAuthenticationMethodTarget{}
	}
	if c.ExcludeTargets == nil {
		c.ExcludeTargets = []profiles.ExcludeTarget{}
	}
	// Target ids are stored lower-case, as the directory returns them.
	for i := range c.IncludeTargets {
		c.IncludeTargets[i].ID = ids.Lower(c.IncludeTargets[i].ID)
	}
	for i := range c.ExcludeTargets {
		c.ExcludeTargets[i].ID = ids.Lower(c.ExcludeTargets[i].ID)
	}
	if c.KeyRestrictions.AAGuids == nil {
		c.KeyRestrictions.AAGuids = []string{}
	}
	for i := range c.PasskeyProfiles {
		if c.PasskeyProfiles[i].ODataType == "" {
			c.PasskeyProfiles[i].ODataType = profiles.ODataTypePasskeyProfile
		}
		if c.PasskeyProfiles[i].KeyRestrictions.AAGuids == nil {
			c.PasskeyProfiles[i].KeyRestrictions.AAGuids = []string{}
		}
	}
	return c
}

func objectOf(patch []byte) (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(patch) == 0 {
		return fields, nil
	}
	if err := json.Unmarshal(patch, &fields); err != nil {
		return nil, apperr.Invalid("invalidRequestBody", "the body must be a JSON object: %v", err)
	}
	return fields, nil
}

// merge overlays the PATCH properties on base (top level: a property given
// replaces the stored one, collections wholesale) and decodes into next.
func merge(base any, fields map[string]json.RawMessage, next any) error {
	b, err := json.Marshal(base)
	if err != nil {
		return err
	}
	doc := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	for k, v := range fields {
		doc[k] = v
	}
	b, err = json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, next); err != nil {
		return apperr.Invalid("invalidRequestBody", "the configuration could not be read: %v", err)
	}
	return nil
}

// groups returns the ids of the groups they are a direct member of.
func (s *Service) groups(ctx context.Context, userID string) ([]string, error) {
	return s.directory.Store.GroupIDsOf(ctx, userID)
}

// Caller is the admin making a call, as the token says.
type Caller struct {
	Roles []string
}

// mayManage enforces Entra's table of whose authentication methods each
// admin role may manage (directory.MayActOn).
func (s *Service) mayManage(ctx context.Context, c Caller, userID string) error {
	return s.directory.Authorize(ctx, directory.ActionAuthenticationMethods, c.Roles, userID)
}

// ListFido2 lists a user's passkeys.
func (s *Service) ListFido2(ctx context.Context, userID string) ([]ceremony.Credential, error) {
	if _, err := s.directory.Store.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	return s.creds.ListCredentials(ctx, userID)
}

// GetFido2 returns one of a user's passkeys.
func (s *Service) GetFido2(ctx context.Context, userID, methodID string) (ceremony.Credential, error) {
	if err := directory.ValidateID(methodID); err != nil {
		return ceremony.Credential{}, err
	}
	return s.creds.GetCredentialByMethodID(ctx, userID, methodID)
}

// RenameFido2 names a passkey (a lab extension; Graph has no rename).
// A nil caller is the user themself.
func (s *Service) RenameFido2(ctx context.Context, c *Caller, userID, methodID, name string) (ceremony.Credential, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > ceremony.MaxPasskeyNameLen {
		return ceremony.Credential{}, apperr.Invalid(CodeInvalidDisplayName, "displayName must be 1 to %d characters", ceremony.MaxPasskeyNameLen).WithTarget("displayName")
	}
	if err := directory.ValidateID(methodID); err != nil {
		return ceremony.Credential{}, err
	}
	if c != nil {
		if err := s.mayManage(ctx, *c, userID); err != nil {
			return ceremony.Credential{}, err
		}
	}
	return s.creds.RenameCredential(ctx, userID, methodID, name)
}

// DeleteFido2 removes a passkey. A nil caller is the user themself.
func (s *Service) DeleteFido2(ctx context.Context, c *Caller, userID, methodID string) error {
	if err := directory.ValidateID(methodID); err != nil {
		return err
	}
	if c != nil {
		if err := s.mayManage(ctx, *c, userID); err != nil {
			return err
		}
	}
	return s.creds.DeleteCredentialByMethodID(ctx, userID, methodID)
}
