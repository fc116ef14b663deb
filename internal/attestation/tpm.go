package attestation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"regexp"
	"slices"

	"github.com/google/go-tpm/tpm2"
)

// TPM OIDs of §8.3.1 and the TCG EK credential profile §3.2.9.
var (
	oidSubjectAltName       = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidTCGKpAIKCertificate  = asn1.ObjectIdentifier{2, 23, 133, 8, 3}
	oidTCGAtTPMManufacturer = asn1.ObjectIdentifier{2, 23, 133, 2, 1}
	oidTCGAtTPMModel        = asn1.ObjectIdentifier{2, 23, 133, 2, 2}
	oidTCGAtTPMVersion      = asn1.ObjectIdentifier{2, 23, 133, 2, 3}
)

// tpmManufacturerID is the TCG spelling of a vendor ID ("id:" and four
// ASCII bytes in hex). The vendor list changes as TCG registers members, so
// the syntax is checked, not a list: trust comes from the chain, not from
// the name.
var tpmManufacturerID = regexp.MustCompile(`^id:[0-9A-Fa-f]{8}$`)

// verifyTPM is §8.3's verification procedure. It reads no clock: the AIK
// certificate's validity is judged with the rest of the chain in
// validateChain, at the evaluation time, so an expired AIK is a trust
// finding (attestation_cert_expired) like any other expired certificate.
func verifyTPM(stmt map[string]any, ai authInfo, cdh []byte) (verdict, *Error) {
	if ver, _ := stmt["ver"].(string); ver != "2.0" {
		return verdict{}, fail(ReasonStatementMalformed, `ver must be "2.0"`)
	}
	if _, ok := stmt["ecdaaKeyId"]; ok {
		return verdict{}, fail(ReasonFormatUnsupported, "ECDAA was removed from WebAuthn L2 and is not supported")
	}
	alg, e := stmtAlg(stmt)
	if e != nil {
		return verdict{}, e
	}
	sig, e := stmtSig(stmt)
	if e != nil {
		return verdict{}, e
	}
	certInfoRaw, ok1 := stmt["certInfo"].([]byte)
	pubAreaRaw, ok2 := stmt["pubArea"].([]byte)
	if !ok1 || !ok2 || len(certInfoRaw) == 0 || len(pubAreaRaw) == 0 || len(certInfoRaw) > maxCertSize || len(pubAreaRaw) > maxCertSize {
		return verdict{}, fail(ReasonStatementMalformed, "certInfo and pubArea must be byte strings")
	}
	chain, present, e := stmtX5C(stmt)
	if e != nil {
		return verdict{}, e
	}
	if !present {
		return verdict{}, fail(ReasonStatementMalformed, "tpm statement without x5c")
	}

	// The credential key must be the key the TPM describes in pubArea.
	pubArea, err := tpm2.Unmarshal[tpm2.TPMTPublic](pubAreaRaw)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "pubArea is not a TPMT_PUBLIC: %v", err)
	}
	tpmKey, e := tpmPublicKey(pubArea)
	if e != nil {
		return verdict{}, e
	}
	credKey, _, err := parseCOSEKey(ai.cose)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "%v", err)
	}
	if !publicKeysEqual(credKey, tpmKey) {
		return verdict{}, fail(ReasonPublicKeyMismatch, "credential public key differs from the key in pubArea")
	}

	// certInfo must be a TPM-generated certification of that key over
	// authData||clientDataHash.
	certInfo, err := tpm2.Unmarshal[tpm2.TPMSAttest](certInfoRaw)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "certInfo is not a TPMS_ATTEST: %v", err)
	}
	if certInfo.Magic.Check() != nil {
		return verdict{}, fail(ReasonStatementMalformed, "certInfo.magic is not TPM_GENERATED_VALUE")
	}
	if certInfo.Type != tpm2.TPMSTAttestCertify {
		return verdict{}, fail(ReasonStatementMalformed, "certInfo.type is not TPM_ST_ATTEST_CERTIFY")
	}
	_, newHash := hashFor(alg)
	if newHash == nil {
		return verdict{}, fail(ReasonStatementMalformed, "unsupported COSE alg %d", alg)
	}
	h := newHash()
	h.Write(slices.Concat(ai.raw, cdh))
	if subtle.ConstantTimeCompare(certInfo.ExtraData.Buffer, h.Sum(nil)) != 1 {
		return verdict{}, fail(ReasonChallengeMismatch, "certInfo.extraData is not the hash of authData||clientDataHash")
	}
	certify, err := certInfo.Attested.Certify()
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "certInfo.attested: %v", err)
	}
	name, err := tpm2.ObjectName(pubArea)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "pubArea name: %v", err)
	}
	if subtle.ConstantTimeCompare(certify.Name.Buffer, name.Buffer) != 1 {
		return verdict{}, fail(ReasonPublicKeyMismatch, "certInfo does not certify pubArea (name mismatch)")
	}

	aik := chain[0]
	if e := verifySig(aik.PublicKey, alg, certInfoRaw, sig); e != nil {
		return verdict{}, e
	}
	if e := checkAIKCert(aik); e != nil {
		return verdict{}, e
	}
	if e := checkAAGUIDExtension(aik, ai.aaguid); e != nil {
		return verdict{}, e
	}
	return verdict{attType: TypeAttCA, chain: chain}, nil
}

