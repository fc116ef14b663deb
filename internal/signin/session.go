package signin

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/jsonappend"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/tokens"
)

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

// sessionJSON encodes sd as json.Marshal does, without reflection: a
// session is minted on every sign-in, and the reflective encoder was ~1%
// of the server's CPU under the bench's load. A value appendJSON cannot
// write (a Mode with no name, a time json refuses) goes to mustJSON, which
// fails as before. TestSessionJSONMatchesMarshal holds the bytes to
// json.Marshal's.
func sessionJSON(sd sessionData) json.RawMessage {
	if b, ok := sd.appendJSON(make([]byte, 0, 320)); ok {
		return b
	}
	return mustJSON(sd)
}

func (sd *sessionData) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"steps":`...)
	if sd.Steps == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range sd.Steps {
			st := &sd.Steps[i]
			name := st.Mode.String()
			if name == "" {
				return b, false
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"m":`...)
			b = jsonappend.String(b, name)
			if st.AAGUID != "" {
				b = append(b, `,"a":`...)
				b = jsonappend.String(b, st.AAGUID)
			}
			if st.Detail != "" {
				b = append(b, `,"d":`...)
				b = jsonappend.String(b, st.Detail)
			}
			b = append(b, `,"t":`...)
			var err error
			if b, err = jsonappend.Time(b, st.At); err != nil {
				return b, false
			}
			if st.Previous {
				b = append(b, `,"p":true`...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"app":`...)
	b = jsonappend.String(b, sd.App)
	if sd.Action != "" {
		b = append(b, `,"action":`...)
		b = jsonappend.String(b, sd.Action)
	}
	if len(sd.Contexts) > 0 {
		b = append(b, `,"acx":`...)
		b = jsonappend.Strings(b, sd.Contexts)
	}
	return append(b, '}'), true
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

// CheckSessionFor admits a valid session issued by a sign-in to one of
// apps.
func (s *Service) CheckSessionFor(ctx context.Context, c *tokens.Claims, apps ...string) error {
	var sd sessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil || !slices.Contains(apps, sd.App) {
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

// revoked reports whether a token issued at iat predates the user's
// sessions-valid-from instant. Both have microsecond precision (tokens and
// PostgreSQL), so the comparison is exact.
func revoked(iat, validFrom time.Time) bool {
	return iat.Before(validFrom.Truncate(time.Microsecond))
}

// PortalSessionData is the session payload of a sign-in to the lab portal
// with the given factors, for tools and tests that mint sessions directly.
func PortalSessionData(modes ...policy.Mode) json.RawMessage {
	sd := sessionData{App: DefaultApplicationID}
	for _, m := range modes {
		sd.Steps = append(sd.Steps, Step{Mode: m})
	}
	return sessionJSON(sd)
}
