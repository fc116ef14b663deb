package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
)

// SessionCookie carries the end user's session token in browsers.
const SessionCookie = "rpserver_session"

const sessionKey ctxKey = iota + 100

func sessionOf(ctx context.Context) *tokens.Claims {
	c, _ := ctx.Value(sessionKey).(*tokens.Claims)
	return c
}

// requireSession admits end users holding a valid session token for the
// lab portal, from the session cookie or an Authorization: Bearer header.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return s.sessionGate(next, func(ctx context.Context, c *tokens.Claims) error { return s.deps.Sessions.CheckSession(ctx, c) })
}

// requireAdminExchangeSession admits a session of the portal or of the
// admin API's application (one a step-up for the admin API just issued),
// for POST /admin/token.
func (s *Server) requireAdminExchangeSession(next http.Handler) http.Handler {
	return s.sessionGate(next, func(ctx context.Context, c *tokens.Claims) error {
		return s.deps.SignIn.CheckSessionFor(ctx, c, signin.DefaultApplicationID, signin.AdminAPIApplicationID)
	})
}

func (s *Server) sessionGate(next http.Handler, check func(context.Context, *tokens.Claims) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := ""
		if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tok = h
		} else if c, err := r.Cookie(SessionCookie); err == nil {
			tok = c.Value
		}
		if tok == "" {
			writeError(w, r, apperr.Unauthenticated("sessionRequired", "sign in first: this call needs a session"))
			return
		}
		c, err := s.deps.Issuer.Verify(tok, tokens.AudienceSession)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := check(r.Context(), c); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(attributed(context.WithValue(r.Context(), sessionKey, c), s.clientKey(r), c)))
	})
}

// SessionChecker decides whether a verified session token is still valid
// (not revoked).
type SessionChecker interface {
	CheckSession(ctx context.Context, c *tokens.Claims) error
}

// ownMethodChange guards every route by which a signed-in user adds,
// changes or removes one of their own sign-in methods with the methods
// service's single rule (methods.Service.AuthorizeOwnChange). It runs after
// requireSession.
func (s *Server) ownMethodChange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := sessionOf(r.Context())
		if err := s.deps.Methods.AuthorizeOwnChange(r.Context(), c.Subject, c.AMR); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
