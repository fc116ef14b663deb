package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/web"
)

func send(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string, body string) resp {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	e := newEnv(t)
	srv := e.srv // configured with the pages' origin, testOrigin
	ga := e.token(directory.RoleGlobalAdministrator)
	if r := e.doOn(srv, "POST", "/v1.0/users", ga, `{"userPrincipalName":"alice@lab.example","displayName":"Alice"}`); r.status != 201 {
		t.Fatalf("create: %s", r.raw)
	}
	begin := `{"userPrincipalName":"alice@lab.example"}`
	cases := []struct {
		name, method, path string
		hdr                map[string]string
		refused            bool
	}{
		{"foreign origin on a sign-in post", "POST", "/signin/begin", map[string]string{"Origin": "http://evil.example"}, true},
		{"same-site other port", "POST", "/signin/begin", map[string]string{"Origin": "http://localhost:9999", "Sec-Fetch-Site": "same-site"}, true},
		{"null origin", "POST", "/signin/begin", map[string]string{"Origin": "null"}, true},
		{"cross-site fetch without Origin", "POST", "/signin/begin", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"foreign origin on a cookie DELETE", "DELETE", "/me/authentication/fido2Methods/x", map[string]string{"Origin": "https://evil.example"}, true},
		{"foreign origin on sign-out", "POST", "/signout", map[string]string{"Origin": "https://evil.example"}, true},
		{"foreign origin on the admin token exchange", "POST", "/admin/token", map[string]string{"Origin": "https://evil.example"}, true},
		{"own origin", "POST", "/signin/begin", map[string]string{"Origin": testOrigin, "Sec-Fetch-Site": "same-origin"}, false},
		{"own origin, other spelling", "POST", "/signin/begin", map[string]string{"Origin": "HTTP://LOCALHOST:8080"}, false},
		{"no Origin: curl, tests, the load generator", "POST", "/signin/begin", nil, false},
		{"GET with a foreign origin is not state-changing", "GET", "/healthz", map[string]string{"Origin": "http://evil.example"}, false},
	}
	for _, c := range cases {
		body := ""
		if c.method == "POST" {
			body = begin
		}
		r := send(t, srv, c.method, c.path, c.hdr, body)
		if got := r.status == 403 && r.code() == api.CodeCrossSiteRequestRefused; got != c.refused {
			t.Errorf("%s: refused=%v, want %v (%d %s)", c.name, got, c.refused, r.status, r.raw)
		}
	}
}

func TestPagesCarryStrictHeaders(t *testing.T) {
	e := newEnv(t)
	for p := range web.Pages {
		res, err := http.Get(e.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		if res.StatusCode != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", p, res.StatusCode, h.Get("Content-Type"))
		}
		if h.Get("Content-Security-Policy") != web.ContentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
	// Unknown paths still get the API's JSON 404, not a page.
	if r := e.do("GET", "/no-such-page", "", ""); r.status != 404 || r.code() != api.CodeRouteNotFound {
		t.Errorf("unknown path: %d %s", r.status, r.raw)
	}
}

func TestAdminTokenExchange(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dir := &directory.Service{Store: e.db.Directory()}
	admin, err := dir.CreateUser(ctx, directory.User{UserPrincipalName: "admin@lab.example", DisplayName: "Admin", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	role, _ := directory.RoleByName(directory.RoleSecurityReader)
	if _, err := dir.AssignRole(ctx, directory.RoleAssignment{PrincipalID: admin.ID, RoleDefinitionID: role.ID}); err != nil {
		t.Fatal(err)
	}
	plain, err := dir.CreateUser(ctx, directory.User{UserPrincipalName: "bob@lab.example", DisplayName: "Bob", AccountEnabled: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	session := func(u directory.User) string {
		tok, err := e.issuer.Mint(tokens.Claims{UPN: u.UserPrincipalName, Data: signin.PortalSessionData(policy.ModePassword)}.WithSubject(u.ID), tokens.AudienceSession, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	r := e.do("POST", "/admin/token", session(admin), "")
	if r.status != 200 || r.body["token_type"] != "Bearer" {
		t.Fatalf("exchange: %d %s", r.status, r.raw)
	}
	tok := r.body["access_token"].(string)
	c, err := e.issuer.Verify(tok, tokens.AudienceAdmin)
	if err != nil || c.Subject != admin.ID || len(c.Roles) != 1 || c.Roles[0] != directory.RoleSecurityReader ||
		len(c.Wids) != 1 || c.Wids[0] != role.ID || time.Until(c.ExpiresAt.Time) > api.AdminPortalTokenTTL {
		t.Fatalf("claims %+v, %v", c, err)
	}
	// The token works on the Graph-shaped API, within its roles.
	if r := e.do("GET", "/v1.0/users", tok, ""); r.status != 200 {
		t.Fatalf("reader lists users: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/v1.0/users", tok, `{"userPrincipalName":"x@lab.example","displayName":"X"}`); r.status != 403 {
		t.Fatalf("reader creates a user: %d %s", r.status, r.raw)
	}

	if r := e.do("POST", "/admin/token", session(plain), ""); r.status != 403 || r.code() != api.CodeAdminRoleRequired {
		t.Fatalf("no role: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/admin/token", "", ""); r.status != 401 {
		t.Fatalf("no session: %d %s", r.status, r.raw)
	}
	// An admin token is not a session.
	if r := e.do("POST", "/admin/token", tok, ""); r.status != 401 {
		t.Fatalf("admin token as session: %d %s", r.status, r.raw)
	}
}
