package policy

import "strings"

// ValidationError mirrors the shape of a Graph error detail (code, target,
// message) so the HTTP layer can return it inside {"error":{"details":[...]}}
// unchanged. Code is stable and meant for programs and tests; Message is for
// people and may be reworded.
type ValidationError struct {
	Code    string `json:"code"`
	Target  string `json:"target,omitempty"`
	Message string `json:"message"`
}

func (e ValidationError) Error() string {
	if e.Target == "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + " (" + e.Target + "): " + e.Message
}

// ValidationErrors reports every problem at once: an administrator fixing a
// policy should not have to resubmit once per mistake.
type ValidationErrors []ValidationError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Codes lists the codes in order, which is what tests and clients compare.
func (v ValidationErrors) Codes() []string {
	out := make([]string, len(v))
	for i, e := range v {
		out[i] = e.Code
	}
	return out
}

// Has reports whether code is among the errors.
func (v ValidationErrors) Has(code string) bool {
	for _, e := range v {
		if e.Code == code {
			return true
		}
	}
	return false
}

// err turns an empty list into a nil error; returning a nil ValidationErrors
// through the error interface would be a non-nil error.
func (v ValidationErrors) err() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

func (v *ValidationErrors) add(code, target, msg string) {
	*v = append(*v, ValidationError{Code: code, Target: target, Message: msg})
}

// Stable validation and refusal codes.
const (
	CodeDisplayNameRequired            = "displayNameRequired"
	CodeInvalidState                   = "invalidState"
	CodeUnknownEnumValue               = "unknownEnumValue"
	CodeUsersConditionRequired         = "usersConditionRequired"
	CodeApplicationsConditionRequired  = "applicationsConditionRequired"
	CodeUserActionsWithApplications    = "userActionsWithApplications"
	CodeUnsupportedUserAction          = "unsupportedUserAction"
	CodeInvalidAuthenticationContext   = "invalidAuthenticationContext"
	CodeKeywordNotAlone                = "keywordNotAlone"
	CodeInvalidLocationKeyword         = "invalidLocationKeyword"
	CodeControlsRequired               = "controlsRequired"
	CodeEmptyGrantControls             = "emptyGrantControls"
	CodeInvalidOperator                = "invalidOperator"
	CodeMfaWithAuthenticationStrength  = "mfaWithAuthenticationStrength"
	CodeBlockWithOtherControls         = "blockWithOtherControls"
	CodeAuthenticationStrengthNotFound = "authenticationStrengthNotFound"
	CodeUnsupportedControl             = "unsupportedControl"
	CodePasswordChangeRequirements     = "passwordChangeRequirements"
	CodeInvalidSessionControl          = "invalidSessionControl"

	CodeUnknownCombination                  = "unknownCombination"
	CodeAllowedCombinationsRequired         = "allowedCombinationsRequired"
	CodeDuplicateCombination                = "duplicateCombination"
	CodeBuiltInReadOnly                     = "builtInReadOnly"
	CodeInvalidCombinationConfiguration     = "invalidCombinationConfiguration"
	CodeUnsupportedCombinationConfiguration = "unsupportedCombinationConfiguration"
	// CodeDuplicateCombinationConfiguration: a second configuration for a
	// combination that has one (which one would decide is ambiguous).
	CodeDuplicateCombinationConfiguration = "duplicateCombinationConfiguration"

	CodeEmergencyAccountNotExcluded = "emergencyAccountNotExcluded"
	CodeWouldLockOutCaller          = "wouldLockOutCaller"
)
