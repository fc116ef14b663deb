package tokens

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkSessionJWT measures what minting and verifying a session token
// of the sign-in's shape costs per signing algorithm, to judge the
// alternatives to ES256 (docs/performance.md). HS256 is the floor but not
// an option: a shared secret cannot be published in the JWKS, so nobody but
// this server could verify the session. EdDSA (Ed25519) is verifiable
// with a public key like ES256.
func BenchmarkSessionJWT(b *testing.B) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	claims := Claims{UPN: "alice@lab.example", Name: "Alice", AMR: []string{"fido2"}, SID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		AuthTime: time.Now().Unix(), Data: []byte(`{"steps":[{"m":"fido2","a":"90a3ccdf-635c-4729-a248-9b709135078f","d":"Passkey (device-bound), Microsoft Authenticator (iOS)","t":"2026-12-01T10:00:00Z"}],"app":"00000000-0000-0000-0000-00000000a001"}`)}
	claims.Subject, claims.Issuer, claims.Audience = "6f9619ff-8b86-4011-b42d-00c04fc964ff", "http://localhost:8080", jwt.ClaimStrings{AudienceSession}
	claims.IssuedAt, claims.ExpiresAt = jwt.NewNumericDate(time.Now()), jwt.NewNumericDate(time.Now().Add(8*time.Hour))
	for _, alg := range []struct {
		name         string
		method       jwt.SigningMethod
		sign, verify any
	}{
		{"ES256", jwt.SigningMethodES256, ec, &ec.PublicKey},
		{"EdDSA", jwt.SigningMethodEdDSA, edPriv, edPub},
		{"HS256-not-publicly-verifiable", jwt.SigningMethodHS256, secret, secret},
	} {
		tok, err := jwt.NewWithClaims(alg.method, claims).SignedString(alg.sign)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg.name+"/mint", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := jwt.NewWithClaims(alg.method, claims).SignedString(alg.sign); err != nil {
					b.Fatal(err)
				}
			}
		})
		p := jwt.NewParser(jwt.WithValidMethods([]string{alg.method.Alg()}))
		b.Run(alg.name+"/verify", func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				var c Claims
				if _, err := p.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return alg.verify, nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
