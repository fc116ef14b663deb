package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
	"github.com/rpserver/rpserver/internal/directory"
)

// Users finds a user's current name for userinfo.
type Users interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
}

// Sessions reports from when a user's sessions are valid (revokeSignInSessions
// moves it forward) and whether the account is enabled.
type Sessions interface {
	SessionState(ctx context.Context, userID string) (validFrom time.Time, enabled bool, err error)
}

// storage implements op.Storage over the Store, the app registrations and
// the directory.
type storage struct {
	store    Store
	apps     *apps.Service
	users    Users
	sessions Sessions
	keys     *keyManager
	tenantID string
	pairwise []byte
	loginURL func(string) string
	now      func() time.Time
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
)

// authRequestTTL bounds the time between /authorize and the code exchange
// (the sign-in included).
const authRequestTTL = 15 * time.Minute

func sha(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// subject is Entra's pairwise sub: the same user has a different sub in
// each app, so two apps cannot correlate users by it (oid is the same in
// every app, for apps that need that).
func (s *storage) subject(userID, clientID string) string {
	m := hmac.New(sha256.New, s.pairwise)
	m.Write([]byte(userID + "|" + clientID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// MaxPendingAuthRequests bounds the authorization requests waiting for a
// sign-in, tenant-wide: /authorize is anonymous, and each one is a row for
// its lifetime. Past it /authorize answers temporarily_unavailable.
const MaxPendingAuthRequests = 20000

// Sizes of the values an authorization request keeps (a browser's URL holds
// them anyway; apps in the wild send tens of bytes).
const (
	maxStateBytes     = 2048
	maxNonceBytes     = 1024
	maxLoginHintBytes = 256
)

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if len(req.State) > maxStateBytes || len(req.Nonce) > maxNonceBytes || len(req.LoginHint) > maxLoginHintBytes {
		return nil, oidc.ErrInvalidRequest().WithDescription("state (%d bytes at most), nonce (%d) or login_hint (%d) is too long", maxStateBytes, maxNonceBytes, maxLoginHintBytes)
	}
	contexts, err := requestedContexts(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := s.checkAuthorize(ctx, req); err != nil {
		return nil, err
	}
	a := &authRequest{
		ID: uuid.NewString(), CreatedAt: s.now().UTC(), ClientID: req.ClientID, RedirectURI: req.RedirectURI,
		State: req.State, Nonce: req.Nonce, Scopes: req.Scopes, ResponseType: req.ResponseType, ResponseMode: req.ResponseMode,
		Prompt: req.Prompt, MaxAge: req.MaxAge, LoginHint: req.LoginHint, AuthContexts: contexts,
	}
	if req.CodeChallenge != "" {
		a.CodeChallenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateAuthRequest(ctx, StoredAuthRequest{ID: a.ID, ClientID: a.ClientID, Request: body, ExpiresAt: a.CreatedAt.Add(authRequestTTL)}); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindRateLimited {
			return nil, &oidc.Error{ErrorType: "temporarily_unavailable", Description: e.Message}
		}
		return nil, err
	}
	return a, nil
}

// checkAuthorize applies the lab's rules on top of op's validation (which
// has checked the client and the exact redirect URI by then, so an error
// here is sent to that redirect URI): PKCE with S256 for public clients,
// never the plain method, and a service principal that is enabled.
func (s *storage) checkAuthorize(ctx context.Context, req *oidc.AuthRequest) error {
	c, err := s.GetClientByClientID(ctx, req.ClientID)
	if err != nil {
		return err
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return oidc.ErrInvalidRequest().WithDescription("AADSTS501491: code_challenge_method must be S256")
	}
	if c.AuthMethod() == oidc.AuthMethodNone && req.CodeChallenge == "" {
		return oidc.ErrInvalidRequest().WithDescription("AADSTS9002325: Proof Key for Code Exchange (code_challenge with S256) is required for public clients")
	}
	if err := s.clientUsable(ctx, req.ClientID); err != nil {
		return oidc.ErrUnauthorizedClient().WithDescription("%s", err.Error())
	}
	return nil
}

func (s *storage) decode(r StoredAuthRequest) (*authRequest, error) {
	var a authRequest
	if err := json.Unmarshal(r.Request, &a); err != nil {
		return nil, fmt.Errorf("oidc: auth request %s: %w", r.ID, err)
	}
	if r.Grant != nil {
		var g Grant
		if err := json.Unmarshal(r.Grant, &g); err != nil {
			return nil, fmt.Errorf("oidc: auth request %s grant: %w", r.ID, err)
		}
		a.Grant = &g
		a.subject = s.subject(g.UserID, a.ClientID)
	}
	return &a, nil
}

func (s *storage) authRequestByID(ctx context.Context, id string) (*authRequest, error) {
	if uuid.Validate(id) != nil {
		return nil, apperr.NotFound(CodeUnknownAuthRequest, "no such authorization request")
	}
	r, err := s.store.AuthRequest(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	return s.decode(r)
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return s.authRequestByID(ctx, id)
}

// AuthRequestByCode finds the code's request; the code is spent when
// tokens are made (spend), after the client authenticated, so a client
// that fails authentication does not burn the legitimate client's code.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.store.AuthRequestByCode(ctx, sha(code), s.now())
	if err != nil {
		return nil, err
	}
	a, err := s.decode(r)
	if err != nil {
		return nil, err
	}
	if a.Grant == nil {
		return nil, errors.New("oidc: code of an unfinished sign-in")
	}
	return a, nil
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.store.SaveAuthCode(ctx, id, sha(code))
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.store.DeleteAuthRequest(ctx, id)
}

// accessTokenID names the user in the token id, so userinfo can answer
// from the (verified) access token alone instead of storing every access
// token. The random part is the token's uti.
func accessTokenID(userID string) (id, uti string) {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	uti = base64.RawURLEncoding.EncodeToString(raw)
	return userID + "." + uti, uti
}

// spend deletes a code's request as tokens are made from it: of two
// concurrent exchanges of one code, exactly one finds the row.
func (s *storage) spend(ctx context.Context, req op.TokenRequest) error {
	a, ok := req.(*authRequest)
	if !ok {
		return nil
	}
	if err := s.store.SpendAuthRequest(ctx, a.ID); err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return oidc.ErrInvalidGrant().WithDescription("AADSTS54005: the authorization code was already redeemed")
		}
		return err
	}
	// A code outlives the sign-in by up to its TTL: revoking the user's
	// sessions or disabling the account in between must stop it too, as it
	// stops the refresh tokens (TokenRequestByRefreshToken).
	if a.Grant != nil {
		validFrom, enabled, err := s.sessions.SessionState(ctx, a.Grant.UserID)
		if err != nil {
			return err
		}
		if !enabled {
			return oidc.ErrInvalidGrant().WithDescription("AADSTS50057: the user account is disabled")
		}
		if a.Grant.SessionAt.Before(validFrom.Truncate(time.Microsecond)) {
			return oidc.ErrInvalidGrant().WithDescription("AADSTS50173: the grant was revoked (revokeSignInSessions); sign in again")
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, ok := req.(granted)
	if !ok {
		return "", time.Time{}, fmt.Errorf("oidc: unsupported token request %T", req)
	}
	if err := s.spend(ctx, req); err != nil {
		return "", time.Time{}, err
	}
	id, _ := accessTokenID(g.grant().UserID)
	return id, s.now().Add(tokenLifetime), nil
}

func newRefreshToken() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, ok := req.(granted)
	if !ok {
		return "", "", time.Time{}, fmt.Errorf("oidc: unsupported token request %T", req)
	}
	if err := s.spend(ctx, req); err != nil {
		return "", "", time.Time{}, err
	}
	grant := g.grant()
	body, err := json.Marshal(grant)
	if err != nil {
		return "", "", time.Time{}, err
	}
	token := newRefreshToken()
	now := s.now()
	next := RefreshToken{TokenHash: sha(token), ID: uuid.NewString(), ClientID: g.GetClientID(), UserID: grant.UserID,
		Scopes: g.GetScopes(), Grant: body, SessionAt: grant.SessionAt, ExpiresAt: now.Add(refreshLifetime)}
	if current == "" {
		err = s.store.CreateRefreshToken(ctx, next)
	} else {
		err = s.store.RotateRefreshToken(ctx, sha(current), next)
	}
	if err != nil {
		return "", "", time.Time{}, err
	}
	id, _ := accessTokenID(grant.UserID)
	return id, token, now.Add(tokenLifetime), nil
}

// TokenRequestByRefreshToken admits a refresh token only while the user's
// sessions stand: revokeSignInSessions (or disabling the account) after the
// sign-in behind it ends it, as in Entra.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rt, err := s.store.RefreshToken(ctx, sha(token), s.now())
	if err != nil {
		return nil, err
	}
	var g Grant
	if err := json.Unmarshal(rt.Grant, &g); err != nil {
		return nil, fmt.Errorf("oidc: refresh token grant: %w", err)
	}
	validFrom, enabled, err := s.sessions.SessionState(ctx, rt.UserID)
	if err != nil {
		return nil, err
	}
	if !enabled {
		return nil, errors.New("AADSTS50057: the user account is disabled")
	}
	if rt.SessionAt.Before(validFrom.Truncate(time.Microsecond)) {
		return nil, errors.New("AADSTS50173: the grant was revoked (revokeSignInSessions); sign in again")
	}
	if err := s.clientUsable(ctx, rt.ClientID); err != nil {
		return nil, err
	}
	return &refreshRequest{TokenID: rt.ID, ClientID: rt.ClientID, Scopes: rt.Scopes, Grant: g, subject: s.subject(g.UserID, rt.ClientID)}, nil
}

// TerminateSession: the browser session cookie is cleared by the HTTP layer
// around end_session; the lab keeps refresh tokens on sign-out, as Entra
// does (revokeSignInSessions ends them).
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if userID != "" {
		// An access token: JWTs cannot be recalled before they expire.
		return &oidc.Error{ErrorType: "unsupported_token_type", Description: "access tokens are JWTs and cannot be revoked; revoke the refresh token or the user's sessions"}
	}
	rt, err := s.store.RefreshToken(ctx, sha(tokenOrID), s.now())
	if err != nil {
		return nil // RFC 7009: an unknown token is not an error
	}
	if rt.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("the token was issued to another client")
	}
	if err := s.store.DeleteRefreshToken(ctx, sha(tokenOrID)); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.store.RefreshToken(ctx, sha(token), s.now())
	if err != nil || rt.ClientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.UserID, rt.ID, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.keys.current(ctx)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, keys, err := s.keys.current(ctx)
	return keys, err
}

