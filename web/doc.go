// Package web holds the pages a person uses in a browser, embedded in the
// binary with go:embed so the server needs no files at run time: the
// sign-in page, Security Info (one's own passkeys: register, rename,
// delete) and read-only admin views (passkey profiles, Temporary Access
// Pass policy, Conditional Access policies, sign-in logs with their
// Conditional Access and authentication details).
//
// The pages are plain HTML with vanilla JavaScript modules (app.js picks
// the page's module; dom.js, api.js, webauthn.js and format.js are shared)
// and one style sheet, all served from this origin: the lab has no network beyond
// loopback, and a strict Content-Security-Policy (no inline script or
// style, no other origin) is only possible when nothing is inlined or
// fetched from elsewhere. They talk to the server's JSON API with fetch;
// the session lives in the HttpOnly SameSite=Strict cookie the sign-in
// endpoints set, and the admin pages exchange it for a short-lived admin
// bearer token (POST /admin/token) kept in sessionStorage.
package web
