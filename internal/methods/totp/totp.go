// Package totp is the verification-code method (softwareOath): RFC 6238
// codes as Microsoft Authenticator shows them, and enrolment (Registrar).
// The code functions are pure: secrets arrive sealed from the store, which
// also enforces one-time use of each time step.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP parameters Microsoft Authenticator and every common app accept.
const (
	Digits = 6
	Period = 30 * time.Second
	// TOTPSkew accepts the previous and next step for clock drift.
	TOTPSkew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret draws a 160-bit secret (RFC 4226's recommended size).
func NewSecret() []byte {
	s := make([]byte, 20)
	_, _ = rand.Read(s)
	return s
}

// EncodeSecret is the base32 form apps take.
func EncodeSecret(secret []byte) string { return b32.EncodeToString(secret) }

// ProvisioningURI is the otpauth:// URI a QR code carries.
func ProvisioningURI(secret []byte, issuer, account string) string {
	v := url.Values{}
	v.Set("secret", EncodeSecret(secret))
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(Digits))
	v.Set("period", fmt.Sprint(int(Period.Seconds())))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}

// Code computes the code for a time step.
func Code(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, v%1_000_000)
}

// StepAt is the RFC 6238 time step of t.
func StepAt(t time.Time) int64 { return t.Unix() / int64(Period.Seconds()) }

// Verify checks code against the steps around now and returns the step
// that matched, which the store must require to be above the last used one
// so a code works once. Comparison is constant-time.
func Verify(secret []byte, code string, now time.Time) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	cur := StepAt(now)
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		if subtle.ConstantTimeCompare([]byte(Code(secret, s)), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
