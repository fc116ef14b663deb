// Package secrethash hashes short secrets a person types (passwords,
// Temporary Access Passes) with argon2id, a memory-hard KDF, so a leaked table
// cannot be brute-forced cheaply; it verifies in constant time and offers a
// dummy verification that spends the same time when there is no secret to
// check, so timing does not reveal which accounts have one.
package secrethash

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"golang.org/x/crypto/argon2"

	"github.com/rpserver/rpserver/internal/admission"
)

// Argon2id parameters for new hashes. Verify reads the parameters stored in
// each hash, so these can be raised later without invalidating live passes.
// m=19 MiB, t=2, p=1 is OWASP's minimum argon2id recommendation: a few
// milliseconds per attempt on a server, yet it takes an offline attacker
// with the database from ~10^10 SHA-256 guesses/s per GPU down to thousands.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Ceilings on parameters read back from storage, so a tampered or corrupt
// row cannot make one Verify allocate gigabytes.
const (
	maxArgonTime   = 10
	maxArgonMemory = 256 * 1024
)

// Hash returns the PHC-style encoding of an argon2id hash of secret with a
// fresh random salt: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
//
// There is no error result: since Go 1.24 crypto/rand.Read never fails.
func Hash(secret string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func parseHash(encoded string) (argonParams, bool) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, false
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, false
	}
	if p.time < 1 || p.time > maxArgonTime || p.memory < 8 || p.memory > maxArgonMemory || threads < 1 || threads > 255 {
		return p, false
	}
	p.threads = uint8(threads)
	var err error
	b64 := base64.RawStdEncoding
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, false
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, false
	}
	return p, true
}

// Verify reports whether secret matches encoded, in constant time with
// respect to the secret. A malformed encoding never matches.
func Verify(encoded, secret string) bool {
	p, ok := parseHash(encoded)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(secret), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1
}

// dummyHash is a valid hash of a secret nobody can type (it contains a space
// and a NUL). Computed lazily so importing the package costs nothing.
var dummyHash = sync.OnceValue(func() string { return Hash("no such secret \x00") })

// VerifyDummy burns the same time as Verify and always returns false. Call it
// when the user has no such secret, so response time does not reveal whether
// a user holds one.
func VerifyDummy(secret string) bool {
	Verify(dummyHash(), secret)
	return false
}

// NeedsRehash reports whether encoded was made with weaker parameters than
// Hash uses now, so callers can upgrade a stored hash on a successful use.
func NeedsRehash(encoded string) bool {
	p, ok := parseHash(encoded)
	return !ok || p.time < argonTime || p.memory < argonMemory || len(p.key) < argonKeyLen
}

// slots bounds how many argon2id computations run at once, process-wide:
// each takes 19 MiB, so an unauthenticated burst of sign-in attempts must
// not exhaust memory. Waiting costs no memory, so the queue is long (256
// per CPU, beyond what the request admission limit lets in) and a waiter
// gives up with its request's deadline; past the queue a check is refused
// at once (503 serverBusy), never counted as a wrong guess.
var slots = admission.New(2*runtime.NumCPU(), 256*runtime.NumCPU(), time.Minute, "password and pass checks")

// Acquire waits (boundedly) for a hashing slot, or gives up when ctx ends.
// Call release when the Verify (or Hash) is done.
func Acquire(ctx context.Context) (release func(), err error) {
	_, span := otel.Tracer("github.com/rpserver/rpserver/internal/secrethash").Start(ctx, "secrethash.Acquire")
	defer span.End()
	return slots.Acquire(ctx)
}
