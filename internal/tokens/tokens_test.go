package tokens_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
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
		if n := len(iss.JWKS()["keys"].([]map[string]string)); n != 2 {
			t.Fatalf("issuer %d publishes %d keys, want 2 (ES256, and EdDSA for sessions)", i, n)
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
	byKty := map[string]map[string]string{}
	for _, k := range iss.JWKS()["keys"].([]map[string]string) {
		byKty[k["kty"]] = k
	}
	jwk := byKty["EC"]
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
	// Sessions are EdDSA, with the published Ed25519 key (RFC 8037 OKP).
	session, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceSession, time.Hour)
	okp := byKty["OKP"]
	edPub, _ := base64.RawURLEncoding.DecodeString(okp["x"])
	if okp["crv"] != "Ed25519" || okp["alg"] != "EdDSA" || len(edPub) != ed25519.PublicKeySize {
		t.Fatalf("session key in the JWKS: %v", okp)
	}
	parsed, err = jwt.Parse(session, func(*jwt.Token) (any, error) { return ed25519.PublicKey(edPub), nil }, jwt.WithValidMethods([]string{"EdDSA"}))
	if err != nil || !parsed.Valid || parsed.Header["kid"] != okp["kid"] {
		t.Fatalf("JWKS key does not verify a session token: %v", err)
	}
	if c, err := iss.Verify(session, tokens.AudienceSession); err != nil || c.UPN != "a@lab.example" {
		t.Fatalf("session token refused: %v", err)
	}
}

// A token whose header claims EdDSA but names the ES256 key (or the
// reverse) is refused: the key must be of the header's algorithm.
func TestVerifyRefusesAlgorithmKeyMismatch(t *testing.T) {
	db := testpg.Open(t)
	iss, err := tokens.NewIssuer(context.Background(), db.Keys(), newSealer(t), "https://lab")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceAdmin, time.Hour)
	session, _ := iss.Mint(tokens.Claims{UPN: "a@lab.example"}, tokens.AudienceSession, time.Hour)
	kidOf := func(tok string) string {
		p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Header["kid"].(string)
	}
	_, edPriv, _ := ed25519.GenerateKey(nil)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := jwt.MapClaims{"iss": "https://lab", "aud": tokens.AudienceSession, "exp": time.Now().Add(time.Hour).Unix()}
	edWithECKid := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	edWithECKid.Header["kid"] = kidOf(admin)
	t1, _ := edWithECKid.SignedString(edPriv)
	ecWithEdKid := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	ecWithEdKid.Header["kid"] = kidOf(session)
	t2, _ := ecWithEdKid.SignedString(ec)
	for name, tok := range map[string]string{"EdDSA header, ES256 key": t1, "ES256 header, Ed25519 key": t2} {
		if _, err := iss.Verify(tok, tokens.AudienceSession); err == nil {
			t.Errorf("%s: accepted", name)
		}
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
