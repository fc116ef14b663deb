package profiles

import (
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var (
	attestedTrusted   = AttestationVerdict{Format: "packed", Attested: true, Trusted: true}
	attestedUntrusted = AttestationVerdict{Format: "packed", Attested: true, Trusted: false, Reason: "chainNotTrusted"}
	noAttestation     = AttestationVerdict{Format: "none"}
	selfAttestation   = AttestationVerdict{Format: "packed", Reason: "selfAttestation"}
)

func yubikey(v AttestationVerdict) Credential {
	return Credential{AAGUID: uuid.MustParse(aaguidYubiKey), Attestation: v}
}

func synced(aaguid string, bs bool) Credential {
	return Credential{AAGUID: uuid.MustParse(aaguid), BackupEligible: true, BackupState: bs, Attestation: noAttestation}
}

// single builds an enabled, migrated config whose only target (all_users)
// gets one profile p, so each per-profile branch can be tested alone.
func single(p PasskeyProfile) Fido2AuthenticationMethodConfiguration {
	c := NewFido2Configuration()
	c.State = StateEnabled
	c = EnablePasskeyProfiles(c)
	p.ID = profStrict
	if p.Name == "" {
		p.Name = "p"
	}
	c.PasskeyProfiles = append(c.PasskeyProfiles, p)
	c.IncludeTargets[0].AllowedPasskeyProfiles = []string{profStrict}
	return c
}

func TestDecideSingleProfile(t *testing.T) {
	deviceBoundOnly := PasskeyProfile{PasskeyTypes: "deviceBound", AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock}}
	syncedOnly := PasskeyProfile{PasskeyTypes: "synced", AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock}}
	allowYubi := PasskeyProfile{PasskeyTypes: "deviceBound,synced", AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions: Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGuids: []string{aaguidYubiKey}}}
	blockICloud := PasskeyProfile{PasskeyTypes: "deviceBound,synced", AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions: Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGuids: []string{aaguidICloud}}}
	blockNotEnforced := blockICloud
	blockNotEnforced.KeyRestrictions.IsEnforced = false
	attest := PasskeyProfile{PasskeyTypes: "deviceBound", AttestationEnforcement: AttestationEnforcementRegistrationOnly,
		KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock}}

	tests := []struct {
		name   string
		p      PasskeyProfile
		cred   Credential
		reason ReasonCode // "" = accepted
		level  AttestationLevel
		ptype  PasskeyType
	}{
		{"device-bound accepted", deviceBoundOnly, yubikey(noAttestation), "", AttestationLevelNotAttested, PasskeyTypeDeviceBound},
		{"synced refused by deviceBound profile", deviceBoundOnly, synced(aaguidICloud, true), ReasonSyncedPasskeyNotAllowed, "", PasskeyTypeSynced},
		{"BE=1 BS=0 is still synced", deviceBoundOnly, synced(aaguidICloud, false), ReasonSyncedPasskeyNotAllowed, "", PasskeyTypeSynced},
		{"synced accepted by synced profile", syncedOnly, synced(aaguidICloud, true), "", AttestationLevelNotAttested, PasskeyTypeSynced},
		{"device-bound refused by synced profile", syncedOnly, yubikey(attestedTrusted), ReasonDeviceBoundPasskeyNotAllowed, "", PasskeyTypeDeviceBound},
		{"allow list hit", allowYubi, yubikey(noAttestation), "", AttestationLevelNotAttested, PasskeyTypeDeviceBound},
		{"allow list miss", allowYubi, synced(aaguidICloud, true), ReasonAAGUIDNotAllowed, "", PasskeyTypeSynced},
		{"allow list zero aaguid", allowYubi, Credential{Attestation: noAttestation}, ReasonAAGUIDNotAllowed, "", PasskeyTypeDeviceBound},
		{"block list hit", blockICloud, synced(aaguidICloud, true), ReasonAAGUIDBlocked, "", PasskeyTypeSynced},
		{"block list miss", blockICloud, synced(aaguidGoogle, true), "", AttestationLevelNotAttested, PasskeyTypeSynced},
		{"block list not enforced", blockNotEnforced, synced(aaguidICloud, true), "", AttestationLevelNotAttested, PasskeyTypeSynced},
		{"attestation trusted", attest, yubikey(attestedTrusted), "", AttestationLevelAttested, PasskeyTypeDeviceBound},
		{"attestation none", attest, yubikey(noAttestation), ReasonAttestationRequired, "", PasskeyTypeDeviceBound},
		{"attestation self", attest, yubikey(selfAttestation), ReasonAttestationRequired, "", PasskeyTypeDeviceBound},
		{"attestation untrusted", attest, yubikey(attestedUntrusted), ReasonAttestationUntrusted, "", PasskeyTypeDeviceBound},
		{"attestation not enforced ignores untrusted", deviceBoundOnly, yubikey(attestedUntrusted), "", AttestationLevelNotAttested, PasskeyTypeDeviceBound},
		{"invalid flags", deviceBoundOnly, Credential{BackupState: true}, ReasonInvalidBackupFlags, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := single(tc.p)
			if err := c.Validate(); err != nil {
				t.Fatalf("fixture invalid: %v", err)
			}
			d := c.Decide(Subject{UserID: userAlice}, tc.cred)
			if d.Accepted != (tc.reason == "") || d.Reason != tc.reason {
				t.Fatalf("got accepted=%v reason=%q, want reason %q", d.Accepted, d.Reason, tc.reason)
			}
			if tc.reason != "" && d.Message != tc.reason.Message() {
				t.Fatalf("message %q", d.Message)
			}
			if tc.reason == "" {
				if d.PasskeyProfileID != profStrict || d.AttestationLevel != tc.level {
					t.Fatalf("accepted by %q level %q", d.PasskeyProfileID, d.AttestationLevel)
				}
			}
			if tc.reason != ReasonInvalidBackupFlags && d.AttestationReason != tc.cred.Attestation.Reason {
				t.Fatalf("attestation reason %q not carried", d.AttestationReason)
			}
			if d.PasskeyType != tc.ptype {
				t.Fatalf("passkeyType %q, want %q", d.PasskeyType, tc.ptype)
			}
		})
	}
}

