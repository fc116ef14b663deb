// Package password is the lab's password method: the rule a password must
// meet and how it is kept (argon2id, never in clear). Passwords are set
// through Graph's passwordProfile on a user (internal/directory stores the
// hash with the user in one transaction) and verified by the sign-in flow
// (internal/signin).
package password

import (
	"unicode/utf8"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/secrethash"
)

// CodePolicyViolation refuses a password that breaks the rule.
const CodePolicyViolation = "passwordPolicyViolation"

// Validate applies the lab's password rule (8 to 256 characters), so a bad
// password is refused before anything is written.
func Validate(password string) error {
	n := utf8.RuneCountInString(password)
	if n < 8 || n > 256 || !utf8.ValidString(password) {
		return apperr.Invalid(CodePolicyViolation, "the password must be 8 to 256 characters").WithTarget("passwordProfile.password")
	}
	return nil
}

// Hash validates the password and returns its argon2id encoding, the only
// form in which it is stored.
func Hash(password string) (string, error) {
	if err := Validate(password); err != nil {
		return "", err
	}
	return secrethash.Hash(password), nil
}
