package ceremony

import "github.com/rpserver/rpserver/internal/apperr"

// Stable error codes of the ceremonies. Clients and dashboards match them.
const (
	CodeMalformedCredential    = "malformedCredential"
	CodeChallengeNotFound      = "challengeNotFound" // never issued, or already used (replay)
	CodeChallengeExpired       = "challengeExpired"
	CodeClientDataTypeMismatch = "clientDataTypeMismatch"
	CodeOriginMismatch         = "originMismatch"
	CodeRPIDMismatch           = "rpIdMismatch"
	CodeUserPresenceRequired   = "userPresenceRequired"
	CodeUserVerificationNeeded = "userVerificationRequired"
	// CodeUserVerificationUnsupported: a FIDO U2F-only security key, which
	// can never verify its user.
	CodeUserVerificationUnsupported = "userVerificationUnsupported"
	// CodeAlgorithmNotAllowed: the credential's key uses a COSE algorithm
	// the relying party did not offer in pubKeyCredParams.
	CodeAlgorithmNotAllowed     = "algorithmNotAllowed"
	CodeInvalidBackupFlags      = "invalidBackupFlags" // BE=0 with BS=1
	CodeBackupEligibilityChange = "backupEligibilityChanged"
	CodeUnknownCredential       = "unknownCredential"
	CodeCredentialNotAllowed    = "credentialNotAllowed" // not in allowCredentials / other user's
	CodeUserHandleMismatch      = "userHandleMismatch"
	CodeSignatureInvalid        = "signatureInvalid"
	CodeSignCountRegression     = "signCountRegression" // possible cloned authenticator
	CodeCloneSuspected          = "credentialCloneSuspected"
	CodeCredentialExists        = "credentialAlreadyRegistered"
	CodeAttestationInvalid      = "attestationInvalid"
	CodeVerificationFailed      = "ceremonyVerificationFailed"
	CodeUserDisabled            = "userDisabled"
	CodeUserUnknown             = "userNotFound"
	CodeUserMismatch            = "ceremonyUserMismatch"
	CodeRegistrationRefused     = "registrationRefused"
)

func invalid(code, format string, args ...any) *apperr.Error {
	return apperr.Invalid(code, format, args...)
}

func unauthenticated(code, format string, args ...any) *apperr.Error {
	return apperr.Unauthenticated(code, format, args...)
}
