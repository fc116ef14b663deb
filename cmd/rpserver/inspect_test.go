package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/profiles"
	"github.com/rpserver/rpserver/virtualauthn"
)

const inspectOrigin = "http://localhost:8080"

var inspectChallenge = []byte("inspect-challenge-0123456789abcdef")

// creationOptions is what the server's registration begin returns, reduced
// to what an authenticator reads.
func creationOptions() []byte {
	b64 := base64.RawURLEncoding.EncodeToString
	return []byte(`{"publicKey":{"challenge":"` + b64(inspectChallenge) + `","rp":{"id":"localhost","name":"lab"},
		"user":{"id":"` + b64([]byte("user-handle-1")) + `","name":"alice@lab.example","displayName":"Alice"},
		"pubKeyCredParams":[{"type":"public-key","alg":-7}],
		"authenticatorSelection":{"residentKey":"required","userVerification":"required"},"attestation":"direct"}}`)
}

type inspectRun struct {
	code           int
	stdout, stderr string
	verdict        inspectVerdict
}

func runInspectOn(t *testing.T, response []byte, args ...string) inspectRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := runInspect(args, bytes.NewReader(response), &out, &errb)
	r := inspectRun{code: code, stdout: out.String(), stderr: errb.String()}
	for _, a := range args {
		if a == "-json" && code != inspectBadInput {
			if err := json.Unmarshal(out.Bytes(), &r.verdict); err != nil {
				t.Fatalf("-json output: %v\n%s", err, out.String())
			}
		}
	}
	return r
}

