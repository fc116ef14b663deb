package virtualauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"
)

// Object identifiers of the certificate extensions the attestation formats use.
var (
	OIDFIDOGenCeAAGUID     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45724, 1, 1, 4}
	OIDAppleNonce          = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}
	OIDAndroidKeyAttestion = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 1, 17}
)

// TestCA is an in-memory attestation PKI. Real vendors sign attestation
// certificates with an offline root (often through an intermediate); TestCA
// plays that role so a server can be pointed at RootPEM and treat virtual
// authenticators exactly like trusted hardware. A second, unrelated TestCA is
// the natural "untrusted vendor" for negative tests.
type TestCA struct {
	root      *x509.Certificate
	rootKey   *ecdsa.PrivateKey
	issuer    *x509.Certificate
	issuerKey *ecdsa.PrivateKey
	// chain holds the DER of certificates between a leaf and the root
	// (exclusive of the root, which x5c must not need to carry).
	chain [][]byte
}

// NewTestCA creates a self-signed P-256 root that issues leaves directly.
func NewTestCA() (*TestCA, error) { return newTestCA("rpserver virtualauthn Test Root", false) }

// NewTestCAWithIntermediate creates a root plus one intermediate; leaves are
// issued by the intermediate and x5c carries [leaf, intermediate], which is
// the shape most real vendors (Yubico, Google, Apple) use.
func NewTestCAWithIntermediate() (*TestCA, error) {
	return newTestCA("rpserver virtualauthn Test Root", true)
}

func newTestCA(cn string, intermediate bool) (*TestCA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"rpserver lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &TestCA{root: root, rootKey: rootKey, issuer: root, issuerKey: rootKey}
	if !intermediate {
		return ca, nil
	}
	ik, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	itmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn + " Intermediate", Organization: []string{"rpserver lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	ider, err := x509.CreateCertificate(rand.Reader, itmpl, root, &ik.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	inter, err := x509.ParseCertificate(ider)
	if err != nil {
		return nil, err
	}
	ca.issuer, ca.issuerKey, ca.chain = inter, ik, [][]byte{ider}
	return ca, nil
}

// LoadTestCA loads a root CA certificate and its EC private key (PKCS#8 or
// SEC1) from PEM, so a lab can keep one stable root configured in the server
// across restarts.
func LoadTestCA(certPEM, keyPEM []byte) (*TestCA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("virtualauthn: no CERTIFICATE block in CA PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("virtualauthn: no key block in CA key PEM")
	}
	var key *ecdsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("virtualauthn: CA key is not ECDSA")
		}
		key = ek
	} else if key, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
		return nil, fmt.Errorf("virtualauthn: parse CA key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("virtualauthn: CA key does not match certificate")
	}
	return &TestCA{root: cert, rootKey: key, issuer: cert, issuerKey: key}, nil
}

// RootPEM returns the trust anchor a server must be configured with.
func (ca *TestCA) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.root.Raw})
}

// Root returns the root certificate.
func (ca *TestCA) Root() *x509.Certificate { return ca.root }

// KeyPEM returns the root private key (PKCS#8) so the CA can be persisted and
// reloaded with LoadTestCA. Lab use only.
func (ca *TestCA) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(ca.rootKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// LeafSpec describes one attestation certificate. Only the fields relevant to
// Format are used.
type LeafSpec struct {
	Format    Format           // FormatPacked, FormatApple or FormatAndroidKey
	PublicKey *ecdsa.PublicKey // attestation key (packed) or credential key (apple, android-key)
	AAGUID    uuid.UUID        // packed: id-fido-gen-ce-aaguid value
	NoAAGUID  bool             // packed: omit the AAGUID extension
	Subject   pkix.Name        // packed: C, O, CN (OU is forced to the spec literal)
	Nonce     []byte           // apple: SHA-256(authData||clientDataHash)
	Challenge []byte           // android-key: attestationChallenge (clientDataHash)
	Android   AndroidAuthorizations
	NotBefore time.Time // zero means one hour ago
	NotAfter  time.Time // zero means five years from now
}

// AndroidAuthorizations controls where the §8.4-relevant tags are placed in
// the key description. A hardware-backed key lists origin/purpose in
// teeEnforced; a software key lists them in softwareEnforced.
type AndroidAuthorizations struct {
	SoftwareEnforced bool // put origin/purpose in softwareEnforced instead of teeEnforced
	AllApplications  bool // add allApplications, which §8.4 forbids (negative tests)
	Purpose          int  // 0 means KM_PURPOSE_SIGN (2)
	Origin           *int // nil means KM_ORIGIN_GENERATED (0)
}

// Issue signs a leaf certificate for spec and returns x5c: the leaf DER
// followed by any intermediates (never the root).
func (ca *TestCA) Issue(spec LeafSpec) ([][]byte, error) {
	if spec.PublicKey == nil {
		return nil, errors.New("virtualauthn: LeafSpec.PublicKey is required")
	}
	nb, na := spec.NotBefore, spec.NotAfter
	if nb.IsZero() {
		nb = time.Now().Add(-time.Hour)
	}
	if na.IsZero() {
		na = time.Now().AddDate(5, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	switch spec.Format {
	case FormatPacked:
		subj := spec.Subject
		if len(subj.Country) == 0 {
			subj.Country = []string{"US"}
		}
		if len(subj.Organization) == 0 {
			subj.Organization = []string{"rpserver lab"}
		}
		if subj.CommonName == "" {
			subj.CommonName = "virtualauthn packed attestation"
		}
		subj.OrganizationalUnit = []string{"Authenticator Attestation"}
		tmpl.Subject = subj
		if !spec.NoAAGUID {
			v, err := asn1.Marshal(spec.AAGUID[:])
			if err != nil {
				return nil, err
			}
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDFIDOGenCeAAGUID, Value: v})
		}
	case FormatApple:
		tmpl.Subject = pkix.Name{CommonName: "virtualauthn apple credential", Organization: []string{"Apple Inc."}, Province: []string{"California"}}
		v, err := asn1.Marshal(appleNonceExt{Nonce: spec.Nonce})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDAppleNonce, Value: v})
	case FormatAndroidKey:
		tmpl.Subject = pkix.Name{CommonName: "Android Keystore Key"}
		v, err := androidKeyDescription(spec.Challenge, spec.Android)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: OIDAndroidKeyAttestion, Value: v})
	default:
		return nil, fmt.Errorf("virtualauthn: no certificate profile for format %q", spec.Format)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.issuer, spec.PublicKey, ca.issuerKey)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, 1+len(ca.chain))
	out = append(out, der)
	return append(out, ca.chain...), nil
}

