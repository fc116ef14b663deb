package profiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

const (
	groupAdmins = "11111111-1111-1111-1111-111111111111"
	groupStaff  = "22222222-2222-2222-2222-222222222222"
	groupTemps  = "33333333-3333-3333-3333-333333333333"
	userAlice   = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"

	profStrict = "44444444-4444-4444-4444-444444444444"
	profSynced = "55555555-5555-5555-5555-555555555555"

	aaguidYubiKey = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
	aaguidICloud  = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
	aaguidGoogle  = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
)

// migrated returns a valid, enabled, migrated configuration with a strict
// admin profile and a synced-only profile, used as the base of most tests.
func migrated() Fido2AuthenticationMethodConfiguration {
	c := NewFido2Configuration()
	c.State = StateEnabled
	c = EnablePasskeyProfiles(c)
	c.PasskeyProfiles = append(c.PasskeyProfiles,
		PasskeyProfile{
			ID: profStrict, Name: "Admins", PasskeyTypes: PasskeyTypesOf(PasskeyTypeDeviceBound),
			AttestationEnforcement: AttestationEnforcementRegistrationOnly,
			KeyRestrictions:        Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGuids: []string{aaguidYubiKey}},
		},
		PasskeyProfile{
			ID: profSynced, Name: "Synced only", PasskeyTypes: PasskeyTypesOf(PasskeyTypeSynced),
			AttestationEnforcement: AttestationEnforcementDisabled,
			KeyRestrictions:        Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementBlock, AAGuids: []string{aaguidGoogle}},
		},
	)
	c.IncludeTargets = append(c.IncludeTargets,
		PasskeyAuthenticationMethodTarget{ID: groupAdmins, TargetType: TargetTypeGroup, AllowedPasskeyProfiles: []string{profStrict}},
		PasskeyAuthenticationMethodTarget{ID: groupStaff, TargetType: TargetTypeGroup, AllowedPasskeyProfiles: []string{profSynced}},
	)
	return c
}

func TestValidBaseConfigurations(t *testing.T) {
	for name, c := range map[string]Fido2AuthenticationMethodConfiguration{
		"fresh":    NewFido2Configuration(),
		"migrated": migrated(),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
		}
	}
}

