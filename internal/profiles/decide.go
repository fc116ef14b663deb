package profiles

import (
	"github.com/rpserver/rpserver/internal/methods/targeting"

	"strings"

	"github.com/google/uuid"
)

// ReasonCode is the stable code of a registration refusal. It is written to
// sign-in/audit logs and returned to clients, so values never change.
type ReasonCode string

const (
	ReasonMethodDisabled                  ReasonCode = "methodDisabled"
	ReasonMethodNotEnabledForUser         ReasonCode = "methodNotEnabledForUser"
	ReasonSelfServiceRegistrationDisabled ReasonCode = "selfServiceRegistrationDisabled"
	ReasonInvalidBackupFlags              ReasonCode = "invalidBackupFlags"
	ReasonSyncedPasskeyNotAllowed         ReasonCode = "syncedPasskeyNotAllowed"
	ReasonDeviceBoundPasskeyNotAllowed    ReasonCode = "deviceBoundPasskeyNotAllowed"
	ReasonAAGUIDNotAllowed                ReasonCode = "aaguidNotAllowed"
	ReasonAAGUIDBlocked                   ReasonCode = "aaguidBlocked"
	ReasonAttestationRequired             ReasonCode = "attestationRequired"
	ReasonAttestationUntrusted            ReasonCode = "attestationUntrusted"
)

var reasonMessages = map[ReasonCode]string{
	ReasonMethodDisabled:                  "The passkey (FIDO2) authentication method is disabled in this tenant.",
	ReasonMethodNotEnabledForUser:         "The passkey (FIDO2) authentication method is not enabled for this user.",
	ReasonSelfServiceRegistrationDisabled: "Self-service registration of passkeys is not allowed.",
	ReasonInvalidBackupFlags:              "The authenticator reported a backed-up credential that is not backup eligible (BE=0, BS=1), which WebAuthn forbids.",
	ReasonSyncedPasskeyNotAllowed:         "Synced passkeys are not allowed for this user; use a device-bound passkey such as a security key.",
	ReasonDeviceBoundPasskeyNotAllowed:    "Device-bound passkeys are not allowed for this user; use a synced passkey.",
	ReasonAAGUIDNotAllowed:                "This authenticator model is not on the list of allowed authenticators.",
	ReasonAAGUIDBlocked:                   "This authenticator model is blocked by policy.",
	ReasonAttestationRequired:             "Attestation is required, but the authenticator did not provide a verifiable attestation statement.",
	ReasonAttestationUntrusted:            "The authenticator's attestation does not chain to a trusted root.",
}

// Message is the human text for a reason code.
func (r ReasonCode) Message() string { return reasonMessages[r] }

// stage orders the per-profile checks. When every profile refuses, the
// reported reason is the one from the profile that got furthest, since that
// is the most specific thing the user can fix.
func (r ReasonCode) stage() int {
	switch r {
	case ReasonSyncedPasskeyNotAllowed, ReasonDeviceBoundPasskeyNotAllowed:
		return 1
	case ReasonAAGUIDNotAllowed, ReasonAAGUIDBlocked:
		return 2
	case ReasonAttestationRequired, ReasonAttestationUntrusted:
		return 3
	}
	return 0
}

// Subject is the user attempting registration, with the ids of every group
// they belong to (transitively; the directory resolves nesting).
type Subject = targeting.Subject

// AttestationVerdict is what the attestation verifier concluded about the
// attestation statement; its fields match internal/attestation.Result so the
// ceremony can copy them across. This package does not verify anything itself.
type AttestationVerdict struct {
	// Format is the WebAuthn attestation statement format ("none", "packed", "tpm", ...).
	Format string `json:"format"`
	// Attested is true when there is an attestation signature by a key other
	// than the credential's own: false for "none" and for self attestation.
	Attested bool `json:"attested"`
	// Trusted is true when the attestation chains to a trust anchor (FIDO MDS
	// or the lab's configured roots). Meaningless when Attested is false.
	Trusted bool `json:"trusted"`
	// Reason is the verifier's own code, carried through into logs.
	Reason string `json:"reason,omitempty"`
}

// Credential holds the facts of a newly created credential that policy cares about.
type Credential struct {
	AAGUID uuid.UUID
	// BackupEligible is authenticator data flag BE: the credential may be
	// synced. It fixes the passkey type for the credential's whole life.
	BackupEligible bool
	// BackupState is flag BS: the credential is currently backed up.
	// Informational for a synced passkey; impossible without BE.
	BackupState bool
	Attestation AttestationVerdict
}

// PasskeyType classifies the credential the way Graph's passkeyType does.
// Only BE matters: a synced passkey that has not been backed up yet (BE=1,
// BS=0) is still synced.
func (c Credential) PasskeyType() PasskeyType {
	if c.BackupEligible {
		return PasskeyTypeSynced
	}
	return PasskeyTypeDeviceBound
}

// ProfileResult records how one applicable profile judged the credential.
type ProfileResult struct {
	PasskeyProfileID string     `json:"passkeyProfileId"`
	Name             string     `json:"name"`
	Accepted         bool       `json:"accepted"`
	Reason           ReasonCode `json:"reason,omitempty"`
}

