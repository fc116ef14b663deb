package authenticatorapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// client drives one user at rpserver through the service, as the shell
// script does, so the tamper knobs can be checked against the server's
// stable codes.
type client struct {
	t             *testing.T
	authn, rp     string
	origin, admin string
	auth, upn     string
	credID        string
}

func newClient(t *testing.T, authn, rp, origin, admin, preset string, n int) *client {
	c := &client{t: t, authn: authn, rp: rp, origin: origin, admin: admin, upn: fmt.Sprintf("tamper-%d@lab.example", n)}
	var a struct{ ID string }
	call(t, "POST", authn+"/authenticators", "", `{"preset":"`+preset+`"}`, 201, &a)
	c.auth = a.ID
	var u struct{ ID string }
	call(t, "POST", rp+"/v1.0/users", admin, `{"userPrincipalName":"`+c.upn+`","displayName":"t","accountEnabled":true}`, 201, &u)
	var tap struct {
		Pass string `json:"temporaryAccessPass"`
	}
	call(t, "POST", rp+"/v1.0/users/"+u.ID+"/authentication/temporaryAccessPassMethods", admin, `{}`, 201, &tap)
	var s struct {
		Token string `json:"sessionToken"`
	}
	call(t, "POST", rp+"/signin/tap", "", `{"userPrincipalName":"`+c.upn+`","temporaryAccessPass":"`+tap.Pass+`"}`, 200, &s)
	opts := call(t, "POST", rp+"/webauthn/registration/begin", s.Token, `{}`, 200, nil)
	cred := c.ceremony("create", opts, "")
	var id struct{ ID string }
	_ = json.Unmarshal(cred, &id)
	c.credID = id.ID
	call(t, "POST", rp+"/webauthn/registration/finish", s.Token, string(cred), 201, nil)
	return c
}

func (c *client) ceremony(kind string, options []byte, tamper string) []byte {
	if tamper == "" {
		tamper = "null"
	}
	body := fmt.Sprintf(`{"options":%s,"origin":%q,"tamper":%s}`, options, c.origin, tamper)
	return call(c.t, "POST", c.authn+"/authenticators/"+c.auth+"/"+kind, "", body, 200, nil)
}

// signIn returns the RP's status and error code ("" on success).
func (c *client) signIn(tamper string) (int, string) {
	opts := call(c.t, "POST", c.rp+"/webauthn/authentication/begin", "", `{"userPrincipalName":"`+c.upn+`"}`, 200, nil)
	assertion := c.ceremony("get", opts, tamper)
	res, err := http.Post(c.rp+"/webauthn/authentication/finish", "application/json", strings.NewReader(string(assertion)))
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Error struct{ Code string }
	}
	_ = json.NewDecoder(res.Body).Decode(&env)
	return res.StatusCode, env.Error.Code
}

func TestTamperKnobsAgainstRPServer(t *testing.T) {
	authn, ca := authnService(t)
	srv, admin := rpserver(t, ca)
	origin := srv.Config.Origins[0]
	for i, tc := range []struct {
		preset, tamper, code string
	}{
		{"yubikey", `{"badSignature":true}`, "signatureInvalid"},
		{"yubikey", `{"origin":"https://evil.example"}`, "originMismatch"},
		{"yubikey", `{"rpId":"evil.example"}`, "rpIdMismatch"},
		{"yubikey", `{"counterRollback":true}`, "signCountRegression"},
		{"yubikey", `{"flipBackupEligible":true}`, "backupEligibilityChanged"},
		{"synced", `{"flipBackupEligible":true}`, "invalidBackupFlags"}, // BS without BE
		{"ms-ios", `{"noUserVerification":true}`, "userVerificationRequired"},
	} {
		c := newClient(t, authn.URL, srv.URL, origin, admin, tc.preset, i)
		if status, code := c.signIn(""); status != 200 {
			t.Fatalf("%s: untampered sign-in %d %s", tc.preset, status, code)
		}
		if status, code := c.signIn(tc.tamper); code != tc.code {
			t.Errorf("%s %s: got %d %q, want %s", tc.preset, tc.tamper, status, code, tc.code)
		}
	}

	// The service's own refusals, each with a stable code.
	c := newClient(t, authn.URL, srv.URL, origin, admin, "ms-android", 99)
	opts := call(t, "POST", srv.URL+"/webauthn/authentication/begin", "", `{"userPrincipalName":"`+c.upn+`"}`, 200, nil)
	for name, tc := range map[string]struct {
		method, path, body string
		status             int
		code               string
	}{
		"unknown preset":   {"POST", "/authenticators", `{"preset":"nokia"}`, 400, "unknownPreset"},
		"unknown field":    {"POST", "/authenticators", `{"preset":"synced","colour":"red"}`, 400, "invalidRequest"},
		"no options":       {"POST", "/authenticators/" + c.auth + "/get", `{"origin":"` + origin + `"}`, 400, "optionsRequired"},
		"no origin":        {"POST", "/authenticators/" + c.auth + "/get", `{"options":` + string(opts) + `}`, 400, "originRequired"},
		"misspelt tamper":  {"POST", "/authenticators/" + c.auth + "/get", `{"options":` + string(opts) + `,"origin":"` + origin + `","tamper":{"badSig":true}}`, 400, "invalidRequest"},
		"tamper on create": {"POST", "/authenticators/" + c.auth + "/create", `{"options":{},"origin":"` + origin + `","tamper":{"counterRollback":true}}`, 400, "invalidTamper"},
		"no such one":      {"GET", "/authenticators/nope", "", 404, "authenticatorNotFound"},
		"no credential":    {"DELETE", "/authenticators/" + c.auth + "/credentials/AAAA", "", 404, "credentialNotFound"},
		"excluded":         {"POST", "/authenticators/" + c.auth + "/create", excludeOptions(c.credID), 409, "InvalidStateError"},
	} {
		raw := call(t, tc.method, authn.URL+tc.path, "", tc.body, tc.status, nil)
		if !strings.Contains(string(raw), `"code":"`+tc.code+`"`) {
			t.Errorf("%s: %s", name, raw)
		}
	}
	var list struct {
		Value []struct {
			ID          string
			Credentials int `json:"credentialCount"`
		}
	}
	call(t, "GET", authn.URL+"/authenticators", "", "", 200, &list)
	if len(list.Value) != 8 || list.Value[7].ID != c.auth || list.Value[7].Credentials != 1 {
		t.Fatalf("list %+v", list.Value)
	}
	call(t, "DELETE", authn.URL+"/authenticators/"+c.auth, "", "", 204, nil)
	call(t, "GET", authn.URL+"/authenticators/"+c.auth, "", "", 404, nil)
	if pem := call(t, "GET", authn.URL+"/ca.pem", "", "", 200, nil); string(pem) != string(ca.RootPEM()) {
		t.Fatal("ca.pem is not the attestation root")
	}
}

// excludeOptions are creation options that exclude the credential the
// authenticator already holds for localhost.
func excludeOptions(credID string) string {
	return `{"options":{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"localhost","name":"x"},
		"user":{"id":"AAAA","name":"u","displayName":"u"},"pubKeyCredParams":[{"type":"public-key","alg":-7}],
		"excludeCredentials":[{"type":"public-key","id":"` + credID + `"}]}},"origin":"http://localhost"}`
}
