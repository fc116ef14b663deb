package signinlog

import (
	"context"
	"errors"
	"time"

	"github.com/rpserver/rpserver/internal/policy"
)

// SignIn is Graph's signIn resource (v1.0 plus the beta properties Entra
// admins read when rolling out passkeys: authenticationDetails,
// authenticationRequirement), as the lab records it.
type SignIn struct {
	ID                               string                                  `json:"id"`
	CreatedDateTime                  time.Time                               `json:"createdDateTime"`
	UserID                           string                                  `json:"userId"`
	UserPrincipalName                string                                  `json:"userPrincipalName"`
	UserDisplayName                  string                                  `json:"userDisplayName"`
	AppID                            string                                  `json:"appId"`
	AppDisplayName                   string                                  `json:"appDisplayName"`
	IPAddress                        string                                  `json:"ipAddress"`
	ClientAppUsed                    string                                  `json:"clientAppUsed"`
	CorrelationID                    string                                  `json:"correlationId"`
	IsInteractive                    bool                                    `json:"isInteractive"`
	ConditionalAccessStatus          string                                  `json:"conditionalAccessStatus"` // success, failure, notApplied
	AppliedConditionalAccessPolicies []policy.AppliedConditionalAccessPolicy `json:"appliedConditionalAccessPolicies"`
	AuthenticationDetails            []AuthenticationDetail                  `json:"authenticationDetails"`
	AuthenticationRequirement        string                                  `json:"authenticationRequirement"` // singleFactorAuthentication, multiFactorAuthentication
	AuthenticationMethodsUsed        []string                                `json:"authenticationMethodsUsed"`
	RiskLevelDuringSignIn            string                                  `json:"riskLevelDuringSignIn"`
	RiskLevelAggregated              string                                  `json:"riskLevelAggregated"`
	RiskState                        string                                  `json:"riskState"`
	Status                           SignInStatus                            `json:"status"`
	DeviceDetail                     DeviceDetail                            `json:"deviceDetail"`
	// Location is Graph's signInLocation. Always null: the lab has no
	// geolocation data, and a countryNamedLocation cannot tell it a
	// country (only includeUnknownCountriesAndRegions ever matches).
	Location *SignInLocation `json:"location"`
	// ResourceID and ResourceDisplayName name the resource the sign-in
	// was for: the app itself, since the lab's tokens are audienced to
	// the signing-in app (Microsoft Graph for the admin token, the OpenID
	// Connect client for an app sign-in, the lab portal otherwise).
	ResourceID          string `json:"resourceId"`
	ResourceDisplayName string `json:"resourceDisplayName"`
	// RiskDetail and RiskEventTypesV2 are about sign-in risk, which the
	// lab never detects (user risk is set by administrators, see
	// internal/risk): "none" and [].
	RiskDetail       string   `json:"riskDetail"`
	RiskEventTypesV2 []string `json:"riskEventTypes_v2"`
	// UserAgent is the client's User-Agent header (at most
	// useragent.MaxLen bytes), which deviceDetail is read from.
	UserAgent string `json:"userAgent"`
	// AuthenticationContextClassReferences the app asked for, as Graph's
	// beta signIn reports them (detail required or previouslySatisfied).
	AuthenticationContextClassReferences []AuthenticationContext `json:"authenticationContextClassReferences,omitempty"`

	// IsEmergencyAccess marks a sign-in by a break-glass account. Not a
	// Graph property.
	IsEmergencyAccess bool `json:"isEmergencyAccess"`
	// RaisesAlert asks the store for a high-severity alert in the same
	// transaction. The sign-in service sets it for an emergency account's
	// use of a right credential, and once when a burst of failures locks
	// it out, not for each anonymous wrong guess.
	RaisesAlert bool `json:"-"`
}

// OmitBeta clears what v1.0's signIn does not carry and a v1.0 client must
// not be shown: the beta appliedConditionalAccessPolicy condition fields.
func (s *SignIn) OmitBeta() {
	for i := range s.AppliedConditionalAccessPolicies {
		s.AppliedConditionalAccessPolicies[i].OmitBetaConditions()
	}
}

// AuthenticationContext is Graph's authenticationContext (beta signIn).
type AuthenticationContext struct {
	ID     string `json:"id"`
	Detail string `json:"detail"`
}

// SignInStatus is Graph's signInStatus: errorCode 0 is success.
type SignInStatus struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason,omitempty"`
	AdditionalDetails string `json:"additionalDetails,omitempty"`
}

// SignInLocation is Graph's signInLocation (v1.0 CSDL ComplexType
// signInLocation: city, countryOrRegion, geoCoordinates, state).
type SignInLocation struct {
	City            string          `json:"city"`
	State           string          `json:"state"`
	CountryOrRegion string          `json:"countryOrRegion"`
	GeoCoordinates  *GeoCoordinates `json:"geoCoordinates"`
}

