package profiles

import "github.com/rpserver/rpserver/internal/methods/targeting"

// ErrorCode is a stable, machine-readable validation code. The HTTP layer puts
// it in the Graph error envelope's inner code; clients and tests match on it,
// so a value is never renamed once shipped.
type ErrorCode = targeting.Code

const (
	CodeInvalidState                      ErrorCode = "invalidState"
	CodeInvalidConfigurationID            ErrorCode = "invalidConfigurationId"
	CodePolicyTooLarge                    ErrorCode = "policyTooLarge"
	CodeTooManyPasskeyProfiles            ErrorCode = "tooManyPasskeyProfiles"
	CodeInvalidPasskeyProfileID           ErrorCode = "invalidPasskeyProfileId"
	CodeDuplicatePasskeyProfileID         ErrorCode = "duplicatePasskeyProfileId"
	CodeInvalidPasskeyProfileName         ErrorCode = "invalidPasskeyProfileName"
	CodeDuplicatePasskeyProfileName       ErrorCode = "duplicatePasskeyProfileName"
	CodeMissingPasskeyTypes               ErrorCode = "missingPasskeyTypes"
	CodeUnknownPasskeyType                ErrorCode = "unknownPasskeyType"
	CodeInvalidAttestationEnforcement     ErrorCode = "invalidAttestationEnforcement"
	CodeAttestationRequiresDeviceBound    ErrorCode = "attestationRequiresDeviceBoundOnly"
	CodeInvalidEnforcementType            ErrorCode = "invalidEnforcementType"
	CodeInvalidAAGUID                     ErrorCode = "invalidAaguid"
	CodeDuplicateAAGUID                   ErrorCode = "duplicateAaguid"
	CodeEmptyAllowList                    ErrorCode = "emptyAaguidAllowList"
	CodeInvalidTargetType                 ErrorCode = "invalidTargetType"
	CodeInvalidTargetID                   ErrorCode = "invalidTargetId"
	CodeDuplicateTarget                   ErrorCode = "duplicateTarget"
	CodeAllUsersCannotBeExcluded          ErrorCode = "allUsersCannotBeExcluded"
	CodeTargetMissingPasskeyProfile       ErrorCode = "targetMissingPasskeyProfile"
	CodeUnknownPasskeyProfile             ErrorCode = "unknownPasskeyProfile"
	CodePasskeyProfilesNotEnabled         ErrorCode = "passkeyProfilesNotEnabled"
	CodeDefaultPasskeyProfileMissing      ErrorCode = "defaultPasskeyProfileCannotBeDeleted"
	CodeDefaultPasskeyProfileImmutable    ErrorCode = "defaultPasskeyProfileCannotBeChanged"
	CodeDefaultPasskeyProfileRename       ErrorCode = "defaultPasskeyProfileCannotBeRenamed"
	CodePasskeyProfilesCannotBeDisabled   ErrorCode = "passkeyProfilesCannotBeDisabled"
	CodePasskeyProfileNotFound            ErrorCode = "passkeyProfileNotFound"
	CodePasskeyProfileInUse               ErrorCode = "passkeyProfileInUse"
	CodeInvalidDefaultPasskeyProfileValue ErrorCode = "invalidDefaultPasskeyProfile"
)

// ValidationError is the shared validation error (code, message, JSON
// path of the offending property); every one maps to HTTP 400.
type ValidationError = targeting.ValidationError

func verr(code ErrorCode, target, format string, args ...any) *ValidationError {
	return targeting.Invalid(code, target, format, args...)
}
