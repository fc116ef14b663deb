package api

import (
	"encoding/json"
	"net/http"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ratelimit"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
)

// currentSession returns the caller's valid session, if any (for
// "Previously satisfied"); an invalid or revoked one is ignored.
func (s *Server) currentSession(r *http.Request) *tokens.Claims {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	claims, err := s.deps.Issuer.Verify(c.Value, tokens.AudienceSession)
	if err != nil {
		return nil
	}
	return claims
}

// writeOutcome answers a sign-in step; a completed sign-in also sets the
// session cookie.
func (s *Server) writeOutcome(w http.ResponseWriter, r *http.Request, out signin.Outcome, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Status == "completed" {
		setSessionCookie(w, r, out.SessionToken, out.SessionTTL)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) signInBegin(w http.ResponseWriter, r *http.Request) {
	var req signin.BeginRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	req.IP, req.UserAgent = s.clientKey(r), r.UserAgent()
	out, err := s.deps.SignIn.Begin(r.Context(), req, s.currentSession(r))
	s.writeOutcome(w, r, out, err)
}

type passwordStep struct {
	FlowToken string `json:"flowToken"`
	Password  string `json:"password"`
}

func (s *Server) signInPassword(w http.ResponseWriter, r *http.Request) {
	var req passwordStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.SignIn.Password(r.Context(), req.FlowToken, req.Password)
	s.writeOutcome(w, r, out, err)
}

type codeStep struct {
	FlowToken string `json:"flowToken"`
	Code      string `json:"code"`
}

func (s *Server) signInTOTP(w http.ResponseWriter, r *http.Request) {
	var req codeStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.SignIn.TOTP(r.Context(), req.FlowToken, req.Code)
	s.writeOutcome(w, r, out, err)
}

type flowStep struct {
	FlowToken     string `json:"flowToken"`
	PushRequestID string `json:"pushRequestId"`
}

func (s *Server) signInPushBegin(w http.ResponseWriter, r *http.Request) {
	var req flowStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	ch, err := s.deps.SignIn.PushBegin(r.Context(), req.FlowToken)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ch)
}

func (s *Server) signInPushComplete(w http.ResponseWriter, r *http.Request) {
	var req flowStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.SignIn.PushComplete(r.Context(), req.FlowToken, req.PushRequestID)
	s.writeOutcome(w, r, out, err)
}

type pushResponse struct {
	DeviceToken   string `json:"deviceToken"`
	PushRequestID string `json:"pushRequestId"`
	NumberMatch   int    `json:"numberMatch"`
	Approve       *bool  `json:"approve"`
}

// respondPush is the phone's side of a push (the lab's stand-in for the
// Authenticator app): approve with the number shown, or deny.
func (s *Server) respondPush(w http.ResponseWriter, r *http.Request) {
	var req pushResponse
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	approve := req.Approve == nil || *req.Approve
	if err := s.deps.SignIn.ApprovePush(r.Context(), req.DeviceToken, req.PushRequestID, req.NumberMatch, approve); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pendingPushes is the phone's notification list: the pushes awaiting it.
// POST, so the device token travels in the body, never in a URL or log.
func (s *Server) pendingPushes(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DeviceToken string `json:"deviceToken"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	list, err := s.deps.SignIn.PendingPushes(r.Context(), req.DeviceToken)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": list})
}

func (s *Server) signInPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	var req flowStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	opts, err := s.deps.SignIn.PasskeyOptions(r.Context(), signin.PasskeyOptionsRequest{FlowToken: req.FlowToken})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

type passkeyStep struct {
	FlowToken  string          `json:"flowToken"`
	Credential json.RawMessage `json:"credential"`
}

func (s *Server) signInPasskeyFinish(w http.ResponseWriter, r *http.Request, att *ratelimit.Attempt) {
	var req passkeyStep
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if len(req.Credential) == 0 {
		writeError(w, r, apperr.Invalid(CodeBadJSON, "credential (the PublicKeyCredential JSON) is required").WithTarget("credential"))
		return
	}
	out, err := s.deps.SignIn.Passkey(r.Context(), signin.PasskeyRequest{FlowToken: req.FlowToken, Credential: req.Credential, IP: s.clientKey(r), UserAgent: r.UserAgent(), Attempt: att})
	s.writeOutcome(w, r, out, err)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	directory.User
	AMR []string `json:"authenticationMethodsUsed"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	c := sessionOf(r.Context())
	u, err := s.deps.Directory.Store.GetUser(r.Context(), c.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meResponse{User: u, AMR: c.AMR})
}

func (s *Server) registerMyTOTP(w http.ResponseWriter, r *http.Request) {
	c := sessionOf(r.Context())
	if r.ContentLength > 0 {
		var empty struct{}
		if err := decodeJSON(r, &empty); err != nil {
			writeError(w, r, err)
			return
		}
	}
	m, err := s.deps.TOTP.Register(r.Context(), c.Subject, c.UPN)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

type pushRegistration struct {
	DisplayName string `json:"displayName"`
}

func (s *Server) registerMyPush(w http.ResponseWriter, r *http.Request) {
	var req pushRegistration
	if r.ContentLength > 0 {
		if err := decodeJSON(r, &req); err != nil {
			writeError(w, r, err)
			return
		}
	}
	m, err := s.deps.Push.Register(r.Context(), sessionOf(r.Context()).Subject, req.DisplayName)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) revokeMySessions(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.SignIn.Revoke(r.Context(), sessionOf(r.Context()).Subject); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.contextURL(r, "Edm.Boolean"), "value": true})
}

// revokeSessions is Graph's user: revokeSignInSessions.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	id, err := s.userIDParam(r, "id")
	if err == nil {
		err = s.deps.Directory.Authorize(r.Context(), directory.ActionResetPassword, claimsOf(r.Context()).Roles, id)
	}
	if err == nil {
		err = s.deps.SignIn.Revoke(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": s.contextURL(r, "Edm.Boolean"), "value": true})
}
