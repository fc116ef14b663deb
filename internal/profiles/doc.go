// Package profiles is the pure policy core of passkey (FIDO2) registration:
// the Graph-shaped configuration documents, their validation, the one-way
// migration to passkey profiles, and the accept/refuse decision for a new
// credential. It does no I/O; the store persists these structs as JSON and
// the API maps *ValidationError to a Graph error envelope with status 400.
//
// # Graph names
//
// Every struct uses Microsoft Graph's property names (checked against the
// v1.0 and beta reference pages for fido2AuthenticationMethodConfiguration,
// passkeyProfile, passkeyAuthenticationMethodTarget, fido2KeyRestrictions and
// fido2AuthenticationMethod):
//
//   - keyRestrictions{isEnforced, enforcementType allow|block, aaGuids}. Graph
//     calls the switch isEnforced, not isEnforcementEnabled.
//   - passkeyProfiles[]{id, name, passkeyTypes, attestationEnforcement
//     disabled|registrationOnly, keyRestrictions} and defaultPasskeyProfile.
//   - passkeyTypes is a flags enum serialised as "deviceBound", "synced" or
//     "deviceBound,synced"; PasskeyTypes keeps that string form.
//   - includeTargets[]{id, targetType, isRegistrationRequired,
//     allowedPasskeyProfiles}; excludeTargets[]{id, targetType}.
//   - fido2AuthenticationMethod{..., aaGuid, attestationLevel
//     attested|notAttested, passkeyType deviceBound|synced}.
//
// Graph has no property for "profiles are enabled": a non-empty
// defaultPasskeyProfile is the marker. The Default profile's id and name are
// the ones in Graph's documented example ("00000000-0000-0000-0000-000000000001",
// "Default passkey profile").
//
// # Legacy mode and migration
//
// Until EnablePasskeyProfiles runs, the legacy global fields govern and only
// device-bound passkeys are accepted, as in Entra before synced passkeys.
// The migration mirrors Entra's: attestation enforced becomes a device-bound,
// registrationOnly Default; not enforced becomes a deviceBound,synced Default
// without attestation (so such tenants start accepting synced passkeys);
// key restrictions are copied; every include target gets Default. It cannot
// be undone (DisablePasskeyProfiles and ValidateUpdate refuse with
// passkeyProfilesCannotBeDisabled), the Default profile cannot be deleted or
// renamed, and at most MaxPasskeyProfiles (10, Entra's cap since May 2026)
// exist. isSelfServiceRegistrationAllowed stays a method-wide switch, as in
// Graph; it is not per profile or per target.
//
// A profile that enforces attestation may only target deviceBound passkeys,
// because synced providers do not attest; Entra's portal likewise offers
// only device-bound once attestation is enforced.
//
// # Several groups, several profiles
//
// Exclusions win over inclusions. A user matched by several include targets
// is in scope of the union of their profiles, and a credential is accepted
// if ANY of those profiles accepts it. This is how Entra evaluates profiles
// ("cumulatively, similar to Conditional Access": an allow in one profile
// beats a block in another). When all refuse, the decision reports the
// reason of the profile that got furthest through the checks (passkey type,
// then AAGUID, then attestation), ties broken by configuration order, and
// lists every profile's own reason.
//
// # The decision
//
// The passkey type comes from the authenticator-data flags: BE=0 is
// device-bound, BE=1 is synced whatever BS says, and BE=0 with BS=1 is
// forbidden by WebAuthn and refused as invalidBackupFlags. Within a profile
// the checks run in Entra's documented order: type, key restrictions,
// attestation. PreCheck repeats the user-level checks (method enabled,
// targeted and not excluded, self-service allowed) before a challenge is
// issued and returns the ceremony's policy-driven options.
package profiles