// tpmPublicKey turns a TPMT_PUBLIC into a Go public key.
func tpmPublicKey(p *tpm2.TPMTPublic) (crypto.PublicKey, *Error) {
	switch p.Type {
	case tpm2.TPMAlgRSA:
		params, err := p.Parameters.RSADetail()
		if err != nil {
			return nil, fail(ReasonStatementMalformed, "pubArea RSA parameters: %v", err)
		}
		n, err := p.Unique.RSA()
		if err != nil {
			return nil, fail(ReasonStatementMalformed, "pubArea RSA modulus: %v", err)
		}
		exp := int(params.Exponent)
		if exp == 0 {
			exp = 65537 // TPM 2.0 Part 2 §12.2.3.5: 0 means the default exponent
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n.Buffer), E: exp}, nil
	case tpm2.TPMAlgECC:
		params, err := p.Parameters.ECCDetail()
		if err != nil {
			return nil, fail(ReasonStatementMalformed, "pubArea ECC parameters: %v", err)
		}
		pt, err := p.Unique.ECC()
		if err != nil {
			return nil, fail(ReasonStatementMalformed, "pubArea ECC point: %v", err)
		}
		var curve elliptic.Curve
		switch params.CurveID {
		case tpm2.TPMECCNistP256:
			curve = elliptic.P256()
		case tpm2.TPMECCNistP384:
			curve = elliptic.P384()
		case tpm2.TPMECCNistP521:
			curve = elliptic.P521()
		default:
			return nil, fail(ReasonStatementMalformed, "pubArea ECC curve %d is not supported", params.CurveID)
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(pt.X.Buffer) > size || len(pt.Y.Buffer) > size {
			return nil, fail(ReasonStatementMalformed, "pubArea ECC point does not fit its curve")
		}
		raw := make([]byte, 1+2*size)
		raw[0] = 4
		copy(raw[1+size-len(pt.X.Buffer):1+size], pt.X.Buffer)
		copy(raw[1+2*size-len(pt.Y.Buffer):], pt.Y.Buffer)
		k, err := ecdsa.ParseUncompressedPublicKey(curve, raw)
		if err != nil {
			return nil, fail(ReasonStatementMalformed, "pubArea ECC point: %v", err)
		}
		return k, nil
	}
	return nil, fail(ReasonStatementMalformed, "pubArea type %d is neither RSA nor ECC", p.Type)
}

