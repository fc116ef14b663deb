package profiles

import (
	"fmt"
	"strings"
)

// EnablePasskeyProfiles performs Entra's one-way migration to passkey
// profiles and returns the migrated copy; the input is not modified.
//
// The legacy global settings become the Default profile exactly as Entra's
// March 2026 migration does it:
//   - isAttestationEnforced true  -> attestationEnforcement registrationOnly, passkeyTypes deviceBound
//   - isAttestationEnforced false -> attestationEnforcement disabled, passkeyTypes deviceBound,synced
//   - keyRestrictions are copied unchanged
//   - every include target is assigned the Default profile
//
// The second rule is the notorious behaviour change: a tenant without
// attestation starts accepting synced passkeys the moment it migrates. The
// lab reproduces it on purpose.
//
// Calling it on an already migrated configuration is a no-op, so a retried
// request cannot create a second Default.
func EnablePasskeyProfiles(c Fido2AuthenticationMethodConfiguration) Fido2AuthenticationMethodConfiguration {
	out := c.Clone()
	if out.ProfilesEnabled() {
		return out
	}
	def := PasskeyProfile{
		ODataType:       ODataTypePasskeyProfile,
		ID:              DefaultPasskeyProfileID,
		Name:            DefaultPasskeyProfileName,
		KeyRestrictions: c.KeyRestrictions.clone(),
	}
	if def.KeyRestrictions.EnforcementType == "" {
		def.KeyRestrictions.EnforcementType = EnforcementBlock
	}
	if c.IsAttestationEnforced {
		def.AttestationEnforcement = AttestationEnforcementRegistrationOnly
		def.PasskeyTypes = PasskeyTypesOf(PasskeyTypeDeviceBound)
	} else {
		def.AttestationEnforcement = AttestationEnforcementDisabled
		def.PasskeyTypes = PasskeyTypesOf(PasskeyTypeDeviceBound, PasskeyTypeSynced)
	}
	out.PasskeyProfiles = []PasskeyProfile{def}
	out.DefaultPasskeyProfile = DefaultPasskeyProfileID
	for i := range out.IncludeTargets {
		out.IncludeTargets[i].AllowedPasskeyProfiles = []string{DefaultPasskeyProfileID}
	}
	return out
}

// DisablePasskeyProfiles exists so the API has something to call when an
// admin asks to go back; Entra offers no way back, so on a migrated
// configuration it always fails with passkeyProfilesCannotBeDisabled. On a
// configuration that never migrated there is nothing to undo and it returns nil.
func DisablePasskeyProfiles(c Fido2AuthenticationMethodConfiguration) error {
	if c.ProfilesEnabled() {
		return errProfilesCannotBeDisabled()
	}
	return nil
}

func errProfilesCannotBeDisabled() *ValidationError {
	return verr(CodePasskeyProfilesCannotBeDisabled, "defaultPasskeyProfile",
		"passkey profiles cannot be disabled once enabled; the migration is one-way")
}

// DeletePasskeyProfile removes a profile and returns the new copy. It refuses
// the Default profile and any profile a target still names: silently dropping
// the assignment would widen or narrow what a group may register without the
// admin noticing.
func DeletePasskeyProfile(c Fido2AuthenticationMethodConfiguration, id string) (Fido2AuthenticationMethodConfiguration, error) {
	if !c.ProfilesEnabled() {
		return c, verr(CodePasskeyProfilesNotEnabled, "passkeyProfiles", "passkey profiles are not enabled")
	}
	if strings.EqualFold(id, c.DefaultPasskeyProfile) {
		return c, verr(CodeDefaultPasskeyProfileMissing, "passkeyProfiles", "the default passkey profile cannot be deleted")
	}
	idx := -1
	for i, p := range c.PasskeyProfiles {
		if strings.EqualFold(p.ID, id) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return c, verr(CodePasskeyProfileNotFound, "passkeyProfiles", "passkey profile %q does not exist", id)
	}
	for i, t := range c.IncludeTargets {
		for _, pid := range t.AllowedPasskeyProfiles {
			if strings.EqualFold(pid, id) {
				return c, verr(CodePasskeyProfileInUse, fmt.Sprintf("includeTargets[%d].allowedPasskeyProfiles", i),
					"passkey profile %q is still assigned to target %q; unassign it first", id, t.ID)
			}
		}
	}
	out := c.Clone()
	out.PasskeyProfiles = append(out.PasskeyProfiles[:idx], out.PasskeyProfiles[idx+1:]...)
	return out, nil
}
