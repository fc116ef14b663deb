package attestation

import (
	_ "embed"
	"encoding/json"
	"strings"
)

// aaguids.json is a hand-curated subset of the community passkey AAGUID list
// and FIDO MDS names. It is for display only: a model name is a claim by the
// authenticator, never evidence, unless Result.Trusted is true.
//
//go:embed aaguids.json
var aaguidJSON []byte

var catalog = func() map[string]string {
	m := map[string]string{}
	if err := json.Unmarshal(aaguidJSON, &m); err != nil {
		panic("attestation: aaguids.json: " + err.Error())
	}
	return m
}()

// ModelName returns a display name for a well-known AAGUID, or "".
func ModelName(aaguid string) string {
	return catalog[strings.ToLower(strings.TrimSpace(aaguid))]
}
