package tap

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"github.com/rpserver/rpserver/internal/secrethash"
)

// Alphabet is what passes are drawn from: letters, digits and a few symbols
// like Entra's, minus everything easily misread when a helpdesk agent reads a
// pass over the phone (0/O/o, 1/l/I/i) and minus symbols that are awkward on
// non-US keyboards or in URLs and shells (@ " ' ` \ / < > space).
// It has exactly 64 characters, so each character carries 6 bits and an
// 8-character pass 48 bits.
const Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ" + // 24: no I, O
	"abcdefghjkmnpqrstuvwxyz" + // 23: no i, l, o
	"23456789" + // 8: no 0, 1
	"!#$%&*+=?" // 9

// Generate returns a new pass of n characters from Alphabet using crypto/rand.
func Generate(n int) (string, error) {
	return generate(rand.Reader, n)
}

// generate draws one byte per character and rejects bytes at or above the
// largest multiple of len(Alphabet), so every character is exactly uniform
// (no modulo bias) even if the alphabet is later changed to a size that is
// not a power of two.
func generate(r io.Reader, n int) (string, error) {
	if n < MinLength || n > MaxLength {
		return "", verr(CodeLengthOutOfBounds, "length", "length must be between %d and %d, got %d", MinLength, MaxLength, n)
	}
	return draw(r, n, Alphabet)
}

func draw(r io.Reader, n int, alphabet string) (string, error) {
	size := len(alphabet)
	limit := 256 - 256%size
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("tap: reading randomness: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alphabet[int(b)%size])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// Hash returns the argon2id encoding of a pass (see internal/secrethash for
// the parameters and why).
func Hash(secret string) string { return secrethash.Hash(secret) }

// Verify reports whether secret matches encoded, in constant time.
// Surrounding whitespace is ignored because passes are pasted from e-mails
// and chats; the alphabet contains none.
func Verify(encoded, secret string) bool {
	return secrethash.Verify(encoded, strings.TrimSpace(secret))
}

// VerifyDummy burns the same time as Verify and always returns false. Call it
// when the user has no pass, so response time does not reveal whether a
// user holds one.
func VerifyDummy(secret string) bool { return secrethash.VerifyDummy(secret) }

// NeedsRehash reports whether encoded was made with weaker parameters than
// Hash uses now. Passes live at most 30 days, so the store may simply let old
// ones expire; this is here for callers who prefer to upgrade on use.
func NeedsRehash(encoded string) bool { return secrethash.NeedsRehash(encoded) }
