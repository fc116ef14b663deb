package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/virtualauthn"
)

// lab is a server trusting a test CA, with one user holding a session.
type lab struct {
	*env
	ca      *virtualauthn.TestCA
	userID  string
	upn     string
	session string
}

func newLab(t *testing.T) *lab {
	e := newEnv(t)
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	trust := attestation.NewTrustStore()
	if err := trust.AddPEM(uuid.Nil, ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	e.srv = e.newServer(trust)
	l := &lab{env: e, ca: ca, upn: "admin1@lab.example"}
	u := e.do("POST", "/v1.0/users", e.token(directory.RoleGlobalAdministrator), `{"userPrincipalName":"`+l.upn+`","displayName":"Admin One"}`)
	if u.status != 201 {
		t.Fatal(u.raw)
	}
	l.userID = u.body["id"].(string)
	l.session = l.sessionFor(l.userID)
	return l
}

func (l *lab) sessionFor(userID string) string {
	tok, err := l.issuer.Mint(tokens.Claims{AMR: []string{"temporaryAccessPassOneTime"}, Data: signin.PortalSessionData(policy.ModeTemporaryAccessPassOneTime)}.WithSubject(userID), tokens.AudienceSession, time.Hour)
	if err != nil {
		l.t.Fatal(err)
	}
	return tok
}

func (l *lab) authenticator(cfg virtualauthn.Config) *virtualauthn.Authenticator {
	a, err := virtualauthn.New(cfg)
	if err != nil {
		l.t.Fatal(err)
	}
	return a
}

// register runs both halves of a registration, optionally tampering.
func (l *lab) register(a *virtualauthn.Authenticator, name string, tamper virtualauthn.Tamper) resp {
	l.t.Helper()
	begin := l.do("POST", "/webauthn/registration/begin", l.session, `{"displayName":"`+name+`"}`)
	if begin.status != 200 {
		l.t.Fatalf("registration begin: %s", begin.raw)
	}
	cred, err := a.CreateTampered([]byte(begin.raw), testOrigin, tamper)
	if err != nil {
		l.t.Fatalf("authenticator create: %v", err)
	}
	return l.do("POST", "/webauthn/registration/finish", l.session, string(cred))
}

func (l *lab) beginLogin(srv *httptest.Server, upn string) string {
	l.t.Helper()
	body := ""
	if upn != "" {
		body = `{"userPrincipalName":"` + upn + `"}`
	}
	begin := l.doOn(srv, "POST", "/webauthn/authentication/begin", "", body)
	if begin.status != 200 {
		l.t.Fatalf("login begin: %s", begin.raw)
	}
	return begin.raw
}

func (l *lab) login(a *virtualauthn.Authenticator, upn string, tamper virtualauthn.Tamper) resp {
	l.t.Helper()
	opts := l.beginLogin(l.srv, upn)
	assertion, err := a.GetTampered([]byte(opts), testOrigin, tamper)
	if err != nil {
		l.t.Fatalf("authenticator get: %v", err)
	}
	return l.do("POST", "/webauthn/authentication/finish", "", string(assertion))
}

func TestRegisterAndSignInWithEveryPreset(t *testing.T) {
	l := newLab(t)
	presets := map[string]virtualauthn.Config{
		"Microsoft Authenticator iOS":     virtualauthn.MicrosoftAuthenticatorIOS(l.ca),
		"Microsoft Authenticator Android": virtualauthn.MicrosoftAuthenticatorAndroid(l.ca),
		"YubiKey 5":                       withResidentKey(virtualauthn.YubiKey5(l.ca)),
		"Google Password Manager":         virtualauthn.GooglePasswordManager(),
		"YubiKey 5, EdDSA key":            withAlgorithms(withResidentKey(virtualauthn.YubiKey5(l.ca)), virtualauthn.AlgEdDSA),
		"RS256-only platform key":         withAlgorithms(virtualauthn.GooglePasswordManager(), virtualauthn.AlgRS256),
	}
	for name, cfg := range presets {
		t.Run(name, func(t *testing.T) {
			a := l.authenticator(cfg)
			reg := l.register(a, name, virtualauthn.Tamper{})
			if reg.status != 201 {
				t.Fatalf("register: %d %s", reg.status, reg.raw)
			}
			att := reg.body["attestation"].(map[string]any)
			if reg.body["displayName"] != name || reg.body["aaGuid"] != cfg.AAGUID.String() {
				t.Fatalf("method: %s", reg.raw)
			}
			wantType := "deviceBound"
			if cfg.BackupEligible {
				wantType = "synced"
			}
			if reg.body["passkeyType"] != wantType {
				t.Fatalf("passkeyType %v, want %s", reg.body["passkeyType"], wantType)
			}
			if cfg.Format == virtualauthn.FormatNone {
				if att["trusted"] != false || att["reason"] != attestation.ReasonMissing {
					t.Fatalf("unattested passkey reported as %v", att)
				}
			} else if att["trusted"] != true || reg.body["attestationLevel"] != "attested" {
				t.Fatalf("attested passkey reported as %v", att)
			}

			// UPN-first and discoverable sign-in both work.
			for _, upn := range []string{l.upn, ""} {
				res := l.login(a, upn, virtualauthn.Tamper{})
				if res.status != 200 || res.body["userId"] != l.userID || res.body["sessionToken"] == "" {
					t.Fatalf("sign-in (upn %q): %d %s", upn, res.status, res.raw)
				}
			}
		})
	}
}

func withAlgorithms(c virtualauthn.Config, algs ...int) virtualauthn.Config {
	c.Algorithms = algs
	return c
}

// TestAuthenticatorCatalog: names and icons by AAGUID for the pages, and
// fido2Methods' model from the same catalog.
func TestAuthenticatorCatalog(t *testing.T) {
	l := newLab(t)
	got := l.do("GET", "/webauthn/authenticators/bada5566-a7aa-401f-bd96-45619a55120d", "", "")
	if got.status != 200 || got.body["name"] != "1Password" || got.body["source"] != attestation.SourceCommunity {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	if icon, _ := got.body["iconDark"].(string); !strings.HasPrefix(icon, "data:image/svg+xml;base64,") {
		t.Fatalf("icon %q", icon)
	}
	if got := l.do("GET", "/webauthn/authenticators/00000000-0000-0000-0000-000000000001", "", ""); got.status != 404 || got.body["error"].(map[string]any)["code"] != "authenticatorNotInCatalog" {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	if got := l.do("GET", "/webauthn/authenticators/nope", "", ""); got.status != 400 || got.body["error"].(map[string]any)["code"] != "invalidAaguid" {
		t.Fatalf("%d %s", got.status, got.raw)
	}
	reg := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca)), "", virtualauthn.Tamper{})
	if reg.status != 201 || reg.body["model"] != "Microsoft Authenticator (iOS)" || reg.body["displayName"] != "Microsoft Authenticator (iOS)" {
		t.Fatalf("%d %s", reg.status, reg.raw)
	}
}

