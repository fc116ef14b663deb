package ceremony

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"time"

	"github.com/google/uuid"
)

// A sign-in challenge is sealed: it carries its own state (expiry, the
// user it was begun for, the database's challenge epoch), authenticated
// with a key every server derives from the master key, so begin stores
// nothing and any server can finish what another began. Single use is
// the store's: the take records the challenge's nonce (an insert that
// conflicts when the nonce was used), and only while the epoch the
// challenge names is still the database's. The epoch lives in an unlogged
// table, as the used nonces do: a crash or a failover empties both, a new
// epoch is drawn, and every challenge sealed before is refused. A
// challenge can therefore never be used twice, crash or not (a restore of
// a backup must clear the epoch: docs/deploy.md).
//
// Layout (65 bytes, 87 in base64url):
//
//	version (1) | nonce (16) | expiry, Unix ms (8) | epoch (8) | user (16, masked) | tag (16)
//
// The user is masked (XOR with a PRF of the nonce) so that the challenge
// does not tell whether the name typed at begin is an account with
// passkeys: the allow list already says so to whoever may know, and an
// unknown name must look like a discoverable begin. The tag is
// HMAC-SHA256 over everything before it, truncated to 128 bits.
const (
	sealVersion = 1
	sealNonce   = 16
	sealLen     = 1 + sealNonce + 8 + 8 + 16 + 16
	sealTagAt   = sealLen - 16
)

// sealedChallenge is an opened sign-in challenge.
type sealedChallenge struct {
	nonce     []byte
	expiresAt time.Time
	epoch     int64
	userID    string // "" for a discoverable sign-in
}

type challengeSealer struct {
	macs, masks sync.Pool // of keyed HMAC-SHA256 (Reset restores the key)
}

func newChallengeSealer(key []byte) *challengeSealer {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("rpserver sign-in challenge " + label))
		return m.Sum(nil)
	}
	macKey, maskKey := derive("tag"), derive("mask")
	return &challengeSealer{
		macs:  sync.Pool{New: func() any { return hmac.New(sha256.New, macKey) }},
		masks: sync.Pool{New: func() any { return hmac.New(sha256.New, maskKey) }},
	}
}

// prf is HMAC-SHA256(key of pool, in) into out (32 bytes).
func prf(pool *sync.Pool, in []byte, out *[32]byte) {
	m := pool.Get().(hash.Hash)
	m.Reset()
	m.Write(in)
	m.Sum(out[:0])
	pool.Put(m)
}

// seal returns a fresh challenge for a sign-in begun for userID ("" for
// discoverable), valid until expires under epoch.
func (s *challengeSealer) seal(expires time.Time, epoch int64, userID string) ([]byte, error) {
	b := make([]byte, sealLen)
	b[0] = sealVersion
	nonce := b[1 : 1+sealNonce]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint64(b[17:25], uint64(expires.UnixMilli()))
	binary.BigEndian.PutUint64(b[25:33], uint64(epoch))
	if userID != "" {
		u, err := uuid.Parse(userID)
		if err != nil {
			return nil, err
		}
		copy(b[33:49], u[:])
	}
	var mask, tag [32]byte
	prf(&s.masks, nonce, &mask)
	subtle.XORBytes(b[33:49], b[33:49], mask[:16])
	prf(&s.macs, b[:sealTagAt], &tag)
	copy(b[sealTagAt:], tag[:16])
	return b, nil
}

// open checks a challenge as the browser echoed it (base64url) and reads
// it; false for anything this server's key did not seal.
func (s *challengeSealer) open(echoed string) (sealedChallenge, bool) {
	var c sealedChallenge
	if base64.RawURLEncoding.DecodedLen(len(echoed)) != sealLen {
		return c, false
	}
	var b [sealLen]byte
	if n, err := base64.RawURLEncoding.Decode(b[:], []byte(echoed)); err != nil || n != sealLen || b[0] != sealVersion {
		return c, false
	}
	var tag [32]byte
	prf(&s.macs, b[:sealTagAt], &tag)
	if !hmac.Equal(tag[:16], b[sealTagAt:]) {
		return c, false
	}
	var mask [32]byte
	prf(&s.masks, b[1:1+sealNonce], &mask)
	var u uuid.UUID
	subtle.XORBytes(u[:], b[33:49], mask[:16])
	if u != (uuid.UUID{}) {
		c.userID = u.String()
	}
	c.nonce = append([]byte(nil), b[1:1+sealNonce]...)
	c.expiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(b[17:25])))
	c.epoch = int64(binary.BigEndian.Uint64(b[25:33]))
	return c, true
}
