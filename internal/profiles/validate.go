package profiles

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rpserver/rpserver/internal/ids"
)

// Validate checks a whole configuration document on its own. It returns nil
// or a *ValidationError for the first problem found, walking the document in
// JSON order so the same bad input always yields the same code.
//
// Rules that depend on the previous document (profiles cannot be turned off,
// the Default profile cannot be swapped or renamed) live in ValidateUpdate.
func (c Fido2AuthenticationMethodConfiguration) Validate() error {
	if c.ID != "" && !strings.EqualFold(c.ID, Fido2ConfigurationID) {
		return verr(CodeInvalidConfigurationID, "id", "id must be %q, got %q", Fido2ConfigurationID, c.ID)
	}
	if c.State != StateEnabled && c.State != StateDisabled {
		return verr(CodeInvalidState, "state", "state must be %q or %q, got %q", StateEnabled, StateDisabled, c.State)
	}
	// The legacy restrictions are still validated after migration: a document
	// that round-trips must stay valid, and garbage there would be copied into
	// Default by a later migration in another tenant.
	if err := validateKeyRestrictions(c.KeyRestrictions, "keyRestrictions"); err != nil {
		return err
	}
	if err := c.validateProfiles(); err != nil {
		return err
	}
	if err := c.validateTargets(); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return verr(CodePolicyTooLarge, "", "configuration cannot be serialised: %v", err)
	}
	if len(b) > MaxPolicyBytes {
		return verr(CodePolicyTooLarge, "", "configuration is %d bytes; the passkey policy is limited to %d bytes", len(b), MaxPolicyBytes)
	}
	return nil
}

func (c Fido2AuthenticationMethodConfiguration) validateProfiles() error {
	if !c.ProfilesEnabled() {
		if len(c.PasskeyProfiles) > 0 {
			return verr(CodePasskeyProfilesNotEnabled, "passkeyProfiles",
				"passkey profiles must be enabled (defaultPasskeyProfile set) before profiles can be defined")
		}
		return nil
	}
	if !isCanonicalUUID(c.DefaultPasskeyProfile) {
		return verr(CodeInvalidDefaultPasskeyProfileValue, "defaultPasskeyProfile",
			"defaultPasskeyProfile must be a GUID, got %q", c.DefaultPasskeyProfile)
	}
	if len(c.PasskeyProfiles) > MaxPasskeyProfiles {
		return verr(CodeTooManyPasskeyProfiles, "passkeyProfiles",
			"at most %d passkey profiles are allowed (Default included), got %d", MaxPasskeyProfiles, len(c.PasskeyProfiles))
	}
	ids := map[string]int{}
	names := map[string]int{}
	hasDefault := false
	for i, p := range c.PasskeyProfiles {
		at := fmt.Sprintf("passkeyProfiles[%d]", i)
		if !isCanonicalUUID(p.ID) {
			return verr(CodeInvalidPasskeyProfileID, at+".id", "passkey profile id must be a GUID, got %q", p.ID)
		}
		id := strings.ToLower(p.ID)
		if j, dup := ids[id]; dup {
			return verr(CodeDuplicatePasskeyProfileID, at+".id", "passkey profile id %q is already used by passkeyProfiles[%d]", p.ID, j)
		}
		ids[id] = i
		if id == strings.ToLower(c.DefaultPasskeyProfile) {
			hasDefault = true
		}
		name := strings.TrimSpace(p.Name)
		if name == "" || len(p.Name) > MaxPasskeyProfileNameLength {
			return verr(CodeInvalidPasskeyProfileName, at+".name",
				"passkey profile name must be 1 to %d characters and not blank", MaxPasskeyProfileNameLength)
		}
		// Names compare case-insensitively: two profiles an admin cannot tell
		// apart in a picker are a mistake, whatever their casing.
		key := strings.ToLower(name)
		if j, dup := names[key]; dup {
			return verr(CodeDuplicatePasskeyProfileName, at+".name", "passkey profile name %q is already used by passkeyProfiles[%d]", p.Name, j)
		}
		names[key] = i
		if err := validatePasskeyTypes(p.PasskeyTypes, at+".passkeyTypes"); err != nil {
			return err
		}
		switch p.AttestationEnforcement {
		case AttestationEnforcementDisabled:
		case AttestationEnforcementRegistrationOnly:
			// Synced providers do not attest, so Entra offers only
			// device-bound once attestation is enforced; a profile claiming
			// both would promise synced passkeys it can never accept.
			if p.PasskeyTypes.Has(PasskeyTypeSynced) {
				return verr(CodeAttestationRequiresDeviceBound, at+".passkeyTypes",
					"a profile that enforces attestation can only target deviceBound passkeys; synced passkeys cannot be attested")
			}
		default:
			return verr(CodeInvalidAttestationEnforcement, at+".attestationEnforcement",
				"attestationEnforcement must be %q or %q, got %q",
				AttestationEnforcementDisabled, AttestationEnforcementRegistrationOnly, p.AttestationEnforcement)
		}
		if err := validateKeyRestrictions(p.KeyRestrictions, at+".keyRestrictions"); err != nil {
			return err
		}
	}
	if !hasDefault {
		return verr(CodeDefaultPasskeyProfileMissing, "passkeyProfiles",
			"the default passkey profile %q cannot be deleted", c.DefaultPasskeyProfile)
	}
	return nil
}

