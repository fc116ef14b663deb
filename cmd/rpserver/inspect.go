package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/go-webauthn/webauthn/protocol"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/methods"
)

// Exit codes of `rpserver inspect`, so scripts can branch without parsing.
const (
	inspectAccepted = 0
	inspectRefused  = 1
	inspectBadInput = 2
)

// maxInspectInput bounds the response file; a real one is a few KiB and the
// server itself refuses bodies above 16 MiB.
const maxInspectInput = 1 << 20

// inspectVerdict is the -json output and what the human output is made from.
type inspectVerdict struct {
	Accepted bool `json:"accepted"`
	// Reason is the stable code the server's registration would have
	// returned (originMismatch, attestationUntrusted, ...); empty when
	// accepted. The attestation finding behind it is attestation.reason.
	Reason      string             `json:"reason,omitempty"`
	Message     string             `json:"message,omitempty"`
	At          string             `json:"judgedAt"`
	Attestation attestation.Result `json:"attestation"`
	Flags       map[string]bool    `json:"flags"`
	SignCount   uint32             `json:"signCount"`
	Credential  string             `json:"credentialId"`
	Algorithm   int64              `json:"credentialAlgorithm"`
	ClientData  inspectClientData  `json:"clientData"`
	Expected    inspectExpected    `json:"expected"`
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
	Algorithms  []int64  `json:"algorithms"`
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
//
// The verdict is the server's: the response goes through
// ceremony.Service.JudgeRegistration, the checks FinishRegistration runs,
// with the server's algorithm policy and a passkey profile that enforces
// attestation or not (-attestation), at the time -at names.
func runInspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: rpserver inspect [flags] [FILE]

Reads a registration response (the PublicKeyCredential JSON a browser POSTs to
/webauthn/registration/finish) from FILE, or stdin when FILE is absent or "-",
and prints whether this server configuration would accept it, and why not.
The verdict comes from the server's own registration checks.
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
	algNames := fs.String("algorithms", envOr("RPSERVER_ALGORITHMS", "ES256,EdDSA,RS256"), "key algorithms the server offers, as for serve (RPSERVER_ALGORITHMS)")
	catalog := fs.String("aaguid-catalog", os.Getenv("RPSERVER_AAGUID_CATALOG"), "JSON file naming authenticators by AAGUID, as for serve (RPSERVER_AAGUID_CATALOG)")
	refuseStale := fs.Bool("mds-refuse-stale", envBool("RPSERVER_MDS_REFUSE_STALE"), "refuse trust resting on an MDS blob past its nextUpdate (RPSERVER_MDS_REFUSE_STALE)")
	attMode := fs.String("attestation", "required", "required: a passkey profile enforcing attestation (refuse unattested or untrusted); optional: report it only")
	uv := fs.Bool("uv", true, "require the UV flag, as the server's registration does")
	at := fs.String("at", "", "judge as of this RFC 3339 time (default now), e.g. when the response was captured: certificate validity and the MDS blob are evaluated then")
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
	algs, err := ceremony.ParseAlgorithms(splitComma(*algNames))
	if err != nil || len(algs) == 0 {
		return bad("-algorithms %q: want ES256, EdDSA and/or RS256", *algNames)
	}
	when := time.Now()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return bad("-at %q: want an RFC 3339 time such as 2025-01-30T23:59:59Z", *at)
		}
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
	if err := json.Unmarshal(raw, &cred); err != nil {
		return bad("%s is not a PublicKeyCredential JSON: %v", name, err)
	}
	if cred.Response.AttestationObject == "" {
		return bad("response.attestationObject is missing (is this a sign-in assertion rather than a registration?)")
	}

	trust, err := buildTrust(config.Config{TrustAnchors: splitComma(*anchors), MDSBlob: *mds, MDSRoot: *mdsRoot, MDSRefuseStale: *refuseStale, AAGUIDCatalog: *catalog}, when)
	if err != nil {
		return bad("%v", err)
	}
	svc, err := ceremony.New(ceremony.Config{RPID: *rpID, Origins: originList, Trust: trust, Algorithms: algs}, nil, nil, nil)
	if err != nil {
		return bad("%v", err)
	}
	reg, err := svc.JudgeRegistration(context.Background(), raw, ceremony.Judgement{
		Challenge: wantChallenge,
		User:      ceremony.UserInfo{ID: "00000000-0000-0000-0000-000000000000", Name: "inspect", DisplayName: "inspect", Enabled: true},
		At:        when,
		RequireUV: *uv,
		Gate:      methods.OneProfileGate(*attMode == "required"),
	})
	rpHash := sha256.Sum256([]byte(*rpID))
	v := &inspectVerdict{
		At:          when.UTC().Format(time.RFC3339),
		Attestation: reg.Attestation,
		Expected: inspectExpected{Challenge: base64.RawURLEncoding.EncodeToString(wantChallenge), Origins: originList, RPID: *rpID,
			RPIDHash: hex.EncodeToString(rpHash[:]), UV: *uv, Attestation: *attMode, Algorithms: algs},
	}
	if err != nil {
		e, ok := apperr.As(err)
		if !ok {
			return bad("%v", err)
		}
		if e.Code == ceremony.CodeMalformedCredential {
			return bad("%s: %s", name, e.Message)
		}
		v.Reason, v.Message = e.Code, e.Message
	}
	v.Accepted = err == nil
	describe(v, raw)
	if cred.ID != "" && v.Credential != "" && cred.ID != v.Credential {
		v.Warnings = append(v.Warnings, "the JSON id differs from the credential id in authenticator data")
	}
	if !reg.Attestation.Trusted && v.Accepted && reg.Attestation.Reason != "" {
		v.Warnings = append(v.Warnings, "attestation not trusted ("+reg.Attestation.Reason+"): "+reg.Attestation.Message+"; accepted because -attestation=optional")
	}

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

