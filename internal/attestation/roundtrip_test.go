package attestation_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/virtualauthn"
)

const (
	rpID   = "login.contoso.test"
	origin = "https://login.contoso.test"
)

type user struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return "alice@contoso.test" }
func (u *user) WebAuthnDisplayName() string                { return "Alice" }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

type fixture struct {
	ca, rogue *virtualauthn.TestCA
	store     *attestation.TrustStore
	rp        *webauthn.WebAuthn
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ca, err := virtualauthn.NewTestCAWithIntermediate()
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	store := attestation.NewTrustStore()
	if err := store.AddPEM(uuid.Nil, ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: "Contoso", RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferDirectAttestation,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ca: ca, rogue: rogue, store: store, rp: rp}
}

// ceremony is what internal/ceremony is expected to do: library first, then
// Evaluate on the object the library parsed.
type outcome struct {
	err     error
	result  attestation.Result
	cred    *webauthn.Credential
	attObj  []byte
	cdJSON  []byte
	regJSON []byte
}

func (f *fixture) register(t testing.TB, a *virtualauthn.Authenticator, u *user, tamper virtualauthn.Tamper) outcome {
	t.Helper()
	creation, session, err := f.rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(creation)
	body, err := a.CreateTampered(opts, origin, tamper)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Response struct {
			ClientDataJSON    string `json:"clientDataJSON"`
			AttestationObject string `json:"attestationObject"`
		} `json:"response"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	o := outcome{regJSON: body}
	o.attObj, _ = base64.RawURLEncoding.DecodeString(wire.Response.AttestationObject)
	o.cdJSON, _ = base64.RawURLEncoding.DecodeString(wire.Response.ClientDataJSON)

	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	cred, err := f.rp.CreateCredential(u, *session, parsed)
	if err != nil {
		o.err = err
		return o
	}
	cdh := sha256.Sum256(parsed.Raw.AttestationResponse.ClientDataJSON)
	o.result = attestation.Evaluate(parsed.Response.AttestationObject, cdh[:], f.store, time.Now())
	o.cred = cred
	u.creds = append(u.creds, *cred)
	return o
}

func (f *fixture) login(t testing.TB, a *virtualauthn.Authenticator, u *user) {
	t.Helper()
	assertion, session, err := f.rp.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(assertion)
	body, err := a.Get(opts, origin)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rp.ValidateLogin(u, *session, parsed); err != nil {
		t.Fatalf("login: %v", err)
	}
}

func TestValidFormatsRoundTrip(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name     string
		cfg      virtualauthn.Config
		attType  string
		trusted  bool
		reason   string
		model    string
		chainLen int
	}{
		{"yubikey-packed", virtualauthn.YubiKey5(f.ca), attestation.TypeBasic, true, "", "YubiKey 5 Series", 3},
		{"msauth-ios-packed", virtualauthn.MicrosoftAuthenticatorIOS(f.ca), attestation.TypeBasic, true, "", "Microsoft Authenticator (iOS)", 3},
		{"msauth-android-key", virtualauthn.MicrosoftAuthenticatorAndroid(f.ca), attestation.TypeBasic, true, "", "Microsoft Authenticator (Android)", 3},
		{"apple", virtualauthn.Config{Format: virtualauthn.FormatApple, CA: f.ca, UserVerification: true, Attachment: "platform"}, attestation.TypeAnonCA, true, "", "", 3},
		{"packed-self", virtualauthn.Config{Format: virtualauthn.FormatPackedSelf, UserVerification: true}, attestation.TypeSelf, false, attestation.ReasonMissing, "", 0},
		{"synced-gpm", virtualauthn.GooglePasswordManager(), attestation.TypeNone, false, attestation.ReasonMissing, "Google Password Manager", 0},
		{"synced-icloud", virtualauthn.ICloudKeychain(), attestation.TypeNone, false, attestation.ReasonMissing, "Apple Passwords", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := virtualauthn.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			u := &user{id: []byte("u-" + tc.name)}
			o := f.register(t, a, u, virtualauthn.Tamper{})
			if o.err != nil {
				t.Fatalf("CreateCredential: %v", o.err)
			}
			r := o.result
			if r.AttestationType != tc.attType || r.Trusted != tc.trusted || r.Reason != tc.reason || r.Model != tc.model || len(r.ChainSubjects) != tc.chainLen {
				t.Fatalf("result %+v", r)
			}
			if r.AAGUID != tc.cfg.AAGUID.String() {
				t.Fatalf("aaguid %s", r.AAGUID)
			}
			if r.Attested != (tc.chainLen > 0) {
				t.Fatalf("attested %v", r.Attested)
			}
			// The offline path must agree with the ceremony path.
			in, err := attestation.Inspect(o.attObj, o.cdJSON, f.store, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if in.Reason != r.Reason || in.Trusted != r.Trusted || in.AttestationType != r.AttestationType {
				t.Fatalf("inspect %+v vs evaluate %+v", in.Result, r)
			}
			if in.ClientData.Origin != origin {
				t.Fatalf("inspect origin %q", in.ClientData.Origin)
			}
			f.login(t, a, u)
			f.login(t, a, u)
		})
	}
}

func TestTamperedRefused(t *testing.T) {
	f := newFixture(t)
	other := uuid.MustParse("00000000-1111-2222-3333-444444444444")
	packed := virtualauthn.YubiKey5(f.ca)
	android := virtualauthn.MicrosoftAuthenticatorAndroid(f.ca)
	apple := virtualauthn.Config{Format: virtualauthn.FormatApple, CA: f.ca, UserVerification: true}
	self := virtualauthn.Config{Format: virtualauthn.FormatPackedSelf, UserVerification: true}

	cases := []struct {
		name   string
		cfg    virtualauthn.Config
		tamper virtualauthn.Tamper
		reason string
		// ceremonyFails: statement invalid -> go-webauthn refuses the
		// registration; otherwise the registration completes and the
		// verdict is policy's to act on.
		ceremonyFails bool
	}{
		{"packed-bad-signature", packed, virtualauthn.Tamper{CorruptSignature: true}, attestation.ReasonSignatureInvalid, true},
		{"self-bad-signature", self, virtualauthn.Tamper{CorruptSignature: true}, attestation.ReasonSignatureInvalid, true},
		{"android-bad-signature", android, virtualauthn.Tamper{CorruptSignature: true}, attestation.ReasonSignatureInvalid, true},
		{"apple-wrong-nonce", apple, virtualauthn.Tamper{WrongAppleNonce: true}, attestation.ReasonNonceMismatch, true},
		{"android-wrong-challenge", android, virtualauthn.Tamper{WrongAndroidChallenge: true}, attestation.ReasonChallengeMismatch, true},
		{"packed-aaguid-mismatch", packed, virtualauthn.Tamper{CertAAGUID: other}, attestation.ReasonAAGUIDMismatch, true},
		{"packed-untrusted-root", packed, virtualauthn.Tamper{UntrustedCA: f.rogue}, attestation.ReasonUntrustedRoot, false},
		{"apple-untrusted-root", apple, virtualauthn.Tamper{UntrustedCA: f.rogue}, attestation.ReasonUntrustedRoot, false},
		{"android-untrusted-root", android, virtualauthn.Tamper{UntrustedCA: f.rogue}, attestation.ReasonUntrustedRoot, false},
		{"apple-leaf-signature-broken", apple, virtualauthn.Tamper{CorruptSignature: true}, attestation.ReasonUntrustedRoot, false},
		{"packed-expired", packed, virtualauthn.Tamper{ExpiredCert: true}, attestation.ReasonCertExpired, false},
		{"apple-expired", apple, virtualauthn.Tamper{ExpiredCert: true}, attestation.ReasonCertExpired, false},
		{"android-expired", android, virtualauthn.Tamper{ExpiredCert: true}, attestation.ReasonCertExpired, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := virtualauthn.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			o := f.register(t, a, &user{id: []byte("u-" + tc.name)}, tc.tamper)
			if tc.ceremonyFails {
				if o.err == nil {
					t.Fatalf("tampered statement accepted by ceremony: %+v", o.result)
				}
				if got, ok := attestation.ReasonOf(o.err); !ok || got != tc.reason {
					t.Fatalf("ReasonOf(%v) = %q,%v want %q", o.err, got, ok, tc.reason)
				}
			} else {
				if o.err != nil {
					t.Fatalf("ceremony: %v", o.err)
				}
				if o.result.Reason != tc.reason || o.result.Trusted {
					t.Fatalf("result %+v, want %s", o.result, tc.reason)
				}
			}
			in, err := attestation.Inspect(o.attObj, o.cdJSON, f.store, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if in.Reason != tc.reason || in.Trusted {
				t.Fatalf("inspect %+v, want %s", in.Result, tc.reason)
			}
		})
	}
}

// Android keys generated in software list origin/purpose in softwareEnforced;
// the default (TEE-only) scope must not accept them.
func TestAndroidSoftwareKeyRefusedUnderTEEScope(t *testing.T) {
	f := newFixture(t)
	cfg := virtualauthn.MicrosoftAuthenticatorAndroid(f.ca)
	cfg.AndroidKey.SoftwareEnforced = true
	a, _ := virtualauthn.New(cfg)
	o := f.register(t, a, &user{id: []byte("sw")}, virtualauthn.Tamper{})
	if r, _ := attestation.ReasonOf(o.err); r != attestation.ReasonKeyDescriptionBad {
		t.Fatalf("got %v", o.err)
	}
	cfg.AndroidKey = virtualauthn.AndroidAuthorizations{AllApplications: true}
	a, _ = virtualauthn.New(cfg)
	o = f.register(t, a, &user{id: []byte("allapps")}, virtualauthn.Tamper{})
	if r, _ := attestation.ReasonOf(o.err); r != attestation.ReasonKeyDescriptionBad {
		t.Fatalf("got %v", o.err)
	}
}

func TestPerAAGUIDAnchors(t *testing.T) {
	f := newFixture(t)
	store := attestation.NewTrustStore()
	if err := store.AddPEM(virtualauthn.AAGUIDYubiKey5NFC, f.ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	f.store = store
	yk, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	if o := f.register(t, yk, &user{id: []byte("a")}, virtualauthn.Tamper{}); !o.result.Trusted {
		t.Fatalf("yubikey not trusted: %+v", o.result)
	}
	// Same vendor root, different AAGUID: not trusted, because the anchor is
	// scoped to the YubiKey AAGUID.
	ms, _ := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorIOS(f.ca))
	if o := f.register(t, ms, &user{id: []byte("b")}, virtualauthn.Tamper{}); o.result.Trusted || o.result.Reason != attestation.ReasonUntrustedRoot {
		t.Fatalf("cross-AAGUID anchor used: %+v", o.result)
	}
}

// Evaluate must not depend on the memo: a fresh verification gives the same
// answer, and time travel past the leaf's expiry flips the verdict.
func TestEvaluateWithoutLibraryAndTime(t *testing.T) {
	f := newFixture(t)
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	o := f.register(t, a, &user{id: []byte("t")}, virtualauthn.Tamper{})
	in, err := attestation.Inspect(o.attObj, o.cdJSON, f.store, time.Now().AddDate(6, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if in.Reason != attestation.ReasonCertExpired {
		t.Fatalf("future: %+v", in.Result)
	}
	// Wrong clientDataJSON: signature no longer covers it.
	in, err = attestation.Inspect(o.attObj, []byte(`{"type":"webauthn.create","challenge":"AA","origin":"https://x"}`), f.store, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if in.Reason != attestation.ReasonSignatureInvalid {
		t.Fatalf("wrong client data: %+v", in.Result)
	}
}

func TestConcurrentCeremonies(t *testing.T) {
	f := newFixture(t)
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	b, _ := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorAndroid(f.ca))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			dev := a
			if i%2 == 1 {
				dev = b
			}
			u := &user{id: []byte{byte(i), 'c'}}
			o := f.register(t, dev, u, virtualauthn.Tamper{})
			if o.err != nil || !o.result.Trusted {
				errs <- o.result.Reason
				return
			}
			f.login(t, dev, u)
		}(i)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("concurrent ceremony failed: %q", e)
	}
}

// TestCatalogLayers: the operator's file over FIDO MDS over the community
// list over this project's own names; icons come along with names.
func TestCatalogLayers(t *testing.T) {
	var store *attestation.TrustStore // nil: the embedded lists only
	if got := store.ModelName("90A3CCDF-635C-4729-A248-9B709135078F"); got != "Microsoft Authenticator (iOS)" {
		t.Fatal(got)
	}
	if store.ModelName(uuid.Nil.String()) != "" || store.ModelName("not a uuid") != "" {
		t.Fatal("nil or bad aaguid has a name")
	}
	// The community list: name and both icons.
	onePassword := uuid.MustParse("bada5566-a7aa-401f-bd96-45619a55120d")
	a, ok := store.Authenticator(onePassword)
	if !ok || a.Name != "1Password" || a.Source != attestation.SourceCommunity ||
		!strings.HasPrefix(a.IconLight, "data:image/svg+xml;base64,") || !strings.HasPrefix(a.IconDark, "data:image/svg+xml;base64,") {
		t.Fatalf("%+v", a)
	}

	f := newFixture(t)
	rootPEM, sign := mdsSigner(t)
	store = attestation.NewTrustStore()
	e := mdsEntry(f.ca)
	e["aaguid"] = onePassword.String()
	e["metadataStatement"].(map[string]any)["aaguid"] = onePassword.String()
	e["metadataStatement"].(map[string]any)["description"] = "1Password (from MDS)"
	if _, err := store.LoadMDS(sign(mdsBlobClaims("2099-01-01", e)), rootPEM, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if a, _ := store.Authenticator(onePassword); a.Name != "1Password (from MDS)" || a.Source != attestation.SourceMDS || a.IconLight == "" {
		t.Fatalf("MDS layer (keeping the community icons): %+v", a)
	}

	dir := t.TempDir()
	p := filepath.Join(dir, "catalog.json")
	svg := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`))
	if err := os.WriteFile(p, []byte(`{"`+onePassword.String()+`":{"name":"Corporate 1Password","icon_light":"`+svg+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := store.LoadCatalogFile(p); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if a, _ := store.Authenticator(onePassword); a.Name != "Corporate 1Password" || a.Source != attestation.SourceFile || a.IconLight != svg || a.IconDark != "" {
		t.Fatalf("file layer: %+v", a)
	}
	for name, body := range map[string]string{
		"not JSON":       `[`,
		"bad AAGUID":     `{"nope":{"name":"x"}}`,
		"no name":        `{"` + onePassword.String() + `":{"name":" "}}`,
		"script as icon": `{"` + onePassword.String() + `":{"name":"x","icon_light":"javascript:alert(1)"}}`,
	} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := store.LoadCatalogFile(p); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
