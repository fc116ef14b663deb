package tokens

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rpserver/rpserver/internal/jsonappend"
)

// appendClaims appends c encoded as encoding/json encodes Claims (the same
// keys in the same order, the same omissions, NumericDate at TimePrecision,
// Audience always an array), without reflection: a session token is
// minted on every sign-in, and the reflective encoder, with its
// re-validation of every MarshalJSON result and of Data, was a third of
// the mint's time beside the signature. TestAppendClaimsMatchesJSON holds
// it to encoding/json's bytes. Data must be valid JSON; it is appended as
// it is, so it is checked (json.Valid) rather than trusted.
func appendClaims(b []byte, c *Claims) ([]byte, error) {
	if len(c.Data) > 0 && !json.Valid(c.Data) {
		return b, errInvalidData // what json.Marshal would refuse too
	}
	if !jwt.MarshalSingleStringAsArray || fractionDigits() < 0 {
		// Library settings this encoder does not follow: let the library's
		// own MarshalJSON methods decide.
		out, err := json.Marshal(c)
		return append(b, out...), err
	}
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			b = jsonappend.String(b, v)
		}
	}
	strs := func(k string, vs []string) {
		if len(vs) == 0 {
			return
		}
		key(k)
		b = jsonappend.Strings(b, vs)
	}
	date := func(k string, d *jwt.NumericDate) {
		if d != nil {
			key(k)
			b = appendNumericDate(b, d.Time)
		}
	}
	r := &c.RegisteredClaims
	str("iss", r.Issuer)
	str("sub", r.Subject)
	// ClaimStrings has no omitempty of its own beyond length: encoding/json
	// omits a nil or empty slice, and MarshalSingleStringAsArray (true, the
	// library's default, never changed here) keeps one audience an array.
	strs("aud", r.Audience)
	date("exp", r.ExpiresAt)
	date("nbf", r.NotBefore)
	date("iat", r.IssuedAt)
	str("jti", r.ID)
	str("upn", c.UPN)
	str("name", c.Name)
	strs("roles", c.Roles)
	strs("wids", c.Wids)
	strs("amr", c.AMR)
	str("sid", c.SID)
	if c.AuthTime != 0 {
		key("auth_time")
		b = strconv.AppendInt(b, c.AuthTime, 10)
	}
	if len(c.Data) > 0 {
		key("dat")
		b = jsonappend.Compact(b, c.Data)
	}
	return append(b, '}'), nil
}

var errInvalidData = errors.New("tokens: the claims' data is not valid JSON")

// appendNumericDate is jwt.NumericDate's MarshalJSON: whole seconds, then
// the fraction at TimePrecision's digits (set to microseconds in init).
func appendNumericDate(b []byte, t time.Time) []byte {
	t = t.Truncate(jwt.TimePrecision)
	b = strconv.AppendInt(b, t.Unix(), 10)
	digits := fractionDigits()
	if digits <= 0 {
		return b
	}
	b = append(b, '.')
	var tmp [20]byte
	frac := strconv.AppendInt(tmp[:0], int64(t.Nanosecond()/int(jwt.TimePrecision)), 10)
	for range digits - len(frac) {
		b = append(b, '0')
	}
	return append(b, frac...)
}

// fractionDigits is how many decimals jwt.TimePrecision gives a
// NumericDate, or -1 when it is not a power of ten from 1 ns to 1 s (which
// NumericDate's own encoding handles and appendNumericDate does not).
func fractionDigits() int {
	digits := 0
	p := jwt.TimePrecision
	for ; p > 0 && p < time.Second; p *= 10 {
		digits++
	}
	if p != time.Second {
		return -1
	}
	return digits
}
