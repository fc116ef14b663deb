package virtualauthn

import (
	"crypto/ecdsa"
	"errors"

	"github.com/fxamacker/cbor/v2"
)

// encMode is CTAP2 canonical CBOR (RFC 8949 §4.2.3 length-first map key
// order, shortest-form integers, no indefinite lengths): authenticators must
// emit it and some relying parties compare encodings byte for byte.
var encMode = func() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

// MarshalCBOR encodes v in CTAP2 canonical form.
func MarshalCBOR(v any) ([]byte, error) { return encMode.Marshal(v) }

// COSE identifiers (RFC 9052/9053) used for ES256 keys.
const (
	coseKty     = 1
	coseAlg     = 3
	coseCrv     = -1
	coseX       = -2
	coseY       = -3
	coseKtyEC2  = 2
	coseCrvP256 = 1
	AlgES256    = -7
)

// EncodeCOSEKeyES256 returns the COSE_Key (EC2, P-256, alg -7) for pub, as
// it appears in attested credential data.
func EncodeCOSEKeyES256(pub *ecdsa.PublicKey) ([]byte, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y, fixed width
	if err != nil {
		return nil, err
	}
	if len(raw) != 65 {
		return nil, errors.New("virtualauthn: only P-256 keys are supported")
	}
	return encMode.Marshal(map[int]any{
		coseKty: coseKtyEC2,
		coseAlg: AlgES256,
		coseCrv: coseCrvP256,
		coseX:   raw[1:33],
		coseY:   raw[33:65],
	})
}

// EncodeAttestationObject encodes {fmt, attStmt, authData}. attStmt may be
// nil, in which case an empty map is written, as §8.7 requires for "none".
func EncodeAttestationObject(format string, attStmt map[string]any, authData []byte) ([]byte, error) {
	if attStmt == nil {
		attStmt = map[string]any{}
	}
	return encMode.Marshal(map[string]any{
		"fmt":      format,
		"attStmt":  attStmt,
		"authData": authData,
	})
}
