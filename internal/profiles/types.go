package profiles

import (
	"github.com/rpserver/rpserver/internal/methods/targeting"

	"strings"
	"time"
)

// Graph's own identifiers, kept verbatim so documents written by this package
// can be compared with (and pasted from) real Graph payloads.
const (
	ODataTypeFido2Configuration = "#microsoft.graph.fido2AuthenticationMethodConfiguration"
	ODataTypePasskeyProfile     = "#microsoft.graph.passkeyProfile"
	ODataTypePasskeyTarget      = "#microsoft.graph.passkeyAuthenticationMethodTarget"
	ODataTypeExcludeTarget      = "#microsoft.graph.excludeTarget"
	ODataTypeKeyRestrictions    = "#microsoft.graph.fido2KeyRestrictions"
	ODataTypeFido2Method        = "#microsoft.graph.fido2AuthenticationMethod"

	// Fido2ConfigurationID is the id Graph gives the FIDO2 method configuration
	// under /policies/authenticationMethodsPolicy/authenticationMethodConfigurations.
	Fido2ConfigurationID = "Fido2"

	// AllUsersTargetID is Graph's pseudo group id meaning "every user".
	AllUsersTargetID = targeting.AllUsers

	// DefaultPasskeyProfileID and DefaultPasskeyProfileName are the values Graph
	// shows for the profile that the migration creates (see the v1.0 and beta
	// "Update fido2AuthenticationMethodConfiguration" examples).
	DefaultPasskeyProfileID   = "00000000-0000-0000-0000-000000000001"
	DefaultPasskeyProfileName = "Default passkey profile"

	// MaxPasskeyProfiles is the tenant cap, Default included. Entra started the
	// preview at 3 and raised it to 10 in May 2026.
	MaxPasskeyProfiles = 10

	// MaxPolicyBytes mirrors the dedicated 20 KB allocation Entra gives the
	// passkey policy; a lab that silently accepts bigger documents would let
	// people build configurations the real service refuses.
	MaxPolicyBytes = 20 * 1024

	// MaxPasskeyProfileNameLength is our own limit; Graph documents none.
	MaxPasskeyProfileNameLength = 128
)

// AuthenticationMethodState is Graph's authenticationMethodState.
type AuthenticationMethodState string

const (
	StateEnabled  AuthenticationMethodState = "enabled"
	StateDisabled AuthenticationMethodState = "disabled"
)

// AuthenticationMethodTargetType is Graph's authenticationMethodTargetType.
// "user" is deprecated by Graph but still accepted so old documents load.
type AuthenticationMethodTargetType = targeting.Type

const (
	TargetTypeGroup = targeting.Group
	TargetTypeUser  = targeting.User
)

// Fido2RestrictionEnforcementType is Graph's fido2RestrictionEnforcementType.
type Fido2RestrictionEnforcementType string

const (
	EnforcementAllow Fido2RestrictionEnforcementType = "allow"
	EnforcementBlock Fido2RestrictionEnforcementType = "block"
)

// AttestationEnforcement is Graph's attestationEnforcement enum on passkeyProfile.
type AttestationEnforcement string

const (
	AttestationEnforcementDisabled         AttestationEnforcement = "disabled"
	AttestationEnforcementRegistrationOnly AttestationEnforcement = "registrationOnly"
)

// PasskeyType is one member of Graph's passkeyTypes flags enum, and also the
// value of fido2AuthenticationMethod.passkeyType.
type PasskeyType string

const (
	PasskeyTypeDeviceBound PasskeyType = "deviceBound"
	PasskeyTypeSynced      PasskeyType = "synced"
)

// PasskeyTypes is Graph's passkeyTypes flags enum. Graph serialises flags as a
// comma separated string ("deviceBound,synced"), so it stays a string here to
// round-trip byte for byte; use Has and Members to read it.
type PasskeyTypes string

