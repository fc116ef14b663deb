package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/rpserver/rpserver/internal/ids"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/mfa"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/secrethash"
	"github.com/rpserver/rpserver/internal/signinlog"
	"github.com/rpserver/rpserver/internal/tokens"
)

// PolicySource gives the current compiled Conditional Access policies.
type PolicySource interface {
	Compiled(ctx context.Context) (*policy.CompiledPolicies, error)
}

// Directory finds users by name.
type Directory interface {
	UserIDByName(ctx context.Context, upn string) (string, error)
}

// Deps are the collaborators of the service, all required except the
// defaulted settings (RPName, SessionTTL, FlowTTL, Now). The user's risk
// comes with the sign-in facts.
type Deps struct {
	Issuer  *tokens.Issuer
	Sealer  *tokens.Sealer
	Users   Directory
	Factors interface {
		FactorStore
		FactsStore
		GuessStore
	}
	Ceremony *ceremony.Service
	TAP      TAPRedeemer
	Policies PolicySource
	Log      signinlog.Writer
	// RPName is the issuer shown in authenticator apps for TOTP.
	RPName     string
	SessionTTL time.Duration
	FlowTTL    time.Duration
	// Lockout is the smart lockout policy for password and verification
	// code guesses; zero: DefaultLockout.
	Lockout LockoutPolicy
	Now     func() time.Time
}

// Service runs sign-ins.
type Service struct{ d Deps }

// New fills defaults.
func New(d Deps) *Service {
	if d.SessionTTL == 0 {
		d.SessionTTL = 8 * time.Hour
	}
	if d.Lockout.Threshold == 0 {
		d.Lockout = DefaultLockout
	}
	if d.FlowTTL == 0 {
		d.FlowTTL = 10 * time.Minute
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RPName == "" {
		d.RPName = "rpserver lab"
	}
	return &Service{d: d}
}

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
	CodeInvalidDisplayName   = "invalidDisplayName"
)

// DefaultApplicationID is the lab portal itself: what a sign-in is for when
// the client names no application.
const DefaultApplicationID = "00000000-0000-0000-0000-00000000a001"

// Applications are the apps registered in the lab (id → display name).
// Conditional Access policies can include or exclude them by id.
var Applications = map[string]string{
	DefaultApplicationID:                   "rpserver lab portal",
	"00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
	"00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
	"797f4846-ba00-4fd7-ba43-dac1f8f63013": "Azure Resource Manager",
	"0000000a-0000-0000-c000-000000000000": "Microsoft Intune",
}

// Step is one verified factor of a sign-in.
type Step struct {
	Mode     string    `json:"m"`
	AAGUID   string    `json:"a,omitempty"`
	Detail   string    `json:"d,omitempty"` // e.g. the passkey's model
	At       time.Time `json:"t"`
	Previous bool      `json:"p,omitempty"` // carried from an earlier sign-in of the session
}

// flow is the state carried by a flow token.
type flow struct {
	UserID        string `json:"u"`
	AppID         string `json:"app"`
	ClientAppType string `json:"cat"`
	Platform      string `json:"plat,omitempty"`
	IP            string `json:"ip,omitempty"`
	CorrelationID string `json:"cid"`
	Steps         []Step `json:"steps"`
	// UserAction is set when the sign-in registers security information
	// (policy.UserActionRegisterSecurityInfo) rather than opening the app.
	UserAction string `json:"ua,omitempty"`
	// AuthContexts the app asked for (an OpenID Connect sign-in with
	// acr_values or a claims challenge); Conditional Access policies
	// targeting them apply. PrevContexts were satisfied earlier in the
	// session.
	AuthContexts []string `json:"acx,omitempty"`
	PrevContexts []string `json:"pacx,omitempty"`

	// lockedOutNow marks a failure that just locked the user out (smart
	// lockout): the burst of failures an emergency account's alert is
	// raised for, once.
	lockedOutNow bool
	// issuedAt is when the presented flow token was minted (zero for a flow
	// begun in this request): a flow older than the user's last session
	// revocation is refused.
	issuedAt time.Time
}

// sessionData is what a session token carries besides amr: the factors
// behind it and the application it was issued for. Only a session issued
// for the lab portal (DefaultApplicationID) opens the portal's own pages
// and APIs; one from a sign-in to another app only lends its factors as
// "previously satisfied" to the next sign-in, which Conditional Access then
// evaluates for the app being signed in to.
type sessionData struct {
	Steps []Step `json:"steps"`
	App   string `json:"app"`
	// Action is set on a session issued for a user action only (registering
	// security information): it opens the registration endpoints, never
	// the admin token exchange, and lends no factor to later sign-ins.
	Action string `json:"action,omitempty"`
	// Contexts are the authentication contexts the session satisfied.
	Contexts []string `json:"acx,omitempty"`
}