func validatePasskeyTypes(p PasskeyTypes, at string) error {
	members := p.Members()
	if len(members) == 0 {
		return verr(CodeMissingPasskeyTypes, at, "passkeyTypes is required: %q, %q or both", PasskeyTypeDeviceBound, PasskeyTypeSynced)
	}
	for _, m := range members {
		if m != string(PasskeyTypeDeviceBound) && m != string(PasskeyTypeSynced) {
			return verr(CodeUnknownPasskeyType, at, "unknown passkey type %q; expected %q or %q", m, PasskeyTypeDeviceBound, PasskeyTypeSynced)
		}
	}
	return nil
}

func validateKeyRestrictions(k Fido2KeyRestrictions, at string) error {
	if k.EnforcementType != EnforcementAllow && k.EnforcementType != EnforcementBlock {
		return verr(CodeInvalidEnforcementType, at+".enforcementType",
			"enforcementType must be %q or %q, got %q", EnforcementAllow, EnforcementBlock, k.EnforcementType)
	}
	seen := map[string]int{}
	for i, a := range k.AAGuids {
		el := fmt.Sprintf("%s.aaGuids[%d]", at, i)
		if !isCanonicalUUID(a) {
			return verr(CodeInvalidAAGUID, el, "%q is not an AAGUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", a)
		}
		key := strings.ToLower(a)
		if j, dup := seen[key]; dup {
			return verr(CodeDuplicateAAGUID, el, "AAGUID %s is listed twice (also at index %d)", a, j)
		}
		seen[key] = i
	}
	// An enforced, empty allow list refuses every authenticator. Graph does
	// not document this rule; it is ours, to keep the lab from locking a whole
	// group out by accident.
	if k.IsEnforced && k.EnforcementType == EnforcementAllow && len(k.AAGuids) == 0 {
		return verr(CodeEmptyAllowList, at+".aaGuids", "an enforced allow list needs at least one AAGUID")
	}
	return nil
}

