package api

import (
	"net/http"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
)

// CodeAdminRoleRequired answers an admin-token exchange by a user who holds
// no directory role.
const CodeAdminRoleRequired = "adminRoleRequired"

// CodeRegistrationOnlySession refuses the admin token exchange to a session
// issued for registering security information only.
const CodeRegistrationOnlySession = "registrationOnlySession"

// AdminPortalTokenTTL is the lifetime of tokens minted for the admin pages:
// short, because the pages keep them in sessionStorage and a signed-in
// session can always mint a fresh one.
const AdminPortalTokenTTL = 30 * time.Minute

type adminTokenResponse struct {
	TokenType   string   `json:"token_type"`
	AccessToken string   `json:"access_token"`
	ExpiresIn   int      `json:"expires_in"`
	Roles       []string `json:"roles"`
	// Status is "completed" (the sign-in to the admin API succeeded);
	// SignInID names its sign-in log record.
	Status   string `json:"status"`
	SignInID string `json:"signInId,omitempty"`
}

// adminToken exchanges a session for an admin bearer token carrying the
// roles the user holds now (read from the directory, never from the
// session, so a removed assignment takes effect at the next exchange).
//
// The exchange is a sign-in to the admin API's application (Microsoft
// Graph), with the session's factors as previously satisfied: Conditional
// Access for Graph applies and the sign-in is logged like any other. When
// a policy wants more, the answer is the sign-in flow's stepUpRequired
// (with its flow token); the flow's completing step issues a session for
// the admin API, which this call then exchanges. A blocked sign-in is 403
// conditionalAccessBlocked.
func (s *Server) adminToken(w http.ResponseWriter, r *http.Request) {
	c := sessionOf(r.Context())
	if signin.ForRegistrationOnly(c) {
		writeError(w, r, apperr.Forbidden(CodeRegistrationOnlySession, "this session was issued to register security information only; sign in with a method Conditional Access accepts to open the admin pages"))
		return
	}
	out, err := s.deps.SignIn.BeginForApp(r.Context(), signin.AppSignIn{ApplicationID: signin.AdminAPIApplicationID, IP: s.clientKey(r), UserAgent: r.UserAgent()}, c)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Status != "completed" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	u, err := s.deps.Directory.Store.GetUser(r.Context(), c.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !u.AccountEnabled {
		writeError(w, r, apperr.Unauthenticated("userDisabled", "the account is disabled"))
		return
	}
	held, err := s.deps.Directory.RoleNamesOf(r.Context(), u.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	wids := make([]string, 0, len(held))
	for _, n := range held {
		if role, ok := directory.RoleByName(n); ok {
			wids = append(wids, role.ID)
		}
	}
	if len(held) == 0 {
		writeError(w, r, apperr.Forbidden(CodeAdminRoleRequired, "%s holds no admin role; ask a Privileged Role Administrator for a role assignment", u.UserPrincipalName))
		return
	}
	tok, err := s.deps.Issuer.Mint(tokens.Claims{
		UPN: u.UserPrincipalName, Name: u.DisplayName, Roles: held, Wids: wids,
	}.WithSubject(u.ID), tokens.AudienceAdmin, AdminPortalTokenTTL)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, adminTokenResponse{Status: "completed", TokenType: "Bearer", AccessToken: tok, ExpiresIn: int(AdminPortalTokenTTL.Seconds()), Roles: held, SignInID: out.SignInID})
}
