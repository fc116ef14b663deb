// Command compare is the engine of scripts/bench.sh: it measures rpserver
// against the plain go-webauthn baseline (bench/baseline) side by side in
// one run on this machine.
//
// Each server gets its own fresh PostgreSQL (fsync on, pg_stat_statements
// loaded). The same generator (internal/loadgen, what `rpserver loadtest`
// runs) drives them alternately, A B A B ..., each run bounded in time,
// loopback only. Around every timed sign-in phase it reads CPU time from
// /proc (server process; postmaster and all its children; the generator
// itself via getrusage) and, once the database's statistics have settled,
// pg_stat_statements (statements), pg_stat_database (commits) and
// pg_stat_wal (WAL fsyncs), and reports each per sign-in, with the ratio
// of rpserver to the baseline measured in the same run.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/pgdev"
	"github.com/rpserver/rpserver/internal/procs"
)

type options struct {
	bin, work, mix, jsonOut string
	rounds, users, conc     int
	duration, settle        time.Duration
	halfLoad                bool
	halfRounds              int
	sameLoad                bool
	against                 string
	prefill                 int
	serverArgs, dsnQuery    string
	pgSettings              string
	generatorProcs          int
	generatorProcsWhy       string
	timeSeries              string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "folder holding the rpserver and baseline binaries")
	flag.StringVar(&o.work, "work", "", "scratch folder for the databases and logs (default: a new temporary folder, removed at the end)")
	flag.StringVar(&o.mix, "mix", "ms-ios=1", "authenticator presets and weights (as rpserver loadtest -mix)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each runs the baseline then rpserver once")
	flag.IntVar(&o.users, "users", 16, "virtual users per run")
	flag.IntVar(&o.conc, "concurrency", 8, "ceremonies in flight")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each timed sign-in phase")
	flag.DurationVar(&o.settle, "settle", 11*time.Second, "idle wait before reading PostgreSQL's counters (backends publish their statistics within 10s of going idle)")
	flag.BoolVar(&o.halfLoad, "half-load", true, "after the rounds, run each server at half its measured throughput (-half-rounds times) and report p50/p99 there")
	flag.BoolVar(&o.sameLoad, "same-load", false, "with -half-load, also run rpserver at the baseline's half-load rate in each half-load round: both tails at the same offered load")
	flag.IntVar(&o.halfRounds, "half-rounds", 3, "half-load runs per server, alternating like the rounds, reported with their median (the 99th percentile of one 8 s phase moves a lot between runs)")
	flag.StringVar(&o.against, "against", "", "folder holding another rpserver build to run in the baseline's place: an A/B of two builds of rpserver in one run (the tables' baseline column is then that build)")
	flag.IntVar(&o.prefill, "prefill-signins", 0, "after the rounds, insert this many synthetic sign-in log rows into rpserver's database and run the rounds again (CPU per sign-in with a large log vs an empty one, same run)")
	flag.StringVar(&o.serverArgs, "rpserver-args", "", "extra arguments for rpserver serve, space-separated")
	flag.StringVar(&o.dsnQuery, "rpserver-db-params", "", "extra query parameters of rpserver's database URL, e.g. pool_max_conns=2 (pgx pool settings)")
	flag.StringVar(&o.pgSettings, "pg-settings", "", "extra PostgreSQL settings for both servers' databases, space-separated name=value, e.g. log_autovacuum_min_duration=0")
	flag.IntVar(&o.generatorProcs, "generator-procs", 0, "Go processors of the generator (this process; default: the environment's GOMAXPROCS, else half the cores, as rpserver loadtest)")
	flag.StringVar(&o.jsonOut, "json", "", "also write every run's figures as JSON to this file")
	flag.StringVar(&o.timeSeries, "timeseries", "", "also write each run's per-second series (as rpserver loadtest -out's timeseries.csv) into this folder, one file per run: where in a phase its tail is")
	flag.Parse()
	if o.sameLoad && !o.halfLoad {
		log.Fatal("-same-load runs within the half-load rounds: it needs -half-load")
	}
	if o.timeSeries != "" {
		// Refused now, not after the first phase has run.
		if err := os.MkdirAll(o.timeSeries, 0o755); err != nil {
			log.Fatalf("-timeseries: %v", err)
		}
	}
	if o.generatorProcs < 0 {
		log.Fatal("-generator-procs: want a positive count of Go processors, or 0 for the default")
	}
	// The generator shares the machine with both servers and their
	// databases, as rpserver loadtest does, so it leaves them the same share.
	o.generatorProcs, o.generatorProcsWhy = procs.Generator(o.generatorProcs)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// target is one server under test with its database.
