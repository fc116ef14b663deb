// Package tokens mints and verifies the server's JWTs (admin bearer tokens now,
// sign-in session tokens later) with ES256 only: the verifier pins the
// algorithm, issuer and audience, so a token signed with "none" or an HMAC
// key made from the public key is refused.
//
// The signing key is made once and persisted in PostgreSQL, sealed with the
// server's master key (AES-256-GCM), so it survives restarts, is shared by
// every server process on the same database, and is never stored in clear.
// The public halves are served as a JWKS.
package tokens
