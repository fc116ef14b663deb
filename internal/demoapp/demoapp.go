// Package demoapp is a small relying application that signs in through the
// lab's OpenID Connect provider the way any real app would: the
// authorization code flow with PKCE (golang.org/x/oauth2), the id_token
// verified with github.com/coreos/go-oidc/v3 against the provider's JWKS,
// the claims shown, and a "sensitive action" that asks for an
// authentication context (a claims challenge for acrs, as Entra's
// Conditional Access authentication contexts work) before it runs.
//
// cmd/demoapp serves it; the browser test runs it in-process.
package demoapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config names the provider and the app's registration.
type Config struct {
	Issuer       string // https://lab/{tenant}/v2.0
	ClientID     string
	ClientSecret string
	// BaseURL is where the app is reached (http://localhost:9090); its
	// /callback must be a registered web redirect URI.
	BaseURL string
	// AuthContext is what the sensitive action asks for (c1 by default).
	AuthContext string
	// Name is shown in the page title (two demo apps side by side).
	Name string
}

// App is the relying application.
type App struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	endSess  string
	mux      *http.ServeMux

	mu       sync.Mutex
	pending  map[string]pending // state -> login in progress
	sessions map[string]*session
}

type pending struct {
	nonce, verifier, next string
	at                    time.Time
}

type session struct {
	claims  map[string]any
	idToken string
}

// New discovers the provider (go-oidc checks the issuer matches).
func New(ctx context.Context, c Config) (*App, error) {
	if c.AuthContext == "" {
		c.AuthContext = "c1"
	}
	if c.Name == "" {
		c.Name = "Demo app"
	}
	p, err := gooidc.NewProvider(ctx, c.Issuer)
	if err != nil {
		return nil, fmt.Errorf("demoapp: discovery: %w", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&meta)
	a := &App{cfg: c, verifier: p.Verifier(&gooidc.Config{ClientID: c.ClientID}), endSess: meta.EndSession,
		pending: map[string]pending{}, sessions: map[string]*session{}, mux: http.NewServeMux(),
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: c.BaseURL + "/callback", Scopes: []string{gooidc.ScopeOpenID, "profile"}}}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.login)
	a.mux.HandleFunc("GET /callback", a.callback)
	a.mux.HandleFunc("GET /sensitive", a.sensitive)
	a.mux.HandleFunc("GET /logout", a.logout)
	return a, nil
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookieName is per app: cookies ignore ports, and two demo apps on
// localhost must not overwrite each other's session.
func (a *App) cookieName() string { return "demoapp_" + a.cfg.ClientID }

func (a *App) current(r *http.Request) *session {
	c, err := r.Cookie(a.cookieName())
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[c.Value]
}

// startLogin sends the browser to the provider; extra options carry the
// authentication-context challenge.
func (a *App) startLogin(w http.ResponseWriter, r *http.Request, next string, opts ...oauth2.AuthCodeOption) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	a.mu.Lock()
	for k, p := range a.pending { // logins abandoned for 10 minutes
		if time.Since(p.at) > 10*time.Minute {
			delete(a.pending, k)
		}
	}
	a.pending[state] = pending{nonce: nonce, verifier: verifier, next: next, at: time.Now()}
	a.mu.Unlock()
	opts = append(opts, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	var opts []oauth2.AuthCodeOption
	if p := r.URL.Query().Get("prompt"); p == "login" || p == "select_account" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p))
	}
	a.startLogin(w, r, "/", opts...)
}

func (a *App) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.mu.Lock()
	p, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if !ok {
		a.render(w, http.StatusBadRequest, page{Error: "unknown or reused state: start the sign-in again"})
		return
	}
	if e := q.Get("error"); e != "" {
		a.render(w, http.StatusUnauthorized, page{Error: e + ": " + q.Get("error_description")})
		return
	}
	tok, err := a.oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		a.render(w, http.StatusBadGateway, page{Error: "code exchange failed: " + err.Error()})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != p.nonce {
		a.render(w, http.StatusBadGateway, page{Error: fmt.Sprintf("id_token refused (go-oidc): %v", err)})
		return
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		a.render(w, http.StatusBadGateway, page{Error: err.Error()})
		return
	}
	sid := random()
	a.mu.Lock()
	a.sessions[sid] = &session{claims: claims, idToken: raw}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, p.next, http.StatusFound)
}

func hasACR(claims map[string]any, want string) bool {
	list, _ := claims["acrs"].([]any)
	return slices.ContainsFunc(list, func(v any) bool { return v == want })
}