func (c Fido2AuthenticationMethodConfiguration) validateTargets() error {
	seen := map[string]int{}
	for i, t := range c.IncludeTargets {
		at := fmt.Sprintf("includeTargets[%d]", i)
		if err := validateTargetRef(t.ID, t.TargetType, at); err != nil {
			return err
		}
		key := strings.ToLower(t.ID)
		if j, dup := seen[key]; dup {
			return verr(CodeDuplicateTarget, at+".id", "target %q is already included at includeTargets[%d]", t.ID, j)
		}
		seen[key] = i
		if !c.ProfilesEnabled() {
			if len(t.AllowedPasskeyProfiles) > 0 {
				return verr(CodePasskeyProfilesNotEnabled, at+".allowedPasskeyProfiles",
					"targets can name passkey profiles only after passkey profiles are enabled")
			}
			continue
		}
		if len(t.AllowedPasskeyProfiles) == 0 {
			return verr(CodeTargetMissingPasskeyProfile, at+".allowedPasskeyProfiles",
				"target %q must be assigned at least one passkey profile", t.ID)
		}
		for k, pid := range t.AllowedPasskeyProfiles {
			if _, ok := c.Profile(pid); !ok {
				return verr(CodeUnknownPasskeyProfile, fmt.Sprintf("%s.allowedPasskeyProfiles[%d]", at, k),
					"target %q names passkey profile %q, which does not exist", t.ID, pid)
			}
		}
	}
	seen = map[string]int{}
	for i, t := range c.ExcludeTargets {
		at := fmt.Sprintf("excludeTargets[%d]", i)
		if strings.EqualFold(t.ID, AllUsersTargetID) {
			// Excluding everyone is "state: disabled" spelled confusingly.
			return verr(CodeAllUsersCannotBeExcluded, at+".id", "all_users cannot be excluded; set state to disabled instead")
		}
		if err := validateTargetRef(t.ID, t.TargetType, at); err != nil {
			return err
		}
		key := strings.ToLower(t.ID)
		if j, dup := seen[key]; dup {
			return verr(CodeDuplicateTarget, at+".id", "target %q is already excluded at excludeTargets[%d]", t.ID, j)
		}
		seen[key] = i
	}
	return nil
}

func validateTargetRef(id string, tt AuthenticationMethodTargetType, at string) error {
	switch tt {
	case TargetTypeGroup, TargetTypeUser:
	default:
		return verr(CodeInvalidTargetType, at+".targetType", "targetType must be %q or %q, got %q", TargetTypeGroup, TargetTypeUser, tt)
	}
	if strings.EqualFold(id, AllUsersTargetID) {
		if tt != TargetTypeGroup {
			return verr(CodeInvalidTargetType, at+".targetType", "all_users is a group target")
		}
		return nil
	}
	if !isCanonicalUUID(id) {
		return verr(CodeInvalidTargetID, at+".id", "target id must be a directory object GUID or %q, got %q", AllUsersTargetID, id)
	}
	return nil
}

// ValidateUpdate validates next as a replacement for prev. It adds the rules
// that only make sense as transitions: the profile migration is one-way, and
// the Default profile keeps its id and name for the life of the tenant.
func ValidateUpdate(prev, next Fido2AuthenticationMethodConfiguration) error {
	if prev.ProfilesEnabled() {
		if !next.ProfilesEnabled() {
			return errProfilesCannotBeDisabled()
		}
		if !strings.EqualFold(prev.DefaultPasskeyProfile, next.DefaultPasskeyProfile) {
			return verr(CodeDefaultPasskeyProfileImmutable, "defaultPasskeyProfile",
				"defaultPasskeyProfile is fixed at %q and cannot be changed", prev.DefaultPasskeyProfile)
		}
	}
	if err := next.Validate(); err != nil {
		return err
	}
	if prev.ProfilesEnabled() {
		old, okOld := prev.Profile(prev.DefaultPasskeyProfile)
		cur, _ := next.Profile(next.DefaultPasskeyProfile)
		if okOld && old.Name != cur.Name {
			return verr(CodeDefaultPasskeyProfileRename, "passkeyProfiles",
				"the default passkey profile cannot be renamed (it is %q)", old.Name)
		}
	}
	return nil
}

// isCanonicalUUID accepts only the 36-character hyphenated form Graph emits.
// uuid.Parse alone would also take braces, urn: prefixes and bare hex, and
// those would then never match the AAGUIDs authenticators report.
func isCanonicalUUID(s string) bool { return ids.Valid(s) }
