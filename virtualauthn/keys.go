package virtualauthn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
)

// COSE algorithms a virtual authenticator can make credentials for.
const (
	AlgEdDSA = -8   // Ed25519
	AlgRS256 = -257 // RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys (Windows Hello on RSA-only TPMs)
)

// COSE key parameters beyond the EC2 ones in cbor.go.
const (
	coseKtyOKP     = 1
	coseKtyRSA     = 3
	coseCrvEd25519 = 6
	coseRSAN       = -1
	coseRSAE       = -2
)

// chooseAlg is the authenticator side of pubKeyCredParams: the first entry
// of the relying party's list (its preference order) that this authenticator
// supports. supported empty means ES256 only, as most keys of the field.
func chooseAlg(offered []int, supported []int) (int, bool) {
	if len(supported) == 0 {
		supported = []int{AlgES256}
	}
	if len(offered) == 0 {
		// WebAuthn: an empty list means ES256 and RS256.
		offered = []int{AlgES256, AlgRS256}
	}
	for _, a := range offered {
		if slices.Contains(supported, a) {
			return a, true
		}
	}
	return 0, false
}

// newCredentialKey makes a private key for alg.
func newCredentialKey(alg int) (crypto.Signer, error) {
	switch alg {
	case AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case AlgRS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("virtualauthn: COSE algorithm %d is not supported", alg)
}

// algOf is the COSE algorithm a credential key signs with.
func algOf(k crypto.Signer) (int, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return AlgES256, nil
		}
	case ed25519.PrivateKey:
		return AlgEdDSA, nil
	case *rsa.PrivateKey:
		return AlgRS256, nil
	}
	return 0, fmt.Errorf("virtualauthn: unsupported credential key %T", k)
}

// EncodeCOSEKey returns the COSE_Key of pub as it appears in attested
// credential data: EC2 P-256 (ES256), OKP Ed25519 (EdDSA) or RSA (RS256).
func EncodeCOSEKey(pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return EncodeCOSEKeyES256(k)
	case ed25519.PublicKey:
		return encMode.Marshal(map[int]any{coseKty: coseKtyOKP, coseAlg: AlgEdDSA, coseCrv: coseCrvEd25519, coseX: []byte(k)})
	case *rsa.PublicKey:
		return encMode.Marshal(map[int]any{coseKty: coseKtyRSA, coseAlg: AlgRS256, coseRSAN: k.N.Bytes(), coseRSAE: big.NewInt(int64(k.E)).Bytes()})
	}
	return nil, fmt.Errorf("virtualauthn: unsupported public key %T", pub)
}

// sign signs the concatenation of parts with k as its COSE algorithm
// defines: ECDSA and RSA over SHA-256, Ed25519 over the message itself.
func sign(k crypto.Signer, parts ...[]byte) ([]byte, error) {
	msg := slices.Concat(parts...)
	if _, ok := k.(ed25519.PrivateKey); ok {
		return k.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	d := sha256.Sum256(msg)
	if ec, ok := k.(*ecdsa.PrivateKey); ok {
		return ecdsa.SignASN1(rand.Reader, ec, d[:])
	}
	return k.Sign(rand.Reader, d[:], crypto.SHA256)
}
