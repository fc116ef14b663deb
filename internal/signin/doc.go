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
// A session's methods come back as "Previously satisfied" when the same user
// signs in to an app again; revokeSignInSessions moves the user's
// sessions-valid-from instant forward, which CheckSession enforces for every
// request carrying a session.
package signin
