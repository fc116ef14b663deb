package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// lab is a running server with one user (password sign-in) and apps.
type lab struct {
	t     *testing.T
	srv   *servertest.Server
	admin string
	base  string // the server's origin (http://localhost:port), where browsers reach it
}

const (
	upn      = "alice@lab.example"
	password = "correct horse battery"
	callback = "http://localhost:9/callback" // never contacted: redirects are captured
)

func newLab(t *testing.T) *lab {
	l := &lab{t: t, srv: servertest.New(t, server.Config{})}
	l.base = l.srv.Config.Origins[0]
	l.admin = l.srv.AdminToken(t)
	l.api("POST", "/v1.0/users", `{"userPrincipalName":"`+upn+`","displayName":"Alice","passwordProfile":{"password":"`+password+`"}}`, 201)
	return l
}

func (l *lab) api(method, path, body string, want int) map[string]any {
	l.t.Helper()
	req, _ := http.NewRequest(method, l.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		l.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// app registers an app with a service principal; web apps get a secret.
func (l *lab) app(name, platform string) (appID, secret string) {
	a := l.api("POST", "/v1.0/applications", `{"displayName":"`+name+`","`+platform+`":{"redirectUris":["`+callback+`"]}}`, 201)
	appID = a["appId"].(string)
	if platform == "web" {
		p := l.api("POST", "/v1.0/applications/"+a["id"].(string)+"/addPassword", `{"passwordCredential":{"displayName":"test"}}`, 200)
		secret = p["secretText"].(string)
	}
	l.api("POST", "/v1.0/servicePrincipals", `{"appId":"`+appID+`"}`, 201)
	return appID, secret
}

func (l *lab) issuer() string { return l.base + "/" + l.srv.OIDC.TenantID() + "/v2.0" }

// browser is a cookie-keeping client that stops at the app's redirect URI.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), callback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

// get follows redirects; it returns the final response's URL (the app's
// callback when the flow ended there) and status.
func (b *browser) get(u string) (*url.URL, int) {
	b.t.Helper()
	res, err := b.client.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if loc := res.Header.Get("Location"); loc != "" && strings.HasPrefix(loc, callback) {
		lu, _ := url.Parse(loc)
		return lu, res.StatusCode
	}
	return res.Request.URL, res.StatusCode
}

func (b *browser) post(u, body string) map[string]any {
	b.t.Helper()
	res, err := b.client.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.t.Fatalf("POST %s: %d %s", u, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// signIn runs the authorize request through the lab's password sign-in and
// returns the app's callback URL.
func (l *lab) signIn(b *browser, authURL string) *url.URL {
	l.t.Helper()
	at, _ := b.get(authURL)
	if at.Path != "/signin" {
		return at // single sign-on, or an error sent to the app
	}
	id := at.Query().Get("authRequest")
	out := b.post(l.base+"/oauth2/login/begin", `{"authRequest":"`+id+`","userPrincipalName":"`+upn+`"}`)
	out = b.post(l.base+"/signin/password", `{"flowToken":"`+out["flowToken"].(string)+`","password":"`+password+`"}`)
	if out["status"] != "completed" {
		l.t.Fatalf("sign-in not completed: %v", out)
	}
	cb, _ := b.get(l.base + "/oauth2/login/complete?authRequest=" + url.QueryEscape(id))
	return cb
}

func TestCodeFlowWithRealClient(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	appID, secret := l.app("Demo", "web")
	provider, err := gooidc.NewProvider(ctx, l.issuer())
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: appID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: callback,
		Scopes: []string{gooidc.ScopeOpenID, "profile", gooidc.ScopeOfflineAccess}}
	verifier := oauth2.GenerateVerifier()
	b := newBrowser(t)
	cb := l.signIn(b, conf.AuthCodeURL("st4te", gooidc.Nonce("n0nce"), oauth2.S256ChallengeOption(verifier)))
	if cb.Query().Get("state") != "st4te" || cb.Query().Get("code") == "" {
		t.Fatalf("callback: %s", cb)
	}
	code := cb.Query().Get("code")

	// Wrong client secret: invalid_client, and the code stays usable by
	// the real client.
	bad := *conf
	bad.ClientSecret = "not-the-secret"
	_, err = bad.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, "invalid_client")
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	// Replayed code: invalid_grant.
	_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, "invalid_grant")

	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&gooidc.Config{ClientID: appID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc verify: %v", err)
	}
	var claims struct {
		Oid, Tid, Sub, Name, Ver, Uti, Nonce string
		PreferredUsername                    string   `json:"preferred_username"`
		AMR                                  []string `json:"amr"`
		AuthTime                             int64    `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Oid == "" || claims.Sub == claims.Oid || claims.Tid != l.srv.OIDC.TenantID() || claims.PreferredUsername != upn ||
		claims.Name != "Alice" || claims.Ver != "2.0" || claims.Uti == "" || claims.Nonce != "n0nce" || claims.AuthTime == 0 ||
		len(claims.AMR) != 1 || claims.AMR[0] != "pwd" {
		t.Fatalf("id_token claims: %+v", claims)
	}
	// Userinfo with the access token.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != claims.Sub {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}
	// The refresh token works, then dies with revokeSignInSessions.
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// The refresh token rotated: the old one is spent.
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")

	cb = l.signIn(b, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	tok, err = conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	l.api("POST", "/v1.0/users/"+claims.Oid+"/revokeSignInSessions", "", 200)
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")

	// Expired refresh token.
	cb = l.signIn(b, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	tok, err = conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.srv.DB.Pool.Exec(ctx, `UPDATE oidc_refresh_tokens SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	wantOAuthError(t, err, "invalid_grant")
}

func TestAuthorizeErrors(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	webID, _ := l.app("Web", "web")
	spaID, _ := l.app("SPA", "spa")
	provider, err := gooidc.NewProvider(ctx, l.issuer())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)

	// A redirect URI not registered exactly: 400 here, never a redirect.
	for _, ru := range []string{"http://localhost:9/callback/", "http://localhost:9/callback?x=1", "https://evil.example/callback"} {
		conf := &oauth2.Config{ClientID: webID, Endpoint: provider.Endpoint(), RedirectURL: ru, Scopes: []string{"openid"}}
		res, err := http.Get(conf.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 || res.Request.URL.Host != strings.TrimPrefix(l.base, "http://") {
			t.Errorf("redirect_uri %s: %d at %s", ru, res.StatusCode, res.Request.URL)
		}
	}

	// A public client without PKCE: invalid_request at the app.
	spa := &oauth2.Config{ClientID: spaID, Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{"openid"}}
	cb, _ := b.get(spa.AuthCodeURL("s"))
	if cb.Query().Get("error") != "invalid_request" || !strings.Contains(cb.Query().Get("error_description"), "Proof Key") || cb.Query().Get("state") != "s" {
		t.Fatalf("SPA without PKCE: %s", cb)
	}
	// plain is refused too.
	cb, _ = b.get(spa.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if cb.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain PKCE: %s", cb)
	}
	// With PKCE the public client signs in and exchanges without a secret.
	v := oauth2.GenerateVerifier()
	cb = l.signIn(b, spa.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	if _, err := spa.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("SPA exchange: %v", err)
	}
	// ... but not with a wrong verifier.
	cb = l.signIn(b, spa.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	_, err = spa.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantOAuthError(t, err, "invalid_grant")

	// prompt=none without a session: login_required.
	web := &oauth2.Config{ClientID: webID, Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{"openid"}}
	cb, _ = newBrowser(t).get(web.AuthCodeURL("s", oauth2.SetAuthURLParam("prompt", "none")))
	if cb.Query().Get("error") != "login_required" || cb.Query().Get("state") != "s" {
		t.Fatalf("prompt=none: %s", cb)
	}
	// prompt=none with the session: single sign-on, a code at once.
	cb, _ = b.get(web.AuthCodeURL("s", oauth2.SetAuthURLParam("prompt", "none")))
	if cb.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: %s", cb)
	}
	// Unknown prompt values and malformed claims are refused, not ignored.
	cb, _ = b.get(web.AuthCodeURL("s", oauth2.SetAuthURLParam("prompt", "dance")))
	if cb.Query().Get("error") != "invalid_request" {
		t.Fatalf("prompt=dance: %s", cb)
	}
	cb, _ = b.get(web.AuthCodeURL("s", oauth2.SetAuthURLParam("claims", `{"id_token":{"email":null}}`)))
	if cb.Query().Get("error") != "invalid_request" {
		t.Fatalf("claims email: %s", cb)
	}
	cb, _ = b.get(web.AuthCodeURL("s", oauth2.SetAuthURLParam("acr_values", "urn:mace:incommon:iap:silver")))
	if cb.Query().Get("error") != "invalid_request" {
		t.Fatalf("acr_values: %s", cb)
	}
	// A disabled service principal stops sign-ins to the app.
	sps := l.api("GET", "/v1.0/servicePrincipals?$top=999", "", 200)
	for _, sp := range sps["value"].([]any) {
		m := sp.(map[string]any)
		if m["appId"] == webID {
			l.api("PATCH", "/v1.0/servicePrincipals/"+m["id"].(string), `{"accountEnabled":false}`, 204)
		}
	}
	cb, _ = b.get(web.AuthCodeURL("s"))
	if cb.Query().Get("error") != "unauthorized_client" || !strings.Contains(cb.Query().Get("error_description"), "AADSTS7000112") {
		t.Fatalf("disabled app: %s", cb)
	}
	_ = directory.RoleGlobalAdministrator
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("want OAuth error %s, got %v", code, err)
	}
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	appID, secret := l.app("Rotating", "web")
	provider, err := gooidc.NewProvider(ctx, l.issuer())
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: appID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{"openid"}}
	b := newBrowser(t)
	idToken := func() string {
		v := oauth2.GenerateVerifier()
		cb := l.signIn(b, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("prompt", "login")))
		tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Extra("id_token").(string)
	}
	kidOf := func(raw string) string {
		var h struct{ Kid, Alg string }
		seg, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		_ = json.Unmarshal(seg, &h)
		if h.Alg != "RS256" {
			t.Fatalf("alg %s, want RS256", h.Alg)
		}
		return h.Kid
	}
	before := idToken()
	if err := l.srv.OIDC.RotateKey(ctx, "RS256"); err != nil {
		t.Fatal(err)
	}
	after := idToken()
	if kidOf(before) == kidOf(after) {
		t.Fatal("the rotation did not change the signing key")
	}
	// A relying party that fetches the JWKS now verifies both.
	fresh, err := gooidc.NewProvider(ctx, l.issuer())
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{before, after} {
		if _, err := fresh.Verifier(&gooidc.Config{ClientID: appID}).Verify(ctx, raw); err != nil {
			t.Errorf("token signed with %s: %v", kidOf(raw), err)
		}
	}
}

