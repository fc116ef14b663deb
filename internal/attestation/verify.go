package attestation

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
)

var (
	oidFIDOGenCeAAGUID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 45724, 1, 1, 4}
	oidAppleNonce      = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}
	oidAndroidKeyDesc  = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 1, 17}
)

// verdict is what statement verification establishes before any trust
// decision: the attestation type and the parsed x5c (leaf first).
type verdict struct {
	attType string
	chain   []*x509.Certificate
}

// authInfo is what the procedures need from authenticator data.
type authInfo struct {
	raw      []byte
	rpIDHash []byte
	aaguid   []byte
	credID   []byte
	cose     []byte
}

func authInfoOf(att *protocol.AttestationObject) authInfo {
	d := &att.AuthData
	return authInfo{raw: att.RawAuthData, rpIDHash: d.RPIDHash, aaguid: d.AttData.AAGUID, credID: d.AttData.CredentialID, cose: d.AttData.CredentialPublicKey}
}

// verifyOurs runs the §8.2/§8.3/§8.4/§8.6/§8.8 procedure for fmt. None of
// them reads a clock: certificate validity is judged once, on the verified
// path, at the evaluation time (validateChain).
func verifyOurs(format string, stmt map[string]any, ai authInfo, clientDataHash []byte, scope protocol.AndroidKeyAuthorizationScope) (verdict, *Error) {
	switch format {
	case "packed":
		return verifyPacked(stmt, ai, clientDataHash)
	case "apple":
		return verifyApple(stmt, ai, clientDataHash)
	case "android-key":
		return verifyAndroidKey(stmt, ai, clientDataHash, scope == protocol.AndroidKeyAuthorizationScopeUnion)
	case "tpm":
		return verifyTPM(stmt, ai, clientDataHash)
	case "fido-u2f":
		return verifyFIDOU2F(stmt, ai, clientDataHash)
	}
	return verdict{}, fail(ReasonFormatUnsupported, "format %q is not handled here", format)
}

func stmtAlg(stmt map[string]any) (int64, *Error) {
	alg, ok := asInt(stmt["alg"])
	if !ok {
		return 0, fail(ReasonStatementMalformed, "alg missing or not an integer")
	}
	return alg, nil
}

func stmtSig(stmt map[string]any) ([]byte, *Error) {
	sig, ok := stmt["sig"].([]byte)
	if !ok || len(sig) == 0 || len(sig) > 1024 {
		return nil, fail(ReasonStatementMalformed, "sig missing or not a byte string")
	}
	return sig, nil
}

// stmtX5C parses x5c; present reports whether the key existed at all.
func stmtX5C(stmt map[string]any) (certs []*x509.Certificate, present bool, e *Error) {
	v, present := stmt["x5c"]
	if !present {
		return nil, false, nil
	}
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 || len(arr) > maxX5CCerts {
		return nil, true, fail(ReasonStatementMalformed, "x5c must be a non-empty array of at most %d certificates", maxX5CCerts)
	}
	for i, item := range arr {
		der, ok := item.([]byte)
		if !ok || len(der) > maxCertSize {
			return nil, true, fail(ReasonStatementMalformed, "x5c[%d] is not a certificate byte string", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, true, fail(ReasonStatementMalformed, "x5c[%d]: %v", i, err)
		}
		certs = append(certs, c)
	}
	return certs, true, nil
}

func hashFor(alg int64) (crypto.Hash, func() hash.Hash) {
	switch alg {
	case -65535: // RS1: TPMs of the Windows 8 era sign with SHA-1
		return crypto.SHA1, sha1.New
	case -7, -257, -37:
		return crypto.SHA256, sha256.New
	case -35, -258, -38:
		return crypto.SHA384, sha512.New384
	case -36, -259, -39:
		return crypto.SHA512, sha512.New
	}
	return 0, nil
}

// verifySig checks sig over data with pub under COSE alg. The key type must
// agree with alg: accepting an RSA alg with an EC key (or vice versa) would
// let an attacker pick the weaker interpretation.
func verifySig(pub crypto.PublicKey, alg int64, data, sig []byte) *Error {
	if alg == -8 {
		k, ok := pub.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(k, data, sig) {
			return fail(ReasonSignatureInvalid, "EdDSA signature does not verify")
		}
		return nil
	}
	h, newHash := hashFor(alg)
	if newHash == nil {
		return fail(ReasonStatementMalformed, "unsupported COSE alg %d", alg)
	}
	d := newHash()
	d.Write(data)
	digest := d.Sum(nil)
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != -7 && alg != -35 && alg != -36 {
			return fail(ReasonStatementMalformed, "alg %d does not match an EC key", alg)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return fail(ReasonSignatureInvalid, "ECDSA signature does not verify")
		}
	case *rsa.PublicKey:
		var err error
		switch alg {
		case -257, -258, -259, -65535:
			err = rsa.VerifyPKCS1v15(k, h, digest, sig)
		case -37, -38, -39:
			err = rsa.VerifyPSS(k, h, digest, sig, nil)
		default:
			return fail(ReasonStatementMalformed, "alg %d does not match an RSA key", alg)
		}
		if err != nil {
			return fail(ReasonSignatureInvalid, "RSA signature does not verify")
		}
	default:
		return fail(ReasonStatementMalformed, "unsupported key type %T", pub)
	}
	return nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	ka, ok := a.(eq)
	return ok && ka.Equal(b)
}