type target struct {
	name     string
	pg       *pgdev.Server
	cmd      *exec.Cmd
	url      string
	token    string
	logFile  *os.File
	pendings []chan struct{} // settle-and-snapshot still running
}

// sample is what one timed phase measured.
type sample struct {
	Server    string  `json:"server"`
	Round     int     `json:"round"`
	Load      string  `json:"load"` // "full", "half", loadPrefilled or loadBaselineHalf
	SignIns   int     `json:"signIns"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"signInsPerSecond"`
	P50Ms     float64 `json:"p50Ms"`
	P99Ms     float64 `json:"p99Ms"`
	// The two HTTP halves of a sign-in, to tell where a tail comes from.
	BeginP99Ms  float64 `json:"beginP99Ms"`
	FinishP99Ms float64 `json:"finishP99Ms"`
	ServerCPUus float64 `json:"serverCpuMicrosPerSignIn"`
	PGCPUus     float64 `json:"postgresCpuMicrosPerSignIn"`
	// PGBackendCPUus is the part of PGCPUus spent in the client backends
	// (statements, commits); the rest is WAL writer, checkpointer,
	// autovacuum and other background processes.
	PGBackendCPUus float64            `json:"postgresBackendCpuMicrosPerSignIn"`
	GenCPUus       float64            `json:"generatorCpuMicrosPerSignIn"`
	Statements     float64            `json:"statementsPerSignIn"`
	Commits        float64            `json:"commitsPerSignIn"`
	WALFsyncs      float64            `json:"walFsyncsPerSignIn"`
	WALBytes       float64            `json:"walBytesPerSignIn"`
	ErrorsByCode   map[string]int     `json:"errorsByCode,omitempty"`
	PerQuery       map[string]float64 `json:"statementsPerSignInByQuery,omitempty"`
	// QueryMicros is each statement's executor and planner time per sign-in, in µs.
	QueryMicros map[string][2]float64 `json:"execPlanMicrosPerSignInByQuery,omitempty"`
}

// loadPrefilled marks the rounds run after the prefill.
const loadPrefilled = "full, log prefilled"

// loadBaselineHalf marks rpserver's runs at the baseline's half-load rate
// (-same-load).
const loadBaselineHalf = "baseline's half"

