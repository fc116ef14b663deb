// Package conformance holds the attestation conformance suite: registration
// responses captured from real authenticators and published by other
// open-source WebAuthn projects (vectors/, one JSON file each, with the
// source repository, path, commit and licence), the public roots they chain
// to (roots/), and the cases each is judged in, with the verdict this server
// must reach. The ceremony's tests run every case through the server's
// registration path, and cmd/rpserver's tests through `rpserver inspect`.
//
// Only test code imports this package.
package conformance

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/attestation"
)

//go:embed vectors roots
var files embed.FS

// Source says where a vector was published.
type Source struct {
	Repo    string `json:"repo"`
	Path    string `json:"path"`
	Commit  string `json:"commit"`
	License string `json:"license"`
	Test    string `json:"test"`
}

// Expect is the verdict a case must reach. Code is the refusal code (a
// ceremony or passkey-profile code), empty when accepted. AttestationReason
// is the attestation finding (attestation.Reason*), also when accepted
// with an untrusted attestation reported.
type Expect struct {
	Accepted          bool   `json:"accepted"`
	Code              string `json:"code,omitempty"`
	AttestationReason string `json:"attestationReason,omitempty"`
	AttestationType   string `json:"attestationType,omitempty"`
	Trusted           bool   `json:"trusted,omitempty"`
}

// Case is one judgement of a vector.
type Case struct {
	Name string `json:"name"`
	Why  string `json:"why"`
	// At overrides the vector's capture time.
	At string `json:"at,omitempty"`
	// Anchors are file names under roots/, trusted for any AAGUID.
	Anchors []string `json:"anchors"`
	// Attestation is "required" (a passkey profile enforcing attestation)
	// or "optional" (reported only).
	Attestation string `json:"attestation"`
	RequireUV   bool   `json:"requireUV"`
	// Mutate names a change made to the response before judging
	// ("flip-sig": the last byte of attStmt.sig).
	Mutate string `json:"mutate,omitempty"`
	Expect Expect `json:"expect"`
}

// Vector is one published registration response.
type Vector struct {
	File        string          `json:"-"`
	Description string          `json:"description"`
	Source      Source          `json:"source"`
	Format      string          `json:"format"`
	RPID        string          `json:"rpId"`
	Origin      string          `json:"origin"`
	CapturedAt  string          `json:"capturedAt"`
	AtBasis     string          `json:"capturedAtBasis"`
	Credential  json.RawMessage `json:"credential"`
	Cases       []Case          `json:"cases"`
}

// Load returns every vector, in file order.
func Load() ([]Vector, error) {
	var out []Vector
	err := fs.WalkDir(files, "vectors", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		var v Vector
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		v.File = p
		if v.Source.Repo == "" || v.Source.Commit == "" || v.Source.License == "" || v.CapturedAt == "" || len(v.Cases) == 0 {
			return fmt.Errorf("%s: source repo, commit, licence, capture time and cases are all required", p)
		}
		out = append(out, v)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, err
}

// When is the moment case c judges v at.
func (v Vector) When(c Case) (time.Time, error) {
	s := v.CapturedAt
	if c.At != "" {
		s = c.At
	}
	return time.Parse(time.RFC3339, s)
}

// Challenge is the challenge the response answers (what the server issued).
func (v Vector) Challenge() ([]byte, error) {
	var cred struct {
		Response struct {
			ClientDataJSON string `json:"clientDataJSON"`
		} `json:"response"`
	}
	if err := json.Unmarshal(v.Credential, &cred); err != nil {
		return nil, err
	}
	cdj, err := decode(cred.Response.ClientDataJSON)
	if err != nil {
		return nil, err
	}
	var cd struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(cdj, &cd); err != nil {
		return nil, err
	}
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(cd.Challenge, "="))
}

// Response is the credential JSON case c posts, mutated as c says.
func (v Vector) Response(c Case) ([]byte, error) {
	switch c.Mutate {
	case "":
		return v.Credential, nil
	case "flip-sig":
		var cred map[string]any
		if err := json.Unmarshal(v.Credential, &cred); err != nil {
			return nil, err
		}
		resp := cred["response"].(map[string]any)
		raw, err := decode(resp["attestationObject"].(string))
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := cbor.Unmarshal(raw, &obj); err != nil {
			return nil, err
		}
		stmt, _ := obj["attStmt"].(map[any]any)
		sig, _ := stmt["sig"].([]byte)
		if len(sig) == 0 {
			return nil, fmt.Errorf("%s: no attStmt.sig to flip", v.File)
		}
		sig[len(sig)-1] ^= 0x01
		if raw, err = cbor.Marshal(obj); err != nil {
			return nil, err
		}
		resp["attestationObject"] = base64.RawURLEncoding.EncodeToString(raw)
		return json.Marshal(cred)
	}
	return nil, fmt.Errorf("%s: unknown mutation %q", v.File, c.Mutate)
}

// Trust is a store holding c's anchors for any AAGUID.
func (c Case) Trust() (*attestation.TrustStore, error) {
	s := attestation.NewTrustStore()
	for _, name := range c.Anchors {
		b, err := files.ReadFile(path.Join("roots", name))
		if err != nil {
			return nil, err
		}
		if err := s.AddPEM(uuid.Nil, b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return s, nil
}

// AnchorPEM is the PEM text of one anchor, for tools that take files.
func AnchorPEM(name string) ([]byte, error) { return files.ReadFile(path.Join("roots", name)) }

func decode(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
