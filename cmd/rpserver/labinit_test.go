package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/server"
	"github.com/rpserver/rpserver/internal/server/servertest"
	"github.com/rpserver/rpserver/internal/store"
	"github.com/rpserver/rpserver/internal/testpg"
)

func TestLabInitFillsAnEmptyTenantOnce(t *testing.T) {
	srv := servertest.New(t, server.Config{})
	args := []string{"init", "-database-url", srv.Config.DatabaseURL, "-url", srv.URL, "-origins", srv.Config.Origins[0],
		"-master-key", base64.StdEncoding.EncodeToString(srv.Config.MasterKey), "-data-dir", t.TempDir()}
	var out, errOut bytes.Buffer
	if err := labCommand(args, &out, &errOut); err != nil {
		t.Fatalf("lab init: %v\n%s", err, errOut.String())
	}
	pass := regexp.MustCompile(`(?m)^    (\S+)$`).FindStringSubmatch(out.String())
	if pass == nil || !strings.Contains(out.String(), "admin1@lab.example") || !strings.Contains(out.String(), srv.Config.Origins[0]) {
		t.Fatalf("output lacks the TAP or the URL:\n%s", out.String())
	}
	ctx := context.Background()
	for _, upn := range []string{"breakglass1@lab.example", "breakglass2@lab.example"} {
		u, err := srv.DB.Directory().GetUserByUPN(ctx, upn)
		if err != nil || !u.IsEmergencyAccess {
			t.Fatalf("%s: %+v %v", upn, u, err)
		}
	}
	groups, _, err := srv.DB.Directory().ListGroups(ctx, directory.Query{Page: directory.Page{Top: 100}})
	if err != nil || len(groups) != len(labTenant.groups) {
		t.Fatalf("groups: %d %v", len(groups), err)
	}
	// The printed pass signs admin1 in: the first step of the rollout.
	res := postJSON(t, srv.URL+"/signin/tap", `{"userPrincipalName":"admin1@lab.example","temporaryAccessPass":"`+pass[1]+`"}`)
	if !strings.Contains(res, `"sessionToken"`) {
		t.Fatalf("TAP sign-in with the printed pass: %s", res)
	}
	// A second run changes nothing.
	out.Reset()
	if err := labCommand(args, &out, &errOut); err != nil || !strings.Contains(out.String(), "changes nothing") {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if n, err := countUsers(ctx, srv.Config.DatabaseURL); err != nil || n == 0 {
		t.Fatal(n, err)
	}
}

func postJSON(t *testing.T, url, body string) string {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return string(raw)
}

// TestServeLabInitFillsAnEmptyTenant: `serve -lab-init` (what scripts/run.sh
// runs) creates the starting tenant once it listens and prints admin1's TAP
// on stdout, never in the log; started again on the same database it
// touches nothing.
func TestServeLabInitFillsAnEmptyTenant(t *testing.T) {
	dsn := testpg.NewDatabase(t)
	data := t.TempDir()
	serve := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], "serve", "-lab-init", "-database-url", dsn, "-data-dir", data, "-listen", "127.0.0.1:0")
		cmd.Env = append(os.Environ(), runAsBinaryEnv+"=1")
		var stdout, stderr lockedBuffer // read while the process writes
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		for !strings.Contains(stdout.String(), "\n") {
			if ctx.Err() != nil {
				t.Fatalf("serve -lab-init printed nothing:\n%s", stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // the rest of the message
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, stderr.String())
		}
		if pass := regexp.MustCompile(`(?m)^    (\S+)$`).FindStringSubmatch(stdout.String()); pass != nil && strings.Contains(stderr.String(), pass[1]) {
			t.Fatal("the one-time TAP reached the log")
		}
		return stdout.String()
	}
	first := serve()
	if !strings.Contains(first, "The lab tenant is ready") || !regexp.MustCompile(`(?m)^    \S+$`).MatchString(first) {
		t.Fatalf("first start did not fill the tenant:\n%s", first)
	}
	allUsers := func() int {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		users, _, err := db.Directory().ListUsers(context.Background(), directory.Query{Page: directory.Page{Top: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return len(users)
	}
	n := allUsers()
	if n != len(labTenant.users)+1 {
		t.Fatalf("users after lab init: %d, want %d", n, len(labTenant.users)+1)
	}
	if second := serve(); !strings.Contains(second, "changes nothing") {
		t.Fatalf("second start:\n%s", second)
	}
	if m := allUsers(); m != n {
		t.Fatalf("users after the second start: %d (was %d)", m, n)
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a child process's
// output is copied into it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
