package signin

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/ids"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/internal/useragent"
)

// AppSignIn is a sign-in to an application on behalf of an OpenID Connect
// authorization request.
type AppSignIn struct {
	ApplicationID string
	// ApplicationName is the app registration's displayName, for the log.
	ApplicationName string
	// UserPrincipalName is who signs in (typed, or the request's
	// login_hint); empty: the user of the browser's session.
	UserPrincipalName string
	// AuthContexts the app asked for (c1..c99); Conditional Access policies
	// targeting them apply to this sign-in.
	AuthContexts []string
	// ForceLogin (prompt=login) makes the session's factors not count: the
	// user authenticates again, as Entra does.
	ForceLogin bool
	// MaxAge (max_age): the session's factors count only if the user
	// authenticated within it.
	MaxAge    *time.Duration
	IP        string
	UserAgent string
}

// BeginForApp opens a flow for an app sign-in. With a valid session of the
// same user its factors (and the authentication contexts it satisfied) are
// "previously satisfied", so the sign-in may complete at once (single
// sign-on) when Conditional Access for this app is met by them.
func (s *Service) BeginForApp(ctx context.Context, req AppSignIn, session *tokens.Claims) (Outcome, error) {
	if !ids.Valid(req.ApplicationID) {
		return Outcome{}, apperr.Invalid(CodeInvalidApplicationID, "applicationId must be a GUID").WithTarget("applicationId")
	}
	var userID string
	switch {
	case req.UserPrincipalName != "":
		id, err := s.d.Users.UserIDByName(ctx, req.UserPrincipalName)
		if err != nil {
			if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
				return Outcome{}, apperr.NotFound(CodeUserNotFound, "no account %q exists in the lab tenant", req.UserPrincipalName).WithTarget("userPrincipalName")
			}
			return Outcome{}, err
		}
		userID = id
	case session != nil:
		userID = session.Subject
	default:
		return Outcome{}, apperr.Invalid(CodeUserNotFound, "name the account signing in").WithTarget("userPrincipalName")
	}
	f := &flow{UserID: userID, AppID: req.ApplicationID, ClientAppType: "browser", IP: req.IP, UserAgent: useragent.Truncate(req.UserAgent), CorrelationID: uuid.NewString(),
		AuthContexts: req.AuthContexts, AppName: req.ApplicationName}
	if session != nil && session.Subject == userID && !req.ForceLogin {
		var sd sessionData
		// A registration-only session lends no factor to later sign-ins
		// (as in Begin): its TAP counts only for registering methods.
		if json.Unmarshal(session.Data, &sd) == nil && sd.Action == "" && s.sessionValid(ctx, session) == nil {
			if req.MaxAge == nil || s.d.Now().Sub(lastAuthentication(sd.Steps)) <= *req.MaxAge {
				for _, st := range sd.Steps {
					st.Previous = true
					f.Steps = append(f.Steps, st)
				}
				f.PrevContexts = sd.Contexts
			}
		}
	}
	return s.advance(ctx, f)
}

// SessionUser names the user of a valid session (any app's), for
// prompt=none and the sign-in page's "continue as".
func (s *Service) SessionUser(ctx context.Context, session *tokens.Claims) (string, bool) {
	if session == nil || s.sessionValid(ctx, session) != nil {
		return "", false
	}
	return session.Subject, true
}

// lastAuthentication is when the user last proved a factor: the OpenID
// Connect auth_time of a sign-in built on these steps.
func lastAuthentication(steps []Step) time.Time {
	var t time.Time
	for _, st := range steps {
		if st.At.After(t) {
			t = st.At
		}
	}
	return t
}

func unionSorted(a, b []string) []string {
	var out []string
	for _, v := range slices.Concat(a, b) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// AppSession is what a session issued by an app sign-in proves, for the
// OpenID Connect provider's grant.
type AppSession struct {
	UserID            string
	UserPrincipalName string
	DisplayName       string
	ApplicationID     string
	Methods           []string // authenticationMethodModes
	AuthContexts      []string
	AuthTime          time.Time
	IssuedAt          time.Time
}

// AppSessionOf checks a session token is valid (not revoked, account
// enabled) and reads what it proves.
func (s *Service) AppSessionOf(ctx context.Context, c *tokens.Claims) (AppSession, error) {
	if err := s.sessionValid(ctx, c); err != nil {
		return AppSession{}, err
	}
	var sd sessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return AppSession{}, apperr.Unauthenticated(CodeSessionRevoked, "the session is malformed; sign in again")
	}
	return AppSession{UserID: c.Subject, UserPrincipalName: c.UPN, DisplayName: c.Name, ApplicationID: sd.App,
		Methods: c.AMR, AuthContexts: sd.Contexts, AuthTime: lastAuthentication(sd.Steps), IssuedAt: c.IssuedAt.Time}, nil
}
