// Package oidc is the lab's OpenID Connect provider: real applications
// registered in internal/apps sign in through it, with Entra's endpoint
// shapes (/{tenant}/v2.0/.well-known/openid-configuration,
// /{tenant}/oauth2/v2.0/authorize, /token, /logout, /discovery/v2.0/keys)
// and Entra-like v2 tokens (oid, tid, pairwise sub, preferred_username,
// amr, acrs, auth_time, uti, ver).
//
// The protocol is github.com/zitadel/oidc/v3's op package, not hand-written
// code. It was chosen over github.com/ory/fosite because op is a complete
// OpenID Provider (discovery, authorize with its callback, token, userinfo,
// JWKS, end_session, revocation, spec error responses and redirect-URI
// checks), so this package only supplies storage and policy; fosite is an
// OAuth 2 framework that leaves discovery, userinfo, JWKS and the login
// bridge to the caller, and it pulls in ory/x. op is certified by the OpenID
// Foundation for the basic and config OP profiles and maintained by ZITADEL.
//
// What stays here: the storage (auth requests, codes and refresh tokens in
// PostgreSQL, codes and refresh tokens only as SHA-256), the signing keys
// (RS256 and ES256, sealed with the master key, rotated with the old key
// kept published), the clients (an app registration plus its service
// principal), stricter rules than op's defaults (PKCE S256 required for
// public clients, disabled apps refused, authentication-context requests
// parsed from acr_values and the claims parameter) and the bridge to the
// sign-in flow: op redirects to LoginURL, the lab's sign-in (internal/signin,
// with Conditional Access for the app) completes the request with a Grant,
// and op's callback issues the code.
package oidc