func TestValidateCodes(t *testing.T) {
	tests := []struct {
		name   string
		legacy bool // start from a non-migrated configuration
		edit   func(c *Fido2AuthenticationMethodConfiguration)
		code   ErrorCode
		target string
	}{
		{"bad id", false, func(c *Fido2AuthenticationMethodConfiguration) { c.ID = "Sms" }, CodeInvalidConfigurationID, "id"},
		{"bad state", false, func(c *Fido2AuthenticationMethodConfiguration) { c.State = "on" }, CodeInvalidState, "state"},
		{"legacy bad enforcement type", true, func(c *Fido2AuthenticationMethodConfiguration) { c.KeyRestrictions.EnforcementType = "deny" }, CodeInvalidEnforcementType, "keyRestrictions.enforcementType"},
		{"legacy bad aaguid", true, func(c *Fido2AuthenticationMethodConfiguration) { c.KeyRestrictions.AAGuids = []string{"yubikey"} }, CodeInvalidAAGUID, "keyRestrictions.aaGuids[0]"},
		{"profiles before enabling", true, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles = []PasskeyProfile{{ID: profStrict}}
		}, CodePasskeyProfilesNotEnabled, "passkeyProfiles"},
		{"target names profile before enabling", true, func(c *Fido2AuthenticationMethodConfiguration) {
			c.IncludeTargets[0].AllowedPasskeyProfiles = []string{profStrict}
		}, CodePasskeyProfilesNotEnabled, "includeTargets[0].allowedPasskeyProfiles"},
		{"default not a guid", false, func(c *Fido2AuthenticationMethodConfiguration) { c.DefaultPasskeyProfile = "Default" }, CodeInvalidDefaultPasskeyProfileValue, "defaultPasskeyProfile"},
		{"too many profiles", false, func(c *Fido2AuthenticationMethodConfiguration) {
			for i := len(c.PasskeyProfiles); i <= MaxPasskeyProfiles; i++ {
				c.PasskeyProfiles = append(c.PasskeyProfiles, PasskeyProfile{
					ID: fmt.Sprintf("66666666-6666-6666-6666-%012d", i), Name: fmt.Sprintf("p%d", i),
					PasskeyTypes: "deviceBound", AttestationEnforcement: "disabled",
					KeyRestrictions: Fido2KeyRestrictions{EnforcementType: EnforcementBlock},
				})
			}
		}, CodeTooManyPasskeyProfiles, "passkeyProfiles"},
		{"profile id not guid", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[1].ID = "admins" }, CodeInvalidPasskeyProfileID, "passkeyProfiles[1].id"},
		{"profile id braces", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[1].ID = "{" + profStrict[:34] + "}" }, CodeInvalidPasskeyProfileID, "passkeyProfiles[1].id"},
		{"duplicate profile id", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[2].ID = strings.ToUpper(profStrict) }, CodeDuplicatePasskeyProfileID, "passkeyProfiles[2].id"},
		{"blank name", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[1].Name = "   " }, CodeInvalidPasskeyProfileName, "passkeyProfiles[1].name"},
		{"long name", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].Name = strings.Repeat("x", MaxPasskeyProfileNameLength+1)
		}, CodeInvalidPasskeyProfileName, "passkeyProfiles[1].name"},
		{"duplicate name ignoring case", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[2].Name = " admins" }, CodeDuplicatePasskeyProfileName, "passkeyProfiles[2].name"},
		{"missing passkey types", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[1].PasskeyTypes = "" }, CodeMissingPasskeyTypes, "passkeyProfiles[1].passkeyTypes"},
		{"unknown passkey type", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].PasskeyTypes = "deviceBound,cloud"
		}, CodeUnknownPasskeyType, "passkeyProfiles[1].passkeyTypes"},
		{"unknownFutureValue refused", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].PasskeyTypes = "unknownFutureValue"
		}, CodeUnknownPasskeyType, "passkeyProfiles[1].passkeyTypes"},
		{"bad attestation enforcement", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].AttestationEnforcement = "always"
		}, CodeInvalidAttestationEnforcement, "passkeyProfiles[1].attestationEnforcement"},
		{"attestation with synced", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].PasskeyTypes = PasskeyTypesOf(PasskeyTypeDeviceBound, PasskeyTypeSynced)
		}, CodeAttestationRequiresDeviceBound, "passkeyProfiles[1].passkeyTypes"},
		{"profile bad enforcement type", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[2].KeyRestrictions.EnforcementType = ""
		}, CodeInvalidEnforcementType, "passkeyProfiles[2].keyRestrictions.enforcementType"},
		{"profile bad aaguid", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].KeyRestrictions.AAGuids = append(c.PasskeyProfiles[1].KeyRestrictions.AAGuids, "cb69481e8ff7403993ec0a2729a154a8")
		}, CodeInvalidAAGUID, "passkeyProfiles[1].keyRestrictions.aaGuids[1]"},
		{"profile duplicate aaguid", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.PasskeyProfiles[1].KeyRestrictions.AAGuids = append(c.PasskeyProfiles[1].KeyRestrictions.AAGuids, strings.ToUpper(aaguidYubiKey))
		}, CodeDuplicateAAGUID, "passkeyProfiles[1].keyRestrictions.aaGuids[1]"},
		{"empty enforced allow list", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles[1].KeyRestrictions.AAGuids = nil }, CodeEmptyAllowList, "passkeyProfiles[1].keyRestrictions.aaGuids"},
		{"default deleted", false, func(c *Fido2AuthenticationMethodConfiguration) { c.PasskeyProfiles = c.PasskeyProfiles[1:] }, CodeDefaultPasskeyProfileMissing, "passkeyProfiles"},
		{"bad target type", false, func(c *Fido2AuthenticationMethodConfiguration) { c.IncludeTargets[1].TargetType = "role" }, CodeInvalidTargetType, "includeTargets[1].targetType"},
		{"all_users as user", false, func(c *Fido2AuthenticationMethodConfiguration) { c.IncludeTargets[0].TargetType = TargetTypeUser }, CodeInvalidTargetType, "includeTargets[0].targetType"},
		{"bad target id", false, func(c *Fido2AuthenticationMethodConfiguration) { c.IncludeTargets[1].ID = "Admins" }, CodeInvalidTargetID, "includeTargets[1].id"},
		{"duplicate include", false, func(c *Fido2AuthenticationMethodConfiguration) { c.IncludeTargets[2].ID = groupAdmins }, CodeDuplicateTarget, "includeTargets[2].id"},
		{"target without profile", false, func(c *Fido2AuthenticationMethodConfiguration) { c.IncludeTargets[1].AllowedPasskeyProfiles = nil }, CodeTargetMissingPasskeyProfile, "includeTargets[1].allowedPasskeyProfiles"},
		{"target names missing profile", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.IncludeTargets[1].AllowedPasskeyProfiles = []string{profStrict, "77777777-7777-7777-7777-777777777777"}
		}, CodeUnknownPasskeyProfile, "includeTargets[1].allowedPasskeyProfiles[1]"},
		{"exclude all_users", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.ExcludeTargets = []ExcludeTarget{{ID: "all_users", TargetType: TargetTypeGroup}}
		}, CodeAllUsersCannotBeExcluded, "excludeTargets[0].id"},
		{"exclude bad id", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.ExcludeTargets = []ExcludeTarget{{ID: "temps", TargetType: TargetTypeGroup}}
		}, CodeInvalidTargetID, "excludeTargets[0].id"},
		{"exclude bad type", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.ExcludeTargets = []ExcludeTarget{{ID: groupTemps}}
		}, CodeInvalidTargetType, "excludeTargets[0].targetType"},
		{"duplicate exclude", false, func(c *Fido2AuthenticationMethodConfiguration) {
			c.ExcludeTargets = []ExcludeTarget{{ID: groupTemps, TargetType: TargetTypeGroup}, {ID: groupTemps, TargetType: TargetTypeGroup}}
		}, CodeDuplicateTarget, "excludeTargets[1].id"},
		{"policy too large", false, func(c *Fido2AuthenticationMethodConfiguration) {
			for i := range 700 {
				c.PasskeyProfiles[2].KeyRestrictions.AAGuids = append(c.PasskeyProfiles[2].KeyRestrictions.AAGuids, fmt.Sprintf("88888888-8888-8888-8888-%012d", i))
			}
		}, CodePolicyTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Fido2AuthenticationMethodConfiguration
			if tc.legacy {
				c = NewFido2Configuration()
			} else {
				c = migrated()
			}
			tc.edit(&c)
			err := c.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError %s, got %v", tc.code, err)
			}
			if ve.Code != tc.code || ve.Target != tc.target {
				t.Fatalf("got code=%s target=%q, want code=%s target=%q (%s)", ve.Code, ve.Target, tc.code, tc.target, ve.Message)
			}
			if ve.Message == "" {
				t.Fatal("empty message")
			}
			if !errors.Is(err, &ValidationError{Code: tc.code}) {
				t.Fatal("errors.Is on code failed")
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	legacy := NewFido2Configuration()
	prof := migrated()
	tests := []struct {
		name       string
		prev, next func() Fido2AuthenticationMethodConfiguration
		code       ErrorCode // "" means valid
	}{
		{"legacy to legacy", func() Fido2AuthenticationMethodConfiguration { return legacy }, func() Fido2AuthenticationMethodConfiguration { return legacy }, ""},
		{"legacy to profiles", func() Fido2AuthenticationMethodConfiguration { return legacy }, migrated, ""},
		{"profiles to legacy", migrated, func() Fido2AuthenticationMethodConfiguration {
			c := prof.Clone()
			c.DefaultPasskeyProfile, c.PasskeyProfiles = "", nil
			for i := range c.IncludeTargets {
				c.IncludeTargets[i].AllowedPasskeyProfiles = nil
			}
			return c
		}, CodePasskeyProfilesCannotBeDisabled},
		{"swap default", migrated, func() Fido2AuthenticationMethodConfiguration {
			c := prof.Clone()
			c.DefaultPasskeyProfile = profStrict
			return c
		}, CodeDefaultPasskeyProfileImmutable},
		{"rename default", migrated, func() Fido2AuthenticationMethodConfiguration {
			c := prof.Clone()
			c.PasskeyProfiles[0].Name = "Everyone"
			return c
		}, CodeDefaultPasskeyProfileRename},
		{"edit default settings", migrated, func() Fido2AuthenticationMethodConfiguration {
			c := prof.Clone()
			c.PasskeyProfiles[0].PasskeyTypes = PasskeyTypesOf(PasskeyTypeDeviceBound)
			return c
		}, ""},
		{"next invalid", migrated, func() Fido2AuthenticationMethodConfiguration {
			c := prof.Clone()
			c.State = "maybe"
			return c
		}, CodeInvalidState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUpdate(tc.prev(), tc.next())
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Code != tc.code {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
		})
	}
}

