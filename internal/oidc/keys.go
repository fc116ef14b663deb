package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rpserver/rpserver/internal/tokens"
)

// SigningKey is an OIDC signing key as persisted: the private key sealed
// with the master key, the public key in the clear.
type SigningKey struct {
	KID              string
	Algorithm        string // RS256 or ES256
	SealedPrivateKey []byte
	PublicKeyDER     []byte
	CreatedAt        time.Time
	RetiredAt        *time.Time
}

// KeyStore persists the provider's signing keys.
type KeyStore interface {
	// EnsureOIDCKey returns the active key of the algorithm, inserting the
	// one made by generate when there is none (concurrent callers on any
	// process get the same key).
	EnsureOIDCKey(ctx context.Context, alg string, generate func() (SigningKey, error)) (SigningKey, error)
	// RotateOIDCKey retires the active key of k's algorithm and makes k active.
	RotateOIDCKey(ctx context.Context, k SigningKey) error
	// OIDCKeys lists active keys and those retired after since.
	OIDCKeys(ctx context.Context, since time.Time) ([]SigningKey, error)
}

// retiredKeyGrace is how long a retired key stays in the JWKS: longer than
// any token it signed lives (id and access tokens: 1 hour), plus the
// caches of relying parties.
const retiredKeyGrace = 24 * time.Hour

// keyCacheTTL bounds how long a process signs with a key another process
// has rotated away: the key set is re-read at most this often, instead of
// a database round trip per token.
const keyCacheTTL = time.Minute

// keyManager serves signing keys from a short-lived cache of the key store.
type keyManager struct {
	store  KeyStore
	sealer *tokens.Sealer
	alg    string
	now    func() time.Time

	mu      sync.Mutex
	loaded  time.Time
	signing *signingKey
	public  []op.Key
}

type signingKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct {
	id  string
	alg jose.SignatureAlgorithm
	key any
}

func (k *publicKey) ID() string                         { return k.id }
func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return k.alg }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return k.key }

// generateKey makes a key of the algorithm, sealed for the store.
func generateKey(sealer *tokens.Sealer, alg string) (SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return SigningKey{}, fmt.Errorf("oidc: unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKey{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return SigningKey{}, err
	}
	sum := sha256.Sum256(pub)
	kid := base64.RawURLEncoding.EncodeToString(sum[:15])
	sealed, err := sealer.Seal(der, sealLabel(kid))
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{KID: kid, Algorithm: alg, SealedPrivateKey: sealed, PublicKeyDER: pub}, nil
}

// sealLabel binds a sealed key to its use, apart from the admin-token key.
func sealLabel(kid string) string { return "oidc-signing-key:" + kid }

// ensure makes sure both algorithms have an active key, at start.
func (m *keyManager) ensure(ctx context.Context) error {
	for _, alg := range []string{"RS256", "ES256"} {
		if _, err := m.store.EnsureOIDCKey(ctx, alg, func() (SigningKey, error) { return generateKey(m.sealer, alg) }); err != nil {
			return fmt.Errorf("oidc: %s signing key: %w", alg, err)
		}
	}
	return m.reload(ctx)
}

// RotateKey replaces the active key of the algorithm in the store, for
// tools (rpserver admin rotate-oidc-key); running servers pick the new key
// up within keyCacheTTL and keep the old one published.
func RotateKey(ctx context.Context, store KeyStore, sealer *tokens.Sealer, alg string) (kid string, err error) {
	k, err := generateKey(sealer, alg)
	if err != nil {
		return "", err
	}
	if err := store.RotateOIDCKey(ctx, k); err != nil {
		return "", err
	}
	return k.KID, nil
}

// Rotate replaces the active key of the algorithm; the old one stays in the
// JWKS for retiredKeyGrace, so tokens it signed keep verifying.
func (m *keyManager) Rotate(ctx context.Context, alg string) error {
	if _, err := RotateKey(ctx, m.store, m.sealer, alg); err != nil {
		return err
	}
	return m.reload(ctx)
}

func (m *keyManager) reload(ctx context.Context) error {
	keys, err := m.store.OIDCKeys(ctx, m.now().Add(-retiredKeyGrace))
	if err != nil {
		return err
	}
	var signing *signingKey
	public := make([]op.Key, 0, len(keys))
	for _, k := range keys {
		pub, err := x509.ParsePKIXPublicKey(k.PublicKeyDER)
		if err != nil {
			return fmt.Errorf("oidc: public key %s: %w", k.KID, err)
		}
		alg := jose.SignatureAlgorithm(k.Algorithm)
		public = append(public, &publicKey{id: k.KID, alg: alg, key: pub})
		if k.RetiredAt != nil || k.Algorithm != m.alg || (signing != nil) {
			continue
		}
		der, err := m.sealer.Open(k.SealedPrivateKey, sealLabel(k.KID))
		if err != nil {
			return err
		}
		priv, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return fmt.Errorf("oidc: private key %s: %w", k.KID, err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return fmt.Errorf("oidc: key %s is not a signer", k.KID)
		}
		signing = &signingKey{id: k.KID, alg: alg, key: signer}
	}
	if signing == nil {
		return fmt.Errorf("oidc: no active %s signing key", m.alg)
	}
	m.mu.Lock()
	m.signing, m.public, m.loaded = signing, public, m.now()
	m.mu.Unlock()
	return nil
}

// current returns the cached keys, re-reading them when the cache is old.
// A failed re-read keeps serving the cached keys: a database hiccup must not
// stop sign-ins that a minute-old key set serves correctly.
func (m *keyManager) current(ctx context.Context) (*signingKey, []op.Key, error) {
	m.mu.Lock()
	fresh := m.now().Sub(m.loaded) < keyCacheTTL
	signing, public := m.signing, m.public
	m.mu.Unlock()
	if fresh && signing != nil {
		return signing, public, nil
	}
	if err := m.reload(ctx); err != nil {
		if signing != nil {
			return signing, public, nil
		}
		return nil, nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.signing, m.public, nil
}