// GeoCoordinates is Graph's geoCoordinates.
type GeoCoordinates struct {
	Altitude  *float64 `json:"altitude"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

// DeviceDetail is Graph's deviceDetail, as much as the lab knows: browser
// and operatingSystem from the User-Agent (internal/useragent), else the
// operatingSystem is the devicePlatform the client declared.
type DeviceDetail struct {
	OperatingSystem string `json:"operatingSystem,omitempty"`
	Browser         string `json:"browser,omitempty"`
}

// AuthenticationDetail is Graph's (beta) authenticationDetail: one step of
// the sign-in, e.g. {authenticationMethod "Passkey (device-bound)",
// succeeded true, authenticationStepResultDetail "MFA successfully
// completed"}, or "Previously satisfied" when a session claim was reused.
type AuthenticationDetail struct {
	AuthenticationStepDateTime     time.Time `json:"authenticationStepDateTime"`
	AuthenticationMethod           string    `json:"authenticationMethod"`
	AuthenticationMethodDetail     string    `json:"authenticationMethodDetail,omitempty"`
	Succeeded                      bool      `json:"succeeded"`
	AuthenticationStepResultDetail string    `json:"authenticationStepResultDetail"`
	AuthenticationStepRequirement  string    `json:"authenticationStepRequirement"` // "Primary authentication", "Multifactor authentication"
}

// Writer records sign-ins. Write returns only once the record is durable
// (committed), so an acknowledged sign-in is never lost. WriteUse also
// commits a passkey's use (its counter) in the same transaction, and stores
// the record only if the counter still advances: ErrCounterNotAdvanced
// otherwise, with nothing stored.
type Writer interface {
	Write(ctx context.Context, s SignIn) error
	WriteUse(ctx context.Context, s SignIn, use *CredentialUse) error
}

// CredentialUse is a passkey's use, committed with its sign-in record: the
// counter rides the log's commit instead of paying one of its own.
type CredentialUse struct {
	CredentialID []byte
	SignCount    uint32
	BackupState  bool
	At           time.Time
	// CheckOnly: the use changes nothing (ceremony.Use.Unchanged), so
	// nothing of the credential is written; the record is stored only if,
	// at the commit, the credential is still there, unflagged and without
	// a counter (ErrCounterNotAdvanced otherwise, as for a counter that no
	// longer advances).
	CheckOnly bool
	// Claim, when set, takes the sign-in's challenge in the record's
	// commit instead of in a round trip before the check: the record (and
	// the use) is stored only if the claim holds then, ErrClaimRefused
	// otherwise, with nothing stored and the challenge left untaken.
	Claim *ChallengeClaim
}

// ChallengeClaim is what a passkey sign-in decided on without reading the
// database (this server's copies of the credential, its owner's facts and
// the policies), checked at the commit: the challenge is taken there (its
// nonce recorded as used, while its epoch is current and it has not
// expired), and only if the owner's sign-in facts and the Conditional
// Access policies are still at the versions the decision read.
type ChallengeClaim struct {
	Nonce         []byte // ceremony.Challenge.Hash
	ExpiresAt     time.Time
	Epoch         int64
	FactsVersion  int64 // of the record's user (SignIn.UserID)
	PolicyVersion int64
}

// Entry is a record with, for a passkey sign-in, its credential use.
type Entry struct {
	SignIn SignIn
	Use    *CredentialUse
	// Doc is SignIn encoded as JSON when the writer encoded it already
	// (BatchWriter does, in the caller's goroutine, so that a batch's
	// records are encoded in parallel and not one after another by the
	// batch's leader, while every record of the batch waits); nil: the store
	// encodes it.
	Doc []byte
}

// ErrCounterNotAdvanced is WriteUse's refusal: when the transaction ran, the
// credential's counter was no longer below the presented one (a concurrent
// sign-in with the same counter won) or the credential had been flagged.
var ErrCounterNotAdvanced = errors.New("signinlog: the credential's counter did not advance; record not stored")

// ErrClaimRefused is WriteUse's refusal of a use with a Claim that did not
// hold at the commit: the challenge was used or expired, its epoch gone,
// or the facts or policies had moved on. Nothing is stored and the
// challenge is not taken, so the sign-in can be decided again the long
// way (and a used challenge is refused there).
var ErrClaimRefused = errors.New("signinlog: the challenge claim did not hold at the commit; record not stored")

// Refusal is a store's verdict on one entry of a batch.
type Refusal uint8

const (
	Stored       Refusal = iota // stored (or a retried record already there)
	NotAdvanced                 // ErrCounterNotAdvanced
	ClaimRefused                // ErrClaimRefused
)