// Outcome is the answer to every step of the flow.
type Outcome struct {
	// Status: credentialRequired (no first factor yet), stepUpRequired
	// (Conditional Access wants more), completed.
	Status            string               `json:"status"`
	ErrorCode         string               `json:"errorCode,omitempty"`
	Message           string               `json:"message,omitempty"`
	FlowToken         string               `json:"flowToken,omitempty"`
	SessionToken      string               `json:"sessionToken,omitempty"`
	UserID            string               `json:"userId"`
	UserPrincipalName string               `json:"userPrincipalName"`
	MethodsSatisfied  []string             `json:"methodsSatisfied"`
	Prompt            *policy.MethodChoice `json:"prompt,omitempty"`
	Requirements      []policy.Requirement `json:"requirements,omitempty"`
	SignInID          string               `json:"signInId,omitempty"`
	// Log is the sign-in record written for this step, when one was.
	Log *signinlog.SignIn `json:"signIn,omitempty"`
	// Session lifetime, for the cookie.
	SessionTTL time.Duration `json:"-"`
	// For an app sign-in (BeginForApp), once completed: the authentication
	// contexts the session satisfies and when the user last authenticated.
	AuthContexts []string  `json:"-"`
	AuthTime     time.Time `json:"-"`
	SessionAt    time.Time `json:"-"`
}

// BeginRequest starts a sign-in to an application.
type BeginRequest struct {
	UserPrincipalName string `json:"userPrincipalName"`
	ApplicationID     string `json:"applicationId"`
	ClientAppType     string `json:"clientAppType"`
	Platform          string `json:"platform"`
	IP                string `json:"-"`
}

var clientAppTypes = map[string]bool{"browser": true, "mobileAppsAndDesktopClients": true, "exchangeActiveSync": true, "other": true}
var platforms = map[string]bool{"": true, "android": true, "iOS": true, "windows": true, "windowsPhone": true, "macOS": true, "linux": true}

// Begin opens a flow. With a valid session of the same user, its methods
// count as previously satisfied and the sign-in may complete at once.
func (s *Service) Begin(ctx context.Context, req BeginRequest, session *tokens.Claims) (Outcome, error) {
	if req.ApplicationID == "" {
		req.ApplicationID = DefaultApplicationID
	}
	if _, ok := Applications[req.ApplicationID]; !ok {
		if !ids.Valid(req.ApplicationID) {
			return Outcome{}, apperr.Invalid(CodeInvalidApplicationID, "applicationId must be a GUID (an app registered in the lab, or any GUID)").WithTarget("applicationId")
		}
	}
	if req.ClientAppType == "" {
		req.ClientAppType = "browser"
	}
	if !clientAppTypes[req.ClientAppType] {
		return Outcome{}, apperr.Invalid(CodeInvalidClientAppType, "clientAppType must be browser, mobileAppsAndDesktopClients, exchangeActiveSync or other").WithTarget("clientAppType")
	}
	if !platforms[req.Platform] {
		return Outcome{}, apperr.Invalid(CodeInvalidPlatform, "platform must be android, iOS, windows, windowsPhone, macOS or linux").WithTarget("platform")
	}
	userID, err := s.d.Users.UserIDByName(ctx, req.UserPrincipalName)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return Outcome{}, apperr.NotFound(CodeUserNotFound, "no account %q exists in the lab tenant", req.UserPrincipalName).WithTarget("userPrincipalName")
		}
		return Outcome{}, err
	}
	f := &flow{UserID: userID, AppID: req.ApplicationID, ClientAppType: req.ClientAppType, Platform: req.Platform, IP: req.IP, CorrelationID: uuid.NewString()}
	if session != nil && session.Subject == userID {
		var sd sessionData
		if json.Unmarshal(session.Data, &sd) == nil && sd.Action == "" && s.sessionValid(ctx, session) == nil {
			for _, st := range sd.Steps {
				st.Previous = true
				f.Steps = append(f.Steps, st)
			}
		}
	}
	return s.advance(ctx, f)
}

