// Package conditionalaccess is the service behind the lab tenant's
// Conditional Access policies and authentication strengths: Graph-shaped
// create / PATCH / delete / list / get, validation, lockout protection, and
// the compiled policy set the sign-in flow evaluates.
//
// The decisions themselves live in internal/policy (pure, table-tested):
// this package loads what those functions need, calls them and persists the
// result through a Store, so it stays thin.
//
// # Writes
//
// A PATCH has Graph's merge semantics: properties present in the body
// replace the stored ones, nested objects (conditions, grantControls, ...)
// merge property by property, collections are replaced wholesale. The merged
// document is validated (policy.ValidateConditionalAccessPolicy or
// policy.ValidateCustomStrength) and checked for lockout inside the store's
// read-modify-write transaction, so a refused change writes nothing and two
// concurrent PATCHes cannot lose one another's properties.
//
// Lockout protection (policy.CheckLockout) runs on create and update: an
// enabled policy that covers All users without excluding every
// emergency-access account (users flagged isEmergencyAccess, excluded by
// user id or through a group), or that would deny the administrator saving
// it, is refused with 409 and the findings, unless the caller forces it
// (the HTTP layer's ?force=true, the lab's stand-in for the portal's
// "I understand" checkbox). Forced saves log what was overridden.
//
// # Sign-in side
//
// Compiled returns the tenant's policies compiled for evaluation. It keeps
// the compiled set in memory and re-reads the store only when the
// tenant-wide policy version, bumped by every write in the same transaction,
// has moved: one single-row query per call, so a change made through any
// server on the database is seen by the next sign-in everywhere. Strengths
// returns the matching policy.StrengthLookup (built-in and custom).
package conditionalaccess