type appleNonceExt struct {
	Nonce []byte `asn1:"tag:1,explicit"`
}

// Keymaster/KeyMint constants used in the key description.
const (
	kmPurposeSign      = 2
	kmOriginGenerated  = 0
	kmAlgorithmEC      = 3
	kmDigestSHA256     = 4
	kmECCurveP256      = 1
	kmSecurityLevelTEE = 1
)

// androidKeyDescription builds the KeyDescription SEQUENCE by hand because
// the AuthorizationList is a sequence of EXPLICIT context tags above 30, and
// we want to control exactly which tags go where.
func androidKeyDescription(challenge []byte, a AndroidAuthorizations) ([]byte, error) {
	purpose := a.Purpose
	if purpose == 0 {
		purpose = kmPurposeSign
	}
	origin := kmOriginGenerated
	if a.Origin != nil {
		origin = *a.Origin
	}
	purposeSet, err := asn1.MarshalWithParams([]int{purpose}, "set")
	if err != nil {
		return nil, err
	}
	digestSet, err := asn1.MarshalWithParams([]int{kmDigestSHA256}, "set")
	if err != nil {
		return nil, err
	}
	explicit := func(tag int, inner []byte) asn1.RawValue {
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: inner}
	}
	mustInt := func(v int) []byte { b, _ := asn1.Marshal(v); return b }
	nullDER := []byte{0x05, 0x00}

	// Tags are kept in ascending order: DER requires it for SEQUENCE-as-SET
	// semantics in practice and strict parsers rely on it.
	var enforced, other []asn1.RawValue
	enforced = append(enforced,
		explicit(1, purposeSet),
		explicit(2, mustInt(kmAlgorithmEC)),
		explicit(3, mustInt(256)),
		explicit(5, digestSet),
		explicit(10, mustInt(kmECCurveP256)),
	)
	if a.AllApplications {
		enforced = append(enforced, explicit(600, nullDER))
	}
	enforced = append(enforced, explicit(702, mustInt(origin)))
	other = append(other, explicit(701, mustInt(int(time.Now().UnixMilli()))))
	if a.SoftwareEnforced {
		// Software keys carry everything in softwareEnforced; the TEE list is
		// empty. Tag order must stay ascending (701 before 702).
		enforced, other = sortByTag(append(other, enforced...)), nil
	}
	seq := func(items []asn1.RawValue) (asn1.RawValue, error) {
		var body []byte
		for _, it := range items {
			b, err := asn1.Marshal(it)
			if err != nil {
				return asn1.RawValue{}, err
			}
			body = append(body, b...)
		}
		return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body}, nil
	}
	enfSeq, err := seq(enforced)
	if err != nil {
		return nil, err
	}
	othSeq, err := seq(other)
	if err != nil {
		return nil, err
	}
	sw, tee := othSeq, enfSeq
	if a.SoftwareEnforced {
		sw, tee = enfSeq, othSeq
	}
	return asn1.Marshal(struct {
		AttestationVersion       int
		AttestationSecurityLevel asn1.Enumerated
		KeymasterVersion         int
		KeymasterSecurityLevel   asn1.Enumerated
		AttestationChallenge     []byte
		UniqueID                 []byte
		SoftwareEnforced         asn1.RawValue
		TeeEnforced              asn1.RawValue
	}{3, kmSecurityLevelTEE, 4, kmSecurityLevelTEE, challenge, []byte{}, sw, tee})
}

func sortByTag(v []asn1.RawValue) []asn1.RawValue {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j].Tag < v[j-1].Tag; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}
