package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/attestation/conformance"
	"github.com/rpserver/rpserver/internal/ceremony"
)

// TestInspectConformance runs every case of the attestation conformance
// suite through `rpserver inspect`, which must reach the verdict the server
// reaches (internal/ceremony's TestAttestationConformance).
func TestInspectConformance(t *testing.T) {
	for _, k := range []string{"RPSERVER_ORIGINS", "RPSERVER_RP_ID", "RPSERVER_TRUST_ANCHORS", "RPSERVER_MDS_BLOB", "RPSERVER_MDS_ROOT"} {
		t.Setenv(k, "")
	}
	vectors, err := conformance.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	anchorFile := func(name string) string {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		b, err := conformance.AnchorPEM(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, v := range vectors {
		for _, c := range v.Cases {
			t.Run(v.File+"/"+c.Name, func(t *testing.T) {
				body, err := v.Response(c)
				if err != nil {
					t.Fatal(err)
				}
				challenge, err := v.Challenge()
				if err != nil {
					t.Fatal(err)
				}
				at, err := v.When(c)
				if err != nil {
					t.Fatal(err)
				}
				var anchors []string
				for _, a := range c.Anchors {
					anchors = append(anchors, anchorFile(a))
				}
				args := []string{"-json", "-challenge", base64.RawURLEncoding.EncodeToString(challenge), "-origin", v.Origin, "-rp-id", v.RPID,
					"-trust-anchors", strings.Join(anchors, ","), "-attestation", c.Attestation, "-uv=" + strconv.FormatBool(c.RequireUV),
					"-at", at.UTC().Format("2006-01-02T15:04:05Z07:00")}
				var out, errb bytes.Buffer
				code := runInspect(args, bytes.NewReader(body), &out, &errb)
				var got conformance.Expect
				switch code {
				case inspectBadInput:
					// inspect refuses what the server's parser refuses as bad input.
					if !strings.Contains(errb.String(), "malformed") {
						t.Fatalf("bad input: %s", errb.String())
					}
					got.Code = ceremony.CodeMalformedCredential
				default:
					var verdict inspectVerdict
					if err := json.Unmarshal(out.Bytes(), &verdict); err != nil {
						t.Fatalf("%v\n%s", err, out.String())
					}
					got = conformance.Expect{Accepted: verdict.Accepted, Code: verdict.Reason, AttestationReason: verdict.Attestation.Reason}
					if verdict.Accepted {
						got.AttestationType, got.Trusted = verdict.Attestation.AttestationType, verdict.Attestation.Trusted
					}
					if verdict.Accepted != (code == inspectAccepted) {
						t.Fatalf("exit %d for verdict %+v", code, verdict)
					}
				}
				if got != c.Expect {
					t.Errorf("%s\n got  %+v\n want %+v", c.Why, got, c.Expect)
				}
			})
		}
	}
}