// Decision is the verdict on a registration. It is JSON-tagged because the
// sign-in log stores it verbatim.
type Decision struct {
	Accepted bool       `json:"accepted"`
	Reason   ReasonCode `json:"reason,omitempty"`
	Message  string     `json:"message,omitempty"`
	// PasskeyProfileID is the first profile (in configuration order) that
	// accepted; empty when refused or under the legacy policy.
	PasskeyProfileID string           `json:"passkeyProfileId,omitempty"`
	PasskeyType      PasskeyType      `json:"passkeyType,omitempty"`
	AttestationLevel AttestationLevel `json:"attestationLevel,omitempty"`
	// AttestationReason is the verifier's code, kept so a refusal such as
	// attestationRequired can be traced to e.g. a bad signature.
	AttestationReason string `json:"attestationReason,omitempty"`
	// Profiles lists every applicable profile's verdict so an admin can see
	// why a user in several groups was refused.
	Profiles []ProfileResult `json:"profiles,omitempty"`
}

func refuse(r ReasonCode) Decision {
	return Decision{Reason: r, Message: r.Message()}
}

// CeremonyRequirements are the policy-driven values of the creation options.
// Strings use WebAuthn's enum spellings so the ceremony can copy them across
// without this package importing a WebAuthn library.
type CeremonyRequirements struct {
	// Attestation is the conveyance preference: "direct" when any applicable
	// profile enforces attestation or key restrictions, else "none". Key
	// restrictions need it too because with "none" a browser may zero the
	// AAGUID, and an allow list would then refuse every authenticator.
	Attestation string `json:"attestation"`
	// ResidentKey is always "required": Entra registers discoverable passkeys only.
	ResidentKey      string `json:"residentKey"`
	UserVerification string `json:"userVerification"`
	// PasskeyProfileIDs are the profiles the user is in scope of, in
	// configuration order (empty under the legacy policy).
	PasskeyProfileIDs []string `json:"passkeyProfileIds,omitempty"`
	// AllowedPasskeyTypes is the union over those profiles, for UI hints.
	AllowedPasskeyTypes []PasskeyType `json:"allowedPasskeyTypes"`
	// Hints are WebAuthn L3 hints (PublicKeyCredentialHints) for the
	// browser's first choice of authenticator; see hintsFor.
	Hints []string `json:"hints,omitempty"`
}

// hintsFor steers the browser towards authenticators that can make a
// passkey the profiles accept, so a user is not first offered one that
// policy will refuse. Device-bound only: security keys first, then a phone
// over hybrid (Microsoft Authenticator's device-bound passkeys). Synced
// only: the platform's own passkey manager, then a phone. Both: no hints,
// the browser's default order. Hints order choices; they never restrict
// them, so the decision stays with Decide.
func hintsFor(types []PasskeyType) []string {
	switch {
	case len(types) == 1 && types[0] == PasskeyTypeDeviceBound:
		return []string{"security-key", "hybrid"}
	case len(types) == 1 && types[0] == PasskeyTypeSynced:
		return []string{"client-device", "hybrid"}
	}
	return nil
}

// legacyProfile expresses the pre-migration global settings as a profile so a
// single evaluator serves both modes. Before the migration Entra accepted only
// device-bound passkeys; synced passkeys arrived with profiles.
func (c Fido2AuthenticationMethodConfiguration) legacyProfile() PasskeyProfile {
	p := PasskeyProfile{
		Name:                   "legacy FIDO2 policy",
		PasskeyTypes:           PasskeyTypesOf(PasskeyTypeDeviceBound),
		AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions:        c.KeyRestrictions,
	}
	if c.IsAttestationEnforced {
		p.AttestationEnforcement = AttestationEnforcementRegistrationOnly
	}
	return p
}

