package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestMain(m *testing.M) {
	// The walkthrough test runs this binary as `bin/rpserver`.
	if os.Getenv(runAsBinaryEnv) == "1" {
		main()
		os.Exit(0)
	}
	// Request logs would drown the test output; failures still fail tests.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	testpg.Main(m)
}

// TestUserSurvivesRestart plays the foundation's acceptance: a token from
// `admin token`, a user created through the API, the server rebuilt from
// scratch on the same database and data folder, and the user still there,
// readable with the token minted before the restart.
func TestUserSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dsn := testpg.NewDatabase(t)
	c := config.Config{DataDir: t.TempDir(), Issuer: "http://localhost:8080", RPID: "localhost", Origins: []string{"http://localhost:8080"}, AdminTokenTTL: 3600e9, MaxBodyBytes: 64 << 10}

	tok, err := bootstrapAdminToken(ctx, c, dsn, "admin@lab.example", []string{"Global Administrator"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := newServer(ctx, c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(first.Handler)
	req, _ := http.NewRequest("POST", srv.URL+"/v1.0/users", strings.NewReader(`{"userPrincipalName":"kept@lab.example","displayName":"Kept"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create: %v %v", err, res.Status)
	}
	res.Body.Close()
	srv.Close()
	first.Close()

	second, err := newServer(ctx, c, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	srv = httptest.NewServer(second.Handler)
	defer srv.Close()
	req, _ = http.NewRequest("GET", srv.URL+"/v1.0/users/kept@lab.example", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after restart: %v %v", err, res.Status)
	}
	var u map[string]any
	_ = json.NewDecoder(res.Body).Decode(&u)
	res.Body.Close()
	if u["displayName"] != "Kept" {
		t.Fatalf("after restart: %v", u)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	_, err := loadConfig("serve", []string{"-rp-id", "lab.example", "-origins", "http://lab.example"}, nil)
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("got %v", err)
	}
	_ = config.Config{}
}

// TestAdminTokenNeverStartsACluster: with a data folder where no server
// runs, admin token fails naming the fix and leaves no cluster behind.
func TestAdminTokenNeverStartsACluster(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	err := runAdmin([]string{"token", "-upn", "admin@lab.example", "-data-dir", dir})
	if err == nil {
		t.Fatal("admin token succeeded with no server running")
	}
	for _, want := range []string{dir, "-data-dir", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %s", err, want)
		}
	}
	if _, statErr := os.Stat(filepath.Join(dir, "postgres")); !os.IsNotExist(statErr) {
		t.Fatalf("a cluster folder was made: %v", statErr)
	}
}
