package methods

import (
	"github.com/rpserver/rpserver/internal/methods/targeting"

	"errors"

	"github.com/rpserver/rpserver/internal/apperr"
)

// Stable codes of this package (besides those of internal/profiles and
// internal/tap, which pass through unchanged).
const (
	CodeTAPExists           = "temporaryAccessPassAlreadyExists"
	CodeInvalidTAP          = "invalidTemporaryAccessPass" // wrong pass, unknown user, no pass: indistinguishable
	CodeTAPExpired          = "temporaryAccessPassExpired"
	CodeTAPNotYetValid      = "temporaryAccessPassNotYetValid"
	CodeTAPUsed             = "temporaryAccessPassAlreadyUsed"
	CodeTAPDisabledByPolicy = "temporaryAccessPassDisabledByPolicy"
	CodeTooManyAttempts     = "tooManyFailedAttempts"
	CodeUserDisabled        = "userDisabled"
	CodeInvalidDisplayName  = "invalidDisplayName"
	CodeAuthorization       = "Authorization_RequestDenied"
)

// classify turns the pure packages' validation errors into apperr errors
// (400 with the package's code and the JSON path as target).
func classify(err error) error {
	var v *targeting.ValidationError
	if errors.As(err, &v) {
		return apperr.Invalid(string(v.Code), "%s", v.Message).WithTarget(v.Target)
	}
	return err
}
