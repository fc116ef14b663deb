package loadgen_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/policy"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/signin"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/internal/tokens"
	"github.com/rpserver/rpserver/virtualauthn"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// inProcess is the real server (server.New through servertest) trusting ca,
// with the production failure limit (20 per 5 minutes), so a load that trips
// it shows up here.
func inProcess(t *testing.T, ca *virtualauthn.TestCA, origin string) (*servertest.Server, *tokens.Issuer) {
	t.Helper()
	trust := attestation.NewTrustStore()
	if err := trust.AddPEM(uuid.Nil, ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	srv := servertest.New(t, server.Config{Origins: []string{origin}, Trust: trust, FailureLimit: 20, FailureWindow: 5 * time.Minute})
	return srv, srv.Issuer
}

// mintSessions stands in for the TAP bootstrap: the session a TAP sign-in
// would return, minted directly (as internal/api's sessionFor does).
func mintSessions(iss *tokens.Issuer) loadgen.SessionFunc {
	return func(_ context.Context, u loadgen.User) (string, error) {
		return iss.Mint(tokens.Claims{UPN: u.UserPrincipalName, AMR: []string{"temporaryAccessPassOneTime"}, Data: signin.PortalSessionData(policy.ModeTemporaryAccessPassOneTime)}.WithSubject(u.ID), tokens.AudienceSession, time.Hour)
	}
}

func adminCall(t *testing.T, method, url, token, body string, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

func countUsers(t *testing.T, base, token string) int {
	var list struct {
		Value []any `json:"value"`
	}
	adminCall(t, "GET", base+"/v1.0/users", token, "", 200, &list)
	return len(list.Value)
}

func TestEndToEndAgainstRealServer(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://localhost:8080"
	srv, iss := inProcess(t, ca, origin)
	admin, err := iss.Mint(tokens.Claims{UPN: "admin@lab.example", Roles: []string{directory.RoleGlobalAdministrator}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mix, _ := loadgen.ParseMix("ms-ios=2,ms-android=2,yubikey=1,synced=1")

	for _, discoverable := range []bool{false, true} {
		name := "upn-first"
		if discoverable {
			name = "discoverable"
		}
		t.Run(name, func(t *testing.T) {
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Target: srv.URL, Origin: origin, AdminToken: admin, Mix: mix, Users: 6, Concurrency: 4, SignIns: 60,
				Discoverable: discoverable, CA: ca, Sessions: mintSessions(iss),
			})
			if err != nil {
				t.Fatalf("%v\n%+v", err, rep)
			}
			if rep.UsersReady != 6 || rep.StoppedBy != "sign-ins" || len(rep.Setup.Errors) != 0 {
				t.Fatalf("setup: ready %d, stopped by %s, errors %v", rep.UsersReady, rep.StoppedBy, rep.Setup.Errors)
			}
			s := rep.SignIn.Op(loadgen.OpSignIn)
			// Counter-incrementing YubiKeys included: no signCountRegression,
			// because a user is never signed in twice at once.
			if s.Count != 60 || s.Errors != 0 || len(rep.SignIn.Errors) != 0 {
				t.Fatalf("sign-in %+v errors %v", s, rep.SignIn.Errors)
			}
			if s.P50Ms <= 0 || s.P95Ms < s.P50Ms || s.P99Ms < s.P95Ms || s.Throughput <= 0 {
				t.Fatalf("latency %+v", s)
			}
			for _, op := range []string{loadgen.OpSignInBegin, loadgen.OpSignInFinish} {
				if rep.SignIn.Op(op).Count != 60 {
					t.Fatalf("%s: %+v", op, rep.SignIn.Op(op))
				}
			}
			if c := rep.Cleanup; c.Created != 6 || c.Deleted != 6 || len(c.Errors) != 0 {
				t.Fatalf("cleanup %+v", c)
			}
		})
	}
	if n := countUsers(t, srv.URL, admin); n != 0 {
		t.Fatalf("%d users left behind after the runs", n)
	}

	t.Run("group-scoped policies: users join the group; -keep-users keeps them", func(t *testing.T) {
		var g struct {
			ID string `json:"id"`
		}
		adminCall(t, "POST", srv.URL+"/v1.0/groups", admin, `{"displayName":"GRP-Load","securityEnabled":true,"mailEnabled":false,"mailNickname":"load"}`, 201, &g)
		rep, err := loadgen.Run(context.Background(), loadgen.Config{
			Target: srv.URL, Origin: origin, AdminToken: admin, Users: 2, Concurrency: 2, SignIns: 4,
			CA: ca, Sessions: mintSessions(iss), Group: g.ID, KeepUsers: true,
		})
		if err != nil || rep.Setup.Op(loadgen.OpGroupJoin).Count != 2 || !rep.Cleanup.Kept {
			t.Fatalf("%v %+v", err, rep)
		}
		var members struct {
			Value []any `json:"value"`
		}
		adminCall(t, "GET", srv.URL+"/v1.0/groups/"+g.ID+"/members", admin, "", 200, &members)
		if len(members.Value) != 2 {
			t.Fatalf("group has %d members, want 2", len(members.Value))
		}
	})

	t.Run("refusals are counted by the server's code", func(t *testing.T) {
		// Authenticators claiming an origin the server does not allow: every
		// registration is refused with originMismatch, and after 20 failures
		// the server's limiter answers tooManyFailedAttempts.
		rep, err := loadgen.Run(context.Background(), loadgen.Config{
			Target: srv.URL, Origin: "http://localhost:9999", AdminToken: admin, Users: 25, Concurrency: 1, SignIns: 1,
			CA: ca, Sessions: mintSessions(iss),
		})
		if err == nil || !strings.Contains(err.Error(), "none of the 25 users") || rep.StoppedBy != "setup-failed" {
			t.Fatalf("err %v, report %+v", err, rep)
		}
		if rep.Setup.Errors[ceremony.CodeOriginMismatch] != 20 || rep.Setup.Errors[api.CodeTooManyFailures] != 5 {
			t.Fatalf("errors %v", rep.Setup.Errors)
		}
		if reg := rep.Setup.Op(loadgen.OpRegistrationFinish); reg.ErrorCodes[ceremony.CodeOriginMismatch] != 20 {
			t.Fatalf("finish %+v", reg)
		}
	})
}

// serialDelay injects a delay into the sign-in endpoints of a real server and
// lets one such request through at a time: a server whose capacity is
// known (about 1/(2·d) sign-ins per second), so load beyond it must queue.
func serialDelay(h http.Handler, d time.Duration) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/webauthn/authentication/") {
			mu.Lock()
			time.Sleep(d)
			defer mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// TestOpenLoopMeasuresQueueingOfARealServer is the coordinated-omission
// check against the real server with an injected delay: closed-loop workers
// wait for each answer, so they never offer more than the server takes and
// their percentiles show the service time; the open loop offers 60/s to a
// server that takes about 40/s, and its percentiles, timed from when each
// arrival was due, include the growing queue.
func TestOpenLoopMeasuresQueueingOfARealServer(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://localhost:8080"
	srv, iss := inProcess(t, ca, origin)
	slow := httptest.NewServer(serialDelay(srv.Handler, 10*time.Millisecond))
	defer slow.Close()
	admin, err := iss.Mint(tokens.Claims{UPN: "admin@lab.example", Roles: []string{directory.RoleGlobalAdministrator}}, tokens.AudienceAdmin, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	base := loadgen.Config{Target: slow.URL, Origin: origin, AdminToken: admin, CA: ca, Sessions: mintSessions(iss), Concurrency: 8}

	closedCfg := base
	closedCfg.Users, closedCfg.Concurrency, closedCfg.SignIns = 2, 2, 40
	closed, err := loadgen.Run(context.Background(), closedCfg)
	if err != nil {
		t.Fatal(err)
	}
	openCfg := base
	openCfg.Users, openCfg.Rate, openCfg.Duration = 80, 60, 1500*time.Millisecond
	open, err := loadgen.Run(context.Background(), openCfg)
	if err != nil {
		t.Fatal(err)
	}
	c, o := closed.SignIn.Op(loadgen.OpSignIn), open.SignIn.Op(loadgen.OpSignIn)
	t.Logf("closed loop (2 workers): %d sign-ins at %.1f/s, p50 %.1f ms, p99 %.1f ms", c.Count, c.Throughput, c.P50Ms, c.P99Ms)
	t.Logf("open loop (60/s offered): %d sign-ins at %.1f/s, p50 %.1f ms, p99 %.1f ms, dropped %v, late %d",
		o.Count, o.Throughput, o.P50Ms, o.P99Ms, open.SignIn.Dropped, open.SignIn.Late)
	// All 90 arrivals are accounted for; with 80 users none is dropped
	// unless the machine is so loaded that 80 are in flight at once.
	if c.Errors != 0 || o.Errors != 0 || o.Count+open.SignIn.DroppedTotal() != 90 || o.Count < 60 {
		t.Fatalf("closed %+v open %+v dropped %v", c, o, open.SignIn.Dropped)
	}
	if open.Mode != "open-loop" || closed.Mode != "closed-loop" {
		t.Fatalf("modes %s %s", open.Mode, closed.Mode)
	}
	// The queue: the last of 90 arrivals is due at 1.5 s but served near
	// 90/40 ≈ 2.2 s, so the tail waits hundreds of milliseconds, far beyond
	// the service time the closed loop reports.
	if o.P99Ms < 3*c.P99Ms || o.P99Ms < 200 {
		t.Fatalf("open-loop p99 %.1f ms does not show the queue (closed-loop p99 %.1f ms)", o.P99Ms, c.P99Ms)
	}
}

// TestScenarioMixUnderPolicySet mixes every scenario against the real
// server under the 195-policy set, enabled (password + push step-up) and
// report-only (the password completes; the policies only report).
func TestScenarioMixUnderPolicySet(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://localhost:8080"
	srv, iss := inProcess(t, ca, origin)
	admin := srv.AdminToken(t)
	scenarios, err := loadgen.ParseScenarios("signin=2,discoverable=1,register=1,stepup=2")
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{loadgen.CAStateEnabled, loadgen.CAStateReportOnly} {
		t.Run(state, func(t *testing.T) {
			rep, err := loadgen.Run(context.Background(), loadgen.Config{
				Target: srv.URL, Origin: origin, AdminToken: admin, Users: 4, Concurrency: 3, SignIns: 36, CA: ca, Sessions: mintSessions(iss),
				Scenarios: scenarios, CAPolicies: 195, CAState: state,
			})
			if err != nil {
				t.Fatalf("%v\n%+v", err, rep)
			}
			if len(rep.Setup.Errors) != 0 || len(rep.SignIn.Errors) != 0 {
				t.Fatalf("setup errors %v, timed errors %v\n%+v", rep.Setup.Errors, rep.SignIn.Errors, rep.SignIn.Operations)
			}
			if rep.Setup.Op(loadgen.OpPolicyCreate).Count != 195 || rep.Setup.Op(loadgen.OpPushRegister).Count != 4 {
				t.Fatalf("setup %+v", rep.Setup.Operations)
			}
			// 36 attempts over the cycle of 6: 12 sign-ins, 6 discoverable,
			// 6 onboardings, 12 step-ups.
			for op, n := range map[string]int{loadgen.OpSignIn: 12, loadgen.OpDiscoverable: 6, loadgen.OpOnboarding: 6, loadgen.OpStepUp: 12} {
				if got := rep.SignIn.Op(op).Count; got != n {
					t.Errorf("%s: %d, want %d", op, got, n)
				}
			}
			pushes := rep.SignIn.Op(loadgen.OpPushComplete).Count
			if state == loadgen.CAStateEnabled && pushes != 12 {
				t.Errorf("enabled policies: %d of 12 step-ups used the push", pushes)
			}
			if state == loadgen.CAStateReportOnly && pushes != 0 {
				t.Errorf("report-only policies: %d step-ups were asked for a push", pushes)
			}
			if c := rep.Cleanup; c.Policies != 195 || c.PoliciesDeleted != 195 || !c.GroupDeleted || c.Deleted != c.Created || c.Created != 10 {
				t.Errorf("cleanup %+v", c)
			}
		})
	}
	var list struct {
		Value []any `json:"value"`
	}
	adminCall(t, "GET", srv.URL+"/v1.0/identity/conditionalAccess/policies", admin, "", 200, &list)
	if len(list.Value) != 0 {
		t.Fatalf("%d policies left behind", len(list.Value))
	}
}

// TestOIDCAppSignIn: an application signs users in through the lab's
// OpenID Connect provider with their passkeys, its code redeemed by
// golang.org/x/oauth2, mixed with plain passkey sign-ins; the run's app is
// deleted at the end.
func TestOIDCAppSignIn(t *testing.T) {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://localhost:8080"
	srv, iss := inProcess(t, ca, origin)
	admin := srv.AdminToken(t)
	scenarios, _ := loadgen.ParseScenarios("signin=1,oidc=2")
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Target: srv.URL, Origin: origin, AdminToken: admin, Users: 3, Concurrency: 3,
		SignIns: 12, CA: ca, Sessions: mintSessions(iss), Scenarios: scenarios})
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	if o := rep.SignIn.Op(loadgen.OpOIDC); o.Count != 8 || len(rep.SignIn.Errors) != 0 {
		t.Fatalf("oidc %+v, errors %v\n%+v", o, rep.SignIn.Errors, rep.SignIn.Operations)
	}
	if rep.SignIn.Op(loadgen.OpSignIn).Count != 4 || rep.SignIn.Op(loadgen.OpOIDCToken).Count != 8 || !rep.Cleanup.AppDeleted {
		t.Fatalf("report %+v cleanup %+v", rep.SignIn.Operations, rep.Cleanup)
	}
	var apps struct {
		Value []any `json:"value"`
	}
	adminCall(t, "GET", srv.URL+"/v1.0/applications", admin, "", 200, &apps)
	if len(apps.Value) != 0 {
		t.Fatalf("%d applications left behind", len(apps.Value))
	}
}
