package tokens

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// memIssuer is an Issuer on memKeys (keykind_test.go), for tests of the
// token format that need no database.
func memIssuer(t testing.TB, issuer string) *Issuer {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sealer, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := NewIssuer(context.Background(), &memKeys{keys: map[string]StoredKey{}}, sealer, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func sessionClaims() Claims {
	c := Claims{UPN: "alice@lab.example", Name: "Alice", AMR: []string{"fido2"}, SID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", AuthTime: 1764583200,
		Data: json.RawMessage(`{"steps":[{"m":"fido2","a":"90a3ccdf-635c-4729-a248-9b709135078f","t":"2026-12-01T10:00:00Z"}],"app":"00000000-0000-0000-0000-00000000a001"}`)}
	return c.WithSubject("6f9619ff-8b86-4011-b42d-00c04fc964ff")
}

func TestAppendClaimsMatchesJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	full := sessionClaims()
	full.Issuer, full.Audience, full.ID = "http://localhost:8080", jwt.ClaimStrings{AudienceSession}, "jti-1"
	full.IssuedAt, full.NotBefore, full.ExpiresAt = jwt.NewNumericDate(at), jwt.NewNumericDate(at.Add(-5*time.Second)), jwt.NewNumericDate(at.Add(8*time.Hour))
	full.Roles, full.Wids = []string{"Global Administrator", "Authentication Policy Administrator"}, []string{"62e90394-69f5-4237-9190-012177145e10"}
	cases := map[string]Claims{
		"empty":                   {},
		"session":                 full,
		"no fraction":             {RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(time.Unix(1764583200, 0))}},
		"small fraction":          {RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(time.Unix(1764583200, 1000))}},
		"two audiences":           {RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{"a", "b"}}},
		"empty audience list":     {RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{}}},
		"escapes":                 {UPN: "o'brien+\"x\"\\<a>&b@lab.example", Name: "Zoë \u2028 tab\there \x01 bad\xffutf8", AMR: []string{"", "<>"}},
		"empty strings in a list": {Roles: []string{"", ""}},
		"spaced data":             {Data: json.RawMessage(" { \"a\" : [1, 2] ,\n\"b\":\"<&>\" } ")},
		"unicode data":            {Data: json.RawMessage(`{"n":"Zoë \u2028"}`)},
		"negative auth time":      {AuthTime: -1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { encodesAsJSON(t, c) })
	}
	if _, err := appendClaims(nil, &Claims{Data: json.RawMessage(`{"a":`)}); err == nil {
		t.Fatal("invalid data was encoded")
	}
	// Library settings appendClaims does not follow itself: it defers to
	// encoding/json (the library's MarshalJSON methods).
	defer func(p time.Duration, a bool) { jwt.TimePrecision, jwt.MarshalSingleStringAsArray = p, a }(jwt.TimePrecision, jwt.MarshalSingleStringAsArray)
	for _, set := range []func(){
		func() { jwt.TimePrecision = 3 * time.Millisecond },
		func() { jwt.TimePrecision = 0 },
		func() { jwt.TimePrecision = time.Microsecond; jwt.MarshalSingleStringAsArray = false },
	} {
		set()
		encodesAsJSON(t, full)
	}
}

func FuzzAppendClaims(f *testing.F) {
	f.Add("alice@lab.example", "Alice", "fido2", `{"a":1}`, int64(1764583200), int64(123456789))
	f.Add("<\x00>", "\xff", "", ` [ ] `, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, upn, name, amr, data string, sec, nsec int64) {
		if sec < 0 || sec > 1<<40 || nsec < 0 || nsec >= 1e9 {
			t.Skip() // NumericDate's own format is for times after 1970
		}
		c := Claims{UPN: upn, Name: name, AMR: []string{amr}, SID: amr, AuthTime: sec}
		c.IssuedAt = jwt.NewNumericDate(time.Unix(sec, nsec))
		if json.Valid([]byte(data)) {
			c.Data = json.RawMessage(data)
		}
		encodesAsJSON(t, c)
	})
}

// encodesAsJSON fails t unless appendClaims encodes c as json.Marshal does.
func encodesAsJSON(t *testing.T, c Claims) {
	t.Helper()
	want, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendClaims(nil, &c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("appendClaims (precision %v, single audience as array %v):\n got %s %v\nwant %s",
			jwt.TimePrecision, jwt.MarshalSingleStringAsArray, got, err, want)
	}
}

// TestMintMatchesLibrary: a minted token is the library's own JWS for the
// same claims (Ed25519 signatures are deterministic, so the whole session
// token is equal; an ES256 token's signature is not, so its header and
// claims are compared and its signature verified), and Verify accepts both.
func TestMintMatchesLibrary(t *testing.T) {
	iss := memIssuer(t, "http://localhost:8080")
	// Half a second: a fraction a float64 keeps exactly, so the verified
	// times equal the minted ones.
	at := time.Now().Truncate(time.Second).Add(time.Second / 2)
	iss.now = func() time.Time { return at }
	for _, aud := range []string{AudienceSession, AudienceFlow, AudienceAdmin} {
		t.Run(aud, func(t *testing.T) {
			c := sessionClaims()
			c.ID = "fixed-jti"
			tok, err := iss.Mint(c, aud, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			got, err := iss.Verify(tok, aud)
			if err != nil {
				t.Fatal(err)
			}
			if got.UPN != c.UPN || got.SID != c.SID || string(got.Data) != string(c.Data) || !got.IssuedAt.Equal(at) {
				t.Fatalf("verified claims: %+v", got)
			}
			// The library's token for exactly the claims Mint sets.
			want := c
			want.Issuer, want.Audience = iss.issuer, jwt.ClaimStrings{aud}
			want.IssuedAt, want.NotBefore, want.ExpiresAt = jwt.NewNumericDate(at), jwt.NewNumericDate(at.Add(-5*time.Second)), jwt.NewNumericDate(at.Add(time.Hour))
			method, key, kid := jwt.SigningMethod(jwt.SigningMethodES256), any(iss.private), iss.kid
			if aud == AudienceSession {
				method, key, kid = jwt.SigningMethodEdDSA, iss.session, iss.sessionKID
			}
			lib := jwt.NewWithClaims(method, want)
			lib.Header["kid"] = kid
			libTok, err := lib.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			if aud == AudienceSession {
				if tok != libTok {
					t.Fatalf("session token:\n got %s\nwant %s", tok, libTok)
				}
				return
			}
			if g, w := tok[:strings.LastIndexByte(tok, '.')], libTok[:strings.LastIndexByte(libTok, '.')]; g != w {
				t.Fatalf("signing input:\n got %s\nwant %s", g, w)
			}
		})
	}
	if _, err := iss.Mint(Claims{Data: json.RawMessage(`{`)}, AudienceSession, time.Hour); err == nil {
		t.Fatal("minted a token with invalid data")
	}
}

// BenchmarkMint is the session token a passkey sign-in mints, end to end.
func BenchmarkMint(b *testing.B) {
	iss := memIssuer(b, "http://localhost:8080")
	c := sessionClaims()
	b.ReportAllocs()
	for range b.N {
		if _, err := iss.Mint(c, AudienceSession, 8*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
