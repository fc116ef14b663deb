package rollout

import (
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/profiles"
)

const (
	wave     = "aaaaaaaa-0000-0000-0000-000000000001"
	other    = "aaaaaaaa-0000-0000-0000-000000000002"
	strictID = "11111111-1111-1111-1111-111111111111"
)

var (
	authenticatorIOS = profiles.Credential{AAGUID: uuid.MustParse("90a3ccdf-635c-4729-a248-9b709135078f")}
	yubiKey          = profiles.Credential{AAGUID: uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")}
	syncedKey        = profiles.Credential{AAGUID: uuid.MustParse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"), BackupEligible: true, BackupState: true}
)

// config targets group with the Authenticator-only device-bound profile
// (profiles on), or the legacy policy when legacy.
func config(group string, legacy bool) profiles.Fido2AuthenticationMethodConfiguration {
	c := profiles.NewFido2Configuration()
	c.State = profiles.StateEnabled
	if legacy {
		c.IncludeTargets = []profiles.PasskeyAuthenticationMethodTarget{{ID: group, TargetType: "group"}}
		return c
	}
	c = profiles.EnablePasskeyProfiles(c)
	c.PasskeyProfiles = append(c.PasskeyProfiles, profiles.PasskeyProfile{ID: strictID, Name: "Authenticator only", PasskeyTypes: "deviceBound",
		AttestationEnforcement: profiles.AttestationEnforcementDisabled,
		KeyRestrictions:        profiles.Fido2KeyRestrictions{IsEnforced: true, EnforcementType: profiles.EnforcementAllow, AAGuids: []string{"90a3ccdf-635c-4729-a248-9b709135078f"}}})
	c.IncludeTargets = []profiles.PasskeyAuthenticationMethodTarget{{ID: group, TargetType: "group", AllowedPasskeyProfiles: []string{strictID}}}
	return c
}

func TestBuild(t *testing.T) {
	members := []Member{
		{UserID: "u1", UserPrincipalName: "a@lab", Passkeys: []profiles.Credential{authenticatorIOS}},
		{UserID: "u2", UserPrincipalName: "b@lab", Passkeys: []profiles.Credential{syncedKey, yubiKey}},
	}
	wavePolicy := policy.ConditionalAccessPolicy{ID: "p1", DisplayName: "CA-Wave", State: policy.StateReportOnly,
		Conditions: policy.ConditionalAccessConditionSet{Users: policy.ConditionalAccessUsers{IncludeGroups: []string{wave}}}}
	otherPolicy := policy.ConditionalAccessPolicy{ID: "p2", Conditions: policy.ConditionalAccessConditionSet{Users: policy.ConditionalAccessUsers{IncludeGroups: []string{other}}}}
	excluded := config(wave, false)
	excluded.ExcludeTargets = []profiles.ExcludeTarget{{ID: wave, TargetType: "group"}}
	off := config(wave, false)
	off.State = profiles.StateDisabled

	tests := []struct {
		name           string
		cfg            profiles.Fido2AuthenticationMethodConfiguration
		members        []Member
		users          []UserSignIns
		allowed        int
		allowedPerUser []int
		reason         string
		ready          bool
		unconfigured   bool
	}{
		{name: "never configured: the open gate takes any passkey", cfg: profiles.NewFido2Configuration(), unconfigured: true, members: members, allowed: 2, allowedPerUser: []int{1, 2}, ready: true},
		{name: "profile allows Authenticator only", cfg: config(wave, false), members: members, allowed: 1, allowedPerUser: []int{1, 0}},
		{name: "legacy policy: device-bound, no key restrictions", cfg: config(wave, true), members: members, allowed: 2, allowedPerUser: []int{1, 1}, ready: true},
		{name: "legacy, but a sign-in would fail", cfg: config(wave, true), members: members, users: []UserSignIns{{UserID: "U1", SignIns: 3, WouldFail: 1}}, allowed: 2, allowedPerUser: []int{1, 1}},
		{name: "another group targeted", cfg: config(other, false), members: members, allowedPerUser: []int{0, 0}, reason: "methodNotEnabledForUser"},
		{name: "the wave group excluded", cfg: excluded, members: members, allowedPerUser: []int{0, 0}, reason: "methodNotEnabledForUser"},
		{name: "method off", cfg: off, members: members, allowedPerUser: []int{0, 0}, reason: "methodDisabled"},
		{name: "no members is never ready", cfg: config(wave, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := []policy.ConditionalAccessPolicy{otherPolicy, wavePolicy}
			r := Build(Report{GroupID: wave}, tc.cfg, !tc.unconfigured, WavePolicies(all, wave), Facts{Members: tc.members, Users: tc.users,
				Results: []PolicyResult{{PolicyID: "P1", Result: policy.ResultReportOnlyFailure, Count: 2}, {PolicyID: "p2", Result: policy.ResultFailure, Count: 5}}})
			if r.MembersWithAllowedPasskey != tc.allowed || r.PasskeyNotApplicable != tc.reason || r.ReadyToEnforce != tc.ready || r.Members != len(tc.members) {
				t.Fatalf("%+v", r)
			}
			for i, m := range r.MemberStatus {
				if m.AllowedPasskeys != tc.allowedPerUser[i] {
					t.Errorf("%s allowed %d, want %d", m.UserPrincipalName, m.AllowedPasskeys, tc.allowedPerUser[i])
				}
			}
			if len(r.Policies) != 1 || r.Policies[0].ID != "p1" || r.Policies[0].Results[policy.ResultReportOnlyFailure] != 2 || len(r.Policies[0].Results) != 7 {
				t.Fatalf("wave policies %+v", r.Policies)
			}
			fail := 0
			for _, u := range tc.users {
				fail += u.WouldFail
			}
			if r.SignInsThatWouldFail != fail {
				t.Fatalf("would fail %d, want %d", r.SignInsThatWouldFail, fail)
			}
		})
	}
}
