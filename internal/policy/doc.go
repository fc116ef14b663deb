// Package policy holds rpserver's sign-in decisions as pure functions over
// plain data: authentication strengths, Conditional Access validation,
// lockout protection, policy evaluation, system-preferred method choice and
// Temporary Access Pass usability.
//
// The idea is that everything an administrator configures in Microsoft Entra
// ID and everything the sign-in log reports is decided here, and only here,
// with no I/O. Handlers load data, call in, and persist or render what comes
// back; tests feed tables of plain structs. Keeping the decisions in one
// dependency-free place is what lets the lab answer "why did this sign-in get
// that result?" reproducibly.
//
// Names follow Microsoft Graph on purpose: struct JSON tags are Graph's
// camelCase property names (conditionalAccessPolicy, authenticationStrengthPolicy,
// appliedConditionalAccessPolicy, temporaryAccessPassAuthenticationMethod...)
// and string values are Graph's enum members, so a lab administrator can
// compare rpserver's API and logs with Entra's line by line. Where rpserver
// adds something Entra does not show — chiefly the explanation of which
// include/exclude or condition decided a policy — it lives under its own
// clearly non-Graph property ("explanation").
//
// Sign-in evaluation is on the hot path, so policies are compiled once into
// CompiledPolicies (sets built, enums turned into bit masks, strengths
// resolved) and evaluation only does lookups. EvaluateInto lets a caller
// reuse the result buffer so a steady-state evaluation does not allocate.
package policy