// TestSignalState: what the pages give the Signal API, before and after a
// deletion.
func TestSignalState(t *testing.T) {
	l := newLab(t)
	a := l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca))
	reg := l.register(a, "phone", virtualauthn.Tamper{})
	if reg.status != 201 {
		t.Fatalf("%d %s", reg.status, reg.raw)
	}
	st := l.do("GET", "/me/webauthn/signals", l.session, "")
	ids, _ := st.body["allAcceptedCredentialIds"].([]any)
	if st.status != 200 || st.body["rpId"] != "localhost" || st.body["name"] != l.upn || st.body["displayName"] != "Admin One" ||
		st.body["userId"] == "" || len(ids) != 1 {
		t.Fatalf("%d %s", st.status, st.raw)
	}
	if del := l.do("DELETE", "/me/authentication/fido2Methods/"+reg.body["id"].(string), l.session, ""); del.status != 204 {
		t.Fatalf("%d %s", del.status, del.raw)
	}
	if st := l.do("GET", "/me/webauthn/signals", l.session, ""); st.status != 200 || len(st.body["allAcceptedCredentialIds"].([]any)) != 0 {
		t.Fatalf("%d %s", st.status, st.raw)
	}
	if st := l.do("GET", "/me/webauthn/signals", "", ""); st.status != 401 {
		t.Fatalf("without a session: %d %s", st.status, st.raw)
	}
}

