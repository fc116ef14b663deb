package oidc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/apps"
	"github.com/rpserver/rpserver/internal/tokens"
)

// Stable codes of the login bridge.
const (
	CodeUnknownAuthRequest = "unknownAuthorizationRequest"
	CodeAuthRequestDone    = "authorizationRequestCompleted"
	CodeContextsUnmet      = "authenticationContextsUnmet"
)

// DefaultTenantID is the lab tenant's id when none is configured: the
// {tenant} of every endpoint and the tid of every token.
const DefaultTenantID = "5ab0a7e1-1ab0-4e57-a1ab-000000000001"

// Config wires a Provider.
type Config struct {
	// BaseURL is the server's public origin (http://localhost:8080); the
	// issuer is BaseURL/{TenantID}/v2.0, as Entra's.
	BaseURL  string
	TenantID string
	// SigningAlgorithm of id and access tokens: RS256 (default, what apps
	// in the wild expect) or ES256. Both keys are published in the JWKS.
	SigningAlgorithm string
	// Secret (at least 32 bytes, derived from the master key) keys the
	// pairwise subjects and op's code encryption.
	Secret []byte
	// LoginURL is the lab page that runs the sign-in for an auth request id.
	LoginURL func(authRequestID string) string
	// ClearSession ends the browser's lab session on end_session.
	ClearSession func(http.ResponseWriter, *http.Request)

	Store    Store
	Apps     *apps.Service
	Users    Users
	Sessions Sessions
	Sealer   *tokens.Sealer
	Now      func() time.Time
}

// Provider is the OpenID Connect provider.
type Provider struct {
	cfg     Config
	op      *op.Provider
	storage *storage
	keys    *keyManager
	issuer  string
	router  chi.Router
}

// New builds the provider; it makes the signing keys on first start.
func New(ctx context.Context, c Config) (*Provider, error) {
	if c.TenantID == "" {
		c.TenantID = DefaultTenantID
	}
	if uuid.Validate(c.TenantID) != nil {
		return nil, fmt.Errorf("oidc: tenant id %q is not a GUID", c.TenantID)
	}
	if c.SigningAlgorithm == "" {
		c.SigningAlgorithm = "RS256"
	}
	if c.SigningAlgorithm != "RS256" && c.SigningAlgorithm != "ES256" {
		return nil, fmt.Errorf("oidc: signing algorithm must be RS256 or ES256, not %q", c.SigningAlgorithm)
	}
	if len(c.Secret) < 32 {
		return nil, errors.New("oidc: secret must be at least 32 bytes")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	keys := &keyManager{store: c.Store, sealer: c.Sealer, alg: c.SigningAlgorithm, now: c.Now}
	if err := keys.ensure(ctx); err != nil {
		return nil, err
	}
	st := &storage{store: c.Store, apps: c.Apps, users: c.Users, sessions: c.Sessions, keys: keys, tenantID: c.TenantID,
		pairwise: derive(c.Secret, "oidc pairwise subject"), loginURL: c.LoginURL, now: c.Now}
	var cryptoKey [32]byte
	copy(cryptoKey[:], derive(c.Secret, "oidc code encryption"))
	p := &Provider{cfg: c, storage: st, keys: keys, issuer: base + "/" + c.TenantID + "/v2.0"}
	t := "/" + c.TenantID
	ep := func(path string) *op.Endpoint { return op.NewEndpointWithURL(path, base+path) }
	opts := []op.Option{
		op.WithCustomAuthEndpoint(ep(t + "/oauth2/v2.0/authorize")),
		op.WithCustomTokenEndpoint(ep(t + "/oauth2/v2.0/token")),
		op.WithCustomEndSessionEndpoint(ep(t + "/oauth2/v2.0/logout")),
		op.WithCustomKeysEndpoint(ep(t + "/discovery/v2.0/keys")),
		op.WithCustomUserinfoEndpoint(ep("/oidc/userinfo")),
		op.WithCustomRevocationEndpoint(ep(t + "/oauth2/v2.0/revoke")),
		op.WithCustomIntrospectionEndpoint(ep(t + "/oauth2/v2.0/introspect")),
		op.WithCustomDeviceAuthorizationEndpoint(ep(t + "/oauth2/v2.0/devicecode")),
	}
	if strings.HasPrefix(base, "http://") {
		// The lab runs on http://localhost by default; op otherwise insists
		// on an https issuer.
		opts = append(opts, op.WithAllowInsecure())
	}
	prov, err := op.NewProvider(&op.Config{
		CryptoKey:             cryptoKey,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "nbf", "nonce", "auth_time", "amr", "acrs",
			"oid", "tid", "preferred_username", "name", "uti", "ver", "azp", "scp", "at_hash", "c_hash"},
	}, st, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider: %w", err)
	}
	p.op = prov
	p.router = p.routes()
	return p, nil
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// Issuer is the iss of the provider's tokens.
func (p *Provider) Issuer() string { return p.issuer }

// TenantID is the {tenant} of the endpoints.
func (p *Provider) TenantID() string { return p.cfg.TenantID }

// RotateKey replaces the active key of the algorithm (RS256 or ES256);
// tokens signed with the old key keep verifying for a day.
func (p *Provider) RotateKey(ctx context.Context, alg string) error { return p.keys.Rotate(ctx, alg) }

// Route is a method and URL pattern the provider answers ("" method: all).
type Route struct{ Method, Pattern string }

// Routes are what the provider answers, for the route table (none for a
// nil provider, as in handler tests that need no OIDC). Discovery and
// userinfo are GET only (userinfo by POST is optional in OIDC Core 5.3.1).
func (p *Provider) Routes() []Route {
	if p == nil {
		return nil
	}
	return []Route{{http.MethodGet, "/.well-known/openid-configuration"}, {"", "/" + p.cfg.TenantID + "/*"}, {http.MethodGet, "/oidc/userinfo"}}
}

// CookieFree reports whether path is an endpoint that never reads the
// browser session (token, revocation, introspection, userinfo), so the
// cross-site request guard must let single-page apps call it.
func (p *Provider) CookieFree(path string) bool {
	if p == nil {
		return false
	}
	t := "/" + p.cfg.TenantID + "/oauth2/v2.0/"
	return path == t+"token" || path == t+"revoke" || path == t+"introspect" || path == "/oidc/userinfo"
}

// ServeHTTP answers the provider's paths. The outer router's context is
// dropped so op's own router matches the full path.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithValue(r.Context(), chi.RouteCtxKey, nil))
	p.router.ServeHTTP(w, r)
}

