// Package tokens mints and verifies the server's JWTs: admin bearer and
// sign-in flow tokens with ES256, sign-in session tokens with EdDSA
// (Ed25519, minted on every sign-in: about 0.4x ES256's signing time). The
// verifier accepts only those two, with the key the kid names and of the
// header's algorithm, and pins issuer and audience, so a token signed with
// "none" or an HMAC key made from a public key is refused.
//
// The signing keys are made once and persisted in PostgreSQL, sealed with
// the server's master key (AES-256-GCM), so they survive restarts, are
// shared by every server process on the same database, and are never
// stored in clear. The public halves are served as a JWKS.
package tokens
