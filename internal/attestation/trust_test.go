package attestation_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/virtualauthn"
)

// mdsSigner builds a root and a blob-signing leaf, like FIDO's GlobalSign chain.
func mdsSigner(t *testing.T) (rootPEM []byte, sign func(claims jwt.MapClaims) []byte) {
	t.Helper()
	rk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "MDS root"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rder, err := x509.CreateCertificate(rand.Reader, rt, rt, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rder)
	lk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "MDS signer"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	lder, err := x509.CreateCertificate(rand.Reader, lt, root, &lk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rder}), func(c jwt.MapClaims) []byte {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["x5c"] = []any{base64.StdEncoding.EncodeToString(lder)}
		s, err := tok.SignedString(lk)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(s)
	}
}

func mdsClaims(ca *virtualauthn.TestCA, status string) jwt.MapClaims {
	return jwt.MapClaims{
		"legalHeader": "test", "no": 1, "nextUpdate": "2099-01-01",
		"entries": []any{map[string]any{
			"aaguid": virtualauthn.AAGUIDYubiKey5NFC.String(),
			"metadataStatement": map[string]any{
				"attestationRootCertificates": []any{base64.StdEncoding.EncodeToString(ca.Root().Raw)},
			},
			"statusReports": []any{
				map[string]any{"status": "FIDO_CERTIFIED", "effectiveDate": "2020-01-01"},
				map[string]any{"status": status, "effectiveDate": "2024-01-01"},
			},
		}},
	}
}

func TestMDSBlobAnchors(t *testing.T) {
	f := newFixture(t)
	rootPEM, sign := mdsSigner(t)

	store := attestation.NewTrustStore()
	n, err := store.LoadMDS(sign(mdsClaims(f.ca, "FIDO_CERTIFIED_L1")), rootPEM, false, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("LoadMDS: %d %v", n, err)
	}
	f.store = store
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	if o := f.register(t, a, &user{id: []byte("m")}, virtualauthn.Tamper{}); !o.result.Trusted {
		t.Fatalf("MDS anchor not used: %+v", o.result)
	}

	revoked := attestation.NewTrustStore()
	if _, err := revoked.LoadMDS(sign(mdsClaims(f.ca, "ATTESTATION_KEY_COMPROMISE")), rootPEM, false, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.store = revoked
	if o := f.register(t, a, &user{id: []byte("r")}, virtualauthn.Tamper{}); o.result.Trusted || o.result.Reason != attestation.ReasonAuthenticatorRevoked {
		t.Fatalf("revoked authenticator trusted: %+v", o.result)
	}

	// A blob signed by someone else is refused, and an unverified blob
	// needs explicit opt-in.
	otherRoot, _ := mdsSigner(t)
	if _, err := attestation.NewTrustStore().LoadMDS(sign(mdsClaims(f.ca, "FIDO_CERTIFIED")), otherRoot, false, time.Now()); err == nil {
		t.Fatal("blob with foreign signer accepted")
	}
	if _, err := attestation.NewTrustStore().LoadMDS(sign(mdsClaims(f.ca, "FIDO_CERTIFIED")), nil, false, time.Now()); err == nil {
		t.Fatal("unverified blob accepted without opt-in")
	}
	if n, err := attestation.NewTrustStore().LoadMDS(sign(mdsClaims(f.ca, "FIDO_CERTIFIED")), nil, true, time.Now()); err != nil || n != 1 {
		t.Fatalf("opt-in unverified: %d %v", n, err)
	}
}

func TestLoadTrustStoreFromFiles(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "yubico.pem")
	if err := os.WriteFile(p, f.ca.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := attestation.LoadTrustStore(attestation.TrustConfig{Entries: []string{virtualauthn.AAGUIDYubiKey5NFC.String() + "=" + p}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	if o := f.register(t, a, &user{id: []byte("f")}, virtualauthn.Tamper{}); !o.result.Trusted {
		t.Fatalf("%+v", o.result)
	}
	for _, bad := range []string{"no-equals", "not-a-uuid=" + p, virtualauthn.AAGUIDYubiKey5NFC.String() + "="} {
		if _, err := attestation.LoadTrustStore(attestation.TrustConfig{Entries: []string{bad}}, time.Now()); err == nil {
			t.Fatalf("entry %q accepted", bad)
		}
	}
}
