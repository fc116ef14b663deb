package attestation

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/go-webauthn/webauthn/metadata"
	"github.com/go-webauthn/webauthn/protocol"
)

// init installs our procedures into go-webauthn. The library's registry is
// an unsynchronised map, so it must be written before any ceremony runs;
// package init is the one moment that is guaranteed. Importing this package
// (the ceremony does) is therefore what switches the library over.
func init() {
	for _, f := range []protocol.AttestationFormat{protocol.AttestationFormatPacked, protocol.AttestationFormatApple, protocol.AttestationFormatAndroidKey,
		protocol.AttestationFormatTPM, protocol.AttestationFormatFIDOUniversalSecondFactor} {
		format := string(f)
		protocol.RegisterAttestationFormat(f, func(att protocol.AttestationObject, clientDataHash []byte, _ metadata.Provider, policy protocol.AttestationPolicy, _ protocol.SignaturePolicy) (string, []any, error) {
			return handle(format, att, clientDataHash, policy)
		})
	}
	// The library's safetynet handler compares the JWS timestamp with the
	// wall clock; Evaluate reports the format as retired instead.
	protocol.RegisterAttestationFormat(protocol.AttestationFormatAndroidSafetyNet, func(protocol.AttestationObject, []byte, metadata.Provider, protocol.AttestationPolicy, protocol.SignaturePolicy) (string, []any, error) {
		return string(metadata.None), nil, nil
	})
}

// handle is what go-webauthn calls. It fails the ceremony only for invalid
// statements; trust in the chain (anchors, time) is left to Evaluate, where
// relying-party policy can see it.
func handle(format string, att protocol.AttestationObject, cdh []byte, policy protocol.AttestationPolicy) (string, []any, error) {
	v, e := verifyOurs(format, att.AttStatement, authInfoOf(&att), cdh, policy.AndroidKey.AuthorizationScope)
	if e != nil {
		return format, nil, e
	}
	verdicts.put(memoKey(format, att.RawAuthData, cdh, att.AttStatement), v)
	x5c := make([]any, len(v.chain))
	for i, c := range v.chain {
		x5c[i] = c.Raw
	}
	return libraryType(v.attType), x5c, nil
}

func libraryType(t string) string {
	switch t {
	case TypeSelf:
		return string(metadata.BasicSurrogate)
	case TypeAnonCA:
		return string(metadata.AnonCA)
	case TypeAttCA:
		return string(metadata.AttCA)
	case TypeNone:
		return string(metadata.None)
	}
	return string(metadata.BasicFull)
}

// memoKey binds a verdict to everything the verification consumed. The
// statement is re-encoded canonically so map iteration order cannot matter.
// An encode failure yields a key that never matches: a miss only costs a
// re-verification.
func memoKey(format string, authData, cdh []byte, stmt map[string]any) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, part := range [][]byte{[]byte(format), authData, cdh} {
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	enc, err := encMode.Marshal(stmt)
	if err != nil {
		return [32]byte{}
	}
	h.Write(enc)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// memo is a bounded FIFO of recent verdicts. Registrations evaluate within
// milliseconds of verification, so a small ring is plenty even under load.
type memo struct {
	mu   sync.Mutex
	ring [][32]byte
	next int
	m    map[[32]byte]verdict
}

const memoSize = 4096

var verdicts = &memo{ring: make([][32]byte, memoSize), m: make(map[[32]byte]verdict, memoSize)}

func (c *memo) put(k [32]byte, v verdict) {
	if k == ([32]byte{}) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if old := c.ring[c.next]; old != ([32]byte{}) {
		delete(c.m, old)
	}
	c.ring[c.next] = k
	c.next = (c.next + 1) % len(c.ring)
	c.m[k] = v
}

func (c *memo) get(k [32]byte) (verdict, bool) {
	if k == ([32]byte{}) {
		return verdict{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}
