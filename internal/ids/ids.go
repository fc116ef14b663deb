// Package ids owns the one rule for object ids the API accepts: a GUID in
// the 36-character hyphenated form Graph emits. uuid.Parse alone also takes
// braces, urn:uuid: prefixes and bare hex; PostgreSQL's uuid type refuses
// some of those (a 500 instead of a 400), and an id given in another form
// would never compare equal to the stored one.
//
// Graph accepts a GUID in either letter case, and PostgreSQL stores it
// lower-case, so an id is canonicalised once where it enters (Canonical):
// lockout protection, maps keyed by id and compiled policies compare ids as
// plain strings and only ever see the lower-case form.
package ids

import (
	"strings"

	"github.com/google/uuid"
)

// Valid reports whether s is a GUID in canonical form (either case).
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	return uuid.Validate(s) == nil
}

// Canonical is s in the lower-case form the database returns, and whether
// s is a valid GUID at all.
func Canonical(s string) (string, bool) {
	if !Valid(s) {
		return s, false
	}
	return strings.ToLower(s), true
}

// Lower returns s lower-cased when it is a GUID and unchanged otherwise, so
// a list mixing GUIDs with keywords ("All", "all_users") can be
// canonicalised without touching the keywords.
func Lower(s string) string {
	c, _ := Canonical(s)
	return c
}

// LowerAll is list with Lower applied to every element, as a new slice
// (nil stays nil): list may be shared with a cached copy.
func LowerAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Lower(s)
	}
	return out
}