// TestRelatedOrigins: /.well-known/webauthn lists every origin of the RP
// ID, and a ceremony from a related origin is accepted; another is not.
func TestRelatedOrigins(t *testing.T) {
	l := newLab(t)
	doc := l.do("GET", "/.well-known/webauthn", "", "")
	origins, _ := doc.body["origins"].([]any)
	if doc.status != 200 || len(origins) != 2 || origins[0] != testOrigin || origins[1] != testRelatedOrigin {
		t.Fatalf("%d %s", doc.status, doc.raw)
	}
	a := l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca))
	if reg := l.register(a, "related", virtualauthn.Tamper{Origin: testRelatedOrigin}); reg.status != 201 {
		t.Fatalf("registration from the related origin: %d %s", reg.status, reg.raw)
	}
	if reg := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca)), "other", virtualauthn.Tamper{Origin: "https://evil.example"}); reg.status != 400 || reg.body["error"].(map[string]any)["code"] != "originMismatch" {
		t.Fatalf("registration from another origin: %d %s", reg.status, reg.raw)
	}
}

// TestRegistrationHintsFollowThePasskeyProfile: a tenant whose profile
// allows device-bound passkeys only hints security keys, then hybrid, and
// does not turn the hint into an attachment restriction.
func TestRegistrationHintsFollowThePasskeyProfile(t *testing.T) {
	l := newLab(t)
	begin := l.do("POST", "/webauthn/registration/begin", l.session, `{}`)
	if begin.status != 200 {
		t.Fatalf("%d %s", begin.status, begin.raw)
	}
	pk := begin.body["publicKey"].(map[string]any)
	if _, ok := pk["hints"]; ok {
		t.Fatalf("open gate (no policy) hints: %s", begin.raw)
	}
	algs := []any{}
	for _, p := range pk["pubKeyCredParams"].([]any) {
		algs = append(algs, p.(map[string]any)["alg"])
	}
	if len(algs) != 3 || algs[0] != float64(-7) || algs[1] != float64(-8) || algs[2] != float64(-257) {
		t.Fatalf("pubKeyCredParams %v", algs)
	}
	if ext, _ := pk["extensions"].(map[string]any); ext["credProps"] != true {
		t.Fatalf("credProps not requested: %s", begin.raw)
	}

	// The legacy FIDO2 policy allows device-bound passkeys only.
	if r := l.do("PATCH", "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2",
		l.token(directory.RoleAuthenticationPolicyAdministrator), `{"state":"enabled"}`); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	begin = l.do("POST", "/webauthn/registration/begin", l.session, `{}`)
	pk = begin.body["publicKey"].(map[string]any)
	hints, _ := pk["hints"].([]any)
	if len(hints) != 2 || hints[0] != "security-key" || hints[1] != "hybrid" {
		t.Fatalf("hints %v", pk["hints"])
	}
	if sel, _ := pk["authenticatorSelection"].(map[string]any); sel["authenticatorAttachment"] != nil {
		t.Fatalf("a hint became an attachment restriction: %v", sel)
	}
}

func withResidentKey(c virtualauthn.Config) virtualauthn.Config {
	c.ResidentKey = true
	return c
}