// verifyPacked is §8.2's verification procedure.
func verifyPacked(stmt map[string]any, ai authInfo, cdh []byte) (verdict, *Error) {
	alg, e := stmtAlg(stmt)
	if e != nil {
		return verdict{}, e
	}
	sig, e := stmtSig(stmt)
	if e != nil {
		return verdict{}, e
	}
	if _, ok := stmt["ecdaaKeyId"]; ok {
		return verdict{}, fail(ReasonFormatUnsupported, "ECDAA was removed from WebAuthn L2 and is not supported")
	}
	signed := slices.Concat(ai.raw, cdh)
	chain, present, e := stmtX5C(stmt)
	if e != nil {
		return verdict{}, e
	}
	if !present {
		// Self attestation: alg must match the credential key's alg and the
		// credential key itself signs.
		pub, credAlg, err := parseCOSEKey(ai.cose)
		if err != nil {
			return verdict{}, fail(ReasonStatementMalformed, "%v", err)
		}
		if credAlg != alg {
			return verdict{}, fail(ReasonStatementMalformed, "self attestation alg %d differs from credential alg %d", alg, credAlg)
		}
		if e := verifySig(pub, alg, signed, sig); e != nil {
			return verdict{}, e
		}
		return verdict{attType: TypeSelf}, nil
	}
	leaf := chain[0]
	if e := verifySig(leaf.PublicKey, alg, signed, sig); e != nil {
		return verdict{}, e
	}
	if e := checkPackedCert(leaf); e != nil {
		return verdict{}, e
	}
	if e := checkAAGUIDExtension(leaf, ai.aaguid); e != nil {
		return verdict{}, e
	}
	// Basic vs AttCA cannot be told apart from the statement alone; both
	// are reported as basic, which is what §8.2 returns ("Basic, AttCA or
	// uncertainty").
	return verdict{attType: TypeBasic, chain: chain}, nil
}

// checkPackedCert enforces §8.2.1.
func checkPackedCert(c *x509.Certificate) *Error {
	if c.Version != 3 {
		return fail(ReasonCertInvalid, "attestation certificate version %d, want 3", c.Version)
	}
	s := c.Subject
	if len(s.Country) != 1 || len(s.Country[0]) != 2 || strings.ToUpper(s.Country[0]) != s.Country[0] {
		return fail(ReasonCertInvalid, "subject C must be one ISO 3166 alpha-2 code")
	}
	if len(s.Organization) == 0 || s.Organization[0] == "" {
		return fail(ReasonCertInvalid, "subject O missing")
	}
	if len(s.OrganizationalUnit) != 1 || s.OrganizationalUnit[0] != "Authenticator Attestation" {
		return fail(ReasonCertInvalid, `subject OU must be "Authenticator Attestation"`)
	}
	if s.CommonName == "" {
		return fail(ReasonCertInvalid, "subject CN missing")
	}
	if !c.BasicConstraintsValid || c.IsCA {
		return fail(ReasonCertInvalid, "basicConstraints must be present with CA=false")
	}
	return nil
}

