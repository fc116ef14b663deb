package methods

import (
	"context"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/methods/push"
	"github.com/rpserver/rpserver/internal/methods/totp"
)

// PasswordMethodID is the id Graph gives every user's password method
// (passwordAuthenticationMethod): one well-known GUID, documented in
// Graph's "List passwordMethods" reference.
const PasswordMethodID = "28c10230-6103-485e-b985-444c60001490"

// Graph's @odata.type of each method kind the lab holds.
const (
	ODataPassword      = "#microsoft.graph.passwordAuthenticationMethod"
	ODataSoftwareOath  = "#microsoft.graph.softwareOathAuthenticationMethod"
	ODataAuthenticator = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
	ODataFido2         = "#microsoft.graph.fido2AuthenticationMethod"
	ODataTAP           = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
)

// FactorStore reads the user's password, verification-code apps and push
// apps, and removes the latter two (internal/store).
type FactorStore interface {
	// PasswordChangedAt is when the password was last set; ok is false
	// when the user has none.
	PasswordChangedAt(ctx context.Context, userID string) (at time.Time, ok bool, err error)
	ListTOTP(ctx context.Context, userID string) ([]totp.Method, error)
	ListPushMethods(ctx context.Context, userID string) ([]push.Method, error)
	// DeleteTOTP and DeletePushMethod remove the user's method with that
	// id; NotFound when the user has none.
	DeleteTOTP(ctx context.Context, userID, id string) error
	DeletePushMethod(ctx context.Context, userID, id string) error
}

// PasswordMethod is Graph's passwordAuthenticationMethod (v1.0 CSDL:
// authenticationMethod's createdDateTime, password). Graph never returns
// the password: it is always null.
type PasswordMethod struct {
	ODataType       string     `json:"@odata.type"`
	ID              string     `json:"id"`
	CreatedDateTime *time.Time `json:"createdDateTime"`
	Password        *string    `json:"password"`
}

// SoftwareOathMethod is Graph's softwareOathAuthenticationMethod (v1.0
// CSDL: createdDateTime, secretKey). The secret is shown once at
// registration; reading the method returns secretKey null, as Graph does.
type SoftwareOathMethod struct {
	ODataType       string     `json:"@odata.type"`
	ID              string     `json:"id"`
	CreatedDateTime *time.Time `json:"createdDateTime"`
	SecretKey       *string    `json:"secretKey"`
}

// AuthenticatorMethod is Graph's microsoftAuthenticatorAuthenticationMethod
// (v1.0 CSDL: createdDateTime, deviceTag, displayName, phoneAppVersion).
// The lab's app is emulated: deviceTag and phoneAppVersion are null.
type AuthenticatorMethod struct {
	ODataType       string     `json:"@odata.type"`
	ID              string     `json:"id"`
	CreatedDateTime *time.Time `json:"createdDateTime"`
	DisplayName     string     `json:"displayName"`
	DeviceTag       *string    `json:"deviceTag"`
	PhoneAppVersion *string    `json:"phoneAppVersion"`
}

// UserFactors are a user's password, verification-code and push methods.
type UserFactors struct {
	Password      []PasswordMethod
	SoftwareOath  []SoftwareOathMethod
	Authenticator []AuthenticatorMethod
}

// Factors lists the user's password, TOTP and push methods as Graph
// shows them.
func (s *Service) Factors(ctx context.Context, userID string) (UserFactors, error) {
	out := UserFactors{Password: []PasswordMethod{}, SoftwareOath: []SoftwareOathMethod{}, Authenticator: []AuthenticatorMethod{}}
	at, ok, err := s.factors.PasswordChangedAt(ctx, userID)
	if err != nil {
		return out, err
	}
	if ok {
		at = at.UTC()
		out.Password = append(out.Password, PasswordMethod{ODataType: ODataPassword, ID: PasswordMethodID, CreatedDateTime: &at})
	}
	codes, err := s.factors.ListTOTP(ctx, userID)
	if err != nil {
		return out, err
	}
	for _, m := range codes {
		at := m.CreatedAt.UTC()
		out.SoftwareOath = append(out.SoftwareOath, SoftwareOathMethod{ODataType: ODataSoftwareOath, ID: m.ID, CreatedDateTime: &at})
	}
	apps, err := s.factors.ListPushMethods(ctx, userID)
	if err != nil {
		return out, err
	}
	for _, m := range apps {
		at := m.CreatedAt.UTC()
		out.Authenticator = append(out.Authenticator, AuthenticatorMethod{ODataType: ODataAuthenticator, ID: m.ID, CreatedDateTime: &at, DisplayName: m.DisplayName})
	}
	return out, nil
}

func methodNotFound(kind, id string) error {
	return apperr.NotFound(apperr.CodeNotFound, "the user has no %s with id %q", kind, id).WithTarget("methodId")
}

// PasswordMethodByID is the user's password method (404 for another id or
// a user without a password).
func (s *Service) PasswordMethodByID(ctx context.Context, userID, id string) (PasswordMethod, error) {
	return factorByID(s, ctx, userID, id, "passwordAuthenticationMethod",
		func(f UserFactors) []PasswordMethod { return f.Password }, func(m PasswordMethod) string { return m.ID })
}

// SoftwareOathMethodByID is one of the user's verification-code apps.
func (s *Service) SoftwareOathMethodByID(ctx context.Context, userID, id string) (SoftwareOathMethod, error) {
	return factorByID(s, ctx, userID, id, "softwareOathAuthenticationMethod",
		func(f UserFactors) []SoftwareOathMethod { return f.SoftwareOath }, func(m SoftwareOathMethod) string { return m.ID })
}

// AuthenticatorMethodByID is one of the user's push apps.
func (s *Service) AuthenticatorMethodByID(ctx context.Context, userID, id string) (AuthenticatorMethod, error) {
	return factorByID(s, ctx, userID, id, "microsoftAuthenticatorAuthenticationMethod",
		func(f UserFactors) []AuthenticatorMethod { return f.Authenticator }, func(m AuthenticatorMethod) string { return m.ID })
}

func factorByID[T any](s *Service, ctx context.Context, userID, id, kind string, pick func(UserFactors) []T, idOf func(T) string) (T, error) {
	var zero T
	f, err := s.Factors(ctx, userID)
	if err != nil {
		return zero, err
	}
	for _, m := range pick(f) {
		if idOf(m) == id {
			return m, nil
		}
	}
	return zero, methodNotFound(kind, id)
}

// DeleteSoftwareOath is Graph's DELETE .../softwareOathMethods/{id}: an
// administrator allowed to manage the user's methods removes a
// verification-code app.
func (s *Service) DeleteSoftwareOath(ctx context.Context, c Caller, userID, id string) error {
	return s.deleteFactor(ctx, c, userID, id, "softwareOathAuthenticationMethod", s.factors.DeleteTOTP)
}

// DeleteAuthenticator is Graph's DELETE .../microsoftAuthenticatorMethods/{id}.
func (s *Service) DeleteAuthenticator(ctx context.Context, c Caller, userID, id string) error {
	return s.deleteFactor(ctx, c, userID, id, "microsoftAuthenticatorAuthenticationMethod", s.factors.DeletePushMethod)
}

func (s *Service) deleteFactor(ctx context.Context, c Caller, userID, id, kind string, del func(ctx context.Context, userID, id string) error) error {
	if err := directory.ValidateID(id); err != nil {
		return err
	}
	if err := s.mayManage(ctx, c, userID); err != nil {
		return err
	}
	err := del(ctx, userID, id)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		return methodNotFound(kind, id)
	}
	return err
}
