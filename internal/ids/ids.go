// Package ids owns the one rule for object ids the API accepts: a GUID in
// the 36-character hyphenated form Graph emits. uuid.Parse alone also takes
// braces, urn:uuid: prefixes and bare hex; PostgreSQL's uuid type refuses
// some of those (a 500 instead of a 400), and an id given in another form
// would never compare equal to the stored one.
package ids

import "github.com/google/uuid"

// Valid reports whether s is a GUID in canonical form (either case).
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	return uuid.Validate(s) == nil
}