// checkAIKCert enforces §8.3.1. The subjectAltName it requires is critical
// (the subject is empty) and holds only a directoryName, which Go's X.509
// parser leaves unhandled; this is where it is handled, so markSANHandled
// can take it off the unhandled list before the chain is verified.
func checkAIKCert(c *x509.Certificate) *Error {
	if c.Version != 3 {
		return fail(ReasonCertInvalid, "AIK certificate version %d, want 3", c.Version)
	}
	if len(c.Subject.Names) != 0 || len(c.RawSubject) > 2 {
		return fail(ReasonCertInvalid, "AIK certificate subject must be empty")
	}
	var sanOK bool
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		m, model, ver, err := parseTPMSAN(ext.Value)
		if err != nil {
			return fail(ReasonCertInvalid, "AIK subjectAltName: %v", err)
		}
		if !tpmManufacturerID.MatchString(m) || model == "" || ver == "" {
			return fail(ReasonCertInvalid, "AIK subjectAltName must name the TPM manufacturer (id:XXXXXXXX), model and version")
		}
		sanOK = true
	}
	if !sanOK {
		return fail(ReasonCertInvalid, "AIK certificate has no subjectAltName with the TPM fields")
	}
	if !slices.ContainsFunc(c.UnknownExtKeyUsage, oidTCGKpAIKCertificate.Equal) {
		return fail(ReasonCertInvalid, "AIK certificate extended key usage lacks tcg-kp-AIKCertificate (2.23.133.8.3)")
	}
	if !c.BasicConstraintsValid || c.IsCA {
		return fail(ReasonCertInvalid, "AIK certificate basicConstraints must be present with CA=false")
	}
	markSANHandled(c)
	return nil
}

// markSANHandled removes subjectAltName from c's unhandled critical
// extensions: checkAIKCert has validated its TPM fields as §8.3.1 requires,
// and x509.Certificate.Verify would otherwise refuse every TPM chain.
func markSANHandled(c *x509.Certificate) {
	c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(c.UnhandledCriticalExtensions), oidSubjectAltName.Equal)
}

// parseTPMSAN reads the directoryName of a subjectAltName. TPMs encode the
// three attributes either in one RDN or in three (both occur in the field;
// the TCG profile shows the latter), so every attribute of every RDN is read.
func parseTPMSAN(der []byte) (manufacturer, model, version string, err error) {
	var names []asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &names); err != nil || len(rest) != 0 {
		return "", "", "", errBadSAN
	}
	for _, gn := range names {
		if gn.Class != asn1.ClassContextSpecific || gn.Tag != 4 {
			continue // directoryName is [4]
		}
		var rdns pkix.RDNSequence
		if rest, err := asn1.Unmarshal(gn.Bytes, &rdns); err != nil || len(rest) != 0 {
			return "", "", "", errBadSAN
		}
		for _, rdn := range rdns {
			for _, atv := range rdn {
				s, _ := atv.Value.(string)
				switch {
				case atv.Type.Equal(oidTCGAtTPMManufacturer):
					manufacturer = s
				case atv.Type.Equal(oidTCGAtTPMModel):
					model = s
				case atv.Type.Equal(oidTCGAtTPMVersion):
					version = s
				}
			}
		}
	}
	return manufacturer, model, version, nil
}

var errBadSAN = &Error{Reason: ReasonCertInvalid, Message: "malformed subjectAltName"}

// verifyFIDOU2F is §8.6's verification procedure.
func verifyFIDOU2F(stmt map[string]any, ai authInfo, cdh []byte) (verdict, *Error) {
	sig, e := stmtSig(stmt)
	if e != nil {
		return verdict{}, e
	}
	chain, present, e := stmtX5C(stmt)
	if e != nil {
		return verdict{}, e
	}
	if !present || len(chain) != 1 {
		return verdict{}, fail(ReasonStatementMalformed, "fido-u2f x5c must hold exactly one certificate")
	}
	cert := chain[0]
	certKey, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || certKey.Curve != elliptic.P256() {
		return verdict{}, fail(ReasonCertInvalid, "fido-u2f attestation certificate key must be EC P-256")
	}
	credKey, _, err := parseCOSEKey(ai.cose)
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "%v", err)
	}
	ec, ok := credKey.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return verdict{}, fail(ReasonStatementMalformed, "fido-u2f credential key must be EC P-256")
	}
	point, err := ec.Bytes()
	if err != nil {
		return verdict{}, fail(ReasonStatementMalformed, "credential key: %v", err)
	}
	signed := slices.Concat([]byte{0}, ai.rpIDHash, cdh, ai.credID, point)
	if e := verifySig(certKey, -7, signed, sig); e != nil {
		return verdict{}, e
	}
	return verdict{attType: TypeBasic, chain: chain}, nil
}
