package reports

import (
	"slices"
	"testing"

	"github.com/google/uuid"
)

func TestDetails(t *testing.T) {
	yubikey := Passkey{AAGUID: uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")}
	msIOS := Passkey{AAGUID: uuid.MustParse("90a3ccdf-635c-4729-a248-9b709135078f")}
	synced := Passkey{AAGUID: uuid.MustParse("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"), BackupEligible: true}
	cases := []struct {
		name                       string
		f                          Facts
		methods                    []string
		mfa, passwordless          bool
		preferred, systemPreferred string
	}{
		{"password only", Facts{Password: true}, []string{MethodPassword}, false, false, "none", ""},
		{"a TAP is not an MFA registration", Facts{ActiveTAP: true}, []string{MethodTemporaryAccessPass}, false, false, "none", ""},
		{"push", Facts{Password: true, Push: true}, []string{MethodPassword, MethodAuthenticatorPush}, true, false, "push", "Push"},
		{"totp", Facts{TOTP: true}, []string{MethodSoftwareOTP}, true, false, "oath", "Oath"},
		{"security key", Facts{Passkeys: []Passkey{yubikey}}, []string{MethodPasskeyDeviceBound}, true, true, "none", "Fido2"},
		{"Authenticator passkey", Facts{Passkeys: []Passkey{msIOS}}, []string{MethodPasskeyDeviceBoundAuthenticator}, true, true, "none", "Fido2"},
		{"synced passkey", Facts{Passkeys: []Passkey{synced, synced}}, []string{MethodPasskeySynced}, true, true, "none", "Fido2"},
	}
	for _, c := range cases {
		d := Details(c.f)
		if !slices.Equal(d.MethodsRegistered, c.methods) || d.IsMfaRegistered != c.mfa || d.IsPasswordlessCapable != c.passwordless ||
			d.UserPreferredMethodForSecondaryAuthentication != c.preferred || (c.systemPreferred != "" && (len(d.SystemPreferredAuthenticationMethods) != 1 || d.SystemPreferredAuthenticationMethods[0] != c.systemPreferred)) {
			t.Errorf("%s: %+v", c.name, d)
		}
	}
}

func TestUsersByMethod(t *testing.T) {
	all := []UserRegistrationDetails{
		Details(Facts{IsAdmin: true, Passkeys: []Passkey{{AAGUID: uuid.New()}}, Push: true}),
		Details(Facts{Password: true}),
		Details(Facts{Password: true, Push: true}),
	}
	count := func(s MethodSummary, m string) int64 {
		for _, c := range s.UserRegistrationMethodCount {
			if c.AuthenticationMethod == m {
				return c.UserCount
			}
		}
		return -1
	}
	s := UsersByMethod(all, "all", "all")
	if s.TotalUserCount != 3 || count(s, MethodAuthenticatorPush) != 2 || count(s, MethodPassword) != 2 || count(s, MethodPasskeyDeviceBound) != 1 || count(s, MethodSoftwareOTP) != 0 {
		t.Fatalf("all: %+v", s)
	}
	if a := UsersByMethod(all, "admin", "all"); a.TotalUserCount != 1 || count(a, MethodPassword) != 0 {
		t.Fatalf("admins: %+v", a)
	}
	if u := UsersByMethod(all, "user", "all"); u.TotalUserCount != 2 {
		t.Fatalf("users: %+v", u)
	}
	if g := UsersByMethod(all, "all", "guest"); g.TotalUserCount != 0 {
		t.Fatalf("guests: %+v", g)
	}
}
