package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
)

func TestMain(m *testing.M) { testpg.Main(m) }

func newSealer(t *testing.T) *tokens.Sealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s, err := tokens.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeyPersistsAndIsSharedByConcurrentStarts(t *testing.T) {
	db := testpg.Open(t)
	sealer := newSealer(t)
	ctx := context.Background()

	issuers := make([]*tokens.Issuer, 4)
	var wg sync.WaitGroup
	for i := range issuers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iss, err := tokens.NewIssuer(ctx, db.Keys(), sealer, "https://lab")
			if err != nil {
				t.Error(err)
			}
			issuers[i] = iss
		}()
	}
	wg.Wait()
	tok, err := issuers[0].Mint(tokens.Claims{UPN: "admin@lab.example", Roles: []string{"Global Administrator"}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for i, iss := range issuers {
		c, err := iss.Verify(tok, tokens.AudienceAdmin)
		if err != nil || c.UPN != "admin@lab.example" {
			t.Fatalf("issuer %d: %v", i, err)
		}
		if n := len(iss.JWKS()["keys"].([]map[string]string)); n != 1 {
			t.Fatalf("issuer %d publishes %d keys, want 1", i, n)
		}
	}

	// A restart with the wrong master key must fail loudly, not mint with a new key.
	if _, err := tokens.NewIssuer(ctx, db.Keys(), newSealer(t), "https://lab"); err == nil {
		t.Fatal("wrong master key accepted")
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	db := testpg.Open(t)
	iss, err := tokens.NewIssuer(context.Background(), db.Keys(), newSealer(t), "https://lab")
	if err != nil {
		t.Fatal(err)
	}
	good, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceAdmin, time.Hour)

	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": "https://lab", "aud": tokens.AudienceAdmin, "exp": time.Now().Add(time.Hour).Unix()})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "https://lab", "aud": tokens.AudienceAdmin, "exp": time.Now().Add(time.Hour).Unix()})
	hsTok, _ := hs.SignedString([]byte("secret"))
	expired, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceAdmin, -time.Hour)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]

	cases := map[string]struct{ tok, aud string }{
		"alg none":       {noneTok, tokens.AudienceAdmin},
		"HS256":          {hsTok, tokens.AudienceAdmin},
		"expired":        {expired, tokens.AudienceAdmin},
		"tampered":       {tampered, tokens.AudienceAdmin},
		"wrong audience": {good, tokens.AudienceSession},
		"garbage":        {"not.a.jwt", tokens.AudienceAdmin},
	}
	for name, c := range cases {
		if _, err := iss.Verify(c.tok, c.aud); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := iss.Verify(good, tokens.AudienceAdmin); err != nil {
		t.Fatalf("good token refused: %v", err)
	}
}

// TestJWKSVerifiesMintedTokens: a relying party holding only the JWKS can
// verify what the issuer mints.
func TestJWKSVerifiesMintedTokens(t *testing.T) {
	db := testpg.Open(t)
	iss, err := tokens.NewIssuer(context.Background(), db.Keys(), newSealer(t), "https://lab")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceAdmin, time.Hour)
	jwk := iss.JWKS()["keys"].([]map[string]string)[0]
	x, _ := base64.RawURLEncoding.DecodeString(jwk["x"])
	y, _ := base64.RawURLEncoding.DecodeString(jwk["y"])
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil || !parsed.Valid {
		t.Fatalf("JWKS key does not verify a minted token: %v", err)
	}
}

// TestRefusalNamesExpectedAndReceived: a token minted with other settings is
// the usual admin mistake; the 401 must say what was expected and what came.
func TestRefusalNamesExpectedAndReceived(t *testing.T) {
	db := testpg.Open(t)
	sealer := newSealer(t)
	iss, err := tokens.NewIssuer(context.Background(), db.Keys(), sealer, "https://lab")
	if err != nil {
		t.Fatal(err)
	}
	other, err := tokens.NewIssuer(context.Background(), db.Keys(), sealer, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	wrongIss, _ := other.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceAdmin, time.Hour)
	session, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceSession, time.Hour)
	for name, c := range map[string]struct {
		tok  string
		want []string
	}{
		"issuer":   {wrongIss, []string{`"http://localhost:8080"`, `"https://lab"`, "-data-dir"}},
		"audience": {session, []string{tokens.AudienceSession, tokens.AudienceAdmin}},
	} {
		_, err := iss.Verify(c.tok, tokens.AudienceAdmin)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: message %q does not name %s", name, err, w)
			}
		}
	}
}
