package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/internal/testpg"
)

// imageUID is the distroless nonroot user the image runs as.
const imageUID = 65532

// TestImageRunsAsItsUser checks what `docker compose up` needs without a
// Docker engine: the Dockerfile gives /data to the runtime user, and the
// binary, run as that uid, refuses a root-owned empty folder (what a volume
// without the image's /data would be) naming the fix, and serves from a
// folder shaped like the image's /data (owned by that uid, mode 0700),
// making its master key, lab CA and server.json there, with the healthcheck
// answering.
func TestImageRunsAsItsUser(t *testing.T) {
	for file, wants := range map[string][]string{
		"../../Dockerfile": {"--chown=65532:65532 /out/data /data", "USER 65532:65532", `HEALTHCHECK`, `"/rpserver", "healthcheck"`},
		"../../docker-compose.yml": {"restart: unless-stopped", "rpdata:/data", "./trust-anchors:/etc/rpserver/trust-anchors:ro",
			`["CMD", "/rpserver", "healthcheck"]`, "RPSERVER_TRUST_ANCHORS: /etc/rpserver/trust-anchors"},
		"../../.dockerignore": {".git", "bin/", "*.phone"},
	} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s lacks %q", file, w)
			}
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("running the binary as uid 65532 needs root (CI runs as root)")
	}

	// The binary (this test binary acting as rpserver) where uid 65532 can run it.
	base, err := os.MkdirTemp("", "rpserver-image-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "rpserver")
	copyFile(t, self, bin, 0o755)
	dsn := testpg.NewDatabase(t)
	asImageUser := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: imageUID, Gid: imageUID}}
		cmd.Env = []string{runAsBinaryEnv + "=1", "HOME=" + base, "PATH=/usr/bin:/bin", "DATABASE_URL=" + dsn}
		cmd.Dir = base
		return cmd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A root-owned empty folder: refused at start, with the fix named.
	rootOwned := filepath.Join(base, "root-owned")
	if err := os.Mkdir(rootOwned, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := asImageUser(ctx, "serve", "-data-dir", rootOwned, "-listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatalf("serve started on a root-owned folder:\n%s", out)
	}
	for _, want := range []string{"not writable", "uid 65532", "chown 65532 " + rootOwned} {
		if !strings.Contains(string(out), want) {
			t.Errorf("refusal does not say %q:\n%s", want, out)
		}
	}

	// A folder like the image's /data: the server starts and keeps its state there.
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, imageUID, imageUID); err != nil {
		t.Fatal(err)
	}
	serve := asImageUser(ctx, "serve", "-data-dir", data, "-listen", "127.0.0.1:0")
	var log bytes.Buffer
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = serve.Process.Kill(); _ = serve.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, ok, _ := config.ReadRuntime(data); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", log.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cert, key := labca.Paths(data)
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Join(data, "master.key"), 0o600}, {key, 0o600}, {cert, 0o644}, {config.RuntimeFile(data), 0o644}} {
		fi, err := os.Stat(f.path)
		if err != nil {
			t.Fatalf("%s: %v\n%s", f.path, err, log.String())
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != imageUID || fi.Mode().Perm() != f.mode {
			t.Errorf("%s: uid %d mode %v, want uid %d mode %v", f.path, st.Uid, fi.Mode().Perm(), imageUID, f.mode)
		}
	}
	if out, err := asImageUser(ctx, "healthcheck", "-data-dir", data).CombinedOutput(); err != nil || !strings.Contains(string(out), "ready") {
		t.Fatalf("healthcheck: %v\n%s", err, out)
	}
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := serve.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGTERM: %v\n%s", err, log.String())
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
