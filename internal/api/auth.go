package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/tokens"
)

type ctxKey int

const claimsKey ctxKey = iota

// claimsOf returns the verified admin claims of the request.
func claimsOf(ctx context.Context) *tokens.Claims {
	c, _ := ctx.Value(claimsKey).(*tokens.Claims)
	return c
}

// authenticate verifies the bearer token of admin API calls.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			writeError(w, r, apperr.Unauthenticated(tokens.CodeInvalidToken, "an Authorization: Bearer <token> header is required (mint one with `rpserver admin token --upn ...`)"))
			return
		}
		c, err := s.deps.Issuer.Verify(tok, tokens.AudienceAdmin)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ctx := attributed(context.WithValue(r.Context(), claimsKey, c), s.clientKey(r), c)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// attributed makes the caller the actor of every change the request makes:
// the directory audit log records them as initiatedBy (internal/audit). It
// also gives the request the holder a forced lockout override is noted in,
// so the store writes the override's record with the change.
func attributed(ctx context.Context, ip string, c *tokens.Claims) context.Context {
	ctx, _ = audit.WithOverride(ctx)
	return audit.WithActor(ctx, audit.Actor{User: &audit.UserIdentity{
		ID: c.Subject, UserPrincipalName: c.UPN, DisplayName: c.Name, IPAddress: ip,
	}}, middleware.GetReqID(ctx))
}

// allow admits callers holding at least one of the roles; Global
// Administrator is always admitted. The gate keeps its roles readable
// (roleGate, GET /admin/permissions).
func allow(roles ...string) func(http.Handler) http.Handler {
	set := map[string]bool{"Global Administrator": true}
	for _, r := range roles {
		set[r] = true
	}
	return func(next http.Handler) http.Handler { return roleGate{roles: set, next: next} }
}