// PasskeyTypesOf builds the Graph form of a set, in Graph's member order.
func PasskeyTypesOf(types ...PasskeyType) PasskeyTypes {
	var db, sy bool
	for _, t := range types {
		switch t {
		case PasskeyTypeDeviceBound:
			db = true
		case PasskeyTypeSynced:
			sy = true
		}
	}
	switch {
	case db && sy:
		return PasskeyTypes(string(PasskeyTypeDeviceBound) + "," + string(PasskeyTypeSynced))
	case db:
		return PasskeyTypes(PasskeyTypeDeviceBound)
	case sy:
		return PasskeyTypes(PasskeyTypeSynced)
	}
	return ""
}

// Members splits the flags; tokens are returned trimmed and unvalidated so
// validation can report the exact bad token.
func (p PasskeyTypes) Members() []string {
	if strings.TrimSpace(string(p)) == "" {
		return nil
	}
	parts := strings.Split(string(p), ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// Has reports whether t is one of the flags.
func (p PasskeyTypes) Has(t PasskeyType) bool {
	for _, m := range p.Members() {
		if m == string(t) {
			return true
		}
	}
	return false
}

// Fido2KeyRestrictions is Graph's fido2KeyRestrictions. Graph names the switch
// isEnforced (not isEnforcementEnabled).
type Fido2KeyRestrictions struct {
	ODataType       string                          `json:"@odata.type,omitempty"`
	IsEnforced      bool                            `json:"isEnforced"`
	EnforcementType Fido2RestrictionEnforcementType `json:"enforcementType"`
	AAGuids         []string                        `json:"aaGuids"`
}

func (k Fido2KeyRestrictions) clone() Fido2KeyRestrictions {
	k.AAGuids = append([]string{}, k.AAGuids...)
	return k
}

// PasskeyProfile is Graph's passkeyProfile.
type PasskeyProfile struct {
	ODataType              string                 `json:"@odata.type,omitempty"`
	ID                     string                 `json:"id"`
	Name                   string                 `json:"name"`
	PasskeyTypes           PasskeyTypes           `json:"passkeyTypes"`
	AttestationEnforcement AttestationEnforcement `json:"attestationEnforcement"`
	KeyRestrictions        Fido2KeyRestrictions   `json:"keyRestrictions"`
}

func (p PasskeyProfile) clone() PasskeyProfile {
	p.KeyRestrictions = p.KeyRestrictions.clone()
	return p
}

// PasskeyAuthenticationMethodTarget is Graph's passkeyAuthenticationMethodTarget
// (an authenticationMethodTarget that names the profiles it grants). Before the
// profile migration AllowedPasskeyProfiles is empty.
type PasskeyAuthenticationMethodTarget struct {
	ODataType              string                         `json:"@odata.type,omitempty"`
	ID                     string                         `json:"id"`
	TargetType             AuthenticationMethodTargetType `json:"targetType"`
	IsRegistrationRequired bool                           `json:"isRegistrationRequired"`
	AllowedPasskeyProfiles []string                       `json:"allowedPasskeyProfiles,omitempty"`
}

// ExcludeTarget is Graph's excludeTarget.
type ExcludeTarget struct {
	ODataType  string                         `json:"@odata.type,omitempty"`
	ID         string                         `json:"id"`
	TargetType AuthenticationMethodTargetType `json:"targetType"`
}

// Fido2AuthenticationMethodConfiguration is Graph's
// fido2AuthenticationMethodConfiguration, in its beta/2026 shape that carries
// passkeyProfiles and defaultPasskeyProfile next to the legacy global fields.
//
// IsAttestationEnforced and KeyRestrictions are Graph's deprecated legacy
// settings: they govern registration only while DefaultPasskeyProfile is
// empty, are copied into the Default profile by EnablePasskeyProfiles, and are
// kept afterwards purely so documents round-trip.
type Fido2AuthenticationMethodConfiguration struct {
	ODataType                        string                              `json:"@odata.type,omitempty"`
	ID                               string                              `json:"id"`
	State                            AuthenticationMethodState           `json:"state"`
	IsSelfServiceRegistrationAllowed bool                                `json:"isSelfServiceRegistrationAllowed"`
	IsAttestationEnforced            bool                                `json:"isAttestationEnforced"`
	KeyRestrictions                  Fido2KeyRestrictions                `json:"keyRestrictions"`
	IncludeTargets                   []PasskeyAuthenticationMethodTarget `json:"includeTargets"`
	ExcludeTargets                   []ExcludeTarget                     `json:"excludeTargets"`
	PasskeyProfiles                  []PasskeyProfile                    `json:"passkeyProfiles,omitempty"`
	DefaultPasskeyProfile            string                              `json:"defaultPasskeyProfile,omitempty"`
}

// NewFido2Configuration returns what a fresh Entra tenant shows: the method
// disabled, self-service allowed, all_users targeted, no restrictions, and
// profiles not yet enabled. Slices are non-nil so JSON shows [] like Graph.
func NewFido2Configuration() Fido2AuthenticationMethodConfiguration {
	return Fido2AuthenticationMethodConfiguration{
		ODataType:                        ODataTypeFido2Configuration,
		ID:                               Fido2ConfigurationID,
		State:                            StateDisabled,
		IsSelfServiceRegistrationAllowed: true,
		KeyRestrictions: Fido2KeyRestrictions{
			EnforcementType: EnforcementBlock,
			AAGuids:         []string{},
		},
		IncludeTargets: []PasskeyAuthenticationMethodTarget{{
			ID:         AllUsersTargetID,
			TargetType: TargetTypeGroup,
		}},
		ExcludeTargets: []ExcludeTarget{},
	}
}

// ProfilesEnabled reports whether the one-way migration to passkey profiles
// has happened. Graph has no boolean for it; the presence of
// defaultPasskeyProfile is the marker.
func (c Fido2AuthenticationMethodConfiguration) ProfilesEnabled() bool {
	return c.DefaultPasskeyProfile != ""
}

// Clone deep-copies so callers can edit a copy without aliasing the stored one.
func (c Fido2AuthenticationMethodConfiguration) Clone() Fido2AuthenticationMethodConfiguration {
	out := c
	out.KeyRestrictions = c.KeyRestrictions.clone()
	if c.IncludeTargets != nil {
		out.IncludeTargets = make([]PasskeyAuthenticationMethodTarget, len(c.IncludeTargets))
		for i, t := range c.IncludeTargets {
			if t.AllowedPasskeyProfiles != nil {
				t.AllowedPasskeyProfiles = append([]string{}, t.AllowedPasskeyProfiles...)
			}
			out.IncludeTargets[i] = t
		}
	}
	if c.ExcludeTargets != nil {
		out.ExcludeTargets = append([]ExcludeTarget{}, c.ExcludeTargets...)
	}
	if c.PasskeyProfiles != nil {
		out.PasskeyProfiles = make([]PasskeyProfile, len(c.PasskeyProfiles))
		for i, p := range c.PasskeyProfiles {
			out.PasskeyProfiles[i] = p.clone()
		}
	}
	return out
}

// Profile finds a profile by id.
func (c Fido2AuthenticationMethodConfiguration) Profile(id string) (PasskeyProfile, bool) {
	for _, p := range c.PasskeyProfiles {
		if strings.EqualFold(p.ID, id) {
			return p, true
		}
	}
	return PasskeyProfile{}, false
}

// AttestationLevel is Graph's attestationLevel on fido2AuthenticationMethod.
type AttestationLevel string

const (
	AttestationLevelAttested    AttestationLevel = "attested"
	AttestationLevelNotAttested AttestationLevel = "notAttested"
)

// Fido2AuthenticationMethod is Graph's fido2AuthenticationMethod: the public
// face of a registered passkey. The credential's key material lives elsewhere.
type Fido2AuthenticationMethod struct {
	ODataType               string           `json:"@odata.type,omitempty"`
	ID                      string           `json:"id"`
	DisplayName             string           `json:"displayName"`
	CreatedDateTime         time.Time        `json:"createdDateTime"`
	LastUsedDateTime        *time.Time       `json:"lastUsedDateTime,omitempty"`
	AAGuid                  string           `json:"aaGuid"`
	Model                   string           `json:"model"`
	AttestationCertificates []string         `json:"attestationCertificates"`
	AttestationLevel        AttestationLevel `json:"attestationLevel"`
	PasskeyType             PasskeyType      `json:"passkeyType"`
}
