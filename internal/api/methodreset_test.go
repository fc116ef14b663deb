package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/directory"
)

// TestMethodConfigurationReset is Graph's DELETE of the FIDO2 and TAP
// configurations: 204, and the configuration reads as Entra's default
// again (passkey profiles included), audited as a reset.
func TestMethodConfigurationReset(t *testing.T) {
	e := newEnv(t)
	apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
	reader := e.token(directory.RoleGlobalReader)
	const configs = "/beta/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"
	for _, tc := range []struct {
		id, patch string
	}{
		{"fido2", `{"state":"enabled","defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001"}`},
		{"temporaryAccessPass", `{"state":"enabled","defaultLifetimeInMinutes":120,"includeTargets":[{"id":"all_users","targetType":"group","isRegistrationRequired":false}]}`},
	} {
		t.Run(tc.id, func(t *testing.T) {
			path := configs + tc.id
			def := e.do("GET", path, reader, "")
			if def.status != 200 {
				t.Fatalf("get: %d %s", def.status, def.raw)
			}
			if r := e.do("PATCH", path, apa, tc.patch); r.status != 200 || r.raw == def.raw {
				t.Fatalf("patch: %d %s", r.status, r.raw)
			}
			// Who may reset, and a body is not silently ignored.
			if r := e.do("DELETE", path, reader, ""); r.status != 403 {
				t.Errorf("Global Reader reset: %d %s", r.status, r.raw)
			}
			if r := e.do("DELETE", path, apa, `{"state":"disabled"}`); r.status != 400 {
				t.Errorf("DELETE with a body: %d %s", r.status, r.raw)
			}
			// The same body sent chunked (no Content-Length) was never read:
			// 204 and the configuration reset.
			if st := chunkedDelete(t, e.srv.URL+path, apa, `{"state":"enabled","anything":"goes"}`); st != 400 {
				t.Errorf("chunked DELETE with a body: %d", st)
			}
			if r := e.do("GET", path, reader, ""); r.raw == def.raw {
				t.Fatal("a refused reset reverted the configuration")
			}
			if st := chunkedDelete(t, e.srv.URL+path, apa, `{}`); st != 204 {
				t.Fatalf("chunked reset with {}: %d", st)
			}
			if r := e.do("GET", path, reader, ""); r.status != 200 || r.raw != def.raw {
				t.Fatalf("after reset:\n%s\nwant the default:\n%s", r.raw, def.raw)
			}
			// Resetting a default configuration is a no-op, still 204.
			if r := e.doPlain("DELETE", path, apa, ""); r.status != 204 {
				t.Fatalf("second reset: %d %s", r.status, r.raw)
			}
		})
	}
	audits := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq 'Reset authentication methods policy'"), e.token(directory.RoleGlobalAdministrator), "")
	if audits.status != 200 || len(audits.body["value"].([]any)) != 2 {
		t.Fatalf("reset audits: %d %s", audits.status, audits.raw)
	}
}

// TestFido2ResetKeepsRegistrationClosed: DELETE of the FIDO2 configuration
// removed the stored document, and "no document" is the lab's open gate: GET
// said disabled while any user could register any passkey. The reset now
// stores Entra's default, which the gate enforces.
func TestFido2ResetKeepsRegistrationClosed(t *testing.T) {
	l := newLab(t)
	apa := l.token(directory.RoleAuthenticationPolicyAdministrator)
	const path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	begin := func() resp { return l.do("POST", "/webauthn/registration/begin", l.session, `{}`) }
	if r := l.do("PATCH", path, apa, `{"state":"enabled"}`); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.raw)
	}
	if r := begin(); r.status != 200 {
		t.Fatalf("begin while enabled: %d %s", r.status, r.raw)
	}
	if r := l.doPlain("DELETE", path, apa, ""); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.raw)
	}
	if r := l.do("GET", path, apa, ""); r.body["state"] != "disabled" {
		t.Fatalf("after reset: %s", r.raw)
	}
	if r := begin(); r.status != 403 || r.code() != "methodDisabled" {
		t.Fatalf("begin after reset: %d %s, want 403 methodDisabled", r.status, r.raw)
	}
	// A reset of the default changes nothing and still refuses.
	if r := l.doPlain("DELETE", path, apa, ""); r.status != 204 {
		t.Fatalf("second reset: %d %s", r.status, r.raw)
	}
	if r := begin(); r.status != 403 || r.code() != "methodDisabled" {
		t.Fatalf("begin after a second reset: %d %s", r.status, r.raw)
	}
}

// chunkedDelete sends DELETE with body chunked: the reader hides its
// length, so the client sends no Content-Length.
func chunkedDelete(t *testing.T, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest("DELETE", url, struct{ io.Reader }{strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if req.ContentLength != -1 && req.ContentLength != 0 {
		t.Fatalf("the request was not chunked (ContentLength %d)", req.ContentLength)
	}
	return res.StatusCode
}

// TestResetOfANeverWrittenConfigurationIsAudited: resetting a configuration
// never written stores the default, which closes the FIDO2 gate: a change
// of what is enforced, audited as a reset like the others (once).
func TestResetOfANeverWrittenConfigurationIsAudited(t *testing.T) {
	e := newEnv(t)
	apa := e.token(directory.RoleAuthenticationPolicyAdministrator)
	const path = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
	for range 2 {
		if r := e.doPlain("DELETE", path, apa, ""); r.status != 204 {
			t.Fatalf("reset: %d %s", r.status, r.raw)
		}
	}
	audits := e.do("GET", "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("activityDisplayName eq 'Reset authentication methods policy'"), e.token(directory.RoleGlobalAdministrator), "")
	if audits.status != 200 || len(audits.body["value"].([]any)) != 1 {
		t.Fatalf("reset audits: %d %s", audits.status, audits.raw)
	}
}
