// Package mfa holds the pure parts of the second factors the lab emulates so
// that authentication strengths mean something: TOTP codes (RFC 6238, as a
// softwareOath method such as Microsoft Authenticator's verification codes)
// and Authenticator push with number matching. No I/O: secrets arrive sealed
// or hashed from the store, which also enforces one-time use.
package mfa
