package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/ceremony"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/virtualauthn"
)

// TestFailureLimitHoldsForABurstAcrossServers: 60 simultaneous wrong
// passwords from one address, split over two servers on one database, with
// a limit of 20: at most 20 are checked, the rest refused with 429 before
// any check. (The probe saw all 60 checked on one server.)
func TestFailureLimitHoldsForABurstAcrossServers(t *testing.T) {
	a := servertest.New(t, server.Config{FailureLimit: 20, FailureWindow: 5 * time.Minute})
	b := servertest.New(t, server.Config{FailureLimit: 20, FailureWindow: 5 * time.Minute,
		DatabaseURL: a.Config.DatabaseURL, MasterKey: a.Config.MasterKey, Origins: a.Config.Origins, Issuer: a.Config.Issuer})
	ga := a.AdminToken(t, directory.RoleGlobalAdministrator)
	post := func(base, path, token, body string) (int, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	// Six users, ten guesses each: below each user's smart lockout
	// threshold, so only the per-client limit stands in the way.
	var flows []string
	for u := 0; u < 6; u++ {
		upn := fmt.Sprintf("burst%d@lab.example", u)
		if st, raw := post(a.URL, "/v1.0/users", ga, `{"userPrincipalName":"`+upn+`","displayName":"Burst","passwordProfile":{"password":"correct horse battery"}}`); st != 201 {
			t.Fatalf("create user: %d %s", st, raw)
		}
		_, raw := post(a.URL, "/signin/begin", "", `{"userPrincipalName":"`+upn+`"}`)
		flow := between(raw, `"flowToken":"`, `"`)
		if flow == "" {
			t.Fatalf("begin: %s", raw)
		}
		flows = append(flows, flow)
	}
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 60; i++ {
		base, flow := a.URL, flows[i%6]
		if i%2 == 1 {
			base = b.URL
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, raw := post(base, "/signin/password", "", `{"flowToken":"`+flow+`","password":"wrong guess"}`)
			if st == 429 && !strings.Contains(raw, api.CodeTooManyFailures) {
				t.Errorf("429 without the code: %s", raw)
			}
			mu.Lock()
			statuses[st]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("statuses: %v", statuses)
	if statuses[401] > 20 || statuses[401] == 0 || statuses[401]+statuses[429] != 60 {
		t.Fatalf("60 wrong passwords with a limit of 20: %v (401 = checked)", statuses)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestPasskeyFailureLimitHoldsAcrossServers: the passkey sign-in reserves
// its attempt inside the statement that takes the challenge; 60
// simultaneous assertions with a bad signature, split over two servers on
// one database, with a limit of 20, get at most 20 signature
// checks, the rest 429 before any check; then the client is refused even
// with a good assertion.
func TestPasskeyFailureLimitHoldsAcrossServers(t *testing.T) {
	l := newLab(t)
	key := l.authenticator(virtualauthn.MicrosoftAuthenticatorIOS(l.ca))
	if r := l.register(key, "phone", virtualauthn.Tamper{}); r.status != 201 {
		t.Fatal(r.raw)
	}
	l.failureLimit = 20
	first := l.newServer(nil)
	second := l.newServer(nil)
	var bodies []string
	for i := 0; i < 60; i++ {
		assertion, err := key.GetTampered([]byte(l.beginLogin(first, l.upn)), testOrigin, virtualauthn.Tamper{CorruptSignature: true})
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, string(assertion))
	}
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, body := range bodies {
		srv := first
		if i%2 == 1 {
			srv = second
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := l.doOn(srv, "POST", "/webauthn/authentication/finish", "", body)
			mu.Lock()
			codes[fmt.Sprint(r.status, " ", r.code())]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("answers: %v", codes)
	checked, refused := codes["400 "+ceremony.CodeSignatureInvalid], codes["429 "+api.CodeTooManyFailures]
	if checked > 20 || checked == 0 || checked+refused != 60 {
		t.Fatalf("60 bad assertions with a limit of 20: %v", codes)
	}
	good, err := key.Get([]byte(l.beginLogin(first, l.upn)), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if r := l.doOn(second, "POST", "/webauthn/authentication/finish", "", string(good)); r.status != 429 || r.code() != api.CodeTooManyFailures {
		t.Fatalf("a good assertion after %d failures: %d %s", checked, r.status, r.raw)
	}
}
