// Package jsonappend appends JSON values to a byte slice exactly as
// encoding/json encodes them, without reflection. It is for the few
// documents the sign-in hot path encodes on every sign-in (the session
// token's claims, the sign-in record), where the reflective encoder and
// its re-validation of every MarshalJSON result cost a measurable share of
// the server's CPU (docs/performance.md).
//
// The fast cases are copied; anything unusual is handed to encoding/json
// itself, so the bytes are always its bytes. Each encoder built on this
// package keeps a test that holds its output to json.Marshal's.
package jsonappend

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// String appends s as a JSON string. Strings of plain printable ASCII
// (ids, names, enum values) are copied; anything else is left to
// encoding/json, so escaping (HTML characters, control characters,
// invalid UTF-8, U+2028/9) is exactly its.
func String(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainInString[s[i]] {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// Strings appends a []string as encoding/json does: null when nil.
func Strings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = String(b, s)
	}
	return append(b, ']')
}

// Bool appends true or false.
func Bool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// Int appends v in decimal.
func Int(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// Time appends t as time.Time's MarshalJSON does (RFC 3339 with the
// fraction's trailing zeros dropped). Times in UTC within years 0-9999,
// what records hold, are formatted here; others, and the errors of those
// RFC 3339 cannot write, are MarshalJSON's own.
func Time(b []byte, t time.Time) ([]byte, error) {
	if _, offset := t.Zone(); offset != 0 || t.Year() < 0 || t.Year() > 9999 {
		q, err := t.MarshalJSON()
		return append(b, q...), err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// Compact appends valid JSON as encoding/json embeds a json.RawMessage or
// a MarshalJSON result: compacted, with HTML characters escaped. JSON that
// is already both (what json.Marshal and this package produce) is copied.
// raw must be valid JSON (the caller checks what it did not make).
func Compact(b, raw []byte) []byte {
	for _, c := range raw {
		if !plainInCompact[c] {
			q, _ := json.Marshal(json.RawMessage(raw))
			return append(b, q...)
		}
	}
	return append(b, raw...)
}

// The bytes String and Compact copy as they are: tables rather than
// comparisons, since ids and tokens are random enough to defeat branch
// prediction.
var plainInString, plainInCompact = func() (str, compact [256]bool) {
	for c := range 256 {
		html := c == '<' || c == '>' || c == '&'
		str[c] = c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && !html
		compact[c] = c != ' ' && c != '\n' && c != '\r' && c != '\t' && c < utf8.RuneSelf && !html
	}
	return str, compact
}()