func run(ctx context.Context, o options, out io.Writer) error {
	if o.work == "" {
		dir, err := os.MkdirTemp("", "rpserver-bench-")
		if err != nil {
			return err
		}
		o.work = dir
		defer os.RemoveAll(dir)
	}
	if err := os.Chmod(o.work, 0o711); err != nil {
		return err
	}
	mix, err := loadgen.ParseMix(o.mix)
	if err != nil {
		return err
	}
	base, err := startTarget(ctx, o, "baseline")
	if err != nil {
		return err
	}
	defer base.stop()
	rp, err := startTarget(ctx, o, "rpserver")
	if err != nil {
		return err
	}
	defer rp.stop()
	var samples []*sample
	rounds := func(load string) error {
		for round := 1; round <= o.rounds; round++ {
			for _, t := range []*target{base, rp} {
				s, err := measure(ctx, o, mix, t, round, load, 0)
				if err != nil {
					return fmt.Errorf("%s round %d: %w", t.name, round, err)
				}
				samples = append(samples, s)
			}
		}
		return nil
	}
	if err := rounds("full"); err != nil {
		return err
	}
	if o.prefill > 0 {
		rp.wait()
		if err := prefill(ctx, rp.pg.DSN, o.prefill); err != nil {
			return err
		}
		if err := rounds(loadPrefilled); err != nil {
			return err
		}
	}
	if o.halfLoad {
		// Each round runs baseline, then rpserver, at its own half load;
		// with -same-load rpserver also runs at the baseline's, after its
		// own run in odd rounds and before it in even ones, so neither
		// comes always second.
		type halfRun struct {
			t    *target
			load string
			of   *target // whose full-load rate is halved
		}
		for round := 1; round <= max(o.halfRounds, 1); round++ {
			runs := []halfRun{{base, "half", base}, {rp, "half", rp}}
			if o.sameLoad {
				same := halfRun{rp, loadBaselineHalf, base}
				if round%2 == 1 {
					runs = append(runs, same)
				} else {
					runs = []halfRun{runs[0], same, runs[1]}
				}
			}
			for _, h := range runs {
				full := median(filter(samples, h.of.name, "full"), func(s *sample) float64 { return s.PerSecond })
				s, err := measure(ctx, o, mix, h.t, round, h.load, full/2)
				if err != nil {
					return fmt.Errorf("%s at %s load: %w", h.t.name, h.load, err)
				}
				samples = append(samples, s)
			}
		}
	}
	base.wait()
	rp.wait()
	report(out, o, samples)
	if o.jsonOut != "" {
		raw, _ := json.MarshalIndent(samples, "", "  ")
		if err := os.WriteFile(o.jsonOut, raw, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func startTarget(ctx context.Context, o options, name string) (*target, error) {
	dir := filepath.Join(o.work, name)
	settings := append([]string{
		"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=top", "pg_stat_statements.track_planning=on", "max_connections=100",
	}, strings.Fields(o.pgSettings)...)
	pg, err := pgdev.Start(ctx, pgdev.Options{Dir: filepath.Join(dir, "pg"), Settings: settings})
	if err != nil {
		return nil, err
	}
	t := &target{name: name, pg: pg}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err == nil {
		_, err = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
		conn.Close(ctx)
	}
	if err != nil {
		_ = pg.Stop()
		return nil, fmt.Errorf("%s: pg_stat_statements: %w", name, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	t.url = "http://" + listen
	if t.logFile, err = os.Create(filepath.Join(dir, name+".log")); err != nil {
		return nil, err
	}
	rpserverBin := o.bin
	if name == "baseline" && o.against != "" {
		rpserverBin = o.against
	}
	isRPServer := name == "rpserver" || o.against != ""
	switch {
	case !isRPServer:
		t.token = randomHex()
		t.cmd = exec.Command(filepath.Join(o.bin, "baseline"), "-listen", listen, "-database-url", pg.DSN, "-admin-token", t.token)
	default:
		data := filepath.Join(dir, "data")
		dsn := pg.DSN
		if o.dsnQuery != "" {
			dsn += "&" + o.dsnQuery
		}
		common := []string{"-database-url", dsn, "-data-dir", data, "-listen", listen}
		tok, err := exec.CommandContext(ctx, filepath.Join(rpserverBin, "rpserver"), append([]string{"admin", "token", "--upn", "bench-admin@lab.example"}, common...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("rpserver admin token: %w", exitDetail(err))
		}
		t.token = strings.TrimSpace(string(tok))
		args := append([]string{"serve", "-log-level", "warn"}, common...)
		args = append(args, strings.Fields(o.serverArgs)...)
		t.cmd = exec.Command(filepath.Join(rpserverBin, "rpserver"), args...)
	}
	t.cmd.Stdout, t.cmd.Stderr = t.logFile, t.logFile
	if err := t.cmd.Start(); err != nil {
		_ = pg.Stop()
		return nil, err
	}
	if err := waitListening(ctx, listen, 30*time.Second); err != nil {
		t.stop()
		return nil, fmt.Errorf("%s did not start (log %s): %w", name, t.logFile.Name(), err)
	}
	if isRPServer {
		if err := t.configure(ctx); err != nil {
			t.stop()
			return nil, err
		}
	}
	return t, nil
}

// configure turns on what the measured sign-in does: the generator's users
// get their first session from a Temporary Access Pass, and an enabled
// Conditional Access policy (multifactor authentication for all users and
// apps, which a passkey satisfies) is evaluated on every sign-in.
func (t *target) configure(ctx context.Context) error {
	calls := []struct{ method, path, body string }{
		{http.MethodPatch, "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/temporaryAccessPass", `{"state":"enabled"}`},
		{http.MethodPost, "/v1.0/identity/conditionalAccess/policies?force=true", `{"displayName":"bench: MFA for everyone","state":"enabled",
			"conditions":{"users":{"includeUsers":["All"]},"applications":{"includeApplications":["All"]},"clientAppTypes":["all"]},
			"grantControls":{"operator":"OR","builtInControls":["mfa"]}}`},
	}
	for _, c := range calls {
		req, err := http.NewRequestWithContext(ctx, c.method, t.url+c.path, strings.NewReader(c.body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+t.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
		res.Body.Close()
		if res.StatusCode >= 300 {
			return fmt.Errorf("configure rpserver: %s %s: %d %s", c.method, c.path, res.StatusCode, body)
		}
	}
	return nil
}

func (t *target) wait() {
	for _, p := range t.pendings {
		<-p
	}
	t.pendings = nil
}

func (t *target) stop() {
	t.wait()
	if t.cmd != nil && t.cmd.Process != nil {
		_ = t.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = t.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = t.cmd.Process.Kill()
			<-done
		}
	}
	if t.logFile != nil {
		t.logFile.Close()
	}
	_ = t.pg.Stop()
}

// measure runs one loadgen run against t; rate 0 is closed loop (as fast
// as the server answers at the concurrency), else an open-loop rate.
func measure(ctx context.Context, o options, mix []loadgen.MixEntry, t *target, round int, load string, rate float64) (*sample, error) {
	t.wait() // the previous run's counters must be read before new setup traffic
	pgPID, err := t.pg.PostmasterPID()
	if err != nil {
		return nil, err
	}
	var cpu0, cpu1 cpuSnap
	var db0 dbSnap
	s := &sample{Server: t.name, Round: round, Load: load}
	done := make(chan struct{})
	cfg := loadgen.Config{
		Target: t.url, AdminToken: t.token, Mix: mix, Users: o.users, Concurrency: o.conc, Duration: o.duration, Rate: rate,
		BeforeSignIn: func(ctx context.Context) error {
			if err := sleep(ctx, o.settle); err != nil {
				return err
			}
			if db0, err = readDB(ctx, t.pg.DSN); err != nil {
				return err
			}
			cpu0, err = readCPU(t.cmd.Process.Pid, pgPID)
			return err
		},
		AfterSignIn: func() {
			cpu1, _ = readCPU(t.cmd.Process.Pid, pgPID)
		},
	}
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if o.timeSeries != "" {
		if err := writeTimeSeries(o.timeSeries, s, rep); err != nil {
			return nil, err
		}
	}
	op := rep.SignIn.Op(loadgen.OpSignIn)
	s.SignIns, s.Errors, s.Seconds, s.PerSecond, s.P50Ms, s.P99Ms = op.Count, op.Errors, rep.SignIn.ElapsedSeconds, op.Throughput, op.P50Ms, op.P99Ms
	s.ErrorsByCode = rep.SignIn.Errors
	s.BeginP99Ms, s.FinishP99Ms = rep.SignIn.Op(loadgen.OpSignInBegin).P99Ms, rep.SignIn.Op(loadgen.OpSignInFinish).P99Ms
	n := float64(max(op.Count, 1))
	s.ServerCPUus = (cpu1.server - cpu0.server) / n
	s.PGCPUus = (cpu1.pg - cpu0.pg) / n
	s.PGBackendCPUus = (cpu1.pgBackends - cpu0.pgBackends) / n
	s.GenCPUus = (cpu1.self - cpu0.self) / n
	fmt.Fprintf(os.Stderr, "%-8s round %d %-4s %6d sign-ins %7.1f/s  p50 %.2fms p99 %.2fms  errors %d\n",
		t.name, round, load, op.Count, op.Throughput, op.P50Ms, op.P99Ms, op.Errors)
	// The database publishes its counters when its backends go idle: read
	// them after the settle wait, while the other server runs.
	go func() {
		defer close(done)
		if sleep(ctx, o.settle) != nil {
			return
		}
		db1, err := readDB(ctx, t.pg.DSN)
		if err != nil {
			log.Printf("%s: read counters: %v", t.name, err)
			return
		}
		s.Statements = float64(db1.statements-db0.statements) / n
		s.Commits = float64(db1.commits-db0.commits-1) / n // less the first snapshot's own transaction
		s.WALFsyncs = float64(db1.walSyncs-db0.walSyncs) / n
		s.WALBytes = float64(db1.walBytes-db0.walBytes) / n
		s.PerQuery = map[string]float64{}
		s.QueryMicros = map[string][2]float64{}
		for q, c := range db1.perQuery {
			c0 := db0.perQuery[q]
			if d := c.calls - c0.calls; d > 0 {
				s.PerQuery[q] = float64(d) / n
				s.QueryMicros[q] = [2]float64{(c.execMs - c0.execMs) * 1000 / n, (c.planMs - c0.planMs) * 1000 / n}
			}
		}
	}()
	t.pendings = append(t.pendings, done)
	return s, nil
}

// writeTimeSeries stores rep's per-second series as
// <server>-<load>-<round>.csv in dir (made at start).
func writeTimeSeries(dir string, s *sample, rep *loadgen.Report) error {
	// The load names are prose ("baseline's half", "full, log prefilled").
	load := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ReplaceAll(s.Load, "'", ""))
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.csv", s.Server, load, s.Round)))
	if err != nil {
		return fmt.Errorf("timeseries: %w", err)
	}
	if err := loadgen.WriteTimeSeries(f, rep.SignIn); err != nil {
		f.Close()
		return fmt.Errorf("timeseries %s: %w", f.Name(), err)
	}
	return f.Close()
}

// cpuSnap is cumulative CPU time in microseconds; pgBackends is the live
// client backends' share of pg.
type cpuSnap struct{ server, pg, pgBackends, self float64 }

func readCPU(serverPID, postmasterPID int) (cpuSnap, error) {
	var c cpuSnap
	var err error
	if c.server, err = procCPU(serverPID, false); err != nil {
		return c, err
	}
	// The postmaster's own time plus that of children it already reaped,
	// plus every live child (backends, WAL writer, checkpointer, ...).
	if c.pg, err = procCPU(postmasterPID, true); err != nil {
		return c, err
	}
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", postmasterPID, postmasterPID))
	for _, f := range strings.Fields(string(children)) {
		pid, _ := strconv.Atoi(f)
		if us, err := procCPU(pid, false); err == nil {
			c.pg += us
			// A client backend's title names its client's address.
			if title, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(title), "127.0.0.1(") {
				c.pgBackends += us
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return c, err
	}
	c.self = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e3
	return c, nil
}

// clockTick is USER_HZ, 100 on Linux.
const clockTick = 100

// procCPU reads utime+stime (and with reaped, cutime+cstime) of a process.
func procCPU(pid int, reaped bool) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
	sum := 0.0
	last := 13
	if reaped {
		last = 15
	}
	for k := 11; k <= last; k++ {
		v, err := strconv.ParseFloat(f[k], 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum * 1e6 / clockTick, nil
}

type dbSnap struct {
	statements, commits, walSyncs, walBytes int64
	perQuery                                map[string]queryCost // normalised text -> cumulative cost
}

// queryCost is pg_stat_statements' cumulative cost of one statement.
type queryCost struct {
	calls          int64
	execMs, planMs float64
}

// readDB reads the database's counters in one statement (one transaction,
// subtracted from the commit count); the statistics queries themselves are
// left out of the statement count.
func readDB(ctx context.Context, dsn string) (dbSnap, error) {
	var d dbSnap
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return d, err
	}
	defer conn.Close(ctx)
	err = conn.QueryRow(ctx, `SELECT
		(SELECT COALESCE(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())),
		(SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
		(SELECT wal_sync FROM pg_stat_wal),
		(SELECT wal_bytes::bigint FROM pg_stat_wal)`).Scan(&d.statements, &d.commits, &d.walSyncs, &d.walBytes)
	if err != nil {
		return d, err
	}
	rows, err := conn.Query(ctx, `SELECT query, sum(calls)::bigint, sum(total_exec_time), sum(total_plan_time) FROM pg_stat_statements
		WHERE query NOT LIKE '%pg_stat%' AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY query`)
	if err != nil {
		return d, err
	}
	d.perQuery = map[string]queryCost{}
	for rows.Next() {
		var q string
		var c queryCost
		if err := rows.Scan(&q, &c.calls, &c.execMs, &c.planMs); err != nil {
			return d, err
		}
		d.perQuery[strings.Join(strings.Fields(q), " ")] = c
	}
	return d, rows.Err()
}

// prefillDays is how many UTC days, today included, the synthetic rows
// are spread over: inside the default 30-day retention window, each day in
// its own partition as in a server that has run that long.
const prefillDays = 29

// prefill grows rpserver's sign-in log with synthetic rows on the server
// itself (one INSERT ... SELECT generate_series per day, no HTTP), spread
// evenly over the last prefillDays days with each day's partition made
// first as internal/retention makes them, then vacuums and analyzes it.
func prefill(ctx context.Context, dsn string, rows int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	t0 := time.Now()
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	for d := prefillDays - 1; d >= 0; d-- {
		day := today.AddDate(0, 0, -d)
		n := rows / prefillDays
		if d == 0 {
			n = rows - (prefillDays-1)*(rows/prefillDays)
		}
		span := 24 * time.Hour
		if d == 0 {
			span = now.Sub(day)
		}
		// Made ahead by the server's retention pass, or not yet (NULL: exists).
		if _, err := conn.Exec(ctx, `SELECT log_partition_create('signin_logs', 'created_date_time', $1::date)`, day.Format(time.DateOnly)); err != nil {
			return fmt.Errorf("prefill: partition of %s: %w", day.Format(time.DateOnly), err)
		}
		_, err := conn.Exec(ctx, `INSERT INTO signin_logs (id, created_date_time, user_id, user_principal_name, app_id, error_code,
				conditional_access_status, is_emergency_access, record)
			SELECT gen_random_uuid(), $2::timestamptz + (g - 1) * ($3::bigint / $1::bigint) * interval '1 microsecond', NULL,
				'prefill-' || (g % 5000) || '@lab.example', '00000000-0000-0000-0000-00000000a001', CASE WHEN g % 20 = 0 THEN 50126 ELSE 0 END,
				'notApplied', false, jsonb_build_object('id', g::text, 'status', jsonb_build_object('errorCode', 0))::text
			FROM generate_series(1, $1::bigint) g`, n, day, span.Microseconds())
		if err != nil {
			return fmt.Errorf("prefill sign-in log: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE signin_logs`); err != nil {
		return err
	}
	var total int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM signin_logs`).Scan(&total); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prefilled %d sign-in log rows over %d daily partitions in %.1fs (%d rows in the log)\n", rows, prefillDays, time.Since(t0).Seconds(), total)
	return nil
}

func report(w io.Writer, o options, samples []*sample) {
	fmt.Fprintf(w, "\n%d rounds x %s per server, %d users, concurrency %d, mix %s, fsync on, each server on its own PostgreSQL\n",
		o.rounds, o.duration, o.users, o.conc, o.mix)
	fmt.Fprintf(w, "the generator on %d Go processors of %d cores (%s)\n", o.generatorProcs, runtime.NumCPU(), o.generatorProcsWhy)
	if o.prefill > 0 {
		fmt.Fprintf(w, "then rpserver's sign-in log prefilled with %d rows and the rounds run again\n", o.prefill)
	}
	fmt.Fprintln(w, "\nevery run:")
	fmt.Fprintln(w, "| server | round | load | sign-ins/s | p50 ms | p99 ms | server CPU µs | PostgreSQL CPU µs | generator CPU µs | statements | commits | WAL fsyncs | WAL bytes | errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range samples {
		fmt.Fprintf(w, "| %s | %d | %s | %.1f | %.2f | %.2f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f | %d |\n",
			s.Server, s.Round, s.Load, s.PerSecond, s.P50Ms, s.P99Ms, s.ServerCPUus, s.PGCPUus, s.GenCPUus, s.Statements, s.Commits, s.WALFsyncs, s.WALBytes, s.Errors)
	}
	metrics := []struct {
		name string
		get  func(*sample) float64
	}{
		{"sign-ins/s", func(s *sample) float64 { return s.PerSecond }},
		{"p50 ms", func(s *sample) float64 { return s.P50Ms }},
		{"p99 ms", func(s *sample) float64 { return s.P99Ms }},
		{"server CPU µs/sign-in", func(s *sample) float64 { return s.ServerCPUus }},
		{"PostgreSQL CPU µs/sign-in", func(s *sample) float64 { return s.PGCPUus }},
		{"  of which client backends", func(s *sample) float64 { return s.PGBackendCPUus }},
		{"generator CPU µs/sign-in", func(s *sample) float64 { return s.GenCPUus }},
		// What the box spends per sign-in, and the rate two fully used cores
		// would give at that cost: steadier than the measured rate on a
		// machine shared with other work.
		{"server+PostgreSQL CPU µs/sign-in", func(s *sample) float64 { return s.ServerCPUus + s.PGCPUus }},
		{"CPU-bound sign-ins/s on 2 cores (server+PostgreSQL+generator)", func(s *sample) float64 {
			if t := s.ServerCPUus + s.PGCPUus + s.GenCPUus; t > 0 {
				return 2e6 / t
			}
			return 0
		}},
		{"statements/sign-in", func(s *sample) float64 { return s.Statements }},
		{"commits/sign-in", func(s *sample) float64 { return s.Commits }},
		{"WAL fsyncs/sign-in", func(s *sample) float64 { return s.WALFsyncs }},
		{"WAL bytes/sign-in", func(s *sample) float64 { return s.WALBytes }},
	}
	fmt.Fprintln(w, "\nmedian of the full-load rounds:")
	fmt.Fprintln(w, "| metric | baseline | rpserver | rpserver / baseline |")
	fmt.Fprintln(w, "|---|---|---|---|")
	b, r := filter(samples, "baseline", "full"), filter(samples, "rpserver", "full")
	for _, m := range metrics {
		bv, rv := median(b, m.get), median(r, m.get)
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %s |\n", m.name, bv, rv, ratio(rv, bv))
	}
	if rp := filter(samples, "rpserver", loadPrefilled); len(rp) > 0 {
		// The machine's other load moves both servers' figures between the
		// two phases; the ratio to the baseline run alongside is what stays.
		bp := filter(samples, "baseline", loadPrefilled)
		fmt.Fprintf(w, "\nrpserver with an empty sign-in log, then with %d rows (medians; the ratio is to the baseline run alongside in each phase):\n", o.prefill)
		fmt.Fprintln(w, "| metric | rpserver, empty log | rpserver, prefilled | rpserver / baseline, empty | rpserver / baseline, prefilled |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		for _, m := range metrics {
			ev, pv := median(r, m.get), median(rp, m.get)
			fmt.Fprintf(w, "| %s | %.2f | %.2f | %s | %s |\n", m.name, ev, pv, ratio(ev, median(b, m.get)), ratio(pv, median(bp, m.get)))
		}
	}
	for _, set := range [][]*sample{b, r} {
		if len(set) == 0 {
			continue
		}
		last := set[len(set)-1]
		fmt.Fprintf(w, "\n%s statements per sign-in (round %d), with executor + planner µs per sign-in:\n", last.Server, last.Round)
		qs := make([]string, 0, len(last.PerQuery))
		for q, v := range last.PerQuery {
			if v >= 0.01 {
				qs = append(qs, q)
			}
		}
		slices.SortFunc(qs, func(a, b string) int { return cmpFloat(last.PerQuery[b], last.PerQuery[a]) })
		printed := map[string]bool{}
		for _, q := range qs {
			v, t := last.PerQuery[q], last.QueryMicros[q]
			if printed[q] {
				continue
			}
			printed[q] = true
			if len(q) > 100 {
				q = q[:100] + "…"
			}
			fmt.Fprintf(w, "  %5.2f  %6.1f + %5.1f µs  %s\n", v, t[0], t[1], q)
		}
	}
	bh, rh := filter(samples, "baseline", "half"), filter(samples, "rpserver", "half")
	if len(bh) > 0 && len(rh) > 0 {
		fmt.Fprintln(w, "\nat half of each server's own full-load throughput (open loop):")
		fmt.Fprintln(w, "| server | sign-ins/s | p50 ms | p99 ms | begin p99 ms | finish p99 ms |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, s := range append(bh, rh...) {
			fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.2f | %.2f |\n", s.Server, s.PerSecond, s.P50Ms, s.P99Ms, s.BeginP99Ms, s.FinishP99Ms)
		}
		if len(rh) > 1 {
			for _, h := range [][]*sample{bh, rh} {
				get := func(f func(*sample) float64) float64 { return median(h, f) }
				fmt.Fprintf(w, "| %s, median of %d | %.1f | %.2f | %.2f | %.2f | %.2f |\n", h[0].Server, len(h),
					get(func(s *sample) float64 { return s.PerSecond }), get(func(s *sample) float64 { return s.P50Ms }),
					get(func(s *sample) float64 { return s.P99Ms }), get(func(s *sample) float64 { return s.BeginP99Ms }),
					get(func(s *sample) float64 { return s.FinishP99Ms }))
			}
		}
	}
	if same := filter(samples, "rpserver", loadBaselineHalf); len(same) > 0 && len(bh) > 0 {
		fmt.Fprintln(w, "\nrpserver at the baseline's half-load rate (the same offered load), with the baseline's own half-load median:")
		fmt.Fprintln(w, "| server | sign-ins/s | p50 ms | p99 ms | begin p99 ms | finish p99 ms |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, s := range same {
			fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.2f | %.2f |\n", s.Server, s.PerSecond, s.P50Ms, s.P99Ms, s.BeginP99Ms, s.FinishP99Ms)
		}
		if len(same) > 1 {
			for _, h := range [][]*sample{bh, same} {
				fmt.Fprintf(w, "| %s, median of %d | %.1f | %.2f | %.2f | %.2f | %.2f |\n", h[0].Server, len(h),
					median(h, func(s *sample) float64 { return s.PerSecond }), median(h, func(s *sample) float64 { return s.P50Ms }),
					median(h, func(s *sample) float64 { return s.P99Ms }), median(h, func(s *sample) float64 { return s.BeginP99Ms }),
					median(h, func(s *sample) float64 { return s.FinishP99Ms }))
			}
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func filter(samples []*sample, server, load string) []*sample {
	var out []*sample
	for _, s := range samples {
		if s.Server == server && s.Load == load {
			out = append(out, s)
		}
	}
	return out
}

func median(samples []*sample, get func(*sample) float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = get(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func waitListening(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
