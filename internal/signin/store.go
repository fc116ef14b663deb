package signin

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
	"github.com/rpserver/rpserver/internal/ratelimit"
)

// PushRequest is one push notification awaiting the phone's answer.
type PushRequest struct {
	ID          string
	UserID      string
	NumberMatch int
	Status      string // pending, approved, denied
	AppName     string
	ExpiresAt   time.Time
}

// FactorStore persists the non-passkey methods and session revocation.
// Implementations return apperr NotFound for unknown ids.
type FactorStore interface {
	PasswordHash(ctx context.Context, userID string) (string, error)

	AddTOTP(ctx context.Context, m totp.Method) (totp.Method, error)
	ListTOTP(ctx context.Context, userID string) ([]totp.Method, error)
	DeleteTOTP(ctx context.Context, userID, id string) error
	// UseTOTPStep records step as used if it is above the last used one;
	// false means the code was already used (replay).
	UseTOTPStep(ctx context.Context, id string, step int64) (bool, error)

	AddPushMethod(ctx context.Context, m push.Method) (push.Method, error)
	ListPushMethods(ctx context.Context, userID string) ([]push.Method, error)
	DeletePushMethod(ctx context.Context, userID, id string) error
	PushMethodByToken(ctx context.Context, tokenHash []byte) (push.Method, error)

	CreatePushRequest(ctx context.Context, r PushRequest) error
	// DecidePushRequest moves a pending, unexpired request of the user to
	// approved or denied; false when there is none to decide.
	DecidePushRequest(ctx context.Context, id, userID string, approve bool, now time.Time) (bool, error)
	// TakePushRequest deletes and returns the user's request once decided;
	// a pending one is returned without being deleted.
	TakePushRequest(ctx context.Context, id, userID string) (PushRequest, error)
	// PendingPushRequests lists the user's requests still awaiting an
	// answer and unexpired at now, oldest first: the phone's notifications.
	PendingPushRequests(ctx context.Context, userID string, now time.Time) ([]PushRequest, error)
	// PurgeExpiredPushRequests removes requests nobody completed; returns how many.
	PurgeExpiredPushRequests(ctx context.Context, now time.Time) (int64, error)

	// SessionState is what every session-carrying request checks: whether
	// the account is enabled and from when its sessions are valid.
	SessionState(ctx context.Context, userID string) (validFrom time.Time, enabled bool, err error)
	RevokeSessions(ctx context.Context, userID string, at time.Time) error
}

// Facts is everything a sign-in decision needs to know about the user,
// gathered in one round trip.
type Facts struct {
	UserID            string
	UserPrincipalName string
	DisplayName       string
	Enabled           bool
	IsEmergencyAccess bool
	GroupIDs          []string
	RoleTemplateIDs   []string
	HasPassword       bool
	HasPasskey        bool
	HasTOTP           bool
	HasPush           bool
	HasTAP            bool   // a pass that is usable now or later
	UserRiskLevel     string // riskyUser.riskLevel while at risk or confirmed compromised; "none" otherwise
	SessionsValidFrom time.Time
}

// FactsStore loads Facts (NotFound for an unknown user).
type FactsStore interface {
	SignInFacts(ctx context.Context, userID string) (Facts, error)
	// TakePasskeyAssertion takes a sign-in challenge (opened from its
	// seal: records it used, as ceremony.Store.TakeAssertionChallenge
	// does) and, in the same round trip, reads the credential the
	// assertion names, its owner's Facts and the Conditional Access policy
	// version: everything the decision needs. NotFound when the challenge
	// was used or its epoch is gone; a nil Credential when no such
	// credential exists. With a claim, the same statement reserves the
	// failure limiter's attempt (Grant).
	TakePasskeyAssertion(ctx context.Context, challenge ceremony.Challenge, credentialID []byte, claim *ratelimit.Claim) (PasskeyAssertion, error)
}

// PasskeyAssertion is what TakePasskeyAssertion read.
type PasskeyAssertion struct {
	Challenge     ceremony.Challenge
	Credential    *ceremony.Credential // nil: not registered
	Facts         Facts                // of the credential's owner
	PolicyVersion int64                // conditional_access_version at the time of the read
	// Grant answers the claim whenever the statement ran (nil without one).
	Grant *ratelimit.Grant
}