func TestInspectVerdicts(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	rogue, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, ca.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test must not depend on the caller's environment.
	for _, k := range []string{"RPSERVER_ORIGINS", "RPSERVER_RP_ID", "RPSERVER_TRUST_ANCHORS", "RPSERVER_MDS_BLOB", "RPSERVER_MDS_ROOT"} {
		t.Setenv(k, "")
	}
	base := []string{"-json", "-challenge", base64.RawURLEncoding.EncodeToString(inspectChallenge), "-origin", inspectOrigin, "-rp-id", "localhost", "-trust-anchors", root}

	make := func(cfg virtualauthn.Config, tamper virtualauthn.Tamper) []byte {
		t.Helper()
		a, err := virtualauthn.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := a.CreateTampered(creationOptions(), inspectOrigin, tamper)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	cases := []struct {
		name      string
		cfg       virtualauthn.Config
		tamper    virtualauthn.Tamper
		extra     []string
		exit      int
		reason    string
		attReason string
		format    string
		trusted   bool
		failedAt  string
	}{
		{name: "packed (Microsoft Authenticator iOS)", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), format: "packed", trusted: true},
		{name: "android-key (Microsoft Authenticator Android)", cfg: virtualauthn.MicrosoftAuthenticatorAndroid(ca), format: "android-key", trusted: true},
		{name: "untrusted CA", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{UntrustedCA: rogue},
			exit: inspectRefused, reason: string(profiles.ReasonAttestationUntrusted), attReason: attestation.ReasonUntrustedRoot, format: "packed", failedAt: "attestation"},
		{name: "untrusted CA, attestation optional", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{UntrustedCA: rogue},
			extra: []string{"-attestation", "optional"}, attReason: attestation.ReasonUntrustedRoot, format: "packed", failedAt: "attestation"},
		{name: "wrong challenge", cfg: virtualauthn.MicrosoftAuthenticatorAndroid(ca), tamper: virtualauthn.Tamper{Challenge: []byte("another-challenge-0123456789abcdef")},
			exit: inspectRefused, reason: ceremony.CodeChallengeNotFound, format: "android-key"},
		{name: "wrong origin", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{Origin: "https://evil.example"},
			exit: inspectRefused, reason: ceremony.CodeOriginMismatch, format: "packed"},
		{name: "wrong RP ID", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{RPID: "evil.example"},
			exit: inspectRefused, reason: ceremony.CodeRPIDMismatch, format: "packed"},
		{name: "no user verification", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{NoUserVerification: true},
			exit: inspectRefused, reason: ceremony.CodeUserVerificationNeeded, format: "packed"},
		{name: "bad attestation signature is refused even when optional", cfg: virtualauthn.MicrosoftAuthenticatorIOS(ca), tamper: virtualauthn.Tamper{CorruptSignature: true},
			extra: []string{"-attestation", "optional"}, exit: inspectRefused, reason: ceremony.CodeAttestationInvalid, attReason: attestation.ReasonSignatureInvalid, format: "packed"},
		{name: "synced passkey without attestation", cfg: virtualauthn.GooglePasswordManager(),
			exit: inspectRefused, reason: string(profiles.ReasonAttestationRequired), attReason: attestation.ReasonMissing, format: "none", failedAt: "attestation"},
		{name: "synced passkey, attestation optional", cfg: virtualauthn.GooglePasswordManager(), extra: []string{"-attestation", "optional"}, attReason: attestation.ReasonMissing, format: "none", failedAt: "attestation"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runInspectOn(t, make(c.cfg, c.tamper), append(append([]string{}, base...), c.extra...)...)
			if r.code != c.exit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, c.exit, r.stdout, r.stderr)
			}
			v := r.verdict
			if v.Accepted != (c.exit == inspectAccepted) || v.Reason != c.reason {
				t.Fatalf("verdict accepted=%t reason=%q, want reason %q\n%s", v.Accepted, v.Reason, c.reason, r.stdout)
			}
			if v.Attestation.Format != c.format || v.Attestation.Reason != c.attReason {
				t.Fatalf("attestation %+v", v.Attestation)
			}
			// The attestation is evaluated only once the response passed
			// every earlier check, as on the server.
			if evaluated := c.exit == inspectAccepted || c.failedAt == "attestation"; evaluated &&
				(v.Attestation.Trusted != c.trusted || v.Attestation.AAGUID != c.cfg.AAGUID.String()) {
				t.Fatalf("attestation %+v", v.Attestation)
			}
		})
	}

	t.Run("human output from a file", func(t *testing.T) {
		p := filepath.Join(dir, "reg.json")
		if err := os.WriteFile(p, make(virtualauthn.MicrosoftAuthenticatorIOS(ca), virtualauthn.Tamper{UntrustedCA: rogue}), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runInspectOn(t, nil, append(append([]string{}, base[1:]...), p)...)
		for _, want := range []string{
			"format:        packed",
			"AAGUID:        90a3ccdf-635c-4729-a248-9b709135078f (Microsoft Authenticator",
			"UP=1 UV=1 BE=0 BS=0",
			"attestation:   type basic, attested true, trusted false",
			"chain[0]:",
			"result:      attestation_untrusted_root",
			"verdict:       REFUSED (attestationUntrusted)",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, r.stdout)
			}
		}
		if r.code != inspectRefused {
			t.Fatalf("exit %d", r.code)
		}
	})

	good := make(virtualauthn.MicrosoftAuthenticatorIOS(ca), virtualauthn.Tamper{})
	bad := []struct {
		name  string
		input []byte
		args  []string
	}{
		{"not JSON", []byte("hello"), base},
		{"no attestationObject (an assertion)", []byte(`{"id":"x","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`), base},
		{"garbage CBOR", []byte(`{"response":{"clientDataJSON":"e30","attestationObject":"_____w"}}`), base},
		{"missing challenge", good, []string{"-origin", inspectOrigin}},
		{"challenge not base64", good, []string{"-challenge", "!!!"}},
		{"unknown attestation mode", good, append(append([]string{}, base...), "-attestation", "sometimes")},
		{"missing trust anchor file", good, append(append([]string{}, base...), "-trust-anchors", filepath.Join(dir, "nope.pem"))},
		{"missing input file", nil, append(append([]string{}, base...), filepath.Join(dir, "nope.json"))},
	}
	for _, c := range bad {
		t.Run("bad input: "+c.name, func(t *testing.T) {
			r := runInspectOn(t, c.input, c.args...)
			if r.code != inspectBadInput || r.stderr == "" || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}