// checkAAGUIDExtension: when id-fido-gen-ce-aaguid is present it must be a
// non-critical 16-byte OCTET STRING equal to the authData AAGUID.
func checkAAGUIDExtension(c *x509.Certificate, aaguid []byte) *Error {
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidFIDOGenCeAAGUID) {
			continue
		}
		if ext.Critical {
			return fail(ReasonCertInvalid, "id-fido-gen-ce-aaguid must not be critical")
		}
		var v []byte
		if rest, err := asn1.Unmarshal(ext.Value, &v); err != nil || len(rest) != 0 || len(v) != 16 {
			return fail(ReasonCertInvalid, "id-fido-gen-ce-aaguid is not a 16-byte OCTET STRING")
		}
		if !bytes.Equal(v, aaguid) {
			return fail(ReasonAAGUIDMismatch, "certificate AAGUID %x differs from authenticator data AAGUID %x", v, aaguid)
		}
	}
	return nil
}

// verifyApple is §8.8's verification procedure.
func verifyApple(stmt map[string]any, ai authInfo, cdh []byte) (verdict, *Error) {
	chain, present, e := stmtX5C(stmt)
	if e != nil {
		return verdict{}, e
	}
	if !present {
		return verdict{}, fail(ReasonStatementMalformed, "apple statement without x5c")
	}
	leaf := chain[0]
	want := sha256.Sum256(slices.Concat(ai.raw, cdh))
	var got []byte
	for _, ext := range leaf.Extensions {
		if !ext.Id.Equal(oidAppleNonce) {
			continue
		}
		var v struct {
			Nonce []byte `asn1:"tag:1,explicit"`
		}
		if rest, err := asn1.Unmarshal(ext.Value, &v); err != nil || len(rest) != 0 {
			return verdict{}, fail(ReasonCertInvalid, "apple nonce extension is malformed")
		}
		got = v.Nonce
	}
	if got == nil {
		return verdict{}, fail(ReasonNonceMismatch, "credential certificate has no apple nonce extension")
	}
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return verdict{}, fail(ReasonNonceMismatch, "apple nonce does not equal SHA-256(authData||clientDataHash)")
	}
	pub, _, err := parseCOSEKey(ai.cose)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "%v", err)
	}
	if !publicKeysEqual(pub, leaf.PublicKey) {
		return verdict{}, fail(ReasonPublicKeyMismatch, "credential public key differs from credCert subject key")
	}
	return verdict{attType: TypeAnonCA, chain: chain}, nil
}

// Keymaster constants §8.4 refers to.
const (
	kmOriginGenerated = 0
	kmPurposeSign     = 2
	kmTagPurpose      = 1
	kmTagAllApps      = 600
	kmTagOrigin       = 702
)

type keyDescription struct {
	AttestationVersion       int
	AttestationSecurityLevel asn1.Enumerated
	KeymasterVersion         int
	KeymasterSecurityLevel   asn1.Enumerated
	AttestationChallenge     []byte
	UniqueID                 []byte
	SoftwareEnforced         asn1.RawValue
	TeeEnforced              asn1.RawValue
}

// authList holds only what §8.4 needs. It is read tag by tag rather than
// through a positional struct, because encoding/asn1 silently drops fields
// after an unmodelled tag, which would make an origin check vacuous.
type authList struct {
	purposes []int
	allApps  bool
	origin   *int
}

