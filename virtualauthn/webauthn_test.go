package virtualauthn_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/rpserver/rpserver/virtualauthn"
)

type user struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return "alice@contoso.test" }
func (u *user) WebAuthnDisplayName() string                { return "Alice" }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

const origin = "https://login.contoso.test"

func newRP(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  "login.contoso.test",
		RPDisplayName:         "Contoso",
		RPOrigins:             []string{origin},
		AttestationPreference: protocol.PreferDirectAttestation,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func register(t *testing.T, rp *webauthn.WebAuthn, a *virtualauthn.Authenticator, u *user, opts ...webauthn.RegistrationOption) *webauthn.Credential {
	t.Helper()
	creation, session, err := rp.BeginRegistration(u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	optJSON, _ := json.Marshal(creation)
	body, err := a.Create(optJSON, origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	cred, err := rp.CreateCredential(u, *session, parsed)
	if err != nil {
		t.Fatalf("create credential: %v (%s)", err, err.(*protocol.Error).DevInfo)
	}
	u.creds = append(u.creds, *cred)
	return cred
}

// TestLibraryRoundTrip uses go-webauthn's stock handlers. apple and android-key
// are exercised in internal/attestation instead: the stock handlers pin the
// real Apple/Google roots, which a TestCA can never chain to.
func TestLibraryRoundTrip(t *testing.T) {
	ca, err := virtualauthn.NewTestCAWithIntermediate()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]virtualauthn.Config{
		"yubikey":     virtualauthn.YubiKey5(ca),
		"msauth-ios":  virtualauthn.MicrosoftAuthenticatorIOS(ca),
		"gpm":         virtualauthn.GooglePasswordManager(),
		"icloud":      virtualauthn.ICloudKeychain(),
		"packed-self": {Format: virtualauthn.FormatPackedSelf, UserVerification: true},
	} {
		t.Run(name, func(t *testing.T) {
			rp := newRP(t)
			a, err := virtualauthn.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			u := &user{id: []byte("user-" + name)}
			cred := register(t, rp, a, u)
			if !bytes.Equal(cred.Authenticator.AAGUID, cfg.AAGUID[:]) {
				t.Fatalf("aaguid %x", cred.Authenticator.AAGUID)
			}
			if cred.Flags.BackupEligible != cfg.BackupEligible || cred.Flags.BackupState != cfg.BackupState {
				t.Fatalf("flags %+v", cred.Flags)
			}

			for i := 0; i < 3; i++ {
				assertion, session, err := rp.BeginLogin(u)
				if err != nil {
					t.Fatal(err)
				}
				optJSON, _ := json.Marshal(assertion)
				body, err := a.Get(optJSON, origin)
				if err != nil {
					t.Fatal(err)
				}
				parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
				if err != nil {
					t.Fatal(err)
				}
				got, err := rp.ValidateLogin(u, *session, parsed)
				if err != nil {
					t.Fatalf("login: %v", err)
				}
				if got.Authenticator.CloneWarning {
					t.Fatal("unexpected clone warning")
				}
				u.creds[0].Authenticator.UpdateCounter(got.Authenticator.SignCount)
			}
		})
	}
}

func TestDiscoverableLogin(t *testing.T) {
	rp := newRP(t)
	a, _ := virtualauthn.New(virtualauthn.GooglePasswordManager())
	u := &user{id: []byte("discoverable-user")}
	register(t, rp, a, u, webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))

	assertion, session, err := rp.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	optJSON, _ := json.Marshal(assertion)
	body, err := a.Get(optJSON, origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rp.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(userHandle, u.id) {
			t.Fatalf("userHandle %q", userHandle)
		}
		return u, nil
	}, *session, parsed)
	if err != nil {
		t.Fatal(err)
	}
}

func TestCloneRegression(t *testing.T) {
	ca, _ := virtualauthn.NewTestCA()
	rp := newRP(t)
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(ca))
	u := &user{id: []byte("clone-user")}
	register(t, rp, a, u)
	clone := a.Clone()

	login := func(dev *virtualauthn.Authenticator) *webauthn.Credential {
		assertion, session, _ := rp.BeginLogin(u)
		optJSON, _ := json.Marshal(assertion)
		body, err := dev.Get(optJSON, origin)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rp.ValidateLogin(u, *session, parsed)
		if err != nil {
			t.Fatal(err)
		}
		u.creds[0].Authenticator.UpdateCounter(got.Authenticator.SignCount)
		return got
	}
	if login(a).Authenticator.CloneWarning {
		t.Fatal("first login flagged")
	}
	if !login(clone).Authenticator.CloneWarning {
		t.Fatal("clone not detected")
	}
}

func TestNegativeLibrary(t *testing.T) {
	ca, _ := virtualauthn.NewTestCA()
	cases := map[string]virtualauthn.Tamper{
		"origin":   {Origin: "https://evil.test"},
		"rpid":     {RPID: "evil.test"},
		"bs-no-be": {BSWithoutBE: true},
		"no-up":    {NoUserPresence: true},
		"sig":      {CorruptSignature: true},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			rp := newRP(t)
			a, _ := virtualauthn.New(virtualauthn.YubiKey5(ca))
			u := &user{id: []byte("neg")}
			creation, session, _ := rp.BeginRegistration(u)
			optJSON, _ := json.Marshal(creation)
			body, err := a.CreateTampered(optJSON, origin, tamper)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rp.CreateCredential(u, *session, parsed); err == nil {
				t.Fatal("tampered registration accepted")
			}
		})
	}
}
