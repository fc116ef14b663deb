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

	"github.com/fxamacker/cbor/v2"
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

// mdsEntry is one FIDO2 entry for the YubiKey 5 AAGUID whose statement
// names ca's root; status reports are (status, effectiveDate) pairs.
func mdsEntry(ca *virtualauthn.TestCA, reports ...map[string]any) map[string]any {
	srs := []any{map[string]any{"status": "FIDO_CERTIFIED", "effectiveDate": "2020-01-01"}}
	for _, r := range reports {
		srs = append(srs, r)
	}
	return map[string]any{
		"aaguid": virtualauthn.AAGUIDYubiKey5NFC.String(),
		"metadataStatement": map[string]any{
			"aaguid":                      virtualauthn.AAGUIDYubiKey5NFC.String(),
			"description":                 "YubiKey 5 Series with NFC (from MDS)",
			"attestationRootCertificates": []any{base64.StdEncoding.EncodeToString(ca.Root().Raw)},
			"attestationTypes":            []any{"basic_full"},
			"authenticationAlgorithms":    []any{"secp256r1_ecdsa_sha256_raw", "ed25519_eddsa_sha512_raw"},
		},
		"statusReports":          srs,
		"timeOfLastStatusChange": "2024-01-01",
	}
}

func mdsBlobClaims(nextUpdate string, entries ...map[string]any) jwt.MapClaims {
	es := make([]any, len(entries))
	for i, e := range entries {
		es[i] = e
	}
	return jwt.MapClaims{"legalHeader": "test", "no": 7, "nextUpdate": nextUpdate, "entries": es}
}