func TestEnablePasskeyProfilesMigratesLegacySettings(t *testing.T) {
	restr := Fido2KeyRestrictions{IsEnforced: true, EnforcementType: EnforcementAllow, AAGuids: []string{aaguidYubiKey}}
	tests := []struct {
		name        string
		attestation bool
		wantTypes   PasskeyTypes
		wantEnf     AttestationEnforcement
	}{
		{"attestation enforced", true, "deviceBound", AttestationEnforcementRegistrationOnly},
		{"attestation not enforced", false, "deviceBound,synced", AttestationEnforcementDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewFido2Configuration()
			c.State = StateEnabled
			c.IsAttestationEnforced = tc.attestation
			c.KeyRestrictions = restr.clone()
			c.IncludeTargets = append(c.IncludeTargets, PasskeyAuthenticationMethodTarget{ID: groupAdmins, TargetType: TargetTypeGroup})
			before := c.Clone()

			m := EnablePasskeyProfiles(c)
			if !reflect.DeepEqual(c, before) {
				t.Fatal("input was modified")
			}
			if !m.ProfilesEnabled() || m.DefaultPasskeyProfile != DefaultPasskeyProfileID {
				t.Fatalf("not migrated: %+v", m)
			}
			if len(m.PasskeyProfiles) != 1 {
				t.Fatalf("want one profile, got %d", len(m.PasskeyProfiles))
			}
			d := m.PasskeyProfiles[0]
			if d.Name != DefaultPasskeyProfileName || d.PasskeyTypes != tc.wantTypes || d.AttestationEnforcement != tc.wantEnf {
				t.Fatalf("default profile = %+v", d)
			}
			if !reflect.DeepEqual(d.KeyRestrictions, restr) {
				t.Fatalf("key restrictions not copied: %+v", d.KeyRestrictions)
			}
			for _, tg := range m.IncludeTargets {
				if !reflect.DeepEqual(tg.AllowedPasskeyProfiles, []string{DefaultPasskeyProfileID}) {
					t.Fatalf("target %s not assigned Default: %v", tg.ID, tg.AllowedPasskeyProfiles)
				}
			}
			if err := m.Validate(); err != nil {
				t.Fatalf("migrated config invalid: %v", err)
			}
			if err := ValidateUpdate(c, m); err != nil {
				t.Fatalf("migration refused as an update: %v", err)
			}
			// Aliasing: editing the migrated copy must not reach the original.
			m.PasskeyProfiles[0].KeyRestrictions.AAGuids[0] = aaguidGoogle
			if c.KeyRestrictions.AAGuids[0] != aaguidYubiKey {
				t.Fatal("migration aliases the legacy AAGUID slice")
			}
			again := EnablePasskeyProfiles(m)
			if !reflect.DeepEqual(again, m) {
				t.Fatal("second migration changed the configuration")
			}
		})
	}
}

