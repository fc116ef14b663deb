package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ScenarioOIDC: an application signs a user in over OpenID Connect (the
// lab's provider): the authorization request with PKCE, the interactive
// sign-in it hands to the lab (passkey), the code back at the app, and the
// app's token request through golang.org/x/oauth2. Each attempt is a new
// browser (an empty cookie jar), so every attempt signs in interactively
// rather than by single sign-on.
const ScenarioOIDC = "oidc"

// Operations of the OIDC scenario.
const (
	OpAppCreate         = "app.create"
	OpOIDC              = "oidc" // authorize ... token
	OpOIDCAuthorize     = "oidc.authorize"
	OpOIDCBegin         = "oidc.begin"
	OpOIDCPasskeyBegin  = "oidc.passkey.begin"
	OpOIDCPasskeyFinish = "oidc.passkey.finish"
	OpOIDCComplete      = "oidc.complete"
	OpOIDCToken         = "oidc.token"
)

// oidcCallback is the app's redirect URI. It is never contacted: the
// generator stops at the redirect and reads the code from it.
const oidcCallback = "http://localhost:9/callback"

// oidcApp is the application registered for the run.
type oidcApp struct {
	objectID string
	conf     oauth2.Config
}

// prepareOIDC registers a web app with a secret and its service principal,
// and reads the provider's endpoints from discovery.
func (e *engine) prepareOIDC(ctx context.Context, rec *Recorder) error {
	return timed(ctx, rec, OpAppCreate, false, func() error {
		base := e.c.next()
		var app struct {
			ID    string `json:"id"`
			AppID string `json:"appId"`
		}
		if err := e.c.callJSON(ctx, base, "/v1.0/applications", e.cfg.AdminToken, map[string]any{
			"displayName": "load-" + e.cfg.RunID, "web": map[string]any{"redirectUris": []string{oidcCallback}},
		}, http.StatusCreated, &app); err != nil {
			return err
		}
		e.app = &oidcApp{objectID: app.ID}
		var pw struct {
			Secret string `json:"secretText"`
		}
		if err := e.c.callJSON(ctx, base, "/v1.0/applications/"+url.PathEscape(app.ID)+"/addPassword", e.cfg.AdminToken,
			map[string]any{"passwordCredential": map[string]string{"displayName": "load"}}, http.StatusOK, &pw); err != nil {
			return err
		}
		if err := e.c.callJSON(ctx, base, "/v1.0/servicePrincipals", e.cfg.AdminToken, map[string]string{"appId": app.AppID}, http.StatusCreated, nil); err != nil {
			return err
		}
		raw, err := e.c.do(ctx, http.MethodGet, base, "/.well-known/openid-configuration", "", nil, http.StatusOK)
		if err != nil {
			return err
		}
		var disc struct {
			Authorization string `json:"authorization_endpoint"`
			Token         string `json:"token_endpoint"`
		}
		if err := json.Unmarshal(raw, &disc); err != nil || disc.Authorization == "" || disc.Token == "" {
			return &badResponseError{msg: "OpenID Connect discovery without authorization and token endpoints"}
		}
		// The endpoints name the issuer's host; the generator calls them on
		// the target (loopback), keeping their paths.
		authPath, tokenPath := pathOf(disc.Authorization), pathOf(disc.Token)
		e.app.conf = oauth2.Config{ClientID: app.AppID, ClientSecret: pw.Secret, RedirectURL: oidcCallback, Scopes: []string{"openid", "profile"},
			Endpoint: oauth2.Endpoint{AuthURL: base + authPath, TokenURL: base + tokenPath, AuthStyle: oauth2.AuthStyleInHeader}}
		return nil
	})
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Path
}

// oidcSignIn is one app sign-in of u.
func (e *engine) oidcSignIn(ctx context.Context, rec *Recorder, u *vuser, intended time.Time) error {
	if intended.IsZero() {
		intended = time.Now()
	}
	fail := func(err error) error {
		if ctx.Err() == nil {
			rec.Fail(OpOIDC, ErrorCode(err))
		}
		return err
	}
	target, err := url.Parse(e.c.bases[0])
	if err != nil {
		return fail(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: e.c.http.Transport, Timeout: e.c.http.Timeout, Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), oidcCallback) {
				return http.ErrUseLastResponse
			}
			if len(via) > 10 {
				return errors.New("more than 10 redirects")
			}
			// The provider redirects to the issuer's host (its public
			// URL); the generator only ever talks to the target.
			req.URL.Scheme, req.URL.Host, req.Host = target.Scheme, target.Host, target.Host
			return nil
		}}
	b := &client{http: browser, bases: e.c.bases}
	state, nonce := randomHex(8), randomHex(8)
	verifier := oauth2.GenerateVerifier()

	// 1. The app sends the browser to authorize; the provider sends it on
	// to the lab's sign-in page with the request's id.
	var authRequest string
	if err := timed(ctx, rec, OpOIDCAuthorize, true, func() error {
		authURL := e.app.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce),
			oauth2.SetAuthURLParam("login_hint", u.UserPrincipalName))
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
		if err != nil {
			return err
		}
		res, err := browser.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		authRequest = res.Request.URL.Query().Get("authRequest")
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/signin" || authRequest == "" {
			return &badResponseError{msg: fmt.Sprintf("authorize ended at %s (%d), not the sign-in page", res.Request.URL.Path, res.StatusCode)}
		}
		return nil
	}); err != nil {
		return fail(err)
	}

	// 2. The lab's interactive sign-in for that request, with the passkey.
	step := func(op, path string, in any, out any) error {
		return timed(ctx, rec, op, true, func() error { return b.callJSON(ctx, e.c.bases[0], path, "", in, http.StatusOK, out) })
	}
	var out outcome
	if err := step(OpOIDCBegin, "/oauth2/login/begin", map[string]string{"authRequest": authRequest, "userPrincipalName": u.UserPrincipalName}, &out); err != nil {
		return fail(err)
	}
	var opts json.RawMessage
	if err := step(OpOIDCPasskeyBegin, "/signin/passkey/begin", map[string]string{"flowToken": out.FlowToken}, &opts); err != nil {
		return fail(err)
	}
	cred, err := u.auth.Get(opts, e.cfg.Origin)
	if err != nil {
		return fail(&authenticatorError{err: err})
	}
	if err := step(OpOIDCPasskeyFinish, "/signin/passkey/finish", map[string]any{"flowToken": out.FlowToken, "credential": json.RawMessage(cred)}, &out); err != nil {
		return fail(err)
	}
	if out.Status != "completed" {
		return fail(&APIError{Status: http.StatusOK, Code: "status_" + out.Status, Message: "the app sign-in did not complete"})
	}

	// 3. Back to the provider, which redirects to the app with the code.
	var code string
	if err := timed(ctx, rec, OpOIDCComplete, true, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.c.bases[0]+"/oauth2/login/complete?authRequest="+url.QueryEscape(authRequest), nil)
		if err != nil {
			return err
		}
		res, err := browser.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		cb, err := url.Parse(res.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(cb.String(), oidcCallback) {
			return &badResponseError{msg: fmt.Sprintf("sign-in completion answered %d without redirecting to the app", res.StatusCode)}
		}
		if e := cb.Query().Get("error"); e != "" {
			return &APIError{Status: res.StatusCode, Code: e, Message: cb.Query().Get("error_description")}
		}
		if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
			return &badResponseError{msg: "the app's callback lacks the code or carries another state"}
		}
		code = cb.Query().Get("code")
		return nil
	}); err != nil {
		return fail(err)
	}

	// 4. The app redeems the code (x/oauth2, client secret, PKCE verifier).
	if err := timed(ctx, rec, OpOIDCToken, true, func() error {
		tok, err := e.app.conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, e.c.http), code, oauth2.VerifierOption(verifier))
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				return &APIError{Status: re.Response.StatusCode, Code: re.ErrorCode, Message: re.ErrorDescription}
			}
			return err
		}
		if idt, _ := tok.Extra("id_token").(string); idt == "" {
			return &badResponseError{msg: "token response without id_token"}
		}
		return nil
	}); err != nil {
		return fail(err)
	}
	rec.Observe(OpOIDC, time.Since(intended))
	return nil
}

// cleanupOIDC deletes the run's application (its service principal goes
// with it, as in Entra).
func (e *engine) cleanupOIDC(ctx context.Context, res *Cleanup) {
	if e.app == nil || e.app.objectID == "" {
		return
	}
	if _, err := e.c.do(ctx, http.MethodDelete, e.c.next(), "/v1.0/applications/"+url.PathEscape(e.app.objectID), e.cfg.AdminToken, nil, http.StatusNoContent); err != nil {
		res.fail(err)
		return
	}
	res.AppDeleted = true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