func (s *Service) readFlow(token string) (*flow, error) {
	c, err := s.d.Issuer.Verify(token, tokens.AudienceFlow)
	if err != nil {
		return nil, apperr.Invalid(CodeInvalidFlow, "the sign-in flow token is invalid or expired; begin again").WithTarget("flowToken")
	}
	var f flow
	if err := json.Unmarshal(c.Data, &f); err != nil || f.UserID == "" {
		return nil, apperr.Invalid(CodeInvalidFlow, "the sign-in flow token is malformed").WithTarget("flowToken")
	}
	if c.IssuedAt != nil {
		f.issuedAt = c.IssuedAt.Time
	}
	return &f, nil
}

// requirePrimary refuses a second factor before the first: a push or a code
// alone proves nothing here, and a push to the user's phone must not be
// triggerable by anyone who merely knows the UPN.
func requirePrimary(f *flow) error {
	for _, st := range f.Steps {
		if firstFactors[st.Mode] {
			return nil
		}
	}
	return apperr.Invalid(CodeFirstFactorRequired, "sign in with a passkey, a Temporary Access Pass or a password first")
}

// Password checks the user's password as the first factor.
func (s *Service) Password(ctx context.Context, flowToken, password string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	hash, err := s.d.Factors.PasswordHash(ctx, f.UserID)
	if e, ok := apperr.As(err); err != nil && (!ok || e.Kind != apperr.KindNotFound) {
		return Outcome{}, err
	}
	ok, locked, err := s.checkGuess(ctx, f, "password", func() (bool, error) { return checkPassword(ctx, hash, password) })
	if err != nil {
		return locked, err
	}
	if !ok {
		return s.fail(ctx, f, "password", apperr.Unauthenticated(CodeInvalidPassword, "the password is incorrect"), 50126)
	}
	f.Steps = append(f.Steps, Step{Mode: "password", At: s.d.Now()})
	return s.advance(ctx, f)
}

// checkPassword runs argon2id (19 MiB) in one of the process-wide hashing
// slots; with no hash it spends the same time and fails, so timing does not
// tell which users have a password.
func checkPassword(ctx context.Context, hash, password string) (bool, error) {
	release, err := secrethash.Acquire(ctx)
	defer release()
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return false, err // serverBusy
		}
		return false, apperr.Unavailable("requestCancelled", "the request ended while waiting to check the password")
	}
	if hash == "" {
		return secrethash.VerifyDummy(password), nil
	}
	return secrethash.Verify(hash, password), nil
}

// TOTP checks a verification code from an authenticator app.
func (s *Service) TOTP(ctx context.Context, flowToken, code string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	if err := requirePrimary(f); err != nil {
		return Outcome{}, err
	}
	methods, err := s.d.Factors.ListTOTP(ctx, f.UserID)
	if err != nil {
		return Outcome{}, err
	}
	if len(methods) == 0 {
		return Outcome{}, apperr.Invalid(CodeNoSuchMethod, "the user has no verification-code (softwareOath) method")
	}
	now := s.d.Now()
	reused := false
	ok, locked, err := s.checkGuess(ctx, f, "softwareOath", func() (bool, error) {
		for _, m := range methods {
			secret, err := s.d.Sealer.Open(m.SealedSecret, "totp:"+m.ID)
			if err != nil {
				return false, err
			}
			step, ok := mfa.VerifyTOTP(secret, code, now)
			if !ok {
				continue
			}
			fresh, err := s.d.Factors.UseTOTPStep(ctx, m.ID, step)
			reused = err == nil && !fresh
			return fresh, err
		}
		return false, nil
	})
	switch {
	case err != nil:
		return locked, err
	case reused:
		return s.fail(ctx, f, "softwareOath", apperr.Unauthenticated(CodeCodeReused, "this code was already used; wait for the next one"), 500121)
	case !ok:
		return s.fail(ctx, f, "softwareOath", apperr.Unauthenticated(CodeInvalidCode, "the verification code is incorrect or expired"), 500121)
	}
	f.Steps = append(f.Steps, Step{Mode: "softwareOath", At: now})
	return s.advance(ctx, f)
}

// PushChallenge is what the sign-in screen shows while the phone is asked.
type PushChallenge struct {
	PushRequestID string    `json:"pushRequestId"`
	NumberMatch   int       `json:"numberMatch"`
	ExpiresAt     time.Time `json:"expiresDateTime"`
}

