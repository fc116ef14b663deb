package signin

// Stable codes of the sign-in flow.
const (
	CodeUserNotFound         = "userNotFound"
	CodeUserDisabled         = "userDisabled"
	CodeInvalidFlow          = "invalidSignInFlow"
	CodeInvalidPassword      = "invalidPassword"
	CodePasswordNotSet       = "passwordNotSet"
	CodeInvalidCode          = "invalidVerificationCode"
	CodeCodeReused           = "verificationCodeAlreadyUsed"
	CodeNoSuchMethod         = "methodNotRegistered"
	CodePushPending          = "pushPending"
	CodePushDenied           = "pushDenied"
	CodePushExpired          = "pushExpired"
	CodePushNumberMismatch   = "pushNumberMismatch"
	CodeWrongUser            = "signInUserMismatch"
	CodeFirstFactorRequired  = "firstFactorRequired"
	CodeBlocked              = "conditionalAccessBlocked"
	CodeStrengthRequired     = "authenticationStrengthRequired"
	CodeMFARequired          = "mfaRequired"
	CodeRegistrationRequired = "methodRegistrationRequired"
	CodeSessionRevoked       = "sessionRevoked"
	CodeSessionNotForPortal  = "sessionNotForPortal"
	CodeInvalidApplicationID = "invalidApplicationId"
	CodeInvalidClientAppType = "invalidClientAppType"
	CodeInvalidPlatform      = "invalidPlatform"
)

// Entra's error codes, so a lab log reads like a tenant's.
const (
	errBlockedByCA        = 53003  // access has been blocked by Conditional Access policies
	errStrongAuth         = 50074  // strong authentication is required
	errUserDisabled       = 50057  // the user account is disabled
	errInvalidCredentials = 50126  // invalid username or password (Entra logs a failed passkey the same way)
	errMFAFailed          = 500121 // authentication failed during strong authentication request
)