// applicable returns the profiles that apply to s, or the reason none do.
// Exclusions beat inclusions. A user matched by several include targets gets
// the union of their profiles, deduplicated, in configuration order (not
// target order) so the result does not depend on how targets were listed.
func (c Fido2AuthenticationMethodConfiguration) applicable(s Subject) ([]PasskeyProfile, ReasonCode) {
	if c.State != StateEnabled {
		return nil, ReasonMethodDisabled
	}
	for _, t := range c.ExcludeTargets {
		if targeting.Matches(t.ID, t.TargetType, s) {
			return nil, ReasonMethodNotEnabledForUser
		}
	}
	wanted := map[string]bool{}
	targeted := false
	for _, t := range c.IncludeTargets {
		if !targeting.Matches(t.ID, t.TargetType, s) {
			continue
		}
		targeted = true
		for _, pid := range t.AllowedPasskeyProfiles {
			wanted[strings.ToLower(pid)] = true
		}
	}
	if !targeted {
		return nil, ReasonMethodNotEnabledForUser
	}
	if !c.ProfilesEnabled() {
		return []PasskeyProfile{c.legacyProfile()}, ""
	}
	var out []PasskeyProfile
	for _, p := range c.PasskeyProfiles {
		if wanted[strings.ToLower(p.ID)] {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		// Only reachable with an invalid document (targets naming missing
		// profiles); failing closed is the safe reading.
		return nil, ReasonMethodNotEnabledForUser
	}
	return out, ""
}

// PreCheck runs before a challenge is issued: it refuses users who could not
// register anything, and otherwise returns the options the ceremony needs.
// Refusing here spares the user a ceremony that is bound to fail.
func (c Fido2AuthenticationMethodConfiguration) PreCheck(s Subject) (CeremonyRequirements, *Decision) {
	profs, reason := c.applicable(s)
	if reason != "" {
		d := refuse(reason)
		return CeremonyRequirements{}, &d
	}
	if !c.IsSelfServiceRegistrationAllowed {
		d := refuse(ReasonSelfServiceRegistrationDisabled)
		return CeremonyRequirements{}, &d
	}
	req := CeremonyRequirements{
		Attestation:      "none",
		ResidentKey:      "required",
		UserVerification: "required",
	}
	var db, sy bool
	for _, p := range profs {
		if p.ID != "" {
			req.PasskeyProfileIDs = append(req.PasskeyProfileIDs, p.ID)
		}
		if p.enforcesAttestation() || p.KeyRestrictions.IsEnforced {
			req.Attestation = "direct"
		}
		db = db || p.PasskeyTypes.Has(PasskeyTypeDeviceBound)
		sy = sy || p.PasskeyTypes.Has(PasskeyTypeSynced)
	}
	if db {
		req.AllowedPasskeyTypes = append(req.AllowedPasskeyTypes, PasskeyTypeDeviceBound)
	}
	if sy {
		req.AllowedPasskeyTypes = append(req.AllowedPasskeyTypes, PasskeyTypeSynced)
	}
	req.Hints = hintsFor(req.AllowedPasskeyTypes)
	return req, nil
}

// Decide judges a freshly created credential. The user-level checks of
// PreCheck are repeated because policy may have changed mid-ceremony.
//
// With several applicable profiles the credential is accepted if ANY of them
// accepts it (Entra evaluates profiles cumulatively). When all refuse, Reason
// is that of the profile that got furthest through the checks (passkey type,
// then AAGUID, then attestation), ties going to configuration order; the
// per-profile reasons are in Profiles.
func (c Fido2AuthenticationMethodConfiguration) Decide(s Subject, cred Credential) Decision {
	if _, pre := c.PreCheck(s); pre != nil {
		return *pre
	}
	if !cred.BackupEligible && cred.BackupState {
		return refuse(ReasonInvalidBackupFlags)
	}
	profs, _ := c.applicable(s)
	d := Decision{
		PasskeyType:       cred.PasskeyType(),
		AttestationLevel:  AttestationLevelNotAttested,
		AttestationReason: cred.Attestation.Reason,
	}
	if cred.Attestation.Attested && cred.Attestation.Trusted {
		d.AttestationLevel = AttestationLevelAttested
	}
	var best ReasonCode
	for _, p := range profs {
		r := evaluate(p, cred)
		d.Profiles = append(d.Profiles, ProfileResult{PasskeyProfileID: p.ID, Name: p.Name, Accepted: r == "", Reason: r})
		if r == "" {
			if !d.Accepted {
				d.Accepted = true
				d.PasskeyProfileID = p.ID
			}
			continue
		}
		if best == "" || r.stage() > best.stage() {
			best = r
		}
	}
	if !d.Accepted {
		d.Reason = best
		d.Message = best.Message()
	}
	return d
}

// evaluate applies one profile, in the order Entra documents: passkey type,
// key restrictions, attestation.
func evaluate(p PasskeyProfile, cred Credential) ReasonCode {
	if cred.BackupEligible && !p.PasskeyTypes.Has(PasskeyTypeSynced) {
		return ReasonSyncedPasskeyNotAllowed
	}
	if !cred.BackupEligible && !p.PasskeyTypes.Has(PasskeyTypeDeviceBound) {
		return ReasonDeviceBoundPasskeyNotAllowed
	}
	if k := p.KeyRestrictions; k.IsEnforced {
		listed := false
		for _, a := range k.AAGuids {
			if u, err := uuid.Parse(a); err == nil && u == cred.AAGUID {
				listed = true
				break
			}
		}
		switch {
		case k.EnforcementType == EnforcementBlock && listed:
			return ReasonAAGUIDBlocked
		case k.EnforcementType != EnforcementBlock && !listed:
			// Anything but an explicit block list is read as an allow list,
			// so a malformed document fails closed.
			return ReasonAAGUIDNotAllowed
		}
	}
	if p.enforcesAttestation() {
		if !cred.Attestation.Attested {
			return ReasonAttestationRequired
		}
		if !cred.Attestation.Trusted {
			return ReasonAttestationUntrusted
		}
	}
	return ""
}

// enforcesAttestation treats any value other than "disabled" as enforced so
// an unexpected enum value fails closed.
func (p PasskeyProfile) enforcesAttestation() bool {
	return p.AttestationEnforcement != AttestationEnforcementDisabled
}