func TestDecideUserScope(t *testing.T) {
	base := migrated()
	disabled := base.Clone()
	disabled.State = StateDisabled
	groupsOnly := base.Clone()
	groupsOnly.IncludeTargets = groupsOnly.IncludeTargets[1:]
	excluded := base.Clone()
	excluded.ExcludeTargets = []ExcludeTarget{{ID: groupTemps, TargetType: TargetTypeGroup}}
	noSelfService := base.Clone()
	noSelfService.IsSelfServiceRegistrationAllowed = false
	userTarget := groupsOnly.Clone()
	userTarget.IncludeTargets = append(userTarget.IncludeTargets, PasskeyAuthenticationMethodTarget{
		ID: userAlice, TargetType: TargetTypeUser, AllowedPasskeyProfiles: []string{DefaultPasskeyProfileID}})
	userExcluded := base.Clone()
	userExcluded.ExcludeTargets = []ExcludeTarget{{ID: userAlice, TargetType: TargetTypeUser}}
	broken := groupsOnly.Clone()
	broken.IncludeTargets[0].AllowedPasskeyProfiles = []string{"77777777-7777-7777-7777-777777777777"}

	tests := []struct {
		name   string
		c      Fido2AuthenticationMethodConfiguration
		s      Subject
		reason ReasonCode
	}{
		{"all users", base, Subject{UserID: userAlice}, ""},
		{"method disabled", disabled, Subject{UserID: userAlice}, ReasonMethodDisabled},
		{"not targeted", groupsOnly, Subject{UserID: userAlice, GroupIDs: []string{groupTemps}}, ReasonMethodNotEnabledForUser},
		{"targeted by group", groupsOnly, Subject{UserID: userAlice, GroupIDs: []string{groupAdmins}}, ""},
		{"excluded beats all_users", excluded, Subject{UserID: userAlice, GroupIDs: []string{groupTemps}}, ReasonMethodNotEnabledForUser},
		{"excluded beats group", excluded, Subject{UserID: userAlice, GroupIDs: []string{groupAdmins, groupTemps}}, ReasonMethodNotEnabledForUser},
		{"self-service disabled", noSelfService, Subject{UserID: userAlice}, ReasonSelfServiceRegistrationDisabled},
		{"user target", userTarget, Subject{UserID: userAlice}, ""},
		{"ids compare case-insensitively", userTarget, Subject{UserID: strings.ToUpper(userAlice)}, ""},
		{"user exclusion", userExcluded, Subject{UserID: userAlice}, ReasonMethodNotEnabledForUser},
		{"target names missing profile fails closed", broken, Subject{UserID: userAlice, GroupIDs: []string{groupAdmins}}, ReasonMethodNotEnabledForUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, pre := tc.c.PreCheck(tc.s)
			d := tc.c.Decide(tc.s, yubikey(attestedTrusted))
			if tc.reason == "" {
				if pre != nil || !d.Accepted {
					t.Fatalf("pre=%+v decision=%+v", pre, d)
				}
				return
			}
			if pre == nil || pre.Reason != tc.reason || pre.Message == "" {
				t.Fatalf("precheck = %+v, want %s", pre, tc.reason)
			}
			if d.Accepted || d.Reason != tc.reason || len(d.Profiles) != 0 {
				t.Fatalf("decision = %+v, want %s", d, tc.reason)
			}
		})
	}
}