func TestDisablePasskeyProfiles(t *testing.T) {
	if err := DisablePasskeyProfiles(NewFido2Configuration()); err != nil {
		t.Fatalf("legacy: %v", err)
	}
	err := DisablePasskeyProfiles(migrated())
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Code != CodePasskeyProfilesCannotBeDisabled {
		t.Fatalf("got %v", err)
	}
}

func TestDeletePasskeyProfile(t *testing.T) {
	unused := migrated()
	unused.IncludeTargets = unused.IncludeTargets[:2] // drop the synced target
	tests := []struct {
		name string
		c    Fido2AuthenticationMethodConfiguration
		id   string
		code ErrorCode
	}{
		{"legacy", NewFido2Configuration(), profStrict, CodePasskeyProfilesNotEnabled},
		{"default", migrated(), strings.ToUpper(DefaultPasskeyProfileID), CodeDefaultPasskeyProfileMissing},
		{"missing", migrated(), "77777777-7777-7777-7777-777777777777", CodePasskeyProfileNotFound},
		{"in use", migrated(), profSynced, CodePasskeyProfileInUse},
		{"ok", unused, profSynced, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := DeletePasskeyProfile(tc.c, tc.id)
			if tc.code != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Code != tc.code {
					t.Fatalf("want %s, got %v", tc.code, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := out.Profile(tc.id); ok || len(out.PasskeyProfiles) != 2 {
				t.Fatalf("not deleted: %+v", out.PasskeyProfiles)
			}
			if len(tc.c.PasskeyProfiles) != 3 {
				t.Fatal("input modified")
			}
			if err := out.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	values := []any{
		ptr(NewFido2Configuration()),
		ptr(migrated()),
		&Fido2AuthenticationMethod{ID: "x", DisplayName: "YubiKey 5", AAGuid: aaguidYubiKey, Model: "YubiKey 5 NFC",
			AttestationCertificates: []string{"MIIB..."}, AttestationLevel: AttestationLevelAttested, PasskeyType: PasskeyTypeDeviceBound},
		&Decision{Accepted: false, Reason: ReasonAAGUIDBlocked, Message: ReasonAAGUIDBlocked.Message(),
			Profiles: []ProfileResult{{PasskeyProfileID: profSynced, Name: "Synced only", Reason: ReasonAAGUIDBlocked}}},
		&CeremonyRequirements{Attestation: "direct", ResidentKey: "required", UserVerification: "required", AllowedPasskeyTypes: []PasskeyType{PasskeyTypeDeviceBound}},
		&ValidationError{Code: CodeInvalidAAGUID, Message: "m", Target: "keyRestrictions.aaGuids[0]"},
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		back := reflect.New(reflect.TypeOf(v).Elem()).Interface()
		if err := json.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("%T did not round-trip:\n%s\n%+v", v, b, back)
		}
	}
}

// TestGraphDocumentDecodes feeds the body of Graph's documented PATCH example
// to make sure our tags match the real property names.
func TestGraphDocumentDecodes(t *testing.T) {
	const graph = `{
  "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
  "id": "Fido2", "state": "enabled",
  "isSelfServiceRegistrationAllowed": true, "isAttestationEnforced": true,
  "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []},
  "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false,
     "allowedPasskeyProfiles": ["00000000-0000-0000-0000-000000000001"]}],
  "excludeTargets": [],
  "defaultPasskeyProfile": "00000000-0000-0000-0000-000000000001",
  "passkeyProfiles": [{"id": "00000000-0000-0000-0000-000000000001", "name": "Default passkey profile",
     "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
     "keyRestrictions": {"isEnforced": false, "enforcementType": "allow", "aaGuids": []}}]
}`
	dec := json.NewDecoder(strings.NewReader(graph))
	dec.DisallowUnknownFields()
	var c Fido2AuthenticationMethodConfiguration
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p, _ := c.Profile(DefaultPasskeyProfileID)
	if !p.PasskeyTypes.Has(PasskeyTypeSynced) || !p.PasskeyTypes.Has(PasskeyTypeDeviceBound) {
		t.Fatalf("passkeyTypes parsed wrong: %q", p.PasskeyTypes)
	}
}

func TestPasskeyTypesOf(t *testing.T) {
	cases := map[PasskeyTypes][]PasskeyType{
		"":                   nil,
		"deviceBound":        {PasskeyTypeDeviceBound},
		"synced":             {PasskeyTypeSynced},
		"deviceBound,synced": {PasskeyTypeSynced, PasskeyTypeDeviceBound, PasskeyTypeSynced},
	}
	for want, in := range cases {
		if got := PasskeyTypesOf(in...); got != want {
			t.Errorf("PasskeyTypesOf(%v) = %q, want %q", in, got, want)
		}
	}
	if !PasskeyTypes(" deviceBound , synced ").Has(PasskeyTypeSynced) {
		t.Error("Has should tolerate spaces")
	}
}

func ptr[T any](v T) *T { return &v }
