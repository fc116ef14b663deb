// Package directory owns the lab tenant's identities: users (with the
// emergency-access flag that lockout protection relies on), security groups
// with assigned membership, and directory role assignments using Entra's
// built-in role names and template ids.
//
// Types carry Microsoft Graph's JSON property names so the admin API encodes
// them as they are. The Service validates input and the Store persists it;
// the PostgreSQL Store lives in internal/store.
package directory