// PushBegin sends a push to the user's Authenticator.
func (s *Service) PushBegin(ctx context.Context, flowToken string) (PushChallenge, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return PushChallenge{}, err
	}
	if err := requirePrimary(f); err != nil {
		return PushChallenge{}, err
	}
	devices, err := s.d.Factors.ListPushMethods(ctx, f.UserID)
	if err != nil {
		return PushChallenge{}, err
	}
	if len(devices) == 0 {
		return PushChallenge{}, apperr.Invalid(CodeNoSuchMethod, "the user has no Microsoft Authenticator (push) method")
	}
	r := PushRequest{ID: uuid.NewString(), UserID: f.UserID, NumberMatch: mfa.NumberMatch(), AppName: Applications[f.AppID], ExpiresAt: s.d.Now().Add(2 * time.Minute)}
	if err := s.d.Factors.CreatePushRequest(ctx, r); err != nil {
		return PushChallenge{}, err
	}
	return PushChallenge{PushRequestID: r.ID, NumberMatch: r.NumberMatch, ExpiresAt: r.ExpiresAt}, nil
}

// PushComplete finishes the push step once the phone answered.
func (s *Service) PushComplete(ctx context.Context, flowToken, pushRequestID string) (Outcome, error) {
	f, err := s.readFlow(flowToken)
	if err != nil {
		return Outcome{}, err
	}
	if !ids.Valid(pushRequestID) {
		return Outcome{}, apperr.Invalid("invalidId", "pushRequestId is not a valid id").WithTarget("pushRequestId")
	}
	r, err := s.d.Factors.TakePushRequest(ctx, pushRequestID, f.UserID)
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case r.Status == "pending" && s.d.Now().After(r.ExpiresAt):
		return s.fail(ctx, f, "microsoftAuthenticatorPush", apperr.Unauthenticated(CodePushExpired, "the push was not answered in time"), 500121)
	case r.Status == "pending":
		return Outcome{}, apperr.Conflict(CodePushPending, "the phone has not answered yet; try again in a moment")
	case r.Status == "denied":
		return s.fail(ctx, f, "microsoftAuthenticatorPush", apperr.Unauthenticated(CodePushDenied, "the sign-in was denied on the phone"), 500121)
	}
	f.Steps = append(f.Steps, Step{Mode: "microsoftAuthenticatorPush", At: s.d.Now()})
	return s.advance(ctx, f)
}

// PendingPush is a notification on the phone: which sign-in asks. The
// number is not in it: the user reads it on the sign-in screen and types it,
// which is what number matching is for.
type PendingPush struct {
	PushRequestID   string    `json:"pushRequestId"`
	ApplicationName string    `json:"applicationName"`
	ExpiresDateTime time.Time `json:"expiresDateTime"`
}

// PendingPushes lists the pushes awaiting the phone whose device token is
// given, oldest first.
func (s *Service) PendingPushes(ctx context.Context, deviceToken string) ([]PendingPush, error) {
	sum := sha256.Sum256([]byte(deviceToken))
	dev, err := s.d.Factors.PushMethodByToken(ctx, sum[:])
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return nil, apperr.Unauthenticated("invalidDeviceToken", "unknown device token")
		}
		return nil, err
	}
	reqs, err := s.d.Factors.PendingPushRequests(ctx, dev.UserID, s.d.Now())
	if err != nil {
		return nil, err
	}
	out := make([]PendingPush, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, PendingPush{PushRequestID: r.ID, ApplicationName: r.AppName, ExpiresDateTime: r.ExpiresAt})
	}
	return out, nil
}

// ApprovePush is the phone's answer (the API call standing in for the
// Authenticator app): the device token proves which phone it is, the number
// typed must match the one on the sign-in screen.
func (s *Service) ApprovePush(ctx context.Context, deviceToken, pushRequestID string, number int, approve bool) error {
	sum := sha256.Sum256([]byte(deviceToken))
	dev, err := s.d.Factors.PushMethodByToken(ctx, sum[:])
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return apperr.Unauthenticated("invalidDeviceToken", "unknown device token")
		}
		return err
	}
	if !ids.Valid(pushRequestID) {
		return apperr.Invalid("invalidId", "pushRequestId is not a valid id").WithTarget("pushRequestId")
	}
	if approve {
		r, err := s.d.Factors.TakePushRequest(ctx, pushRequestID, dev.UserID)
		if err != nil {
			return err
		}
		if r.NumberMatch != number {
			// A wrong number denies the request: guessing is not an option.
			_, _ = s.d.Factors.DecidePushRequest(ctx, pushRequestID, dev.UserID, false, s.d.Now())
			return apperr.Invalid(CodePushNumberMismatch, "the number does not match the one shown on the sign-in screen; the request is denied")
		}
	}
	ok, err := s.d.Factors.DecidePushRequest(ctx, pushRequestID, dev.UserID, approve, s.d.Now())
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Conflict(CodePushExpired, "this push request is no longer pending (answered or expired)")
	}
	return nil
}