// clientUsable refuses apps whose service principal is missing or disabled,
// with Entra's AADSTS codes in the message.
func (s *storage) clientUsable(ctx context.Context, appID string) error {
	sp, err := s.apps.Store.ServicePrincipalByAppID(ctx, appID)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return fmt.Errorf("AADSTS500014: the application %s has no service principal in the lab tenant", appID)
		}
		return err
	}
	if !sp.AccountEnabled {
		return fmt.Errorf("AADSTS7000112: application %s is disabled", appID)
	}
	return nil
}

func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if uuid.Validate(clientID) != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("AADSTS700016: client_id %q is not an application id (a GUID)", clientID)
	}
	app, err := s.apps.Store.ApplicationByAppID(ctx, clientID)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return nil, oidc.ErrInvalidClient().WithDescription("AADSTS700016: application %s was not found in the lab tenant", clientID)
		}
		return nil, oidc.ErrServerError().WithParent(err)
	}
	sp, err := s.apps.Store.ServicePrincipalByAppID(ctx, clientID)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			sp = apps.ServicePrincipal{AppID: clientID} // refused at authorize, with a redirect
		} else {
			return nil, oidc.ErrServerError().WithParent(err)
		}
	}
	return newClient(app, sp, s.loginURL), nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	if secret == "" {
		return errors.New("AADSTS7000218: the request body must contain client_secret or client_assertion")
	}
	if uuid.Validate(clientID) != nil {
		return oidc.ErrInvalidClient().WithDescription("AADSTS700016: client_id %q is not an application id (a GUID)", clientID)
	}
	ok, err := s.apps.VerifySecret(ctx, clientID, secret)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if !ok {
		return errors.New("AADSTS7000215: invalid client secret provided")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the id_token's claims from the grant.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	g, ok := req.(granted)
	if !ok {
		return fmt.Errorf("oidc: unsupported id token request %T", req)
	}
	grant := g.grant()
	ui.Subject = s.subject(grant.UserID, g.GetClientID())
	s.commonClaims(ui.AppendClaims, grant)
	// Entra's v2 id_token carries name and preferred_username whenever the
	// user signed in, profile scope or not.
	ui.Name = grant.DisplayName
	ui.PreferredUsername = grant.UserPrincipalName
	_, uti := accessTokenID("")
	ui.AppendClaims("uti", uti)
	return nil
}

