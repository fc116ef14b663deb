// Package api is the HTTP surface: the Graph-shaped admin API, the WebAuthn
// JSON endpoints, health and metrics. Handlers are thin: decode, call a
// service, encode. Errors are mapped to HTTP statuses and Graph's error
// envelope in exactly one place (writeError).
package api
