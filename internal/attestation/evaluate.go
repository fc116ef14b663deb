package attestation

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/google/uuid"
)

// Evaluate reports what att proves, for policy to act on. Call it after
// webauthn.CreateCredential succeeded, with the AttestationObject the library
// parsed (parsedResponse.Response.AttestationObject) and the SHA-256 of the
// raw clientDataJSON. It never fails: problems become Result.Reason.
//
// The verdict our handler reached inside CreateCredential is reused; if it
// is not in the memo (evicted, or att did not come through the library) the
// statement is verified here. now is the one clock of the evaluation: every
// certificate's validity is judged against it, on the verified path.
func Evaluate(att protocol.AttestationObject, clientDataHash []byte, store *TrustStore, now time.Time) Result {
	if len(att.AuthData.AttData.CredentialPublicKey) == 0 && len(att.RawAuthData) > 0 {
		if err := att.AuthData.Unmarshal(att.RawAuthData); err != nil {
			return Result{Format: att.Format, Reason: ReasonMalformed, Message: "authenticator data: " + err.Error()}
		}
	}
	var aaguid uuid.UUID
	if b := att.AuthData.AttData.AAGUID; len(b) == 16 {
		copy(aaguid[:], b)
	}
	r := Result{Format: att.Format, AAGUID: aaguid.String(), Model: store.ModelName(aaguid.String())}

	var v verdict
	switch att.Format {
	case "none":
		if len(att.AttStatement) != 0 {
			r.Reason, r.Message = ReasonStatementMalformed, "fmt none with a non-empty attStmt"
			return r
		}
		r.AttestationType = TypeNone
		r.Reason, r.Message = ReasonMissing, "authenticator provided no attestation (fmt none)"
		return r
	case "android-safetynet":
		// Google shut SafetyNet down in January 2025 and its statement can
		// only be judged against the wall clock of a JWS timestamp; it is
		// treated like "none": the credential is unattested, which policy
		// may accept (attestation reported) or refuse (enforced).
		r.Reason, r.Message = ReasonFormatUnsupported, "android-safetynet attestation is retired (SafetyNet was shut down) and is not evaluated; the credential counts as unattested"
		return r
	case "packed", "apple", "android-key", "tpm", "fido-u2f":
		var ok bool
		if v, ok = verdicts.get(memoKey(att.Format, att.RawAuthData, clientDataHash, att.AttStatement)); !ok {
			var e *Error
			if v, e = verifyOurs(att.Format, att.AttStatement, authInfoOf(&att), clientDataHash, protocol.AndroidKeyAuthorizationScopeTEEEnforced); e != nil {
				r.Reason, r.Message = e.Reason, e.Message
				return r
			}
		}
	default:
		r.Reason, r.Message = ReasonFormatUnsupported, fmt.Sprintf("attestation format %q is not supported", att.Format)
		return r
	}

	r.AttestationType = v.attType
	if len(v.chain) == 0 {
		r.Reason, r.Message = ReasonMissing, "self attestation proves key possession only, not the authenticator model"
		return r
	}
	r.Attested = true
	for _, c := range v.chain {
		r.ChainSubjects = append(r.ChainSubjects, subjectOf(c))
	}
	path, reason, msg := validateChain(v.chain, store.anchors(aaguid), now)
	if reason != "" {
		r.Reason, r.Message = reason, msg
		return r
	}
	r.ChainSubjects = path.subjects
	if e, next := store.mdsEntry(aaguid); e != nil {
		// The metadata of the model the authenticator claims to be, now
		// that the chain proved the claim.
		if st := undesiredStatus(e, v.chain, now); st != nil {
			r.Reason, r.Message = ReasonAuthenticatorRevoked, fmt.Sprintf("FIDO MDS status %s (in effect %s) for this authenticator", st.Status, effective(st))
			r.MDSStatus = string(st.Status)
			return r
		}
		_, credAlg, _ := parseCOSEKey(att.AuthData.AttData.CredentialPublicKey)
		if reason, msg := checkStatement(&e.MetadataStatement, v.attType, credAlg); reason != "" {
			r.Reason, r.Message = reason, msg
			return r
		}
		if now.After(next) && slices.ContainsFunc(e.MetadataStatement.AttestationRootCertificates, path.root.Equal) {
			if store.refusesStale() {
				r.Reason, r.Message = ReasonMetadataStale, fmt.Sprintf("the trust anchor comes from an MDS blob whose nextUpdate %s has passed", next.Format(time.DateOnly))
				return r
			}
			r.Warning = fmt.Sprintf("the MDS blob that supplied the trust anchor is stale (nextUpdate %s has passed)", next.Format(time.DateOnly))
		}
	}
	r.Trusted = true
	return r
}