// TestChallengeSpansServers: begin on one server, finish on another sharing
// the database; then the same response replayed is refused.
func TestChallengeSpansServersAndIsSingleUse(t *testing.T) {
	l := newLab(t)
	a := l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca))
	if r := l.register(a, "phone", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	other := l.newServer(nil)
	opts := l.beginLogin(l.srv, l.upn)
	assertion, err := a.Get([]byte(opts), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.doOn(other, "POST", "/webauthn/authentication/finish", "", string(assertion)); r.status != 200 {
		t.Fatalf("finish on the second server: %s", r.raw)
	}
	if r := l.doOn(l.srv, "POST", "/webauthn/authentication/finish", "", string(assertion)); r.status != 400 || r.code() != ceremony.CodeChallengeNotFound {
		t.Fatalf("replay: %d %s", r.status, r.raw)
	}
}

func TestCeremonyRefusalsHaveStableCodes(t *testing.T) {
	l := newLab(t)
	key := l.authenticator(withResidentKey(virtualauthn.YubiKey5(l.ca)))
	if r := l.register(key, "key", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	zero := uint32(0)
	cases := []struct {
		name   string
		tamper virtualauthn.Tamper
		status int
		code   string
	}{
		{"wrong origin", virtualauthn.Tamper{Origin: "https://evil.example"}, 400, ceremony.CodeOriginMismatch},
		{"wrong RP ID", virtualauthn.Tamper{RPID: "evil.example"}, 400, ceremony.CodeRPIDMismatch},
		{"no user presence", virtualauthn.Tamper{NoUserPresence: true}, 400, ceremony.CodeUserPresenceRequired},
		{"no user verification", virtualauthn.Tamper{NoUserVerification: true}, 400, ceremony.CodeUserVerificationNeeded},
		{"BS without BE", virtualauthn.Tamper{BSWithoutBE: true}, 400, ceremony.CodeInvalidBackupFlags},
		{"bad signature", virtualauthn.Tamper{CorruptSignature: true}, 400, ceremony.CodeSignatureInvalid},
		{"unknown challenge", virtualauthn.Tamper{Challenge: []byte("never-issued-challenge-0123456789")}, 400, ceremony.CodeChallengeNotFound},
		{"counter regression", virtualauthn.Tamper{SignCount: &zero}, 401, ceremony.CodeSignCountRegression},
	}
	for _, c := range cases {
		// The counter case must come after a successful sign-in advanced it.
		if r := l.login(key, l.upn, virtualauthn.Tamper{}); r.status != 200 && c.code != ceremony.CodeSignCountRegression {
			t.Fatalf("%s: baseline sign-in failed: %s", c.name, r.raw)
		}
		r := l.login(key, l.upn, c.tamper)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
	// After a regression the key is blocked, even with a good counter.
	if r := l.login(key, l.upn, virtualauthn.Tamper{}); r.status != 401 || r.code() != ceremony.CodeCloneSuspected {
		t.Fatalf("cloned key still usable: %d %s", r.status, r.raw)
	}
}

func TestClonedKeyIsCaught(t *testing.T) {
	l := newLab(t)
	original := l.authenticator(withResidentKey(virtualauthn.YubiKey5(l.ca)))
	if r := l.register(original, "key", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	clone := original.Clone()
	if r := l.login(original, l.upn, virtualauthn.Tamper{}); r.status != 200 {
		t.Fatal(r.raw)
	}
	// The clone's counter lags the original's: its next assertion repeats a value.
	if r := l.login(clone, l.upn, virtualauthn.Tamper{}); r.code() != ceremony.CodeSignCountRegression {
		t.Fatalf("clone accepted: %d %s", r.status, r.raw)
	}
}

func TestExpiredChallengeAndUnknownCredential(t *testing.T) {
	l := newLab(t)
	a := l.authenticator(virtualauthn.MicrosoftAuthenticatorAndroid(l.ca))
	if r := l.register(a, "android", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	opts := l.beginLogin(l.srv, l.upn)
	assertion, _ := a.Get([]byte(opts), testOrigin)
	l.ceremony.Now = func() time.Time { return time.Now().Add(6 * time.Minute) }
	if r := l.do("POST", "/webauthn/authentication/finish", "", string(assertion)); r.code() != ceremony.CodeChallengeExpired {
		t.Fatalf("expired: %d %s", r.status, r.raw)
	}
	l.ceremony.Now = time.Now

	stranger := l.authenticator(virtualauthn.MicrosoftAuthenticatorAndroid(l.ca))
	// The stranger registers with another RP's session, then signs in here.
	other := newLab(t)
	if r := other.register(stranger, "elsewhere", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	opts = l.beginLogin(l.srv, "")
	assertion, err := stranger.Get([]byte(opts), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.do("POST", "/webauthn/authentication/finish", "", string(assertion)); r.status != 401 || r.code() != ceremony.CodeUnknownCredential {
		t.Fatalf("unknown credential: %d %s", r.status, r.raw)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	l := newLab(t)
	rogue, _ := virtualauthn.NewTestCA()
	cases := []struct {
		name   string
		cfg    virtualauthn.Config
		tamper virtualauthn.Tamper
		status int
		code   string
	}{
		{"bad attestation signature", virtualauthn.MicrosoftAuthenticatorIOS(l.ca), virtualauthn.Tamper{CorruptSignature: true}, 400, ceremony.CodeAttestationInvalid},
		{"wrong android challenge", virtualauthn.MicrosoftAuthenticatorAndroid(l.ca), virtualauthn.Tamper{WrongAndroidChallenge: true}, 400, ceremony.CodeAttestationInvalid},
		{"wrong origin", virtualauthn.MicrosoftAuthenticatorIOS(l.ca), virtualauthn.Tamper{Origin: "http://localhost:9999"}, 400, ceremony.CodeOriginMismatch},
		{"no UV", virtualauthn.MicrosoftAuthenticatorIOS(l.ca), virtualauthn.Tamper{NoUserVerification: true}, 400, ceremony.CodeUserVerificationNeeded},
	}
	for _, c := range cases {
		r := l.register(l.authenticator(c.cfg), c.name, c.tamper)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
	// Untrusted root: the open gate accepts it, but the report says why it is not trusted.
	r := l.register(l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca)), "rogue", virtualauthn.Tamper{UntrustedCA: rogue})
	if r.status != 201 || r.body["attestation"].(map[string]any)["reason"] != attestation.ReasonUntrustedRoot || r.body["attestationLevel"] != "notAttested" {
		t.Fatalf("untrusted root: %s", r.raw)
	}
	// No session, no registration.
	if r := l.do("POST", "/webauthn/registration/begin", "", ""); r.status != 401 {
		t.Fatalf("registration without session: %d", r.status)
	}
	// The same credential twice.
	a := l.authenticator(virtualauthn.GooglePasswordManager())
	first := l.register(a, "gpm", virtualauthn.Tamper{})
	if first.status != 201 {
		t.Fatal(first.raw)
	}
	var methods []any
	_ = json.Unmarshal([]byte("[]"), &methods)
}

// TestAuthenticatorCatalogList: the AAGUID picker's list, by name or
// AAGUID prefix, bounded, with every refusal coded.
func TestAuthenticatorCatalogList(t *testing.T) {
	l := newLab(t)
	cases := []struct {
		name, query string
		status      int
		code        string
		want        []string // names in order, when set
		minCount    int
	}{
		{"Microsoft Authenticator by name", "?search=microsoft%20authenticator", 200, "", []string{"Microsoft Authenticator (Android)", "Microsoft Authenticator (iOS)"}, 2},
		{"by AAGUID prefix", "?search=90a3ccdf", 200, "", []string{"Microsoft Authenticator (iOS)"}, 1},
		{"no match", "?search=no-such-model", 200, "", []string{}, 0},
		{"everything, first page", "?top=5", 200, "", nil, 50},
		{"top too large", "?top=26", 400, "BadRequest", nil, 0},
		{"top given twice", "?top=5&top=25", 400, "BadRequest", nil, 0},
		{"top not a number", "?top=x", 400, "BadRequest", nil, 0},
		{"search too long", "?search=" + strings.Repeat("a", 101), 400, "BadRequest", nil, 0},
		{"unknown parameter", "?filter=x", 400, "BadRequest", nil, 0},
	}
	for _, c := range cases {
		got := l.do("GET", "/webauthn/authenticators"+c.query, "", "")
		if got.status != c.status {
			t.Errorf("%s: %d %s", c.name, got.status, got.raw)
			continue
		}
		if c.code != "" {
			if code := got.body["error"].(map[string]any)["code"]; code != c.code {
				t.Errorf("%s: code %v", c.name, code)
			}
			continue
		}
		var names []string
		for _, v := range got.body["value"].([]any) {
			names = append(names, v.(map[string]any)["name"].(string))
		}
		if c.want != nil && strings.Join(names, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: names %q, want %q", c.name, names, c.want)
		}
		if n := int(got.body["count"].(float64)); n < c.minCount || len(names) > n {
			t.Errorf("%s: count %d, listed %d", c.name, n, len(names))
		}
	}
	// Icons come along where the catalog has them (the community list's).
	got := l.do("GET", "/webauthn/authenticators?search=1password", "", "")
	if v := got.body["value"].([]any); len(v) != 1 || !strings.HasPrefix(v[0].(map[string]any)["iconLight"].(string), "data:image/") {
		t.Errorf("1Password: %s", got.raw)
	}
}
