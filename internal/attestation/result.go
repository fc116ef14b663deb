package attestation

import (
	"errors"
	"fmt"
)

// Stable reason codes. They are persisted and matched by policy and
// dashboards, so existing values must never change meaning.
const (
	ReasonNone                 = ""
	ReasonSignatureInvalid     = "attestation_signature_invalid"
	ReasonUntrustedRoot        = "attestation_untrusted_root"
	ReasonCertExpired          = "attestation_cert_expired"
	ReasonCertNotYetValid      = "attestation_cert_not_yet_valid"
	ReasonNonceMismatch        = "attestation_nonce_mismatch"
	ReasonChallengeMismatch    = "attestation_challenge_mismatch"
	ReasonAAGUIDMismatch       = "attestation_aaguid_mismatch"
	ReasonPublicKeyMismatch    = "attestation_pubkey_mismatch"
	ReasonMissing              = "attestation_missing"
	ReasonFormatUnsupported    = "attestation_format_unsupported"
	ReasonStatementMalformed   = "attestation_statement_malformed"
	ReasonCertInvalid          = "attestation_cert_invalid"
	ReasonKeyDescriptionBad    = "attestation_key_description_invalid"
	ReasonMalformed            = "attestation_malformed"
	ReasonAuthenticatorRevoked = "attestation_authenticator_revoked"
	ReasonStatementInvalid     = "attestation_statement_invalid" // library-verified formats failing for any reason
	// FIDO MDS findings, once the chain proved the AAGUID claim.
	ReasonMetadataStale           = "attestation_metadata_stale"            // the anchor came from a blob past nextUpdate, and stale blobs are refused
	ReasonAttestationTypeMismatch = "attestation_type_not_in_metadata"      // the statement attests in a way the model's metadata does not declare
	ReasonAlgorithmMismatch       = "attestation_algorithm_not_in_metadata" // the credential key's algorithm is not among the model's
)

// Attestation types (§6.5.3), spelled as the report shows them.
const (
	TypeNone   = "none"
	TypeSelf   = "self"
	TypeBasic  = "basic"
	TypeAttCA  = "attCA"
	TypeAnonCA = "anonCA"
)

// Result is the per-registration attestation report.
type Result struct {
	Format          string   `json:"format"`
	AAGUID          string   `json:"aaguid"`
	Model           string   `json:"model,omitempty"`
	AttestationType string   `json:"attestationType"`
	Attested        bool     `json:"attested"` // statement verified with a certificate chain
	Trusted         bool     `json:"trusted"`  // that chain reached a configured anchor at evaluation time
	ChainSubjects   []string `json:"chainSubjects,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	Message         string   `json:"message,omitempty"`
	// MDSStatus is the FIDO MDS status that refused trust
	// (ReasonAuthenticatorRevoked), e.g. ATTESTATION_KEY_COMPROMISE.
	MDSStatus string `json:"mdsStatus,omitempty"`
	// Warning notes what did not change the verdict but should be seen,
	// such as a stale MDS blob.
	Warning string `json:"warning,omitempty"`
}

// Error is returned by this package's statement handlers. go-webauthn wraps
// it (protocol.Error.Err) so the ceremony can recover the stable code from a
// failed CreateCredential with [ReasonOf].
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Reason + ": " + e.Message }

func fail(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ReasonOf extracts the stable reason from an error returned by
// webauthn.CreateCredential when one of our handlers refused the statement.
func ReasonOf(err error) (reason string, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}