func mdsClaims(ca *virtualauthn.TestCA, status string) jwt.MapClaims {
	return mdsBlobClaims("2099-01-01", mdsEntry(ca, map[string]any{"status": status, "effectiveDate": "2024-01-01"}))
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
	if o := f.register(t, a, &user{id: []byte("m")}, virtualauthn.Tamper{}); !o.result.Trusted || o.result.Warning != "" {
		t.Fatalf("MDS anchor not used: %+v", o.result)
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

// TestMDSStatusReports: undesired statuses refuse trust once in effect,
// certificate-scoped ones only for the chain that holds the certificate.
func TestMDSStatusReports(t *testing.T) {
	f := newFixture(t)
	rootPEM, sign := mdsSigner(t)
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	probe := f.register(t, a, &user{id: []byte("probe")}, virtualauthn.Tamper{})
	leaf := leafOf(t, probe.attObj)
	other, _ := virtualauthn.NewTestCA()
	future := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	for _, c := range []struct {
		name   string
		report map[string]any
		status string // "" trusted
	}{
		{"certified", map[string]any{"status": "FIDO_CERTIFIED_L2", "effectiveDate": "2024-01-01"}, ""},
		{"revoked", map[string]any{"status": "REVOKED", "effectiveDate": "2024-01-01"}, "REVOKED"},
		{"key compromise", map[string]any{"status": "ATTESTATION_KEY_COMPROMISE", "effectiveDate": "2024-01-01"}, "ATTESTATION_KEY_COMPROMISE"},
		{"UV bypass", map[string]any{"status": "USER_VERIFICATION_BYPASS", "effectiveDate": "2024-01-01"}, "USER_VERIFICATION_BYPASS"},
		{"retired, as go-webauthn treats it", map[string]any{"status": "RETIRED", "effectiveDate": "2024-01-01"}, "RETIRED"},
		{"revocation not yet in effect", map[string]any{"status": "REVOKED", "effectiveDate": future}, ""},
		{"revocation past its sunset", map[string]any{"status": "REVOKED", "effectiveDate": "2023-01-01", "sunsetDate": "2024-01-01"}, ""},
		{"compromise of this batch certificate", map[string]any{"status": "ATTESTATION_KEY_COMPROMISE", "effectiveDate": "2024-01-01",
			"batchCertificate": base64.StdEncoding.EncodeToString(leaf.Raw)}, "ATTESTATION_KEY_COMPROMISE"},
		{"compromise of another batch", map[string]any{"status": "ATTESTATION_KEY_COMPROMISE", "effectiveDate": "2024-01-01",
			"certificate": base64.StdEncoding.EncodeToString(other.Root().Raw)}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := attestation.NewTrustStore()
			if _, err := store.LoadMDS(sign(mdsBlobClaims("2099-01-01", mdsEntry(f.ca, c.report))), rootPEM, false, time.Now()); err != nil {
				t.Fatal(err)
			}
			f.store = store
			o := f.register(t, a, &user{id: []byte(c.name)}, virtualauthn.Tamper{})
			if c.status == "" {
				if !o.result.Trusted {
					t.Fatalf("%+v", o.result)
				}
				return
			}
			if o.result.Trusted || o.result.Reason != attestation.ReasonAuthenticatorRevoked || o.result.MDSStatus != c.status {
				t.Fatalf("%+v", o.result)
			}
		})
	}
}

// TestMDSStatement: the attestation must match the types and algorithms
// the model's metadata statement declares; a stale blob is reported and,
// by choice, refused.
func TestMDSStatement(t *testing.T) {
	f := newFixture(t)
	rootPEM, sign := mdsSigner(t)
	a, _ := virtualauthn.New(virtualauthn.YubiKey5(f.ca))
	load := func(t *testing.T, claims jwt.MapClaims) *attestation.TrustStore {
		store := attestation.NewTrustStore()
		if _, err := store.LoadMDS(sign(claims), rootPEM, false, time.Now()); err != nil {
			t.Fatal(err)
		}
		return store
	}
	t.Run("attestation type not declared", func(t *testing.T) {
		e := mdsEntry(f.ca)
		e["metadataStatement"].(map[string]any)["attestationTypes"] = []any{"attca"}
		f.store = load(t, mdsBlobClaims("2099-01-01", e))
		if o := f.register(t, a, &user{id: []byte("t")}, virtualauthn.Tamper{}); o.result.Trusted || o.result.Reason != attestation.ReasonAttestationTypeMismatch {
			t.Fatalf("%+v", o.result)
		}
	})
	t.Run("algorithm not declared", func(t *testing.T) {
		e := mdsEntry(f.ca)
		e["metadataStatement"].(map[string]any)["authenticationAlgorithms"] = []any{"ed25519_eddsa_sha512_raw"}
		f.store = load(t, mdsBlobClaims("2099-01-01", e))
		if o := f.register(t, a, &user{id: []byte("a")}, virtualauthn.Tamper{}); o.result.Trusted || o.result.Reason != attestation.ReasonAlgorithmMismatch {
			t.Fatalf("%+v", o.result)
		}
	})
	t.Run("stale blob reported", func(t *testing.T) {
		f.store = load(t, mdsBlobClaims("2020-01-01", mdsEntry(f.ca)))
		if o := f.register(t, a, &user{id: []byte("s")}, virtualauthn.Tamper{}); !o.result.Trusted || o.result.Warning == "" {
			t.Fatalf("%+v", o.result)
		}
		if info := f.store.MDSInfo(); info.Number != 7 || info.NextUpdate.Format(time.DateOnly) != "2020-01-01" || info.Entries != 1 {
			t.Fatalf("%+v", info)
		}
	})
	t.Run("stale blob refused", func(t *testing.T) {
		f.store = load(t, mdsBlobClaims("2020-01-01", mdsEntry(f.ca)))
		f.store.RefuseStaleMDS(true)
		if o := f.register(t, a, &user{id: []byte("r")}, virtualauthn.Tamper{}); o.result.Trusted || o.result.Reason != attestation.ReasonMetadataStale {
			t.Fatalf("%+v", o.result)
		}
	})
	t.Run("a malformed entry is skipped, not fatal", func(t *testing.T) {
		bad := mdsEntry(f.ca)
		bad["aaguid"] = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
		bad["metadataStatement"].(map[string]any)["attestationRootCertificates"] = []any{"not base64!"}
		store := load(t, mdsBlobClaims("2099-01-01", bad, mdsEntry(f.ca)))
		if info := store.MDSInfo(); info.Entries != 1 || len(info.Skipped) != 1 {
			t.Fatalf("%+v", info)
		}
	})
}

func leafOf(t *testing.T, attObj []byte) *x509.Certificate {
	t.Helper()
	var obj struct {
		AttStmt struct {
			X5C [][]byte `cbor:"x5c"`
		} `cbor:"attStmt"`
	}
	if err := cbor.Unmarshal(attObj, &obj); err != nil || len(obj.AttStmt.X5C) == 0 {
		t.Fatalf("no x5c: %v", err)
	}
	c, err := x509.ParseCertificate(obj.AttStmt.X5C[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
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
