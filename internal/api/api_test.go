package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/odata"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
)

func TestMain(m *testing.M) {
	// Request logs would drown the test output; errors still fail tests.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

type env struct {
	t *testing.T
	// app is the server the test talks to (srv is its listener); newServer
	// may replace it with another on the same database.
	app      *servertest.Server
	srv      *httptest.Server
	issuer   *tokens.Issuer
	sealer   *tokens.Sealer
	db       *store.DB
	ceremony *ceremony.Service
	signIn   *signin.Service
	api      *api.Server
	// failureLimit is the failure limiter's limit of the servers newServer
	// starts (0: servertest's default, high enough for any test).
	failureLimit int
}

// newEnv starts the real server (server.New) on a fresh database, with
// the origin the virtual authenticators claim.
func newEnv(t *testing.T) *env {
	e := &env{t: t}
	e.srv = e.newServer(nil)
	return e
}

// testOrigin is the origin the virtual authenticators claim.
const testOrigin = "http://localhost:8080"

// testRelatedOrigin is a related origin (WebAuthn L3 §5.11) of the RP ID.
const testRelatedOrigin = "https://login.partner.example"

// newServer starts another server process-equivalent on the same database
// (and master key): its own services, limiter and router. The env's
// services become the new server's; the first server's database handle
// stays e.db.
func (e *env) newServer(trust *attestation.TrustStore) *httptest.Server {
	c := server.Config{Issuer: "http://localhost", RPDisplayName: "lab", Origins: []string{testOrigin}, RelatedOrigins: []string{testRelatedOrigin}, Trust: trust,
		FailureLimit: e.failureLimit, FailureWindow: 5 * time.Minute}
	if e.app != nil {
		c.DatabaseURL, c.MasterKey = e.app.Config.DatabaseURL, e.app.Config.MasterKey
	}
	app := servertest.New(e.t, c)
	if e.app == nil {
		e.db, e.issuer, e.sealer = app.DB, app.Issuer, app.Sealer
	}
	e.app, e.ceremony, e.signIn, e.api = app, app.Ceremony, app.SignIn, app.Handler
	return app.HTTP
}

func (e *env) token(roles ...string) string {
	tok, err := e.issuer.Mint(tokens.Claims{UPN: "admin@lab.example", Roles: roles}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	return e.doOn(e.srv, method, path, token, body)
}

func (e *env) doOn(srv *httptest.Server, method, path, token, body string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	if !strings.HasPrefix(path, "http") {
		path = srv.URL + path // absolute links (@odata.nextLink) are used as they are
	}
	req, _ := http.NewRequest(method, path, rd)
	if method == "PATCH" {
		// Graph answers PATCH with 204; these tests read the result back.
		req.Header.Set("Prefer", "return=representation")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

func (r resp) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func TestDirectoryAPI(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)

	alice := e.do("POST", "/v1.0/users", ga, `{"userPrincipalName":"alice@lab.example","displayName":"Alice"}`)
	if alice.status != 201 || alice.body["accountEnabled"] != true {
		t.Fatalf("create: %d %s", alice.status, alice.raw)
	}
	aliceID := alice.body["id"].(string)

	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"duplicate UPN differs only in case", "POST", "/v1.0/users", ga, `{"userPrincipalName":"ALICE@lab.example","displayName":"A2"}`, 409, directory.CodeDuplicateUPN},
		{"malformed JSON", "POST", "/v1.0/users", ga, `{"userPrincipalName":`, 400, api.CodeBadJSON},
		{"unknown property", "POST", "/v1.0/users", ga, `{"userPrincipalName":"b@lab.example","displayName":"B","shoeSize":44}`, 400, api.CodeUnknownProperty},
		{"two objects", "POST", "/v1.0/users", ga, `{"userPrincipalName":"b@lab.example","displayName":"B"}{}`, 400, api.CodeBadJSON},
		{"wrong type", "POST", "/v1.0/users", ga, `{"userPrincipalName":7,"displayName":"B"}`, 400, api.CodeBadJSON},
		{"bad UPN", "POST", "/v1.0/users", ga, `{"userPrincipalName":"no-at-sign","displayName":"B"}`, 400, directory.CodeInvalidUPN},
		{"missing displayName", "POST", "/v1.0/users", ga, `{"userPrincipalName":"b@lab.example"}`, 400, directory.CodeInvalidDisplayName},
		{"oversize body", "POST", "/v1.0/users", ga, `{"displayName":"` + strings.Repeat("x", 70000) + `"}`, 413, api.CodeBodyTooLarge},
		{"unknown id", "GET", "/v1.0/users/6f1c2a1e-0000-4000-8000-000000000000", ga, "", 404, "Request_ResourceNotFound"},
		{"id not a GUID", "GET", "/v1.0/users/42", ga, "", 400, directory.CodeInvalidID},
		{"no token", "GET", "/v1.0/users", "", "", 401, tokens.CodeInvalidToken},
		{"garbage token", "GET", "/v1.0/users", "abc.def.ghi", "", 401, tokens.CodeInvalidToken},
		{"reader cannot write", "POST", "/v1.0/users", e.token(directory.RoleGlobalReader), `{"userPrincipalName":"c@lab.example","displayName":"C"}`, 403, api.CodeAuthorizationError},
		{"CA admin cannot assign roles", "POST", "/v1.0/roleManagement/directory/roleAssignments", e.token(directory.RoleConditionalAccessAdministrator), `{"principalId":"` + aliceID + `","roleDefinitionId":"62e90394-69f5-4237-9190-012177145e10","directoryScopeId":"/"}`, 403, api.CodeAuthorizationError},
		{"unknown role", "POST", "/v1.0/roleManagement/directory/roleAssignments", ga, `{"principalId":"` + aliceID + `","roleDefinitionId":"00000000-1111-2222-3333-444444444444"}`, 400, directory.CodeUnknownRole},
		{"bad $top", "GET", "/v1.0/users?$top=0", ga, "", 400, odata.CodeBadRequest},
		{"unknown route", "GET", "/v1.0/nothing", ga, "", 404, api.CodeRouteNotFound},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, c.token, c.body)
		if r.status != c.status || r.code() != c.code {
			t.Errorf("%s: got %d %s, want %d %s (%s)", c.name, r.status, r.code(), c.status, c.code, r.raw)
		}
	}
	// A refused create leaves nothing behind.
	if r := e.do("GET", "/v1.0/users/b@lab.example", ga, ""); r.status != 404 {
		t.Fatalf("refused user was written: %s", r.raw)
	}

	// Reading by UPN, patching, groups, members/$ref, role assignments.
	if r := e.do("GET", "/v1.0/users/Alice@lab.example", e.token(directory.RoleGlobalReader), ""); r.status != 200 || r.body["id"] != aliceID {
		t.Fatalf("get by UPN: %s", r.raw)
	}
	if r := e.do("PATCH", "/v1.0/users/"+aliceID, ga, `{"isEmergencyAccess":true}`); r.status != 200 || r.body["isEmergencyAccess"] != true {
		t.Fatalf("patch: %s", r.raw)
	}
	g := e.do("POST", "/v1.0/groups", e.token(directory.RoleGroupsAdministrator), `{"displayName":"GRP-Pilot-Passkey-Admins","mailEnabled":false,"securityEnabled":true,"mailNickname":"pilot","groupTypes":[]}`)
	if g.status != 201 {
		t.Fatalf("group: %s", g.raw)
	}
	gid := g.body["id"].(string)
	ref := `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + aliceID + `"}`
	if r := e.do("POST", "/v1.0/groups/"+gid+"/members/$ref", ga, ref); r.status != 204 {
		t.Fatalf("add member: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/v1.0/groups/"+gid+"/members/$ref", ga, ref); r.status != 409 || r.code() != directory.CodeAlreadyMember {
		t.Fatalf("add twice: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/groups/"+gid+"/members", ga, ""); r.status != 200 || len(r.body["value"].([]any)) != 1 {
		t.Fatalf("members: %s", r.raw)
	}
	if r := e.do("GET", "/v1.0/users/"+aliceID+"/memberOf", ga, ""); r.status != 200 || len(r.body["value"].([]any)) != 1 {
		t.Fatalf("memberOf: %s", r.raw)
	}
	ra := e.do("POST", "/beta/roleManagement/directory/roleAssignments", ga, `{"@odata.type":"#microsoft.graph.unifiedRoleAssignment","principalId":"`+aliceID+`","roleDefinitionId":"Conditional Access Administrator","directoryScopeId":"/"}`)
	if ra.status != 201 || ra.body["roleDefinitionId"] != "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9" {
		t.Fatalf("role assignment: %s", ra.raw)
	}
	if r := e.do("GET", "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId+eq+'"+aliceID+"'", ga, ""); r.status != 200 || len(r.body["value"].([]any)) != 1 {
		t.Fatalf("filter assignments: %s", r.raw)
	}
	if r := e.do("DELETE", "/v1.0/groups/"+gid+"/members/"+aliceID+"/$ref", ga, ""); r.status != 204 {
		t.Fatalf("remove member: %s", r.raw)
	}
}

func TestPagingFollowsNextLink(t *testing.T) {
	e := newEnv(t)
	ga := e.token(directory.RoleGlobalAdministrator)
	for i := 0; i < 5; i++ {
		body, _ := json.Marshal(map[string]string{"userPrincipalName": "u" + string(rune('a'+i)) + "@lab.example", "displayName": "U"})
		if r := e.do("POST", "/v1.0/users", ga, string(body)); r.status != 201 {
			t.Fatal(r.raw)
		}
	}
	seen := map[string]bool{}
	next := "/v1.0/users?$top=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		r := e.do("GET", next, ga, "")
		for _, v := range r.body["value"].([]any) {
			seen[v.(map[string]any)["id"].(string)] = true
		}
		next, _ = r.body["@odata.nextLink"].(string)
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d users over the pages, want 5", len(seen))
	}
}

func TestHealthAndJWKS(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/readyz", "/.well-known/jwks.json"} {
		if r := e.do("GET", p, "", ""); r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.raw)
		}
	}
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(raw, []byte("rpserver_http_requests_total")) {
		t.Fatal("metrics missing request counter")
	}
}