func TestDiscoveryIsTruthful(t *testing.T) {
	l := newLab(t)
	for _, path := range []string{"/" + l.srv.OIDC.TenantID() + "/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"} {
		res, err := http.Get(l.base + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		_ = json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if res.StatusCode != 200 || doc["issuer"] != l.issuer() || doc["device_authorization_endpoint"] != nil || doc["introspection_endpoint"] != nil {
			t.Fatalf("%s: %d %v", path, res.StatusCode, doc)
		}
		if fmt.Sprint(doc["response_types_supported"]) != "[code]" || fmt.Sprint(doc["grant_types_supported"]) != "[authorization_code refresh_token]" ||
			fmt.Sprint(doc["code_challenge_methods_supported"]) != "[S256]" || fmt.Sprint(doc["subject_types_supported"]) != "[pairwise]" {
			t.Errorf("%s advertises more than the lab serves: %v", path, doc)
		}
	}
}

// Found by review: op hands out the code at its callback to anyone who
// names a completed request, and a code outlived revokeSignInSessions.
func TestCallbackIsBoundToTheBrowserAndCodesDieWithRevocation(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	appID, secret := l.app("Demo", "web")
	provider, err := gooidc.NewProvider(ctx, l.issuer())
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: appID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{gooidc.ScopeOpenID}}
	verifier := oauth2.GenerateVerifier()

	// The attacker starts the request and learns its id from the redirect.
	attacker := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := attacker.Get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loginURL, _ := url.Parse(res.Header.Get("Location"))
	id := loginURL.Query().Get("authRequest")
	if id == "" {
		t.Fatalf("no auth request id in %s", res.Header.Get("Location"))
	}
	// The victim signs in for it; the attacker polls the provider's callback.
	victim := newBrowser(t)
	out := victim.post(l.base+"/oauth2/login/begin", `{"authRequest":"`+id+`","userPrincipalName":"`+upn+`"}`)
	victim.post(l.base+"/signin/password", `{"flowToken":"`+out["flowToken"].(string)+`","password":"`+password+`"}`)
	stop := *victim.client
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err = stop.Get(l.base + "/oauth2/login/complete?authRequest=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cbURL := res.Header.Get("Location")
	if !strings.Contains(cbURL, "/authorize/callback") {
		t.Fatalf("complete did not send the browser to the callback: %d %s", res.StatusCode, cbURL)
	}
	if !strings.HasPrefix(cbURL, "http") {
		cbURL = l.base + cbURL
	}
	res, err = attacker.Get(cbURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden || strings.Contains(res.Header.Get("Location"), "code=") {
		t.Fatalf("the attacker's poll got %d %s, want 403 and no code", res.StatusCode, res.Header.Get("Location"))
	}
	// The victim's own browser still gets its code.
	cb, _ := victim.get(cbURL)
	code := cb.Query().Get("code")
	if code == "" {
		t.Fatalf("victim's callback: %s", cb)
	}
	// Revoking the user's sessions before the exchange kills the code.
	me := l.api("GET", "/v1.0/users/"+url.PathEscape(upn), "", 200)
	l.api("POST", "/v1.0/users/"+me["id"].(string)+"/revokeSignInSessions", "", 200)
	_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	wantOAuthError(t, err, "invalid_grant")
}

// Found by review: a client_id that is not a GUID gave 500 server_error.
func TestMalformedClientIDIsInvalidClientNot500(t *testing.T) {
	l := newLab(t)
	tokenURL := l.base + "/" + l.srv.OIDC.TenantID() + "/oauth2/v2.0/token"
	res, err := http.PostForm(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {"not-a-guid"}, "refresh_token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 || !strings.Contains(string(raw), "invalid_client") {
		t.Fatalf("token with a malformed client_id: %d %s", res.StatusCode, raw)
	}
	req, _ := http.NewRequest(http.MethodPost, l.base+"/"+l.srv.OIDC.TenantID()+"/oauth2/v2.0/revoke", strings.NewReader("token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("not-a-guid", "x")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode >= 500 {
		t.Fatalf("revoke with a malformed client_id: %d %s", res.StatusCode, raw)
	}
}

// Found by review: anonymous /authorize stored whatever state, nonce and
// login_hint it was given.
func TestAuthorizeRefusesOversizedValues(t *testing.T) {
	l := newLab(t)
	appID, _ := l.app("Demo", "web")
	provider, err := gooidc.NewProvider(context.Background(), l.issuer())
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: appID, Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{gooidc.ScopeOpenID}}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(conf.AuthCodeURL(strings.Repeat("s", 3000), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
		t.Fatalf("a 3000-byte state: %d %s", res.StatusCode, loc)
	}
}
