package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/config"
)

// Exit codes of `rpserver inspect`, so scripts can branch without parsing.
const (
	inspectAccepted = 0
	inspectRefused  = 1
	inspectBadInput = 2
)

// CodeChallengeMismatch is inspect's own code: the server looks challenges
// up by value, so there it surfaces as ceremony.CodeChallengeNotFound.
const CodeChallengeMismatch = "challengeMismatch"

// maxInspectInput bounds the response file; a real one is a few KiB and the
// server itself refuses bodies above 16 MiB.
const maxInspectInput = 1 << 20

// inspectCheck is one line of the verdict. Code is set when OK is false.
type inspectCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// inspectVerdict is the -json output and what the human output is made from.
type inspectVerdict struct {
	Accepted bool `json:"accepted"`
	// Reason is the stable code of the first failed check: a ceremony code
	// (originMismatch, rpIdMismatch, ...) or an attestation reason
	// (attestation_untrusted_root, ...). Empty when accepted.
	Reason      string             `json:"reason,omitempty"`
	Message     string             `json:"message,omitempty"`
	Attestation attestation.Result `json:"attestation"`
	Flags       map[string]bool    `json:"flags"`
	SignCount   uint32             `json:"signCount"`
	Credential  string             `json:"credentialId"`
	ClientData  inspectClientData  `json:"clientData"`
	Expected    inspectExpected    `json:"expected"`
	Checks      []inspectCheck     `json:"checks"`
	Warnings    []string           `json:"warnings,omitempty"`
}

type inspectClientData struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	Origin    string `json:"origin"`
	RPIDHash  string `json:"rpIdHash"`
}

type inspectExpected struct {
	Challenge   string   `json:"challenge"`
	Origins     []string `json:"origins"`
	RPID        string   `json:"rpId"`
	RPIDHash    string   `json:"rpIdHash"`
	Attestation string   `json:"attestation"`
	UV          bool     `json:"userVerification"`
}

// registrationJSON is the part of PublicKeyCredential.toJSON() inspect needs.
type registrationJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Response struct {
		ClientDataJSON    string `json:"clientDataJSON"`
		AttestationObject string `json:"attestationObject"`
	} `json:"response"`
}

// runInspect is the whole command behind an exit code, so tests call it
// directly instead of running a subprocess.
func runInspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: rpserver inspect [flags] [FILE]

Reads a registration response (the PublicKeyCredential JSON a browser POSTs to
/webauthn/registration/finish) from FILE, or stdin when FILE is absent or "-",
and prints whether this server configuration would accept it, and why not.
Exit status: 0 accepted, 1 refused, 2 bad input.