func TestDecideSeveralProfilesUnion(t *testing.T) {
	c := migrated()
	// Make Default device-bound only, so that for a staff+admin user:
	// Default: deviceBound, no restrictions; Admins: deviceBound+attested+YubiKey allow; Synced only: synced, Google blocked.
	c.PasskeyProfiles[0].PasskeyTypes = PasskeyTypesOf(PasskeyTypeDeviceBound)
	c.IncludeTargets = c.IncludeTargets[1:] // drop all_users
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	admin := Subject{UserID: userAlice, GroupIDs: []string{groupAdmins}}
	both := Subject{UserID: userAlice, GroupIDs: []string{groupStaff, groupAdmins}}

	tests := []struct {
		name     string
		s        Subject
		cred     Credential
		reason   ReasonCode
		by       string
		profiles []ProfileResult
	}{
		{"admin with unattested key", admin, yubikey(noAttestation), ReasonAttestationRequired, "", []ProfileResult{
			{profStrict, "Admins", false, ReasonAttestationRequired}}},
		{"admin+staff, synced iCloud accepted by synced profile", both, synced(aaguidICloud, true), "", profSynced, []ProfileResult{
			{profStrict, "Admins", false, ReasonSyncedPasskeyNotAllowed},
			{profSynced, "Synced only", true, ""}}},
		{"admin+staff, blocked Google: furthest reason wins", both, synced(aaguidGoogle, true), ReasonAAGUIDBlocked, "", []ProfileResult{
			{profStrict, "Admins", false, ReasonSyncedPasskeyNotAllowed},
			{profSynced, "Synced only", false, ReasonAAGUIDBlocked}}},
		{"admin+staff, unattested key", both, yubikey(noAttestation), ReasonAttestationRequired, "", []ProfileResult{
			{profStrict, "Admins", false, ReasonAttestationRequired},
			{profSynced, "Synced only", false, ReasonDeviceBoundPasskeyNotAllowed}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Decide(tc.s, tc.cred)
			if d.Reason != tc.reason || d.Accepted != (tc.reason == "") || d.PasskeyProfileID != tc.by {
				t.Fatalf("got %+v", d)
			}
			if !reflect.DeepEqual(d.Profiles, tc.profiles) {
				t.Fatalf("profiles = %+v\nwant %+v", d.Profiles, tc.profiles)
			}
		})
	}

	// Profile order follows the configuration, not target order, and the
	// first accepting profile is reported.
	c.IncludeTargets = append(c.IncludeTargets, PasskeyAuthenticationMethodTarget{
		ID: groupTemps, TargetType: TargetTypeGroup, AllowedPasskeyProfiles: []string{profSynced, DefaultPasskeyProfileID}})
	d := c.Decide(Subject{UserID: userAlice, GroupIDs: []string{groupTemps, groupAdmins}}, yubikey(attestedTrusted))
	if !d.Accepted || d.PasskeyProfileID != DefaultPasskeyProfileID || len(d.Profiles) != 3 || d.Profiles[0].PasskeyProfileID != DefaultPasskeyProfileID {
		t.Fatalf("got %+v", d)
	}
}

