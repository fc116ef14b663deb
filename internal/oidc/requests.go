package oidc

import (
	"context"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Grant is what a completed sign-in hands the provider: who signed in, how,
// and which authentication contexts the sign-in satisfied. It travels with
// the code and the refresh token, so every token minted from them carries
// the same facts.
type Grant struct {
	UserID            string    `json:"uid"`
	UserPrincipalName string    `json:"upn"`
	DisplayName       string    `json:"name"`
	AMR               []string  `json:"amr"`
	ACRs              []string  `json:"acrs,omitempty"`
	AuthTime          time.Time `json:"authTime"`
	// SessionAt is when the lab session behind the grant was issued: a
	// revokeSignInSessions after it invalidates the grant's refresh tokens.
	SessionAt time.Time `json:"sessionAt"`
	// SignInID is the sign-in log record of the interactive sign-in.
	SignInID string `json:"signInId,omitempty"`
}

// authRequest is an /authorize request between the redirect to the sign-in
// and the code exchange. It implements op.AuthRequest.
type authRequest struct {
	ID            string              `json:"id"`
	CreatedAt     time.Time           `json:"createdAt"`
	ClientID      string              `json:"clientId"`
	RedirectURI   string              `json:"redirectUri"`
	State         string              `json:"state,omitempty"`
	Nonce         string              `json:"nonce,omitempty"`
	Scopes        []string            `json:"scopes"`
	ResponseType  oidc.ResponseType   `json:"responseType"`
	ResponseMode  oidc.ResponseMode   `json:"responseMode,omitempty"`
	CodeChallenge *oidc.CodeChallenge `json:"codeChallenge,omitempty"`
	Prompt        []string            `json:"prompt,omitempty"`
	MaxAge        *uint               `json:"maxAge,omitempty"`
	LoginHint     string              `json:"loginHint,omitempty"`
	// AuthContexts are the authentication contexts (c1..c99) the app asked
	// for, from acr_values or a claims challenge.
	AuthContexts []string `json:"authContexts,omitempty"`

	// Set when the sign-in completes.
	Grant *Grant `json:"-"`
	// subject is the pairwise sub for this app, computed on completion.
	subject string
}

func (a *authRequest) GetID() string                         { return a.ID }
func (a *authRequest) GetACR() string                        { return "1" }
func (a *authRequest) GetAudience() []string                 { return []string{a.ClientID} }
func (a *authRequest) GetClientID() string                   { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.CodeChallenge }
func (a *authRequest) GetNonce() string                      { return a.Nonce }
func (a *authRequest) GetRedirectURI() string                { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.ResponseMode }
func (a *authRequest) GetScopes() []string                   { return a.Scopes }
func (a *authRequest) GetState() string                      { return a.State }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.Grant != nil }

func (a *authRequest) GetAMR() []string {
	if a.Grant == nil {
		return nil
	}
	return a.Grant.AMR
}

func (a *authRequest) GetAuthTime() time.Time {
	if a.Grant == nil {
		return time.Time{}
	}
	return a.Grant.AuthTime
}

func (a *authRequest) grant() *Grant { return a.Grant }

// refreshRequest is a refresh token's grant, for the refresh_token grant.
// It implements op.RefreshTokenRequest.
type refreshRequest struct {
	TokenID  string
	ClientID string
	Scopes   []string
	Grant    Grant
	subject  string
}

func (r *refreshRequest) GetAMR() []string            { return r.Grant.AMR }
func (r *refreshRequest) GetAudience() []string       { return []string{r.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.Grant.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.Scopes }
func (r *refreshRequest) GetSubject() string          { return r.subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.Scopes = s }
func (r *refreshRequest) grant() *Grant               { return &r.Grant }

// granted is implemented by both request kinds: the claims of a token come
// from its grant.
type granted interface {
	grant() *Grant
	GetClientID() string
	GetScopes() []string
}

// StoredAuthRequest is an auth request row.
type StoredAuthRequest struct {
	ID        string
	ClientID  string
	Request   []byte // authRequest as JSON
	Grant     []byte // Grant as JSON, nil until the sign-in completes
	ExpiresAt time.Time
}

// RefreshToken is a refresh token row; the token itself is never stored.
type RefreshToken struct {
	TokenHash []byte
	ID        string
	ClientID  string
	UserID    string
	Scopes    []string
	Grant     []byte
	SessionAt time.Time
	ExpiresAt time.Time
}

// Store persists the provider's state. Lookups of expired rows answer
// NotFound, like missing ones.
type Store interface {
	KeyStore
	CreateAuthRequest(ctx context.Context, r StoredAuthRequest) error
	AuthRequest(ctx context.Context, id string, now time.Time) (StoredAuthRequest, error)
	// CompleteAuthRequest records the grant once: a second completion of
	// the same request answers Conflict.
	CompleteAuthRequest(ctx context.Context, id, userID string, grant []byte) error
	SaveAuthCode(ctx context.Context, id string, codeHash []byte) error
	// AuthRequestByCode finds an unexpired request by its code.
	AuthRequestByCode(ctx context.Context, codeHash []byte, now time.Time) (StoredAuthRequest, error)
	// SpendAuthRequest deletes a request that has a code; NotFound when it
	// is gone (the code was already redeemed, or never issued).
	SpendAuthRequest(ctx context.Context, id string) error
	DeleteAuthRequest(ctx context.Context, id string) error

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	RefreshToken(ctx context.Context, tokenHash []byte, now time.Time) (RefreshToken, error)
	// RotateRefreshToken replaces old by next in one step; NotFound when
	// old was already used (a replay).
	RotateRefreshToken(ctx context.Context, oldHash []byte, next RefreshToken) error
	DeleteRefreshToken(ctx context.Context, tokenHash []byte) error
	PurgeExpiredOIDC(ctx context.Context, now time.Time) (int64, error)
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