`)
		fs.PrintDefaults()
	}
	challenge := fs.String("challenge", "", "expected challenge, base64url as in the registration begin options (required)")
	origins := fs.String("origin", envOr("RPSERVER_ORIGINS", "http://localhost:8080"), "allowed origin(s), comma-separated (RPSERVER_ORIGINS)")
	rpID := fs.String("rp-id", envOr("RPSERVER_RP_ID", "localhost"), "expected RP ID (RPSERVER_RP_ID)")
	anchors := fs.String("trust-anchors", os.Getenv("RPSERVER_TRUST_ANCHORS"), "attestation roots: comma-separated PEM files, 'path' or 'AAGUID=path' (RPSERVER_TRUST_ANCHORS)")
	mds := fs.String("mds-blob", os.Getenv("RPSERVER_MDS_BLOB"), "local FIDO MDS3 blob file (RPSERVER_MDS_BLOB)")
	mdsRoot := fs.String("mds-root", os.Getenv("RPSERVER_MDS_ROOT"), "PEM root that signs the MDS blob (RPSERVER_MDS_ROOT)")
	attMode := fs.String("attestation", "required", "required: refuse unattested or untrusted attestation (a passkey profile enforcing attestation); optional: report it only")
	uv := fs.Bool("uv", true, "require the UV flag, as the server's registration does")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	if err := fs.Parse(args); err != nil {
		// -h included: the usage went to stderr and nothing was inspected.
		return inspectBadInput
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "rpserver inspect: "+format+"\n", a...)
		return inspectBadInput
	}
	if fs.NArg() > 1 {
		return bad("at most one input file, got %d", fs.NArg())
	}
	if *attMode != "required" && *attMode != "optional" {
		return bad("-attestation %q: want required or optional", *attMode)
	}
	wantChallenge, err := decodeB64Any(*challenge)
	if *challenge == "" || err != nil {
		return bad("-challenge: want the base64url challenge of the registration begin options")
	}
	if *rpID == "" {
		return bad("-rp-id is empty")
	}
	originList := splitComma(*origins)
	if len(originList) == 0 {
		return bad("-origin is empty")
	}

	var in io.Reader = stdin
	name := "stdin"
	if p := fs.Arg(0); p != "" && p != "-" {
		f, err := os.Open(p)
		if err != nil {
			return bad("%v", err)
		}
		defer f.Close()
		in, name = f, p
	}
	raw, err := io.ReadAll(io.LimitReader(in, maxInspectInput+1))
	if err != nil {
		return bad("reading %s: %v", name, err)
	}
	if len(raw) > maxInspectInput {
		return bad("%s is larger than %d bytes", name, maxInspectInput)
	}
	var cred registrationJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&cred); err != nil {
		return bad("%s is not a PublicKeyCredential JSON: %v", name, err)
	}
	cdj, err := decodeB64Any(cred.Response.ClientDataJSON)
	if err != nil || len(cdj) == 0 {
		return bad("response.clientDataJSON: missing or not base64url")
	}
	attObj, err := decodeB64Any(cred.Response.AttestationObject)
	if err != nil || len(attObj) == 0 {
		return bad("response.attestationObject: missing or not base64url (is this a sign-in assertion rather than a registration?)")
	}

	trust, err := loadTrust(config.Config{TrustAnchors: splitComma(*anchors), MDSBlob: *mds, MDSRoot: *mdsRoot})
	if err != nil {
		return bad("%v", err)
	}
	ins, err := attestation.Inspect(attObj, cdj, trust, time.Now())
	if err != nil {
		return bad("%v", err)
	}
	v := judge(ins, wantChallenge, originList, *rpID, *attMode == "required", *uv)
	v.Credential = ins.CredentialID
	if cred.ID != "" && cred.ID != ins.CredentialID {
		v.Warnings = append(v.Warnings, "the JSON id differs from the credential id in authenticator data")
	}
	if cred.Type != "" && cred.Type != "public-key" {
		v.Warnings = append(v.Warnings, fmt.Sprintf("type is %q, not public-key", cred.Type))
	}
	v.Expected.Challenge = base64.RawURLEncoding.EncodeToString(wantChallenge)

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	} else {
		printVerdict(stdout, v)
	}
	if v.Accepted {
		return inspectAccepted
	}
	return inspectRefused
}

// judge applies the server's registration checks in the server's order
// (client data, authenticator data, then attestation), so the first failure
// is the code the server would have returned.
func judge(ins *attestation.Inspection, challenge []byte, origins []string, rpID string, requireAttestation, requireUV bool) *inspectVerdict {
	rpHash := sha256.Sum256([]byte(rpID))
	v := &inspectVerdict{
		Attestation: ins.Result,
		Flags:       ins.Flags,
		SignCount:   ins.SignCount,
		ClientData: inspectClientData{
			Type: ins.ClientData.Type, Challenge: ins.ClientData.Challenge, Origin: ins.ClientData.Origin, RPIDHash: ins.RPIDHash,
		},
		Expected: inspectExpected{Origins: origins, RPID: rpID, RPIDHash: hex.EncodeToString(rpHash[:]), UV: requireUV,
			Attestation: map[bool]string{true: "required", false: "optional"}[requireAttestation]},
	}
	add := func(name string, ok bool, code, detail string) {
		c := inspectCheck{Name: name, OK: ok, Detail: detail}
		if !ok {
			c.Code = code
			if v.Reason == "" {
				v.Reason, v.Message = code, detail
			}
		}
		v.Checks = append(v.Checks, c)
	}

	add("clientData.type", ins.ClientData.Type == "webauthn.create", ceremony.CodeClientDataTypeMismatch,
		fmt.Sprintf("type is %q, want webauthn.create", ins.ClientData.Type))
	got, err := decodeB64Any(ins.ClientData.Challenge)
	add("challenge", err == nil && bytes.Equal(got, challenge), CodeChallengeMismatch,
		"clientDataJSON.challenge is not the expected challenge (the server reports this as "+ceremony.CodeChallengeNotFound+")")
	originOK := false
	for _, o := range origins {
		originOK = originOK || o == ins.ClientData.Origin
	}
	add("origin", originOK, ceremony.CodeOriginMismatch,
		fmt.Sprintf("origin %q is not one of %s", ins.ClientData.Origin, strings.Join(origins, ", ")))
	add("rpIdHash", ins.RPIDHash == v.Expected.RPIDHash, ceremony.CodeRPIDMismatch,
		fmt.Sprintf("rpIdHash is not SHA-256(%q): the credential was made for another RP ID", rpID))
	add("userPresent", ins.Flags["UP"], ceremony.CodeUserPresenceRequired, "the UP flag is not set")
	if requireUV {
		add("userVerified", ins.Flags["UV"], ceremony.CodeUserVerificationNeeded, "the UV flag is not set; the server requires user verification")
	}
	add("backupFlags", ins.Flags["BE"] || !ins.Flags["BS"], ceremony.CodeInvalidBackupFlags, "BS=1 with BE=0, which WebAuthn forbids")

	r := ins.Result
	switch {
	case r.Trusted:
		add("attestation", true, "", "")
	case r.Attested || r.Reason == attestation.ReasonMissing:
		// The statement is valid; only trust is missing. That is policy:
		// a profile that enforces attestation refuses, others accept.
		if requireAttestation {
			add("attestation", false, r.Reason, r.Message)
		} else {
			add("attestation", true, "", "")
			v.Warnings = append(v.Warnings, "attestation not trusted ("+r.Reason+"): "+r.Message+"; accepted because -attestation=optional")
		}
	default:
		// A statement that does not verify is refused whatever the policy.
		add("attestation", false, r.Reason, r.Message)
	}
	v.Accepted = v.Reason == ""
	return v
}

func printVerdict(w io.Writer, v *inspectVerdict) {
	a := v.Attestation
	model := a.Model
	if model == "" {
		model = "unknown model"
	}
	fmt.Fprintf(w, "format:        %s\n", a.Format)
	fmt.Fprintf(w, "AAGUID:        %s (%s)\n", a.AAGUID, model)
	fmt.Fprintf(w, "flags:         UP=%d UV=%d BE=%d BS=%d  signCount=%d\n", b2i(v.Flags["UP"]), b2i(v.Flags["UV"]), b2i(v.Flags["BE"]), b2i(v.Flags["BS"]), v.SignCount)
	fmt.Fprintf(w, "credential:    %s\n", v.Credential)
	attType := a.AttestationType
	if attType == "" {
		attType = "-"
	}
	fmt.Fprintf(w, "attestation:   type %s, attested %t, trusted %t\n", attType, a.Attested, a.Trusted)
	for i, s := range a.ChainSubjects {
		fmt.Fprintf(w, "  chain[%d]:    %s\n", i, s)
	}
	chain := "trusted"
	if !a.Trusted {
		chain = a.Reason
		if a.Message != "" {
			chain += ": " + a.Message
		}
	}
	fmt.Fprintf(w, "  result:      %s\n", chain)
	fmt.Fprintln(w, "checks:")
	for _, c := range v.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		line := fmt.Sprintf("  %s %-16s", mark, c.Name)
		if !c.OK {
			line += " " + c.Code + ": " + c.Detail
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, s := range v.Warnings {
		fmt.Fprintf(w, "warning:       %s\n", s)
	}
	if v.Accepted {
		fmt.Fprintln(w, "verdict:       ACCEPTED")
	} else {
		fmt.Fprintf(w, "verdict:       REFUSED (%s)\n", v.Reason)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decodeB64Any accepts base64url (what toJSON produces) with or without
// padding, and standard base64, since captures come from many tools.
func decodeB64Any(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
