package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// lab is what every scenario runs against: one database, several rpserver
// processes on it (as replicas behind a load balancer), sharing one master
// key and one public origin, as a real deployment does.
type lab struct {
	bin       string // the rpserver binary under test
	work      string
	dsn       string
	masterKey string
	origin    string // the origin authenticators claim (the "load balancer's")
	servers   []*serverProc
	extra     []string // extra serve flags for every server
}

type serverProc struct {
	name    string
	port    int
	dataDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan error
}

func (s *serverProc) url() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

func newLab(bin, work, dsn string, n int, extra ...string) (*lab, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	l := &lab{bin: bin, work: work, dsn: dsn, masterKey: base64.StdEncoding.EncodeToString(key), origin: "http://localhost:18443", extra: extra}
	for i := 0; i < n; i++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(work, fmt.Sprintf("rp%d", i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		l.servers = append(l.servers, &serverProc{name: fmt.Sprintf("rp%d", i), port: port, dataDir: dir, logPath: filepath.Join(dir, "server.log")})
	}
	return l, nil
}

func (l *lab) env(s *serverProc) []string {
	return append(os.Environ(),
		"DATABASE_URL="+l.dsn,
		"RPSERVER_MASTER_KEY="+l.masterKey,
		"RPSERVER_ORIGINS="+l.origin,
		"RPSERVER_DATA_DIR="+s.dataDir,
		"RPSERVER_LISTEN=127.0.0.1:"+strconv.Itoa(s.port),
		"RPSERVER_LOG_LEVEL=warn",
	)
}

// start runs server s and waits until it is ready.
func (l *lab) start(ctx context.Context, s *serverProc) error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(l.bin, append([]string{"serve"}, l.extra...)...)
	cmd.Env = l.env(s)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	s.cmd = cmd
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			return fmt.Errorf("%s exited at start (%v); log: %s", s.name, err, s.logPath)
		default:
		}
		if ready(ctx, s.url()) == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within 60s; log: %s", s.name, s.logPath)
}

func (l *lab) startAll(ctx context.Context) error {
	// The first server migrates; the others then start together.
	for _, s := range l.servers {
		if err := l.start(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// kill sends SIGKILL: no drain, no flush, the process is simply gone.
func (l *lab) kill(s *serverProc) error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-s.exited
	return nil
}

// terminate sends SIGTERM and waits for the graceful exit; an exit status
// other than 0 is a failed shutdown.
func (l *lab) terminate(s *serverProc, within time.Duration) error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-s.exited:
		if err != nil {
			return fmt.Errorf("%s: graceful shutdown failed: %v (log %s)", s.name, err, s.logPath)
		}
		return nil
	case <-time.After(within):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("%s: did not exit within %s of SIGTERM", s.name, within)
	}
}

func (l *lab) stopAll() {
	for _, s := range l.servers {
		if s.cmd != nil && s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(30 * time.Second):
				_ = s.cmd.Process.Kill()
			}
		}
	}
}

func (l *lab) urls() []string {
	var out []string
	for _, s := range l.servers {
		out = append(out, s.url())
	}
	return out
}

// adminToken mints a Global Administrator token with the binary's own
// command, against the lab's database and key.
func (l *lab) adminToken(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, l.bin, "admin", "token", "--upn", "faults-admin@lab.example")
	cmd.Env = l.env(l.servers[0])
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("admin token: %v: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("admin token: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func ready(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		return fmt.Errorf("readyz %d", res.StatusCode)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// createDatabase makes a fresh database on the cluster at adminDSN and
// returns its URL.
func createDatabase(ctx context.Context, adminDSN, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}
