package attestation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/fxamacker/cbor/v2"
)

// Input limits for untrusted CBOR. fxamacker/cbor has no per-byte-string cap,
// but it rejects any length that runs past the end of the input, so bounding
// the whole input bounds every string. 64 KiB is an order of magnitude above
// the largest real attestation objects (TPM with RSA chains, ~6 KiB).
const (
	MaxAttestationObjectSize = 64 << 10
	MaxClientDataJSONSize    = 16 << 10
	maxX5CCerts              = 8
	maxCertSize              = 8 << 10
)

var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF, // duplicate keys are a classic parser-differential trick
		IndefLength:      cbor.IndefLengthForbidden, // CTAP2 canonical never uses them
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  6,
		MaxArrayElements: 64,
		MaxMapPairs:      64,
		IntDec:           cbor.IntDecConvertSignedOrFail, // an integer beyond int64 is refused, not wrapped
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

var encMode = func() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

type rawAttestationObject struct {
	Fmt      string          `cbor:"fmt"`
	AttStmt  cbor.RawMessage `cbor:"attStmt"`
	AuthData []byte          `cbor:"authData"`
}

// decodeAttestationObject decodes the outer map and, for map-shaped
// statements, the statement itself.
func decodeAttestationObject(b []byte) (fmtName string, stmt map[string]any, authData []byte, err error) {
	if len(b) > MaxAttestationObjectSize {
		return "", nil, nil, fmt.Errorf("attestation object is %d bytes, limit %d", len(b), MaxAttestationObjectSize)
	}
	var raw rawAttestationObject
	if err := decMode.Unmarshal(b, &raw); err != nil {
		return "", nil, nil, err
	}
	if raw.Fmt == "" || len(raw.AuthData) < 37 {
		return "", nil, nil, errors.New("attestation object lacks fmt or authData")
	}
	stmt = map[string]any{}
	if len(raw.AttStmt) > 0 {
		if err := decMode.Unmarshal(raw.AttStmt, &stmt); err != nil {
			return raw.Fmt, nil, raw.AuthData, fmt.Errorf("attStmt: %w", err)
		}
	}
	return raw.Fmt, stmt, raw.AuthData, nil
}

// COSE key parameters (RFC 9052/9053).
const (
	coseKtyOKP = 1
	coseKtyEC2 = 2
	coseKtyRSA = 3
)

// parseCOSEKey returns the credential public key and its declared alg.
func parseCOSEKey(b []byte) (crypto.PublicKey, int64, error) {
	var m map[int64]any
	if err := decMode.Unmarshal(b, &m); err != nil {
		return nil, 0, fmt.Errorf("credential public key: %w", err)
	}
	kty, _ := asInt(m[1])
	alg, ok := asInt(m[3])
	if !ok {
		return nil, 0, errors.New("credential public key lacks alg")
	}
	switch kty {
	case coseKtyEC2:
		crv, _ := asInt(m[-1])
		x, _ := m[-2].([]byte)
		y, _ := m[-3].([]byte)
		var c elliptic.Curve
		switch crv {
		case 1:
			c = elliptic.P256()
		case 2:
			c = elliptic.P384()
		case 3:
			c = elliptic.P521()
		default:
			return nil, 0, fmt.Errorf("unsupported EC2 curve %d", crv)
		}
		size := (c.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, 0, errors.New("EC2 coordinates have wrong length")
		}
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
		if err != nil {
			return nil, 0, err
		}
		return pub, alg, nil
	case coseKtyRSA:
		n, _ := m[-1].([]byte)
		e, _ := m[-2].([]byte)
		if len(n) < 256 || len(e) == 0 || len(e) > 4 {
			return nil, 0, errors.New("RSA key parameters out of range")
		}
		exp := 0
		for _, v := range e {
			exp = exp<<8 | int(v)
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, alg, nil
	case coseKtyOKP:
		crv, _ := asInt(m[-1])
		x, _ := m[-2].([]byte)
		if crv != 6 || len(x) != ed25519.PublicKeySize {
			return nil, 0, errors.New("unsupported OKP key")
		}
		return ed25519.PublicKey(x), alg, nil
	}
	return nil, 0, fmt.Errorf("unsupported COSE kty %d", kty)
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		if x > 1<<62 {
			return 0, false
		}
		return int64(x), true
	case int:
		return int64(x), true
	}
	return 0, false
}
