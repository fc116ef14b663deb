package oidc

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rpserver/rpserver/internal/apps"
)

// client is an app registration as op sees it. A registration with web
// redirect URIs is a confidential client (it must present a secret at the
// token endpoint); one with only spa or publicClient redirect URIs is a
// public client (no secret, PKCE S256 required). Entra decides per redirect
// URI platform; op decides per client, so an app mixing web and spa URIs is
// confidential here for every URI.
type client struct {
	app       apps.Application
	sp        apps.ServicePrincipal
	loginURL  func(string) string
	confident bool
}

func newClient(app apps.Application, sp apps.ServicePrincipal, loginURL func(string) string) *client {
	return &client{app: app, sp: sp, loginURL: loginURL, confident: len(app.Web.RedirectURIs) > 0}
}

func (c *client) GetID() string { return c.app.AppID }

func (c *client) RedirectURIs() []string {
	out := slices.Concat(c.app.Web.RedirectURIs, c.app.Spa.RedirectURIs, c.app.PublicClient.RedirectURIs)
	return out
}

// PostLogoutRedirectURIs are the redirect URIs and the logout URL: Entra
// accepts a post_logout_redirect_uri only among the app's registered ones.
func (c *client) PostLogoutRedirectURIs() []string {
	out := c.RedirectURIs()
	if c.app.Web.LogoutURL != "" {
		out = append(out, c.app.Web.LogoutURL)
	}
	return out
}

func (c *client) ApplicationType() op.ApplicationType {
	switch {
	case c.confident:
		return op.ApplicationTypeWeb
	case len(c.app.PublicClient.RedirectURIs) > 0:
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeUserAgent
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.confident {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration      { return tokenLifetime }

// DevMode only relaxes op's redirect-URI scheme rule (http for
// non-confidential clients): internal/apps already admits http only for
// loopback hosts, as Entra does for SPA and native apps, and op still
// compares the URI exactly.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits every scope: op would otherwise drop unknown scopes
// silently, and the lab has no consent framework to refuse them by. They
// appear in the access token's scp as requested.
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// tokenLifetime of id and access tokens; Entra's default is 60-90 minutes.
const tokenLifetime = time.Hour

// refreshLifetime of refresh tokens: Entra's default inactivity window.
const refreshLifetime = 90 * 24 * time.Hour
