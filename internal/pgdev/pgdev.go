package pgdev

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a throwaway server.
type Options struct {
	// Dir holds the cluster (Dir/data), its log (Dir/postgres.log) and the
	// generated password (Dir/password). Created when missing; reused when it
	// already holds a cluster, so data survives restarts.
	Dir string
	// Port to listen on; 0 picks a free loopback port.
	Port int
	// Fast trades durability for speed (fsync off): for tests only.
	Fast bool
	// Settings are extra server settings, each "name=value" (passed as -c),
	// e.g. shared_preload_libraries=pg_stat_statements for scripts/bench.sh.
	Settings []string
}

// Server is a running PostgreSQL started by Start.
type Server struct {
	Dir  string
	Port int
	// DSN connects to the "rpserver" database as the "rpserver" superuser.
	DSN string

	bin   string
	runAs *syscall.Credential
}

const superuser = "rpserver"

// Start initialises the cluster if needed and starts the server. The caller
// must call Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgdev: Options.Dir is required")
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: opts.Dir, Port: opts.Port, bin: bin}
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			return nil, err
		}
		s.runAs = cred
	}
	if err := s.prepareDir(); err != nil {
		return nil, err
	}
	password, err := s.ensureCluster(ctx)
	if err != nil {
		return nil, err
	}
	if s.Port == 0 {
		if s.Port, err = freePort(); err != nil {
			return nil, err
		}
	}
	// A previous run killed without Stop leaves a live or stale postmaster.
	_ = s.pgctl(ctx, "stop", "-m", "immediate", "-w")

	serverOpts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", s.Port, s.socketDir())
	if opts.Fast {
		serverOpts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for _, kv := range opts.Settings {
		if strings.ContainsAny(kv, " '\"\\") || !strings.Contains(kv, "=") {
			return nil, fmt.Errorf("pgdev: setting %q: want name=value without spaces or quotes", kv)
		}
		serverOpts += " -c " + kv
	}
	if err := s.pgctl(ctx, "start", "-w", "-t", "60", "-l", filepath.Join(s.Dir, "postgres.log"), "-o", serverOpts); err != nil {
		return nil, fmt.Errorf("pgdev: start postgres (log in %s): %w", filepath.Join(s.Dir, "postgres.log"), err)
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)),
		Path:     "/rpserver",
		RawQuery: "sslmode=disable",
	}
	s.DSN = u.String()
	if err := s.ensureDatabase(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	// Other commands (rpserver admin token, migrate) find the running server here.
	if err := os.WriteFile(s.dsnFile(), []byte(s.DSN+"\n"), 0o600); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// Running returns the DSN of a server that Start left running in dir, or an
// error saying why there is none (no dsn file: nothing was started there, or
// it was stopped; or the server does not answer), so a client command can
// name the fix instead of silently starting a second cluster.
func Running(ctx context.Context, dir string) (string, error) {
	file := filepath.Join(dir, "dsn")
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no running server's database in %s (no %s: no `rpserver serve` with this data folder is running)", dir, file)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	dsn := strings.TrimSpace(string(raw))
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("the database named in %s does not answer (is `rpserver serve` still running?): %w", file, err)
	}
	conn.Close(ctx)
	return dsn, nil
}

// PostmasterPID reads the running server's process id from its data folder
// (for measuring its CPU from /proc).
func (s *Server) PostmasterPID() (int, error) {
	raw, err := os.ReadFile(filepath.Join(s.dataDir(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgdev: %w", err)
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

func (s *Server) dsnFile() string { return filepath.Join(s.Dir, "dsn") }

// Stop shuts the server down, waiting for it to exit.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_ = os.Remove(s.dsnFile())
	return s.pgctl(ctx, "stop", "-m", "fast", "-w")
}

// Crash stops the server the way a crash or a power cut does (immediate
// shutdown: no checkpoint; committed work is recovered from the WAL at the
// next Start), for fault tests.
func (s *Server) Crash() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return s.pgctl(ctx, "stop", "-m", "immediate", "-w")
}

func (s *Server) dataDir() string   { return filepath.Join(s.Dir, "data") }
func (s *Server) socketDir() string { return filepath.Join(s.Dir, "run") }

func (s *Server) prepareDir() error {
	// The folder holding the cluster must be searchable by the postgres user.
	parent := filepath.Dir(s.Dir)
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return fmt.Errorf("pgdev: create %s: %w", parent, err)
	}
	if s.runAs != nil {
		if fi, err := os.Stat(parent); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(parent, fi.Mode().Perm()|0o011)
		}
	}
	for _, d := range []string{s.Dir, s.socketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgdev: create %s: %w", d, err)
		}
		if s.runAs != nil {
			if err := os.Chown(d, int(s.runAs.Uid), int(s.runAs.Gid)); err != nil {
				return fmt.Errorf("pgdev: hand %s to postgres: %w", d, err)
			}
		}
	}
	if s.runAs != nil {
		// The postgres user must be able to reach the folder through its parents.
		if err := s.run(context.Background(), "/usr/bin/test", "-w", s.Dir); err != nil {
			return fmt.Errorf("pgdev: the postgres user cannot write %s (a parent folder is not searchable by it); choose a data folder it can reach, e.g. under /var/lib or /tmp: %w", s.Dir, err)
		}
	}
	return nil
}

func (s *Server) ensureCluster(ctx context.Context) (string, error) {
	pwFile := filepath.Join(s.Dir, "password")
	if _, err := os.Stat(filepath.Join(s.dataDir(), "PG_VERSION")); err == nil {
		pw, err := os.ReadFile(pwFile)
		if err != nil {
			return "", fmt.Errorf("pgdev: cluster exists but its password file is unreadable: %w", err)
		}
		return strings.TrimSpace(string(pw)), nil
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	password := hex.EncodeToString(raw)
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	if s.runAs != nil {
		if err := os.Chown(pwFile, int(s.runAs.Uid), int(s.runAs.Gid)); err != nil {
			return "", err
		}
	}
	err := s.run(ctx, filepath.Join(s.bin, "initdb"),
		"-D", s.dataDir(), "-U", superuser, "--pwfile", pwFile,
		"--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return "", fmt.Errorf("pgdev: initdb: %w", err)
	}
	return password, nil
}

func (s *Server) ensureDatabase(ctx context.Context) error {
	admin := strings.Replace(s.DSN, "/rpserver?", "/postgres?", 1)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("pgdev: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'rpserver')").Scan(&exists); err != nil {
		return fmt.Errorf("pgdev: query databases: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE rpserver"); err != nil {
		return fmt.Errorf("pgdev: create database: %w", err)
	}
	return nil
}

func (s *Server) pgctl(ctx context.Context, args ...string) error {
	return s.run(ctx, filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", s.dataDir()}, args...)...)
}

func (s *Server) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = s.Dir
	if s.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.runAs}
		cmd.Env = append(os.Environ(), "HOME="+s.Dir)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(name), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("pgdev: running as root, and PostgreSQL refuses root: a `postgres` system user is needed (install Debian's postgresql package)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findBinDir locates the PostgreSQL server binaries: $PG_BINDIR, then
// Debian's /usr/lib/postgresql/<newest>/bin, then initdb on PATH.
func findBinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		resolved, err := filepath.EvalSymlinks(p)
		if err == nil {
			p = resolved
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgdev: no PostgreSQL server binaries found (initdb); install Debian's postgresql package or set PG_BINDIR, or give DATABASE_URL")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
