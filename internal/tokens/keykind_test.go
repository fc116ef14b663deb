package tokens

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// memKeys is an in-memory KeyStore: this test needs the Issuer's own
// private keys, which only code inside the package sees.
type memKeys struct {
	mu   sync.Mutex
	keys map[string]StoredKey
}

func (m *memKeys) EnsureSigningKey(_ context.Context, alg string, gen func() (StoredKey, error)) (StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[alg]; ok {
		return k, nil
	}
	k, err := gen()
	if err == nil {
		m.keys[alg] = k
	}
	return k, err
}

func (m *memKeys) PublicKeys(context.Context) ([]StoredKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredKey
	for _, k := range m.keys {
		out = append(out, k)
	}
	return out, nil
}

// TestEachKeySignsItsOwnKind: a token for the admin API signed with the
// session key (or a session signed with the admin key) is refused, though
// both keys are the server's own and in its JWKS.
func TestEachKeySignsItsOwnKind(t *testing.T) {
	iss := memIssuer(t, "https://lab")
	claims := func(aud string) Claims {
		now := time.Now()
		return Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://lab", Subject: "u", Audience: jwt.ClaimStrings{aud},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}, Roles: []string{"Global Administrator"}}
	}
	adminBySessionKey := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(AudienceAdmin))
	adminBySessionKey.Header["kid"] = iss.sessionKID
	forged, err := adminBySessionKey.SignedString(iss.session)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(forged, AudienceAdmin); err == nil {
		t.Fatal("an admin token signed with the session key was accepted")
	}
	sessionByAdminKey := jwt.NewWithClaims(jwt.SigningMethodES256, claims(AudienceSession))
	sessionByAdminKey.Header["kid"] = iss.kid
	forged, err = sessionByAdminKey.SignedString(iss.private)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(forged, AudienceSession); err == nil {
		t.Fatal("a session signed with the admin key was accepted")
	}
	// The keys' own kinds still verify.
	for _, aud := range []string{AudienceAdmin, AudienceSession} {
		tok, err := iss.Mint(Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "u"}}, aud, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := iss.Verify(tok, aud); err != nil {
			t.Fatalf("%s: %v", aud, err)
		}
	}
}
