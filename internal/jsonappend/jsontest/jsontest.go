// Package jsontest draws the values the randomized tests of the
// hand-written JSON encoders (built on internal/jsonappend) compare with
// encoding/json's output: strings that need escaping or replacing, and
// string lists that are nil, empty or not.
package jsontest

import "math/rand/v2"

// Source draws values; Extra strings (e.g. a realistic value) join the
// ones every encoder must get right.
type Source struct {
	R     *rand.Rand
	Extra []string
}

// hard are the strings an encoder gets wrong first: empty, a quote, HTML
// characters (escaped by encoding/json), non-ASCII, invalid UTF-8
// (replaced), U+2028 (escaped) and a control character.
var hard = []string{"", "plain", `quo"te`, "<b>&", "é", "\xff", "\u2028", "tab\t"}

// String is one of the hard strings or the extras.
func (s Source) String() string {
	n := s.R.IntN(len(hard) + len(s.Extra))
	if n < len(hard) {
		return hard[n]
	}
	return s.Extra[n-len(hard)]
}

// Strings is nil, empty, or two strings, in equal shares: encoding/json
// writes null for the first and [] for the second.
func (s Source) Strings() []string {
	switch s.R.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	return []string{s.String(), s.String()}
}
