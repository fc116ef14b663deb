// Package targeting holds what every authentication method configuration
// shares in Graph: includeTargets/excludeTargets naming a group, a user or
// all_users, the matching rule for a user, and the validation error the pure
// configuration packages (profiles, tap) report with a stable code and the
// JSON path of the offending property.
package targeting

import (
	"fmt"
	"strings"
)

// AllUsers is Graph's target id for every user of the tenant.
const AllUsers = "all_users"

// Type is Graph's authenticationMethodTargetType.
type Type string

const (
	Group Type = "group"
	User  Type = "user"
)

// Subject is the user a decision is about, with the ids of the groups they
// belong to (transitively; the directory resolves nesting).
type Subject struct {
	UserID   string
	GroupIDs []string
}

// Matches reports whether the target (id, type) covers s. Ids compare
// case-insensitively, as GUIDs do in Graph.
func Matches(id string, t Type, s Subject) bool {
	if strings.EqualFold(id, AllUsers) {
		return true
	}
	if t == User {
		return strings.EqualFold(id, s.UserID)
	}
	for _, g := range s.GroupIDs {
		if strings.EqualFold(g, id) {
			return true
		}
	}
	return false
}

// Code is a stable validation error code.
type Code string

// ValidationError carries everything a Graph error envelope needs: the code,
// a human message and Target, the JSON path of the offending property (for
// example "passkeyProfiles[2].keyRestrictions.aaGuids[0]"), so an admin UI can
// point at it. Every ValidationError maps to HTTP 400.
type ValidationError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

func (e *ValidationError) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Target)
}

// Is lets errors.Is match on the code alone: errors.Is(err, &ValidationError{Code: X}).
func (e *ValidationError) Is(target error) bool {
	t, ok := target.(*ValidationError)
	return ok && t.Code == e.Code
}

// Invalid builds a ValidationError.
func Invalid(code Code, target, format string, args ...any) *ValidationError {
	return &ValidationError{Code: code, Target: target, Message: fmt.Sprintf(format, args...)}
}