func TestDecideLegacyPolicy(t *testing.T) {
	c := NewFido2Configuration()
	c.State = StateEnabled
	s := Subject{UserID: userAlice}
	if d := c.Decide(s, synced(aaguidICloud, true)); d.Reason != ReasonSyncedPasskeyNotAllowed {
		t.Fatalf("legacy must refuse synced: %+v", d)
	}
	if d := c.Decide(s, yubikey(noAttestation)); !d.Accepted || d.PasskeyProfileID != "" {
		t.Fatalf("legacy device-bound: %+v", d)
	}
	c.IsAttestationEnforced = true
	if d := c.Decide(s, yubikey(noAttestation)); d.Reason != ReasonAttestationRequired {
		t.Fatalf("legacy attestation: %+v", d)
	}
	c.KeyRestrictions = Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGuids: []string{aaguidYubiKey}}
	if d := c.Decide(s, yubikey(attestedTrusted)); d.Reason != ReasonAAGUIDBlocked {
		t.Fatalf("legacy block list: %+v", d)
	}
	// After migration (attestation off) the same tenant accepts synced passkeys.
	c.IsAttestationEnforced = false
	c.KeyRestrictions = Fido2KeyRestrictions{EnforcementType: EnforcementBlock}
	m := EnablePasskeyProfiles(c)
	if d := m.Decide(s, synced(aaguidICloud, true)); !d.Accepted || d.PasskeyProfileID != DefaultPasskeyProfileID {
		t.Fatalf("migrated tenant should accept synced: %+v", d)
	}
}

func TestPreCheckRequirements(t *testing.T) {
	c := migrated()
	c.IncludeTargets = c.IncludeTargets[1:]
	plain := single(PasskeyProfile{PasskeyTypes: "deviceBound,synced", AttestationEnforcement: AttestationEnforcementDisabled,
		KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock}})
	legacy := NewFido2Configuration()
	legacy.State = StateEnabled
	legacyAttest := legacy.Clone()
	legacyAttest.IsAttestationEnforced = true

	tests := []struct {
		name string
		c    Fido2AuthenticationMethodConfiguration
		s    Subject
		want CeremonyRequirements
	}{
		{"no enforcement", plain, Subject{UserID: userAlice}, CeremonyRequirements{
			Attestation: "none", ResidentKey: "required", UserVerification: "required",
			PasskeyProfileIDs: []string{profStrict}, AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound, PasskeyTypeSynced}}},
		{"attestation enforced", c, Subject{GroupIDs: []string{groupAdmins}}, CeremonyRequirements{
			Attestation: "direct", ResidentKey: "required", UserVerification: "required",
			PasskeyProfileIDs: []string{profStrict}, AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound},
			Hints: []string{"security-key", "hybrid"}}},
		{"key restrictions alone ask for direct", c, Subject{GroupIDs: []string{groupStaff}}, CeremonyRequirements{
			Attestation: "direct", ResidentKey: "required", UserVerification: "required",
			PasskeyProfileIDs: []string{profSynced}, AllowedPasskeyTypes: []PasskeyType{PasskeyTypeSynced},
			Hints: []string{"client-device", "hybrid"}}},
		{"union of types", c, Subject{GroupIDs: []string{groupStaff, groupAdmins}}, CeremonyRequirements{
			Attestation: "direct", ResidentKey: "required", UserVerification: "required",
			PasskeyProfileIDs: []string{profStrict, profSynced}, AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound, PasskeyTypeSynced}}},
		{"legacy", legacy, Subject{}, CeremonyRequirements{
			Attestation: "none", ResidentKey: "required", UserVerification: "required",
			AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound}, Hints: []string{"security-key", "hybrid"}}},
		{"legacy attestation", legacyAttest, Subject{}, CeremonyRequirements{
			Attestation: "direct", ResidentKey: "required", UserVerification: "required",
			AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound}, Hints: []string{"security-key", "hybrid"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pre := tc.c.PreCheck(tc.s)
			if pre != nil {
				t.Fatalf("refused: %+v", pre)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestEveryReasonHasAMessage(t *testing.T) {
	for _, r := range []ReasonCode{ReasonMethodDisabled, ReasonMethodNotEnabledForUser, ReasonSelfServiceRegistrationDisabled,
		ReasonInvalidBackupFlags, ReasonSyncedPasskeyNotAllowed, ReasonDeviceBoundPasskeyNotAllowed, ReasonAAGUIDNotAllowed,
		ReasonAAGUIDBlocked, ReasonAttestationRequired, ReasonAttestationUntrusted} {
		if r.Message() == "" {
			t.Errorf("%s has no message", r)
		}
	}
}

// An unknown attestationEnforcement value (only possible in an unvalidated
// document) must enforce rather than skip attestation.
func TestUnknownAttestationEnforcementFailsClosed(t *testing.T) {
	c := single(PasskeyProfile{PasskeyTypes: "deviceBound", AttestationEnforcement: "sometimes",
		KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock}})
	if d := c.Decide(Subject{}, yubikey(noAttestation)); d.Reason != ReasonAttestationRequired {
		t.Fatalf("got %+v", d)
	}
}