// subjectOf names a certificate for reports; TPM AIK certificates have an
// empty subject by rule (§8.3.1).
func subjectOf(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "(empty subject, serial " + c.SerialNumber.Text(16) + ")"
}

// verifiedPath is the chain x509 built: subjects leaf first, and the anchor.
type verifiedPath struct {
	subjects []string
	root     *x509.Certificate
}

func effective(st *metadata.StatusReport) string {
	if st.EffectiveDate == nil {
		return "without an effective date"
	}
	return "since " + st.EffectiveDate.Format(time.DateOnly)
}

// validateChain builds a path from the leaf to one of the anchors, valid at
// now, and reports why there is none. Validity periods are judged on paths,
// not on every certificate of x5c: a chain may carry a stale copy of a root
// whose key was re-issued with a longer validity, and the re-issued anchor
// must win. Revocation is not checked (offline).
func validateChain(chain []*x509.Certificate, anchors []*x509.Certificate, now time.Time) (path verifiedPath, reason, msg string) {
	if len(anchors) == 0 {
		return path, ReasonUntrustedRoot, "no trust anchors are configured for this AAGUID"
	}
	opts := x509.VerifyOptions{
		Roots:         x509.NewCertPool(),
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		// Attestation certificates carry no EKU requirement in §8.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	for _, a := range anchors {
		opts.Roots.AddCert(a)
	}
	for _, c := range chain[1:] {
		opts.Intermediates.AddCert(c)
	}
	paths, err := chain[0].Verify(opts)
	if err != nil {
		var cie x509.CertificateInvalidError
		if errors.As(err, &cie) && cie.Reason == x509.Expired && cie.Cert != nil {
			c := cie.Cert
			if now.Before(c.NotBefore) {
				return path, ReasonCertNotYetValid, fmt.Sprintf("%q is valid from %s", subjectOf(c), c.NotBefore.Format(time.RFC3339))
			}
			return path, ReasonCertExpired, fmt.Sprintf("%q expired %s", subjectOf(c), c.NotAfter.Format(time.RFC3339))
		}
		return path, ReasonUntrustedRoot, err.Error()
	}
	for _, c := range paths[0] {
		path.subjects = append(path.subjects, subjectOf(c))
	}
	path.root = paths[0][len(paths[0])-1]
	return path, "", ""
}

// Inspection is the offline report of `rpserver inspect`.
type Inspection struct {
	Result
	RPIDHash     string          `json:"rpIdHash"`
	Flags        map[string]bool `json:"flags"`
	SignCount    uint32          `json:"signCount"`
	CredentialID string          `json:"credentialId"`
	ClientData   struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		Origin    string `json:"origin"`
	} `json:"clientData"`
}

// Inspect evaluates a registration from its raw attestationObject (CBOR) and
// clientDataJSON, e.g. captured from a browser. It checks the attestation
// only; challenge, origin and RP ID are reported, not verified, because an
// offline tool has no session to compare them with. An error means the input
// could not be decoded at all.
func Inspect(attestationObject, clientDataJSON []byte, store *TrustStore, now time.Time) (*Inspection, error) {
	if len(clientDataJSON) > MaxClientDataJSONSize {
		return nil, fmt.Errorf("clientDataJSON is %d bytes, limit %d", len(clientDataJSON), MaxClientDataJSONSize)
	}
	in := &Inspection{}
	if err := json.Unmarshal(clientDataJSON, &in.ClientData); err != nil {
		return nil, fmt.Errorf("clientDataJSON: %w", err)
	}
	format, stmt, authData, err := decodeAttestationObject(attestationObject)
	if err != nil {
		return nil, fmt.Errorf("attestationObject: %w", err)
	}
	att := protocol.AttestationObject{Format: format, AttStatement: stmt, RawAuthData: authData}
	if err := att.AuthData.Unmarshal(authData); err != nil {
		return nil, fmt.Errorf("authenticator data: %w", err)
	}
	if !att.AuthData.Flags.HasAttestedCredentialData() {
		return nil, errors.New("authenticator data has no attested credential data")
	}
	cdh := sha256.Sum256(clientDataJSON)
	in.Result = Evaluate(att, cdh[:], store, now)
	f := att.AuthData.Flags
	in.Flags = map[string]bool{"UP": f.HasUserPresent(), "UV": f.HasUserVerified(), "BE": f.HasBackupEligible(), "BS": f.HasBackupState(), "AT": f.HasAttestedCredentialData(), "ED": f.HasExtensions()}
	in.RPIDHash = fmt.Sprintf("%x", att.AuthData.RPIDHash)
	in.SignCount = att.AuthData.Counter
	in.CredentialID = base64.RawURLEncoding.EncodeToString(att.AuthData.AttData.CredentialID)
	return in, nil
}
