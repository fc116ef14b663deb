package profiles

import "fmt"

// ErrorCode is a stable, machine-readable validation code. The HTTP layer puts
// it in the Graph error envelope's inner code; clients and tests match on it,
// so a value is never renamed once shipped.
type ErrorCode string

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

// ValidationError carries everything a Graph error envelope needs:
//
//	{"error":{"code":"badRequest","message":...,"details":[{"code":Code,"message":Message,"target":Target}]}}
//
// Target is the JSON path of the offending property (for example
// "passkeyProfiles[2].keyRestrictions.aaGuids[0]") so an admin UI can point at it.
// Every ValidationError maps to HTTP 400.
type ValidationError struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	Target  string    `json:"target,omitempty"`
}

func (e *ValidationError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Target)
}

// Is lets errors.Is match on the code alone: errors.Is(err, &ValidationError{Code: X}).
func (e *ValidationError) Is(target error) bool {
	t, ok := target.(*ValidationError)
	return ok && t.Code == e.Code
}

func verr(code ErrorCode, target, format string, args ...any) *ValidationError {
	return &ValidationError{Code: code, Target: target, Message: fmt.Sprintf(format, args...)}
}
