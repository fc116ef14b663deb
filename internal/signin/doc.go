// Package signin runs the sign-in flow for an application the way Entra does:
// a first factor (passkey, Temporary Access Pass or password), Conditional
// Access evaluated over everything the sign-in has proven so far, a step-up
// in system-preferred order when an enforced policy wants more, or refusal
// with a stable code; then a session (cookie + JWT carrying the methods) and
// a sign-in log record with the Conditional Access results and
// authentication details.
//
// The flow's state travels in a short-lived signed flow token (audience
// rpserver-signin-flow) rather than in server memory, so each step may land
// on any server process. A token only ever lists factors the server itself
// verified, so replaying one gains nothing that was not already proven.
//
// # Entry points
//
// Each factor has one entry point, which verifies it and then runs the same
// tail (advance): Conditional Access, then a session or a step-up prompt or
// a refusal, and the sign-in log record in every case. Callers (the HTTP
// handlers, an OpenID Connect authorize endpoint) decode, call one of these
// and encode the Outcome:
//
//   - Begin opens a flow for a user and an application (first step of every
//     flow-based sign-in; a valid session of the same user lends its
//     factors as previously satisfied).
//   - Password, TOTP, PushBegin/PushComplete, PasskeyOptions/Passkey and TAP
//     add one factor to a flow. Passkey and TAP also work without a flow
//     token: the verified factor then starts a flow for the lab portal
//     itself (the /webauthn/authentication and /signin/tap endpoints).
//   - CheckSession and Revoke serve the session's later requests.
//
// Handlers never verify a factor themselves, mint a session or write a log
// record: everything a sign-in proves goes through advance.
//
// A session's methods come back as "Previously satisfied" when the same user
// signs in to an app again; revokeSignInSessions moves the user's
// sessions-valid-from instant forward, which CheckSession enforces for every
// request carrying a session.
package signin