// NewTOTP registers an authenticator app for verification codes; the secret
// is returned once (to show as a QR code) and stored sealed.
type NewTOTP struct {
	ID        string `json:"id"`
	SecretKey string `json:"secretKey"`
	URI       string `json:"otpauthUri"`
}

func (s *Service) RegisterTOTP(ctx context.Context, userID, upn string) (NewTOTP, error) {
	secret := mfa.NewTOTPSecret()
	id := uuid.NewString()
	sealed, err := s.d.Sealer.Seal(secret, "totp:"+id)
	if err != nil {
		return NewTOTP{}, err
	}
	if _, err := s.d.Factors.AddTOTP(ctx, TOTPMethod{ID: id, UserID: userID, SealedSecret: sealed}); err != nil {
		return NewTOTP{}, err
	}
	return NewTOTP{ID: id, SecretKey: mfa.EncodeSecret(secret), URI: mfa.ProvisioningURI(secret, s.d.RPName, upn)}, nil
}

// NewPush registers an emulated Authenticator app; the device token is what
// the "phone" presents to approve pushes, shown once.
type NewPush struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	DeviceToken string `json:"deviceToken"`
}

func (s *Service) RegisterPush(ctx context.Context, userID, name string) (NewPush, error) {
	if name == "" {
		name = "Microsoft Authenticator"
	}
	if utf8.RuneCountInString(name) > 128 {
		return NewPush{}, apperr.Invalid(CodeInvalidDisplayName, "displayName must be at most 128 characters").WithTarget("displayName")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	m, err := s.d.Factors.AddPushMethod(ctx, PushMethod{ID: uuid.NewString(), UserID: userID, DisplayName: name, DeviceTokenHash: sum[:]})
	if err != nil {
		return NewPush{}, err
	}
	return NewPush{ID: m.ID, DisplayName: m.DisplayName, DeviceToken: tok}, nil
}

// Revoke ends every session of the user issued until now.
func (s *Service) Revoke(ctx context.Context, userID string) error {
	return s.d.Factors.RevokeSessions(ctx, userID, s.d.Now())
}

// CheckSession admits a session to the portal's own pages and APIs: it must
// be valid (sessionValid) and have been issued by a sign-in to the portal,
// where Conditional Access was evaluated for the portal.
func (s *Service) CheckSession(ctx context.Context, c *tokens.Claims) error {
	var sd sessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil || sd.App != DefaultApplicationID {
		return apperr.Unauthenticated(CodeSessionNotForPortal, "this session was issued for another application; sign in to the lab portal")
	}
	return s.sessionValid(ctx, c)
}

// sessionValid refuses session tokens issued before the user's last
// revocation, and sessions of disabled accounts.
func (s *Service) sessionValid(ctx context.Context, c *tokens.Claims) error {
	validFrom, enabled, err := s.d.Factors.SessionState(ctx, c.Subject)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return apperr.Unauthenticated(CodeSessionRevoked, "the session's account no longer exists")
		}
		return err
	}
	if !enabled {
		return apperr.Unauthenticated(CodeUserDisabled, "the account is disabled")
	}
	if c.IssuedAt == nil || revoked(c.IssuedAt.Time, validFrom) {
		return apperr.Unauthenticated(CodeSessionRevoked, "the session was revoked; sign in again")
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("signin: marshal %T: %v", v, err))
	}
	return b
}

// DirectoryUsers adapts a directory lookup by UPN.
type DirectoryUsers struct {
	ByUPN func(ctx context.Context, upn string) (id string, err error)
}

func (d DirectoryUsers) UserIDByName(ctx context.Context, upn string) (string, error) {
	return d.ByUPN(ctx, upn)
}

// SecondFactorsOf reports whether a user holds a method that can serve as
// a second factor (passkey, verification-code app, push app), read from the
// factor store, for the methods service's rule on changing one's own
// methods. A function of the store, so the methods service can be built
// before the ceremony and sign-in services that depend on it.
func SecondFactorsOf(store FactsStore) func(ctx context.Context, userID string) (bool, error) {
	return func(ctx context.Context, userID string) (bool, error) {
		facts, err := store.SignInFacts(ctx, userID)
		if err != nil {
			return false, err
		}
		return facts.HasPasskey || facts.HasTOTP || facts.HasPush, nil
	}
}

// PortalSessionData is the session payload of a sign-in to the lab portal
// with the given factors, for tools and tests that mint sessions directly.
func PortalSessionData(modes ...string) json.RawMessage {
	sd := sessionData{App: DefaultApplicationID}
	for _, m := range modes {
		sd.Steps = append(sd.Steps, Step{Mode: m})
	}
	return mustJSON(sd)
}
