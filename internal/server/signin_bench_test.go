package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/virtualauthn"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// signInLab is the real application on PostgreSQL with one user holding a
// Microsoft Authenticator passkey and one enabled Conditional Access policy
// (MFA for everyone), so a sign-in does all it does in production.
type signInLab struct {
	srv  *servertest.Server
	auth *virtualauthn.Authenticator
	upn  string
}

func newSignInLab(tb testing.TB) *signInLab {
	tb.Helper()
	srv := servertest.New(tb, server.Config{})
	ctx := context.Background()
	u, err := srv.DB.Directory().CreateUser(ctx, directory.User{ID: uuid.NewString(), UserPrincipalName: "bench@lab.example", DisplayName: "Bench", AccountEnabled: true}, "")
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		tb.Fatal(err)
	}
	auth, err := virtualauthn.New(virtualauthn.MicrosoftAuthenticatorIOS(ca))
	if err != nil {
		tb.Fatal(err)
	}
	origin := srv.Config.Origins[0]
	creation, err := srv.Ceremony.BeginRegistration(ctx, u.ID, ceremony.RegistrationOptions{DisplayName: "phone"})
	if err != nil {
		tb.Fatal(err)
	}
	opts, _ := json.Marshal(creation)
	resp, err := auth.Create(opts, origin)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := srv.Ceremony.FinishRegistration(ctx, u.ID, resp); err != nil {
		tb.Fatal(err)
	}
	l := &signInLab{srv: srv, auth: auth, upn: u.UserPrincipalName}
	rec := l.post("/v1.0/identity/conditionalAccess/policies?force=true", srv.AdminToken(tb), `{"displayName":"MFA for everyone","state":"enabled",
		"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
		"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`)
	if rec.Code != http.StatusCreated {
		tb.Fatalf("create policy: %d %s", rec.Code, rec.Body)
	}
	return l
}

// benchUserAgent is a browser's User-Agent, so the record's deviceDetail
// is parsed as in production.
const benchUserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"

func (l *signInLab) post(path, bearer, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", benchUserAgent)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	l.srv.Handler.ServeHTTP(rec, req)
	return rec
}

// signIn is one full passkey sign-in through the HTTP handler: begin, the
// authenticator, finish (challenge taken with the decision's facts,
// verification, Conditional Access, session JWT, counter and durable log
// record in one commit). stop and start bracket the authenticator, which is
// the client's cost, not the server's.
func (l *signInLab) signIn(tb testing.TB, stop, start func()) {
	begin := l.post("/webauthn/authentication/begin", "", `{"userPrincipalName":"`+l.upn+`"}`)
	if begin.Code != http.StatusOK {
		tb.Fatalf("begin: %d %s", begin.Code, begin.Body)
	}
	stop()
	assertion, err := l.auth.Get(begin.Body.Bytes(), l.srv.Config.Origins[0])
	if err != nil {
		tb.Fatal(err)
	}
	start()
	finish := l.post("/webauthn/authentication/finish", "", string(assertion))
	if finish.Code != http.StatusOK || !strings.Contains(finish.Body.String(), `"status":"completed"`) {
		tb.Fatalf("finish: %d %s", finish.Code, finish.Body)
	}
}

func TestPasskeySignInThroughHandler(t *testing.T) {
	l := newSignInLab(t)
	for range 3 {
		l.signIn(t, func() {}, func() {})
	}
}

// BenchmarkPasskeySignIn is the sign-in hot path's time and allocation
// count on the server side (PostgreSQL included, the authenticator not):
// the figure to watch when changing anything on the path.
func BenchmarkPasskeySignIn(b *testing.B) {
	l := newSignInLab(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.signIn(b, b.StopTimer, b.StartTimer)
	}
}
