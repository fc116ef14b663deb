// Package authenticatorapi serves virtual authenticators (package
// virtualauthn) over HTTP, so any tool in any language (curl and jq, a
// JavaScript or Python load script, another test suite) can perform real
// WebAuthn ceremonies against any relying party: it posts the options the
// RP gave it and gets back exactly the PublicKeyCredential JSON a browser
// would send. It is `rpserver authenticator serve`.
//
// Design choices, and why:
//
//   - Loopback only, no authentication: whoever reaches it can sign as every
//     credential it holds, which is fine for a lab tool on one machine and
//     wrong anywhere else; the command refuses other listen addresses.
//   - Authenticators live in memory and die with the process: a test run
//     creates what it needs. Their number, their credentials and request
//     bodies are bounded.
//   - The RP's options are passed through untouched (with or without the
//     {"publicKey":...} wrapper), and the caller names the origin, because
//     the authenticator cannot know which page it is on; unknown fields in
//     requests are refused rather than ignored.
//   - Tamper knobs are per request, as in virtualauthn, so one authenticator
//     serves valid and broken ceremonies side by side.
//   - Errors use the envelope the rest of rpserver uses,
//     {"error":{"code","message"}}, with the WebAuthn DOMException name a
//     browser would raise where there is one.
package authenticatorapi
