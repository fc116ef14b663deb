package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/oidc"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signin"
)

// OIDCLoginURL is the page op sends the browser to for an auth request.
func OIDCLoginURL(base string) func(string) string {
	return func(id string) string { return base + "/oauth2/login?authRequest=" + url.QueryEscape(id) }
}

// ClearSessionCookie ends the browser's lab session (sign-out, end_session).
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func (s *Server) appSignIn(r *http.Request, lr oidc.LoginRequest, upn string) signin.AppSignIn {
	req := signin.AppSignIn{ApplicationID: lr.ClientID, ApplicationName: lr.ClientName, UserPrincipalName: upn, AuthContexts: lr.AuthContexts,
		ForceLogin: lr.HasPrompt(zoidc.PromptLogin) || lr.HasPrompt(zoidc.PromptSelectAccount), IP: s.clientKey(r),
		UserAgent: r.UserAgent()}
	if lr.MaxAge != nil {
		d := time.Duration(*lr.MaxAge) * time.Second
		req.MaxAge = &d
	}
	return req
}

// oidcLogin is where op sends the browser. With a session that meets
// Conditional Access for this app, the sign-in completes at once (single
// sign-on, logged with "Previously satisfied"); otherwise the sign-in page
// takes over, or with prompt=none the app gets login_required or
// interaction_required.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequest")
	lr, err := s.deps.OIDC.LoginRequest(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	session := s.currentSession(r)
	none := lr.HasPrompt(zoidc.PromptNone)
	if _, ok := s.deps.SignIn.SessionUser(r.Context(), session); ok {
		req := s.appSignIn(r, lr, "")
		if lr.LoginHint != "" && !sameUser(lr.LoginHint, session.UPN) {
			// The app asks for another account than the session's.
			if none {
				s.deps.OIDC.Fail(w, r, id, zoidc.ErrLoginRequired().WithDescription("AADSTS50058: the signed-in user is not the one login_hint names"))
				return
			}
			s.toSignInPage(w, r, lr)
			return
		}
		if !req.ForceLogin {
			out, err := s.deps.SignIn.BeginForApp(r.Context(), req, session)
			switch {
			case err == nil && out.Status == "completed":
				setSessionCookie(w, r, out.SessionToken, out.SessionTTL)
				s.finishOIDCLogin(w, r, id, out)
				return
			case none && apperr.CodeOf(err) == signin.CodeBlocked:
				s.deps.OIDC.Fail(w, r, id, zoidc.ErrAccessDenied().WithDescription("AADSTS53003: access has been blocked by Conditional Access policies"))
				return
			case none:
				s.deps.OIDC.Fail(w, r, id, zoidc.ErrInteractionRequired().WithDescription("AADSTS50076: Conditional Access for this application requires the user to sign in interactively"))
				return
			}
		}
		// The user is known: the page goes straight to the step-up.
		if lr.LoginHint == "" {
			lr.LoginHint = session.UPN
		}
	}
	if none {
		s.deps.OIDC.Fail(w, r, id, zoidc.ErrLoginRequired().WithDescription("AADSTS50058: there is no signed-in user (prompt=none)"))
		return
	}
	s.toSignInPage(w, r, lr)
}

func sameUser(hint, upn string) bool { return strings.EqualFold(hint, upn) }

func (s *Server) toSignInPage(w http.ResponseWriter, r *http.Request, lr oidc.LoginRequest) {
	q := url.Values{"authRequest": {lr.ID}}
	if lr.LoginHint != "" {
		q.Set("upn", lr.LoginHint)
	}
	http.Redirect(w, r, "/signin?"+q.Encode(), http.StatusFound)
}

type oidcLoginBeginRequest struct {
	AuthRequest       string `json:"authRequest"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// oidcLoginBegin starts the interactive sign-in for an auth request; the
// other steps are the sign-in flow's own endpoints.
func (s *Server) oidcLoginBegin(w http.ResponseWriter, r *http.Request) {
	var req oidcLoginBeginRequest
	if err := decodeJSON(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	lr, err := s.deps.OIDC.LoginRequest(r.Context(), req.AuthRequest)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := s.deps.SignIn.BeginForApp(r.Context(), s.appSignIn(r, lr, req.UserPrincipalName), s.currentSession(r))
	s.writeOutcome(w, r, out, err)
}

// oidcLoginComplete hands the finished sign-in to the provider. The
// session must be one issued for this app after the request was made (the
// sign-in the page just ran), and must satisfy the authentication contexts
// the app asked for.
func (s *Server) oidcLoginComplete(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequest")
	lr, err := s.deps.OIDC.LoginRequest(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	session := s.currentSession(r)
	if session == nil {
		writeError(w, r, apperr.Unauthenticated("sessionRequired", "sign in first"))
		return
	}
	as, err := s.deps.SignIn.AppSessionOf(r.Context(), session)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Complete checks the authentication contexts.
	if as.ApplicationID != lr.ClientID || as.IssuedAt.Before(lr.CreatedAt.Truncate(time.Microsecond)) {
		writeError(w, r, apperr.Forbidden("signInNotForThisRequest", "this session was not issued by the sign-in for this request; sign in again"))
		return
	}
	s.completeGrant(w, r, id, as)
}

func (s *Server) finishOIDCLogin(w http.ResponseWriter, r *http.Request, id string, out signin.Outcome) {
	as := signin.AppSession{UserID: out.UserID, UserPrincipalName: out.UserPrincipalName, Methods: out.MethodsSatisfied,
		AuthContexts: out.AuthContexts, AuthTime: out.AuthTime, IssuedAt: out.SessionAt}
	if out.Log != nil {
		as.DisplayName = out.Log.UserDisplayName
	}
	s.completeGrant(w, r, id, as)
}

func (s *Server) completeGrant(w http.ResponseWriter, r *http.Request, id string, as signin.AppSession) {
	if as.DisplayName == "" {
		if u, err := s.deps.Directory.Store.GetUser(r.Context(), as.UserID); err == nil {
			as.DisplayName = u.DisplayName
		}
	}
	next, err := s.deps.OIDC.Complete(r.Context(), id, oidc.Grant{
		UserID: as.UserID, UserPrincipalName: as.UserPrincipalName, DisplayName: as.DisplayName,
		AMR: entraAMR(as.Methods), ACRs: as.AuthContexts, AuthTime: as.AuthTime, SessionAt: as.IssuedAt,
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.deps.OIDC.BindCallback(w, r, id)
	http.Redirect(w, r, next, http.StatusFound)
}

// entraAMR maps authenticationMethodModes to the amr values Entra puts in
// tokens (RFC 8176 names where Entra uses them): pwd, fido, otp, rsa (the
// Authenticator app's key), and mfa when the methods are multifactor.
func entraAMR(modes []string) []string {
	var out []string
	var used policy.ModeSet
	add := func(v string) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, m := range modes {
		if mode, ok := policy.ParseMode(m); ok {
			used = used.With(mode)
		}
		switch m {
		case "password":
			add("pwd")
		case "fido2":
			add("fido")
		case "softwareOath", "hardwareOath", "sms", "voice":
			add("otp")
		case "microsoftAuthenticatorPush", "deviceBasedPush":
			add("rsa")
		case "windowsHelloForBusiness":
			add("ngcmfa")
		}
	}
	if policy.IsMultifactor(used) {
		add("mfa")
	}
	if out == nil {
		out = []string{}
	}
	return out
}
