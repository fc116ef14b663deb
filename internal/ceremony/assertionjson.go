package ceremony

import (
	"bytes"
	"encoding/base64"

	"github.com/go-webauthn/webauthn/protocol"
)

// decodeAssertionJSON reads the PublicKeyCredential JSON of a sign-in in
// the shape browsers and authenticator libraries send, without
// reflection: go-webauthn's decoder (encoding/json over its structs, each
// base64 member decoded through a second json.Unmarshal) was ~4% of the
// server's CPU per sign-in in the bench's profile (docs/performance.md).
//
// It accepts only what it can decode exactly as that decoder would: one
// object, the members go-webauthn models spelled exactly (each once),
// string values of printable ASCII without escapes, clientExtensionResults
// empty or absent, whitespace, nothing after the object. For anything else
// (escapes, null, other members or spellings, extensions, a malformed
// document) it answers ok=false and the caller uses go-webauthn's own
// decoder, so an unusual body is read, or refused, exactly as before; the
// result is handed to go-webauthn's CredentialAssertionResponse.Parse
// either way. TestAssertionJSONMatchesLibrary and FuzzAssertionJSON hold
// it to the library's decoding.
func decodeAssertionJSON(body []byte) (car protocol.CredentialAssertionResponse, ok bool) {
	d := jsonScanner{b: body}
	var seen, seenResponse uint16
	ok = d.object(func(key []byte) bool {
		m, known := topMembers[string(key)]
		if !known || seen&(1<<m) != 0 {
			return false
		}
		seen |= 1 << m
		switch m {
		case memberID:
			return d.stringTo(&car.ID)
		case memberType:
			return d.stringTo(&car.Type)
		case memberAttachment:
			return d.stringTo(&car.AuthenticatorAttachment)
		case memberRawID:
			return d.base64To((*[]byte)(&car.RawID))
		case memberExtensions:
			return d.emptyObject()
		default: // memberResponse
			r := &car.AssertionResponse
			return d.object(func(key []byte) bool {
				m, known := responseMembers[string(key)]
				if !known || seenResponse&(1<<m) != 0 {
					return false
				}
				seenResponse |= 1 << m
				switch m {
				case memberClientData:
					return d.base64To((*[]byte)(&r.ClientDataJSON))
				case memberAuthData:
					return d.base64To((*[]byte)(&r.AuthenticatorData))
				case memberSignature:
					return d.base64To((*[]byte)(&r.Signature))
				default: // memberUserHandle
					return d.base64To((*[]byte)(&r.UserHandle))
				}
			})
		}
	})
	if !ok {
		return protocol.CredentialAssertionResponse{}, false
	}
	d.space()
	if d.i != len(d.b) {
		return protocol.CredentialAssertionResponse{}, false
	}
	return car, true
}

// The members decodeAssertionJSON reads, as go-webauthn's structs name
// them; a bit each in the set of those seen.
const (
	memberID = iota
	memberRawID
	memberType
	memberResponse
	memberExtensions
	memberAttachment
)

const (
	memberClientData = iota
	memberAuthData
	memberSignature
	memberUserHandle
)

var (
	topMembers = map[string]uint{"id": memberID, "rawId": memberRawID, "type": memberType,
		"response": memberResponse, "clientExtensionResults": memberExtensions,
		"authenticatorAttachment": memberAttachment}
	responseMembers = map[string]uint{"clientDataJSON": memberClientData,
		"authenticatorData": memberAuthData, "signature": memberSignature, "userHandle": memberUserHandle}
)

// jsonScanner walks the subset of JSON that decodeAssertionJSON accepts.
type jsonScanner struct {
	b []byte
	i int
}

func (d *jsonScanner) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonScanner) consume(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}, calling member for each key with the
// scanner at the value.
func (d *jsonScanner) object(member func(key []byte) bool) bool {
	if !d.consume('{') {
		return false
	}
	if d.consume('}') {
		return true
	}
	for {
		key, ok := d.plainString()
		if !ok || !d.consume(':') || !member(key) {
			return false
		}
		if d.consume(',') {
			continue
		}
		return d.consume('}')
	}
}

func (d *jsonScanner) emptyObject() bool {
	return d.consume('{') && d.consume('}')
}

// plainString reads a string of printable ASCII other than '"' and '\',
// whose JSON value is its text, and returns that text (a slice of the
// body). Anything else (an escape, a control or non-ASCII byte, whose
// decoding or replacement is encoding/json's to judge) is not read.
func (d *jsonScanner) plainString() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func (d *jsonScanner) stringTo(dst *string) bool {
	s, ok := d.plainString()
	*dst = string(s)
	return ok
}

// base64To decodes as protocol.URLEncodedBase64.UnmarshalJSON does:
// trailing '=' trimmed, then unpadded base64url.
func (d *jsonScanner) base64To(dst *[]byte) bool {
	s, ok := d.plainString()
	if !ok {
		return false
	}
	s = bytes.TrimRight(s, "=")
	out := make([]byte, base64.RawURLEncoding.DecodedLen(len(s)))
	n, err := base64.RawURLEncoding.Decode(out, s)
	if err != nil {
		return false
	}
	*dst = out[:n]
	return true
}
