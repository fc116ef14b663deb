package methods

import (
	"errors"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/internal/tap"
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
	var pv *profiles.ValidationError
	if errors.As(err, &pv) {
		return apperr.Invalid(string(pv.Code), "%s", pv.Message).WithTarget(pv.Target)
	}
	var tv *tap.ValidationError
	if errors.As(err, &tv) {
		return apperr.Invalid(string(tv.Code), "%s", tv.Message).WithTarget(tv.Target)
	}
	return err
}
