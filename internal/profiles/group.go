package profiles

import "github.com/rpserver/rpserver/internal/methods/targeting"

// GroupProfiles are the passkey profiles that apply to a member of group
// groupID through that group (or all_users) alone: what the rollout view
// calls "the wave's passkey profile". It is applicable for a subject in
// that one group, so include/exclude targets and the legacy policy are read
// exactly as registration reads them. reason is set when none apply (the
// method is off, the group is not targeted, or it is excluded).
func (c Fido2AuthenticationMethodConfiguration) GroupProfiles(groupID string) (profs []PasskeyProfile, reason ReasonCode) {
	return c.applicable(targeting.Subject{GroupIDs: []string{groupID}})
}

// AcceptedByAny reports whether any of profs accepts a registered
// credential: the per-profile rule of Decide (passkey type, key
// restrictions, attestation), without the user-level checks that only
// matter while registering (self-service setup).
func AcceptedByAny(profs []PasskeyProfile, cred Credential) bool {
	if !cred.BackupEligible && cred.BackupState {
		return false
	}
	for _, p := range profs {
		if evaluate(p, cred) == "" {
			return true
		}
	}
	return false
}
