package tokens

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rpserver/rpserver/internal/apperr"
)

// StoredKey is a signing key as persisted.
type StoredKey struct {
	KID              string
	Algorithm        string
	SealedPrivateKey []byte
	PublicKeyDER     []byte
	CreatedAt        time.Time
}

// KeyStore persists signing keys.
type KeyStore interface {
	// EnsureSigningKey returns the active key of the algorithm, inserting
	// the one made by generate when there is none; concurrent callers all
	// get the same key.
	EnsureSigningKey(ctx context.Context, algorithm string, generate func() (StoredKey, error)) (StoredKey, error)
	// PublicKeys lists every key not retired, for the JWKS.
	PublicKeys(ctx context.Context) ([]StoredKey, error)
}

// Audiences separate token uses so one kind is never accepted as another.
const (
	AudienceAdmin   = "rpserver-admin"
	AudienceSession = "rpserver-session"
	AudienceFlow    = "rpserver-signin-flow"
)

func init() {
	// Microsecond iat/exp (NumericDate may be fractional, RFC 7519 §2), the
	// precision PostgreSQL keeps, so revokeSignInSessions can tell a token
	// minted just before a revocation from one minted just after it.
	jwt.TimePrecision = time.Microsecond
}

// Codes for token failures.
const (
	CodeInvalidToken = "InvalidAuthenticationToken"
)

// Claims are the claims the server puts in its tokens. Roles carries Entra
// role display names; Wids their template ids, as Entra's access tokens do.
type Claims struct {
	jwt.RegisteredClaims
	UPN   string   `json:"upn,omitempty"`
	Name  string   `json:"name,omitempty"`
	Roles []string `json:"roles,omitempty"`
	Wids  []string `json:"wids,omitempty"`
	// Session tokens: methods used (Graph's authenticationMethodModes) and
	// the session id that revokeSignInSessions can end.
	AMR      []string `json:"amr,omitempty"`
	SID      string   `json:"sid,omitempty"`
	AuthTime int64    `json:"auth_time,omitempty"`
	// Data carries a component's own claims (the sign-in flow's state and
	// the methods behind a session), opaque to this package.
	Data json.RawMessage `json:"dat,omitempty"`
}

// Issuer signs and verifies tokens.
type Issuer struct {
	issuer  string
	kid     string
	private *ecdsa.PrivateKey
	// Session tokens are signed with an Ed25519 key of their own: a session
	// is minted on every sign-in, and EdDSA signs in about 0.4x ES256's
	// time (BenchmarkSessionJWT); the key is published in the JWKS like
	// the ES256 one, so a session stays verifiable by anyone.
	sessionKID string
	session    ed25519.PrivateKey
	public     map[string]crypto.PublicKey // *ecdsa.PublicKey or ed25519.PublicKey
	parser     *jwt.Parser
	// The encoded header segments of the two keys' tokens (headerSegment).
	header, sessionHeader string
	now                   func() time.Time // time.Now; tests fix it
}

// Signing algorithms of the stored keys.
const (
	algES256 = "ES256"
	algEdDSA = "EdDSA"
)

// NewIssuer loads (or makes, once) the signing keys: ES256 for admin and
// flow tokens, Ed25519 for session tokens.
func NewIssuer(ctx context.Context, ks KeyStore, sealer *Sealer, issuer string) (*Issuer, error) {
	k, kid, err := ensureKey(ctx, ks, sealer, algES256)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("tokens: signing key is %T, want ECDSA", k)
	}
	sk, skid, err := ensureKey(ctx, ks, sealer, algEdDSA)
	if err != nil {
		return nil, err
	}
	session, ok := sk.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("tokens: session signing key is %T, want Ed25519", sk)
	}
	iss := &Issuer{issuer: issuer, kid: kid, private: priv, sessionKID: skid, session: session, public: map[string]crypto.PublicKey{}, now: time.Now}
	if iss.header, err = headerSegment(algES256, kid); err != nil {
		return nil, err
	}
	if iss.sessionHeader, err = headerSegment(algEdDSA, skid); err != nil {
		return nil, err
	}
	pubs, err := ks.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, pk := range pubs {
		p, err := x509.ParsePKIXPublicKey(pk.PublicKeyDER)
		if err != nil {
			return nil, fmt.Errorf("tokens: parse public key %s: %w", pk.KID, err)
		}
		switch p.(type) {
		case *ecdsa.PublicKey, ed25519.PublicKey:
			iss.public[pk.KID] = p
		}
	}
	iss.parser = jwt.NewParser(
		// The key named by kid must also be of the header's algorithm: the
		// library refuses an ECDSA key for EdDSA and the reverse.
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg(), jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
	)
	return iss, nil
}

