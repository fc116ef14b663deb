// Package ceremony is the hot path: begin and finish of WebAuthn registration
// and sign-in, on github.com/go-webauthn/webauthn.
//
// State between begin and finish lives nowhere in the process, so finish
// works on any server sharing the database: a registration's challenge is
// a row keyed by the challenge's hash, taken (deleted) by the one finish
// that uses it; a sign-in's is sealed (seal.go), carrying its own state,
// and its one use is recorded by the store. A replayed or expired
// challenge is refused with a stable code.
//
// Before handing a response to the library, the service checks the
// properties it reports precisely (challenge, type, origin, RP ID hash, UP,
// UV, backup flags, credential ownership) so each failure has its own stable
// error code; the library then verifies everything again, including the
// signature, and anything it alone rejects is reported as
// ceremonyVerificationFailed with its detail.
//
// Registration hands the attestation report (internal/attestation) and the
// credential's facts to a RegistrationGate (the passkey profile decision) before
// anything is stored. Sign-in stores the new signature counter with a
// conditional UPDATE, so two concurrent uses of a cloned key cannot both pass.
package ceremony