func (p *Provider) routes() chi.Router {
	var inner http.Handler = p.op
	r := chi.NewRouter()
	discovery := func(w http.ResponseWriter, req *http.Request) {
		req2 := req.Clone(req.Context())
		req2.URL.Path = oidc.DiscoveryEndpoint
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, req2)
		body, err := truthfulDiscovery(rec.Body.Bytes())
		if rec.Code != http.StatusOK || err != nil {
			http.Error(w, "discovery unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
	t := "/" + p.cfg.TenantID
	r.Get(oidc.DiscoveryEndpoint, discovery)
	r.Get(t+"/v2.0"+oidc.DiscoveryEndpoint, discovery)
	authorize := withClaimsParam(p.checkPrompt(inner))
	r.Handle(t+"/oauth2/v2.0/authorize", authorize)
	r.Handle(t+"/oauth2/v2.0/logout", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if p.cfg.ClearSession != nil {
			p.cfg.ClearSession(w, req)
		}
		inner.ServeHTTP(w, req)
	}))
	// op issues the code at its callback to anyone who names a completed
	// request: bind it to the browser that completed the sign-in.
	r.Handle(t+"/oauth2/v2.0/authorize/callback", p.requireCallbackBinding(inner))
	r.NotFound(inner.ServeHTTP)
	r.MethodNotAllowed(inner.ServeHTTP)
	return r
}

// truthfulDiscovery trims op's discovery document to what the lab serves:
// op advertises every flow it can run (implicit, JWT bearer, device code,
// introspection) whatever the storage supports, and a client that trusted
// that would fail later instead of at discovery.
func truthfulDiscovery(doc []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"device_authorization_endpoint", "introspection_endpoint",
		"introspection_endpoint_auth_methods_supported", "introspection_endpoint_auth_signing_alg_values_supported"} {
		delete(m, k)
	}
	m["response_types_supported"] = []string{"code"}
	m["response_modes_supported"] = []string{"query", "fragment", "form_post"}
	m["grant_types_supported"] = []string{"authorization_code", "refresh_token"}
	m["subject_types_supported"] = []string{"pairwise"}
	m["claims_parameter_supported"] = true
	m["request_parameter_supported"] = false
	return json.Marshal(m)
}

// callbackCookie names the cookie that ties a completed auth request to the
// browser that completed it.
const callbackCookie = "rpserver_oidc_callback"