// Mint signs claims for an audience with a lifetime. The token is put
// together here rather than by jwt.Token.SignedString: the header segment
// of each key is encoded once (NewIssuer), the claims without reflection
// (appendClaims), and the session key signs the signing input in place.
// What comes out is the same compact JWS (TestMintMatchesLibrary), and
// Verify still parses it with the library.
func (i *Issuer) Mint(c Claims, audience string, ttl time.Duration) (string, error) {
	now := i.now()
	c.Issuer = i.issuer
	c.Audience = jwt.ClaimStrings{audience}
	c.IssuedAt = jwt.NewNumericDate(now)
	c.NotBefore = jwt.NewNumericDate(now.Add(-5 * time.Second))
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	if c.ID == "" {
		raw := make([]byte, 12)
		_, _ = rand.Read(raw)
		c.ID = base64.RawURLEncoding.EncodeToString(raw)
	}
	var scratch [512]byte
	payload, err := appendClaims(scratch[:0], &c)
	if err != nil {
		return "", err
	}
	header := i.header
	if audience == AudienceSession {
		header = i.sessionHeader
	}
	enc := base64.RawURLEncoding
	out := make([]byte, 0, len(header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(ecdsaSignatureSize))
	out = append(out, header...)
	out = append(out, '.')
	out = enc.AppendEncode(out, payload)
	var sig []byte
	if audience == AudienceSession {
		sig = ed25519.Sign(i.session, out) // RFC 8037 §3.1: over the signing input's bytes
	} else if sig, err = jwt.SigningMethodES256.Sign(string(out), i.private); err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

// ecdsaSignatureSize is an ES256 signature's size (R and S, 32 bytes
// each); Ed25519's is the same.
const ecdsaSignatureSize = 64

// headerSegment is the encoded JOSE header of tokens signed with kid, as
// jwt.Token encodes it (its keys sorted: alg, kid, typ).
func headerSegment(alg, kid string) (string, error) {
	h, err := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h), nil
}

// ensureKey loads the active key of alg, making and storing it (sealed
// with the master key) the first time.
func ensureKey(ctx context.Context, ks KeyStore, sealer *Sealer, alg string) (crypto.PrivateKey, string, error) {
	stored, err := ks.EnsureSigningKey(ctx, alg, func() (StoredKey, error) {
		var priv crypto.Signer
		var err error
		if alg == algEdDSA {
			_, priv, err = ed25519.GenerateKey(rand.Reader)
		} else {
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			return StoredKey{}, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return StoredKey{}, err
		}
		pub, err := x509.MarshalPKIXPublicKey(priv.Public())
		if err != nil {
			return StoredKey{}, err
		}
		sum := sha256.Sum256(pub)
		kid := base64.RawURLEncoding.EncodeToString(sum[:12])
		sealed, err := sealer.Seal(der, "signing-key:"+kid)
		if err != nil {
			return StoredKey{}, err
		}
		return StoredKey{KID: kid, Algorithm: alg, SealedPrivateKey: sealed, PublicKeyDER: pub}, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("tokens: %s signing key: %w", alg, err)
	}
	der, err := sealer.Open(stored.SealedPrivateKey, "signing-key:"+stored.KID)
	if err != nil {
		return nil, "", err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, "", fmt.Errorf("tokens: parse %s signing key: %w", alg, err)
	}
	return k, stored.KID, nil
}

// Verify checks signature, algorithm, issuer, audience and lifetime.
func (i *Issuer) Verify(token, audience string) (*Claims, error) {
	var c Claims
	var signedBySessionKey bool
	_, err := i.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k, ok := i.public[kid]; ok {
			_, signedBySessionKey = k.(ed25519.PublicKey)
			return k, nil
		}
		return nil, fmt.Errorf("it is signed with key %q, which this server's database does not hold: it was minted against another database "+
			"(run rpserver admin token with the server's -data-dir or DATABASE_URL)", kid)
	})
	if err != nil {
		return nil, apperr.Unauthenticated(CodeInvalidToken, "the access token is invalid: %v", err)
	}
	// Issuer and audience are checked here rather than by the parser so the
	// refusal names what was expected and what came: a token minted with
	// other settings is the usual mistake, and the fix is in the names.
	if c.Issuer != i.issuer {
		return nil, apperr.Unauthenticated(CodeInvalidToken,
			"the access token's issuer is %q but this server's is %q: mint it with the server's settings "+
				"(rpserver admin token with the same -data-dir, or the same -origins/-issuer as serve)", c.Issuer, i.issuer)
	}
	if !slices.Contains(c.Audience, audience) {
		return nil, apperr.Unauthenticated(CodeInvalidToken,
			"the access token's audience is %q but this API expects %q", []string(c.Audience), audience)
	}
	// Each key signs its own kind: the session key (Ed25519, kept apart for
	// speed) only sessions, the ES256 key everything else, so a leaked
	// session key cannot mint an admin token.
	if signedBySessionKey != (audience == AudienceSession) {
		return nil, apperr.Unauthenticated(CodeInvalidToken, "the access token is signed with a key that does not sign %q tokens", audience)
	}
	return &c, nil
}

// JWKS returns the public keys as a JSON Web Key Set document.
func (i *Issuer) JWKS() map[string]any {
	keys := make([]map[string]string, 0, len(i.public))
	enc := base64.RawURLEncoding.EncodeToString
	for kid, pub := range i.public {
		switch k := pub.(type) {
		case *ecdsa.PublicKey:
			// Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
			pt, err := k.Bytes()
			if err != nil || len(pt) != 65 {
				continue
			}
			keys = append(keys, map[string]string{
				"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
				"x": enc(pt[1:33]), "y": enc(pt[33:]),
			})
		case ed25519.PublicKey:
			// RFC 8037: an octet key pair, x the 32-byte public key.
			keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": enc(k)})
		}
	}
	slices.SortFunc(keys, func(a, b map[string]string) int { return strings.Compare(a["kid"], b["kid"]) })
	return map[string]any{"keys": keys}
}

// WithSubject returns c with its subject set.
func (c Claims) WithSubject(sub string) Claims {
	c.Subject = sub
	return c
}