// sensitive runs only with a token whose acrs holds the authentication
// context; otherwise it challenges, as Entra's claims challenge does.
func (a *App) sensitive(w http.ResponseWriter, r *http.Request) {
	s := a.current(r)
	if s != nil && hasACR(s.claims, a.cfg.AuthContext) {
		a.render(w, http.StatusOK, page{Session: s, Done: "Sensitive action performed with authentication context " + a.cfg.AuthContext + "."})
		return
	}
	challenge, _ := json.Marshal(map[string]any{"id_token": map[string]any{"acrs": map[string]any{"essential": true, "value": a.cfg.AuthContext}}})
	a.startLogin(w, r, "/sensitive", oauth2.SetAuthURLParam("claims", string(challenge)))
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	s := a.current(r)
	if c, err := r.Cookie(a.cookieName()); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Value: "", Path: "/", MaxAge: -1})
	if a.endSess == "" || s == nil {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	v := url.Values{"post_logout_redirect_uri": {a.cfg.BaseURL + "/"}, "id_token_hint": {s.idToken}, "client_id": {a.cfg.ClientID}}
	// The provider sends the browser back to a registered URI only.
	http.Redirect(w, r, a.endSess+"?"+v.Encode(), http.StatusFound)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, page{Session: a.current(r)})
}

type page struct {
	Session *session
	Error   string
	Done    string
}

type claimRow struct{ Name, Value string }

var tmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}}</title>
<style>body{font:15px system-ui,sans-serif;max-width:50rem;margin:2rem auto}table{border-collapse:collapse}td{border:1px solid #ccc;padding:.2rem .5rem;font-family:monospace}.err{color:#a00}.ok{color:#060}</style>
</head><body>
<h1 id="title">{{.Name}}</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .Done}}<p class="ok" id="done">{{.Done}}</p>{{end}}
{{if .Claims}}
<p id="signed-in">Signed in as <strong id="upn">{{.UPN}}</strong>. The id_token was verified with go-oidc.</p>
<table id="claims"><tr><th>claim</th><th>value</th></tr>{{range .Claims}}<tr><td>{{.Name}}</td><td data-claim="{{.Name}}">{{.Value}}</td></tr>{{end}}</table>
<p><a id="sensitive" href="/sensitive">Sensitive action (asks for authentication context {{.Context}})</a> · <a id="relogin" href="/login?prompt=login">Sign in again</a> · <a id="logout" href="/logout">Sign out</a></p>
{{else}}
<p><a id="login" href="/login">Sign in with the lab</a></p>
{{end}}
</body></html>`))

func (a *App) render(w http.ResponseWriter, status int, p page) {
	data := struct {
		Name, Error, Done, UPN, Context string
		Claims                          []claimRow
	}{Name: a.cfg.Name, Error: p.Error, Done: p.Done, Context: a.cfg.AuthContext}
	if p.Session != nil {
		for k, v := range p.Session.claims {
			b, _ := json.Marshal(v)
			data.Claims = append(data.Claims, claimRow{k, string(b)})
		}
		sort.Slice(data.Claims, func(i, j int) bool { return data.Claims[i].Name < data.Claims[j].Name })
		data.UPN, _ = p.Session.claims["preferred_username"].(string)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = tmpl.Execute(w, data)
}

// Registration is what Register made in the lab.
type Registration struct {
	ObjectID, AppID, Secret string
}

// Register creates the app registration (web redirect URI BaseURL/callback,
// logout URL BaseURL/), a client secret and the service principal through
// the lab's Graph API, with an admin token of an Application Administrator.
func Register(ctx context.Context, lab, adminToken, name, baseURL string) (Registration, error) {
	call := func(method, path string, body any, out any) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, lab+path, bytesReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode >= 300 {
			var e struct {
				Error struct{ Code, Message string }
			}
			_ = json.NewDecoder(res.Body).Decode(&e)
			return fmt.Errorf("%s %s: %d %s %s", method, path, res.StatusCode, e.Error.Code, e.Error.Message)
		}
		return json.NewDecoder(res.Body).Decode(out)
	}
	var app struct{ ID, AppID string }
	if err := call("POST", "/v1.0/applications", map[string]any{"displayName": name,
		"web": map[string]any{"redirectUris": []string{baseURL + "/callback"}, "logoutUrl": baseURL + "/"}}, &app); err != nil {
		return Registration{}, err
	}
	var pw struct{ SecretText string }
	if err := call("POST", "/v1.0/applications/"+app.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "demoapp"}}, &pw); err != nil {
		return Registration{}, err
	}
	var sp struct{ ID string }
	if err := call("POST", "/v1.0/servicePrincipals", map[string]any{"appId": app.AppID}, &sp); err != nil {
		return Registration{}, err
	}
	return Registration{ObjectID: app.ID, AppID: app.AppID, Secret: pw.SecretText}, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