// commonClaims are Entra's v2 claims that id and access tokens share.
func (s *storage) commonClaims(add func(string, any), g *Grant) {
	add("oid", g.UserID)
	add("tid", s.tenantID)
	add("ver", "2.0")
	if len(g.ACRs) > 0 {
		add("acrs", g.ACRs)
	}
}

// SetUserinfoFromToken answers /userinfo from the verified access token.
func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	userID, _, ok := strings.Cut(tokenID, ".")
	if !ok || uuid.Validate(userID) != nil {
		return errors.New("oidc: access token not issued by this provider")
	}
	if _, enabled, err := s.sessions.SessionState(ctx, userID); err != nil || !enabled {
		return errors.New("oidc: the access token's user is gone or disabled")
	}
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	ui.Subject = subject
	ui.Name = u.DisplayName
	ui.PreferredUsername = u.UserPrincipalName
	ui.AppendClaims("oid", u.ID)
	ui.AppendClaims("tid", s.tenantID)
	return nil
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, ir *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	return errors.New("oidc: introspection is not offered; access tokens are JWTs verified with the JWKS")
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetPrivateClaimsFromRequest fills the access token's Entra claims.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, scopes []string) (map[string]any, error) {
	g, ok := req.(granted)
	if !ok {
		return nil, fmt.Errorf("oidc: unsupported token request %T", req)
	}
	grant := g.grant()
	claims := map[string]any{}
	add := func(k string, v any) { claims[k] = v }
	s.commonClaims(add, grant)
	add("azp", g.GetClientID())
	add("name", grant.DisplayName)
	add("preferred_username", grant.UserPrincipalName)
	add("amr", grant.AMR)
	if !grant.AuthTime.IsZero() {
		add("auth_time", grant.AuthTime.Unix())
	}
	_, uti := accessTokenID("")
	add("uti", uti)
	var scp []string
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess, oidc.ScopePhone, oidc.ScopeAddress:
		default:
			scp = append(scp, sc)
		}
	}
	if len(scp) > 0 {
		add("scp", strings.Join(scp, " "))
	}
	return claims, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: private_key_jwt client authentication is not offered")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: the JWT profile grant is not offered")
}

func (s *storage) Health(context.Context) error { return nil }
