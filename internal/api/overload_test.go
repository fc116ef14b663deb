package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rpserver/rpserver/internal/admission"
	"github.com/rpserver/rpserver/internal/api"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
)

func errorCode(t *testing.T, res *http.Response) string {
	t.Helper()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("decode error body: %v", err)
	}
	return body.Error.Code
}

// Past capacity a request is refused at once with 503 serverBusy and a
// Retry-After, while the probes still answer: a load balancer must be able
// to tell a busy server from a dead one.
func TestOverloadShedsWithServerBusyButProbesAnswer(t *testing.T) {
	srv := servertest.New(t, server.Config{MaxInFlight: 1})
	// With the one slot held, the next request waits its bounded time in
	// the queue and is shed.
	hold, err := srv.Admission.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/v1.0/users")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("at capacity: status %d Retry-After %q, want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if code := errorCode(t, res); code != admission.CodeServerBusy {
		t.Fatalf("code %q, want %s", code, admission.CodeServerBusy)
	}
	res.Body.Close()
	for _, p := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("%s at capacity: %d, want 200", p, res.StatusCode)
		}
	}
	hold()
	res, err = http.Get(srv.URL + "/v1.0/users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusServiceUnavailable {
		t.Fatal("a freed slot must admit the next request")
	}
}

func TestDrainTurnsReadinessOff(t *testing.T) {
	srv := servertest.New(t, server.Config{})
	srv.Handler.Drain()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || errorCode(t, res) != api.CodeServerDraining {
		t.Fatalf("draining readyz: %d, want 503 %s", res.StatusCode, api.CodeServerDraining)
	}
}
