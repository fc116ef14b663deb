package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pg_auto_failover (Debian's pg-auto-failover-cli and
// postgresql-15-auto-failover) runs the failover scenario: one tool and a
// monitor node, no separate consensus store to run (Patroni needs etcd),
// and synchronous replication to the standby by default, so a commit the
// primary acknowledged is on the standby before the answer: that is what
// makes "nothing acknowledged lost" hold across a failover at all.
type autoFailover struct {
	dir       string
	bin       string // pg_autoctl
	pgBin     string
	monitor   int
	nodes     [2]int
	procs     map[string]*exec.Cmd
	cred      *syscall.Credential
	home      string
	monitorDB string
}

func findPgAutoctl() (string, error) {
	if p, err := exec.LookPath("pg_autoctl"); err == nil {
		return p, nil
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_autoctl"); len(m) > 0 {
		return m[len(m)-1], nil
	}
	return "", errors.New("pg_autoctl not found: install Debian's pg-auto-failover-cli and postgresql-15-auto-failover (scripts/ensure-deps.sh --failover)")
}

func newAutoFailover(work string) (*autoFailover, error) {
	bin, err := findPgAutoctl()
	if err != nil {
		return nil, err
	}
	pgBins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(pgBins) == 0 {
		return nil, errors.New("no PostgreSQL server binaries under /usr/lib/postgresql")
	}
	a := &autoFailover{dir: filepath.Join(work, "pgaf"), bin: bin, pgBin: filepath.Dir(pgBins[len(pgBins)-1]), procs: map[string]*exec.Cmd{}}
	a.home = filepath.Join(a.dir, "home")
	if err := os.MkdirAll(a.home, 0o755); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 { // PostgreSQL refuses root: run it all as postgres
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pg_auto_failover as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		a.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := filepath.Walk(a.dir, func(p string, _ os.FileInfo, err error) error {
			if err == nil {
				err = os.Chown(p, uid, gid)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	for i, p := range []*int{&a.monitor, &a.nodes[0], &a.nodes[1]} {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		*p = port
		_ = i
	}
	a.monitorDB = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pg_auto_failover?sslmode=disable", a.monitor)
	return a, nil
}

// start runs one pg_autoctl "create … --run" in the background, in its own
// process group so that killing the group is a machine crash of the node.
func (a *autoFailover) start(name string, args ...string) error {
	logf, err := os.Create(filepath.Join(a.dir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(a.bin, args...)
	cmd.Env = []string{"PATH=" + a.pgBin + ":/usr/bin:/bin", "HOME=" + a.home, "LANG=C"}
	cmd.Dir = a.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: a.cred}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pg_autoctl %s: %w", name, err)
	}
	a.procs[name] = cmd
	go func() { _ = cmd.Wait(); logf.Close() }()
	return nil
}

func (a *autoFailover) nodeDSN(i int, db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", a.nodes[i], db)
}

// dsn is what rpserver gets: both hosts, and only the writable one will do.
func (a *autoFailover) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/rpserver?sslmode=disable&target_session_attrs=read-write&connect_timeout=2", a.nodes[0], a.nodes[1])
}

func queryOne(ctx context.Context, dsn, q string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var out string
	err = conn.QueryRow(ctx, q).Scan(&out)
	return out, err
}

func waitFor(ctx context.Context, within time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s: not within %s", what, within)
}

// up starts the monitor (with failure detection tightened from 20 s to a
// few seconds), the primary, then the standby, and returns once the
// standby replicates synchronously.
func (a *autoFailover) up(ctx context.Context) error {
	common := []string{"--auth", "trust", "--no-ssl", "--hostname", "127.0.0.1"}
	if err := a.start("monitor", append([]string{"create", "monitor", "--pgdata", filepath.Join(a.dir, "monitor"), "--pgport", strconv.Itoa(a.monitor), "--run"}, common...)...); err != nil {
		return err
	}
	if err := waitFor(ctx, 60*time.Second, "pg_auto_failover monitor", func() bool {
		_, err := queryOne(ctx, a.monitorDB, "select extversion from pg_extension where extname = 'pgautofailover'")
		return err == nil
	}); err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, a.monitorDB)
	if err != nil {
		return err
	}
	for _, set := range []string{
		"pgautofailover.health_check_period = 1000", "pgautofailover.health_check_timeout = 1000",
		"pgautofailover.health_check_retry_delay = 500", "pgautofailover.node_considered_unhealthy_timeout = 3000",
		"pgautofailover.primary_demote_timeout = 5000",
	} {
		if _, err := conn.Exec(ctx, "ALTER SYSTEM SET "+set); err != nil {
			conn.Close(ctx)
			return err
		}
	}
	_, err = conn.Exec(ctx, "SELECT pg_reload_conf()")
	conn.Close(ctx)
	if err != nil {
		return err
	}
	monitorURI := fmt.Sprintf("postgres://autoctl_node@127.0.0.1:%d/pg_auto_failover?sslmode=disable", a.monitor)
	for i := range a.nodes {
		name := fmt.Sprintf("node%d", i+1)
		if err := a.start(name, append([]string{"create", "postgres", "--pgdata", filepath.Join(a.dir, name), "--pgport", strconv.Itoa(a.nodes[i]),
			"--dbname", "rpserver", "--monitor", monitorURI, "--run"}, common...)...); err != nil {
			return err
		}
		if i == 0 {
			if err := waitFor(ctx, 90*time.Second, "primary", func() bool {
				v, err := queryOne(ctx, a.nodeDSN(0, "rpserver"), "select pg_is_in_recovery()::text")
				return err == nil && v == "false"
			}); err != nil {
				return err
			}
		}
	}
	// The standby's base backup waits for a checkpoint on the primary:
	// ask for one instead of waiting for the next timed one.
	return waitFor(ctx, 120*time.Second, "synchronous standby", func() bool {
		if c, err := pgx.Connect(ctx, a.nodeDSN(0, "postgres")); err == nil {
			_, _ = c.Exec(ctx, "CHECKPOINT")
			c.Close(ctx)
		}
		v, err := queryOne(ctx, a.nodeDSN(0, "postgres"), "select count(*)::text from pg_stat_replication where sync_state in ('sync', 'quorum')")
		return err == nil && v == "1"
	})
}

// crashPrimary kills every process of node 1: pg_autoctl and PostgreSQL.
func (a *autoFailover) crashPrimary() error {
	cmd := a.procs["node1"]
	if cmd == nil || cmd.Process == nil {
		return errors.New("node1 not running")
	}
	err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	// PostgreSQL's postmaster may have left the group: kill it by its pid file.
	if raw, rerr := os.ReadFile(filepath.Join(a.dir, "node1", "postmaster.pid")); rerr == nil {
		if pid, perr := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0]); perr == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return err
}

func (a *autoFailover) down() {
	for _, cmd := range a.procs {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	for _, n := range []string{"monitor", "node1", "node2"} {
		if raw, err := os.ReadFile(filepath.Join(a.dir, n, "postmaster.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// scenarioFailover: rpserver on a primary and a synchronous standby
// managed by pg_auto_failover, with a multi-host URL
// (target_session_attrs=read-write). The primary's machine dies under load;
// the monitor promotes the standby, rpserver follows by itself, and every
// acknowledged sign-in is on the new primary.
func (s *suite) scenarioFailover(ctx context.Context) result {
	r := result{Name: "PostgreSQL failover (pg_auto_failover)"}
	af, err := newAutoFailover(s.work)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer af.down()
	t0 := time.Now()
	if err := af.up(ctx); err != nil {
		r.Err = "pg_auto_failover: " + err.Error() + " (logs in " + af.dir + ")"
		return r
	}
	r.Findings = append(r.Findings, fmt.Sprintf("monitor, primary and synchronous standby up in %s", time.Since(t0).Round(time.Second)))

	l, err := newLab(s.bin, filepath.Join(s.work, "failover"), af.dsn(), 2)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer l.stopAll()
	if err := l.startAll(ctx); err != nil {
		r.Err = err.Error()
		return r
	}
	tok, err := l.adminToken(ctx)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	drv := newDriver(l, tok)
	if err := drv.enableMethods(ctx); err != nil {
		r.Err = err.Error()
		return r
	}
	users, err := drv.setupUsers(ctx, "failover", s.users, s.ca)
	if err != nil {
		r.Err = "setup users: " + err.Error()
		return r
	}
	since := time.Now()
	d := s.dur(25*time.Second, 90*time.Second)
	pass := true
	ops, findings, elapsed := s.runLoad(ctx, drv, users, d, func(ctx context.Context) []string {
		sleepCtx(ctx, d/4)
		killed := time.Now()
		if err := af.crashPrimary(); err != nil {
			pass = false
			return []string{"kill primary: " + err.Error()}
		}
		var promoted time.Duration
		for time.Since(killed) < 60*time.Second {
			v, err := queryOne(ctx, af.nodeDSN(1, "rpserver"), "select pg_is_in_recovery()::text")
			if err == nil && v == "false" {
				promoted = time.Since(killed)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if promoted == 0 {
			pass = false
			return []string{"the standby was not promoted within 60s"}
		}
		// rpserver follows: the first sign-in that succeeds on each server
		// after the promotion.
		var followed time.Duration
		for time.Since(killed) < 90*time.Second {
			ok := 0
			for i := range l.servers {
				if drv.signInVia(context.WithoutCancel(ctx), users[i], i) == nil {
					ok++
				}
			}
			if ok == len(l.servers) {
				followed = time.Since(killed)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if followed == 0 {
			pass = false
			return []string{fmt.Sprintf("standby promoted %s after the kill, but rpserver did not follow within 90s", promoted.Round(time.Millisecond))}
		}
		return []string{fmt.Sprintf("primary killed; standby promoted after %s; both servers signing in again %s after the kill, without a restart",
			promoted.Round(time.Millisecond), followed.Round(time.Millisecond))}
	})
	r.Findings = append(r.Findings, findings...)
	r.Load = fmt.Sprintf("%d workers, %d users, 2 servers, %s, %s", s.workers, len(users), elapsed.Round(time.Second), rate(ops, elapsed))
	r.Faults = "SIGKILL of every process of the primary's node (pg_autoctl and PostgreSQL) mid-load"
	if !r.checkWith(ctx, drv, users, since) {
		return r
	}
	r.Pass = pass && r.Check.ok()
	return r
}
