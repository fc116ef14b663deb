// Package signinlog records and serves sign-in logs shaped like Graph's
// signIn resource (/auditLogs/signIns), including the Conditional Access
// results and authentication details that make a passkey rollout legible.
package signinlog