// describe fills in what the response says about itself, for the report
// only: the verdict never depends on it. It uses the library's parser, the
// one the server uses, so it can only describe what the server parsed.
func describe(v *inspectVerdict, raw []byte) {
	parsed, err := protocol.ParseCredentialCreationResponseBytes(raw)
	if err != nil {
		return
	}
	cd := parsed.Response.CollectedClientData
	ad := parsed.Response.AttestationObject.AuthData
	f := ad.Flags
	v.Flags = map[string]bool{"UP": f.HasUserPresent(), "UV": f.HasUserVerified(), "BE": f.HasBackupEligible(), "BS": f.HasBackupState(), "AT": f.HasAttestedCredentialData(), "ED": f.HasExtensions()}
	v.SignCount = ad.Counter
	v.Credential = base64.RawURLEncoding.EncodeToString(ad.AttData.CredentialID)
	v.ClientData = inspectClientData{Type: string(cd.Type), Challenge: cd.Challenge, Origin: cd.Origin, RPIDHash: hex.EncodeToString(ad.RPIDHash)}
	var k struct {
		Alg int64 `cbor:"3,keyasint"`
	}
	if cbor.Unmarshal(ad.AttData.CredentialPublicKey, &k) == nil {
		v.Algorithm = k.Alg
	}
	if v.Attestation.Format == "" {
		v.Attestation.Format = parsed.Response.AttestationObject.Format
	}
}

func printVerdict(w io.Writer, v *inspectVerdict) {
	a := v.Attestation
	model := a.Model
	if model == "" {
		model = "unknown model"
	}
	fmt.Fprintf(w, "judged at:     %s\n", v.At)
	fmt.Fprintf(w, "format:        %s\n", a.Format)
	fmt.Fprintf(w, "AAGUID:        %s (%s)\n", a.AAGUID, model)
	fmt.Fprintf(w, "flags:         UP=%d UV=%d BE=%d BS=%d  signCount=%d\n", b2i(v.Flags["UP"]), b2i(v.Flags["UV"]), b2i(v.Flags["BE"]), b2i(v.Flags["BS"]), v.SignCount)
	fmt.Fprintf(w, "credential:    %s (COSE alg %d)\n", v.Credential, v.Algorithm)
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
	if chain == "" {
		chain = "not evaluated"
	}
	fmt.Fprintf(w, "  result:      %s\n", chain)
	for _, s := range v.Warnings {
		fmt.Fprintf(w, "warning:       %s\n", s)
	}
	if v.Accepted {
		fmt.Fprintln(w, "verdict:       ACCEPTED")
	} else {
		fmt.Fprintf(w, "verdict:       REFUSED (%s): %s\n", v.Reason, v.Message)
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

func envBool(k string) bool {
	b, _ := strconv.ParseBool(os.Getenv(k))
	return b
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
