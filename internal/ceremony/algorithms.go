package ceremony

import (
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// COSE algorithms this server can verify sign-ins with.
const (
	AlgES256 int64 = -7   // ECDSA P-256 with SHA-256: every platform and most keys
	AlgEdDSA int64 = -8   // Ed25519: many security keys prefer it
	AlgRS256 int64 = -257 // RSASSA-PKCS1-v1_5 with SHA-256: Windows Hello on TPMs that only make RSA keys
)

// DefaultAlgorithms is the pubKeyCredParams order: ES256 first, because an
// authenticator takes the first entry it supports and ES256 is the cheapest
// to verify; EdDSA next; RS256 last, for authenticators that have nothing
// else.
var DefaultAlgorithms = []int64{AlgES256, AlgEdDSA, AlgRS256}

// ParseAlgorithms reads a list of algorithm names (ES256, EdDSA, RS256, in
// preference order), as operators write them.
func ParseAlgorithms(names []string) ([]int64, error) {
	var out []int64
	for _, n := range names {
		switch strings.ToUpper(strings.TrimSpace(n)) {
		case "ES256":
			out = append(out, AlgES256)
		case "EDDSA":
			out = append(out, AlgEdDSA)
		case "RS256":
			out = append(out, AlgRS256)
		default:
			return nil, fmt.Errorf("algorithm %q: want ES256, EdDSA or RS256", n)
		}
	}
	return out, nil
}

func credentialParameters(algs []int64) ([]protocol.CredentialParameter, map[int64]bool, error) {
	if len(algs) == 0 {
		algs = DefaultAlgorithms
	}
	params := make([]protocol.CredentialParameter, 0, len(algs))
	allowed := make(map[int64]bool, len(algs))
	for _, a := range algs {
		switch a {
		case AlgES256, AlgEdDSA, AlgRS256:
		default:
			return nil, nil, fmt.Errorf("ceremony: COSE algorithm %d is not supported (want -7, -8 or -257)", a)
		}
		if allowed[a] {
			return nil, nil, fmt.Errorf("ceremony: COSE algorithm %d listed twice", a)
		}
		allowed[a] = true
		params = append(params, protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.COSEAlgorithmIdentifier(a)})
	}
	return params, allowed, nil
}

// checkAlgorithm refuses a credential key whose algorithm was not offered.
// The library checks this too, but with a generic error; the precise code
// lets an operator see which authenticator model needs which algorithm.
func (s *Service) checkAlgorithm(coseKey []byte) error {
	var k struct {
		Alg int64 `cbor:"3,keyasint"`
	}
	if err := cbor.Unmarshal(coseKey, &k); err != nil || k.Alg == 0 {
		return invalid(CodeMalformedCredential, "the credential public key is not a COSE key with an algorithm")
	}
	if !s.algorithms[k.Alg] {
		return invalid(CodeAlgorithmNotAllowed, "the credential key uses COSE algorithm %d, which this relying party does not offer (offered: %v)", k.Alg, s.cfg.Algorithms)
	}
	return nil
}
