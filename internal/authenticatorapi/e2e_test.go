package authenticatorapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/attestation"
	"github.com/rpserver/rpserver/internal/authenticatorapi"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/testpg"
	"github.com/rpserver/rpserver/virtualauthn"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// authnService runs the authenticator service on a loopback listener.
func authnService(t *testing.T) (*httptest.Server, *virtualauthn.TestCA) {
	t.Helper()
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(authenticatorapi.Handler(authenticatorapi.New(ca)))
	t.Cleanup(srv.Close)
	return srv, ca
}

// rpserver is the real server trusting ca, with the TAP method enabled as
// an admin would.
func rpserver(t *testing.T, ca *virtualauthn.TestCA) (*servertest.Server, string) {
	t.Helper()
	trust := attestation.NewTrustStore()
	if err := trust.AddPEM(uuid.Nil, ca.RootPEM()); err != nil {
		t.Fatal(err)
	}
	srv := servertest.New(t, server.Config{Trust: trust})
	admin := srv.AdminToken(t)
	call(t, "PATCH", srv.URL+"/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", admin,
		`{"state":"enabled"}`, 204, nil) // Graph answers PATCH with 204
	return srv, admin
}

func call(t *testing.T, method, url, bearer, body string, want int, out any) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if want != 0 && res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, url, res.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
	return raw
}

// runScript runs scripts/authenticator-ceremonies.sh (curl + jq) against rp.
func runScript(t *testing.T, authn, rp, origin, admin string) {
	t.Helper()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required (scripts/ensure-deps.sh installs curl and jq)", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../../scripts/authenticator-ceremonies.sh")
	cmd.Env = append(os.Environ(), "AUTHN="+authn, "RP="+rp, "ORIGIN="+origin, "ADMIN_TOKEN="+admin)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil || !bytes.Contains(out, []byte("ok: registered and signed in")) {
		t.Fatalf("script: %v", err)
	}
}

// TestCurlAgainstRPServer: the shell client does a real registration and
// sign-in against rpserver through the service.
func TestCurlAgainstRPServer(t *testing.T) {
	authn, ca := authnService(t)
	srv, admin := rpserver(t, ca)
	runScript(t, authn.URL, srv.URL, srv.Config.Origins[0], admin)
}

// emptySchema is a database URL whose search_path is a new, empty schema
// (testpg's databases carry rpserver's tables, which the baseline's
// CREATE TABLE IF NOT EXISTS would take for its own).
func emptySchema(t *testing.T) string {
	dsn := testpg.NewDatabase(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA baseline"); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=baseline"
}

// TestCurlAgainstBaseline: the same script against a second relying party,
// the plain go-webauthn server of bench/baseline, built and started here.
func TestCurlAgainstBaseline(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("go is required to build bench/baseline")
	}
	authn, _ := authnService(t)
	bin := filepath.Join(t.TempDir(), "baseline")
	build := exec.Command("go", "build", "-o", bin, "../../bench/baseline")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build baseline: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	admin := hex.EncodeToString(tok)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-listen", addr, "-database-url", emptySchema(t), "-admin-token", admin)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	rp := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baseline did not start: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, port, _ := net.SplitHostPort(addr)
	runScript(t, authn.URL, rp, fmt.Sprintf("http://localhost:%s", port), admin)
}