func parseAuthList(rv asn1.RawValue) (authList, error) {
	var out authList
	if rv.Class != asn1.ClassUniversal || rv.Tag != asn1.TagSequence {
		return out, fmt.Errorf("authorization list is not a SEQUENCE")
	}
	rest := rv.Bytes
	for len(rest) > 0 {
		var item asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &item); err != nil {
			return out, err
		}
		if item.Class != asn1.ClassContextSpecific {
			continue
		}
		switch item.Tag {
		case kmTagPurpose:
			var set []int
			if r, err := asn1.UnmarshalWithParams(item.Bytes, &set, "set"); err != nil || len(r) != 0 {
				return out, fmt.Errorf("purpose: malformed SET OF INTEGER")
			}
			out.purposes = append(out.purposes, set...)
		case kmTagAllApps:
			out.allApps = true
		case kmTagOrigin:
			var o int
			if r, err := asn1.Unmarshal(item.Bytes, &o); err != nil || len(r) != 0 {
				return out, fmt.Errorf("origin: malformed INTEGER")
			}
			out.origin = &o
		}
	}
	return out, nil
}

// verifyAndroidKey is §8.4's verification procedure. union selects "the
// union of teeEnforced and softwareEnforced" for origin/purpose; otherwise
// only teeEnforced counts (keys from a TEE only), the library's default.
func verifyAndroidKey(stmt map[string]any, ai authInfo, cdh []byte, union bool) (verdict, *Error) {
	alg, e := stmtAlg(stmt)
	if e != nil {
		return verdict{}, e
	}
	sig, e := stmtSig(stmt)
	if e != nil {
		return verdict{}, e
	}
	chain, present, e := stmtX5C(stmt)
	if e != nil {
		return verdict{}, e
	}
	if !present {
		return verdict{}, fail(ReasonStatementMalformed, "android-key statement without x5c")
	}
	leaf := chain[0]
	if e := verifySig(leaf.PublicKey, alg, slices.Concat(ai.raw, cdh), sig); e != nil {
		return verdict{}, e
	}
	pub, _, err := parseCOSEKey(ai.cose)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "%v", err)
	}
	if !publicKeysEqual(pub, leaf.PublicKey) {
		return verdict{}, fail(ReasonPublicKeyMismatch, "credential public key differs from attestation certificate key")
	}
	var ext []byte
	for _, x := range leaf.Extensions {
		if x.Id.Equal(oidAndroidKeyDesc) {
			ext = x.Value
		}
	}
	if ext == nil {
		return verdict{}, fail(ReasonKeyDescriptionBad, "attestation certificate has no key description extension")
	}
	var kd keyDescription
	if rest, err := asn1.Unmarshal(ext, &kd); err != nil || len(rest) != 0 {
		return verdict{}, fail(ReasonKeyDescriptionBad, "key description is malformed")
	}
	if subtle.ConstantTimeCompare(kd.AttestationChallenge, cdh) != 1 {
		return verdict{}, fail(ReasonChallengeMismatch, "attestationChallenge does not equal clientDataHash")
	}
	sw, err := parseAuthList(kd.SoftwareEnforced)
	if err != nil {
		return verdict{}, fail(ReasonKeyDescriptionBad, "softwareEnforced: %v", err)
	}
	tee, err := parseAuthList(kd.TeeEnforced)
	if err != nil {
		return verdict{}, fail(ReasonKeyDescriptionBad, "teeEnforced: %v", err)
	}
	if sw.allApps || tee.allApps {
		return verdict{}, fail(ReasonKeyDescriptionBad, "allApplications is present: the key is not scoped to this RP")
	}
	originOK := tee.origin != nil && *tee.origin == kmOriginGenerated
	purposeOK := slices.Contains(tee.purposes, kmPurposeSign)
	if union {
		originOK = originOK || (sw.origin != nil && *sw.origin == kmOriginGenerated)
		purposeOK = purposeOK || slices.Contains(sw.purposes, kmPurposeSign)
	}
	if !originOK {
		return verdict{}, fail(ReasonKeyDescriptionBad, "origin is not KM_ORIGIN_GENERATED")
	}
	if !purposeOK {
		return verdict{}, fail(ReasonKeyDescriptionBad, "purpose does not include KM_PURPOSE_SIGN")
	}
	return verdict{attType: TypeBasic, chain: chain}, nil
}