func (p *Provider) callbackBinding(id string) string {
	m := hmac.New(sha256.New, p.cfg.Secret)
	m.Write([]byte("oidc-callback:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// BindCallback sets, on the answer that sends the browser to the callback
// URL Complete returned, the cookie the callback requires: without it the
// request id alone (which the page that started the flow knows) would let
// anyone collect the code after the victim signed in.
func (p *Provider) BindCallback(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: callbackCookie, Value: p.callbackBinding(id),
		Path: "/" + p.cfg.TenantID + "/oauth2/v2.0/authorize/callback", MaxAge: int(authRequestTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

func (p *Provider) requireCallbackBinding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(callbackCookie)
		if err != nil || !hmac.Equal([]byte(c.Value), []byte(p.callbackBinding(r.URL.Query().Get("id")))) {
			http.Error(w, "this sign-in was completed in another browser: go back to the application and sign in again", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

var knownPrompts = []string{oidc.PromptNone, oidc.PromptLogin, oidc.PromptSelectAccount, oidc.PromptConsent}

// checkPrompt refuses prompt values the lab does not know, before op
// stores the request (op passes them through untouched). prompt=consent is
// accepted and satisfied at once: the lab has no consent framework, every
// registered app is consented for the tenant.
func (p *Provider) checkPrompt(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err == nil {
			for _, v := range strings.Fields(r.Form.Get("prompt")) {
				if !slices.Contains(knownPrompts, v) {
					r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, claimsParam{err: oidc.ErrInvalidRequest().WithDescription("prompt must be none, login, select_account or consent, not %s", v)}))
					break
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// LoginRequest is what the sign-in needs to know about a pending auth request.
type LoginRequest struct {
	ID           string
	ClientID     string
	ClientName   string // the app registration's displayName
	CreatedAt    time.Time
	Prompt       []string
	MaxAge       *uint
	LoginHint    string
	AuthContexts []string
}

// HasPrompt reports whether the request carries the prompt value.
func (l LoginRequest) HasPrompt(v string) bool { return slices.Contains(l.Prompt, v) }

// LoginRequest reads a pending auth request for the sign-in page.
func (p *Provider) LoginRequest(ctx context.Context, id string) (LoginRequest, error) {
	a, err := p.storage.authRequestByID(ctx, id)
	if err != nil {
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
			return LoginRequest{}, apperr.NotFound(CodeUnknownAuthRequest, "the sign-in request is unknown or expired; go back to the application and start again")
		}
		return LoginRequest{}, err
	}
	if a.Done() {
		return LoginRequest{}, apperr.Conflict(CodeAuthRequestDone, "this sign-in request was already completed")
	}
	name := a.ClientID
	if app, err := p.cfg.Apps.Store.ApplicationByAppID(ctx, a.ClientID); err == nil {
		name = app.DisplayName
	}
	return LoginRequest{ID: a.ID, ClientID: a.ClientID, ClientName: name, CreatedAt: a.CreatedAt, Prompt: a.Prompt, MaxAge: a.MaxAge,
		LoginHint: a.LoginHint, AuthContexts: a.AuthContexts}, nil
}

// Complete records the sign-in's grant and returns the URL that sends the
// browser back through op's callback (which issues the code). The grant
// must satisfy every authentication context the app asked for.
func (p *Provider) Complete(ctx context.Context, id string, g Grant) (string, error) {
	lr, err := p.LoginRequest(ctx, id)
	if err != nil {
		return "", err
	}
	if !hasAll(g.ACRs, lr.AuthContexts) {
		return "", apperr.Forbidden(CodeContextsUnmet, "the sign-in did not satisfy the authentication contexts %v the application asked for; sign in again", lr.AuthContexts)
	}
	body, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	if err := p.cfg.Store.CompleteAuthRequest(ctx, id, g.UserID, body); err != nil {
		return "", err
	}
	return p.cfg.BaseURL + "/" + p.cfg.TenantID + "/oauth2/v2.0/authorize/callback?id=" + url.QueryEscape(id), nil
}

// Fail ends a pending auth request with an OAuth error sent to the app's
// redirect URI (validated when the request was made, so this is never an
// open redirect): login_required for prompt=none without a usable session,
// interaction_required when the sign-in needs the user, access_denied when
// Conditional Access blocks.
func (p *Provider) Fail(w http.ResponseWriter, r *http.Request, id string, e *oidc.Error) {
	a, err := p.storage.authRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "the sign-in request is unknown or expired", http.StatusBadRequest)
		return
	}
	_ = p.cfg.Store.DeleteAuthRequest(r.Context(), id)
	op.AuthRequestError(w, r, a, e, p.op)
}

// PurgeExpired removes expired auth requests and refresh tokens.
func (p *Provider) PurgeExpired(ctx context.Context) (int64, error) {
	return p.cfg.Store.PurgeExpiredOIDC(ctx, p.cfg.Now())
}
