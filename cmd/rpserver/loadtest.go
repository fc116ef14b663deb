package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/rpserver/rpserver/internal/config"
	"github.com/rpserver/rpserver/internal/labca"
	"github.com/rpserver/rpserver/internal/loadgen"
	"github.com/rpserver/rpserver/internal/procs"
	"github.com/rpserver/rpserver/virtualauthn"
)

const loadtestUsage = `Usage: rpserver loadtest [flags]

Creates users on a running rpserver (loopback only), gives each a session
with a Temporary Access Pass, registers one virtual passkey per user, then
signs them in until -duration or -sign-ins is reached (default -duration 30s).

Closed loop (default): -concurrency workers, each starting its next sign-in
when its last one ends. Open loop: -rate N/s (or -stages 30s:200,60s:1000)
sends sign-ins on a schedule whatever the server does, times each from when
it was due (so queueing counts), and drops and counts arrivals beyond
-max-outstanding or with no free user. Several -target flags spread each
ceremony's begin and finish over different servers.
Progress goes to stderr; the report to stdout (-json for machines).

`

func runLoadtest(args []string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return loadtest(ctx, args, os.Stdout, os.Stderr, isTerminal(os.Stderr), nil, procs.Generator)
}

// isTerminal says whether f is a character device, which is enough to
// choose between a redrawn line and plain log lines (no x/term needed).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// loadtest is the command without process globals; sessions overrides the
// TAP bootstrap (tests on a server without TAP), and setProcs is what sets
// the process's Go processors from -max-procs (procs.Generator; tests keep
// theirs).
func loadtest(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool, sessions loadgen.SessionFunc, setProcs func(flag int) (int, string)) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadtestUsage); fs.PrintDefaults() }
	var targets listFlag
	fs.Var(&targets, "target", "server base URL; must be 127.0.0.0/8, ::1 or localhost. Repeat (or comma-separate) for several servers on one database (default $RPSERVER_LOADTEST_TARGET or http://127.0.0.1:8080)")
	rate := fs.String("rate", "", "open loop: arrivals per second (e.g. 500 or 500/s) for -duration")
	stagesFlag := fs.String("stages", "", "open loop: ramps DURATION:RATE,... (e.g. 30s:200,60s:1000,30s:0), from 0/s; sets the duration")
	maxOutstanding := fs.Int("max-outstanding", 0, "open loop: most sign-ins in flight; arrivals beyond are dropped and counted (default -users)")
	token := fs.String("token", os.Getenv("RPSERVER_ADMIN_TOKEN"), "admin bearer token that may create users and TAPs (RPSERVER_ADMIN_TOKEN; rpserver admin token --upn ...)")
	mixFlag := fs.String("mix", "ms-ios=2,ms-android=2,yubikey=1,synced=1", "authenticator presets and weights: "+strings.Join(loadgen.PresetNames(), ", "))
	users := fs.Int("users", 0, "virtual users, one passkey each (default: -concurrency, or 100 in the open loop)")
	conc := fs.Int("concurrency", 8, "closed loop: ceremonies in flight at once (at most -users are useful: one user signs in once at a time); both: setup workers")
	duration := fs.Duration("duration", 0, "length of the timed sign-in phase (default 30s when -sign-ins is 0)")
	signIns := fs.Int("sign-ins", 0, "stop after this many sign-in attempts")
	scenariosFlag := fs.String("scenarios", "signin", "timed-phase scenarios and weights: signin (passkey, UPN first), discoverable (passkey, no UPN), register (registration storm: new user, TAP, passkey), stepup (password + push under Conditional Access), oidc (an app signs the user in over OpenID Connect with the passkey)")
	caPolicies := fs.Int("ca-policies", -1, "create a Conditional Access policy set of this many policies (0..195; the shapes of the policy benchmarks) scoped to the run's group, deleted at the end (default 195 with the stepup scenario, else 0)")
	caState := fs.String("ca-state", "enabled", "state of the policy set: enabled (step-up enforced) or report-only")
	discoverable := fs.Bool("discoverable", false, "sign in with an empty begin body (discoverable credential) instead of the UPN")
	origin := fs.String("origin", "", "origin the authenticators claim (default http://localhost:<target port>, the server's default)")
	domain := fs.String("upn-domain", "lab.example", "domain of the generated user principal names")
	caCert := fs.String("ca-cert", "", "attestation CA certificate PEM (with -ca-key); the server trusts it via -trust-anchors. Default: the lab CA of -data-dir")
	dataDir := fs.String("data-dir", envOr("RPSERVER_DATA_DIR", config.DefaultDataDir()), "the server's data folder, whose lab CA (made by serve) signs the attestations (RPSERVER_DATA_DIR)")
	group := fs.String("group", "", "id of a group each created user joins first, for a TAP or FIDO2 policy that targets a group")
	keepUsers := fs.Bool("keep-users", false, "keep the created users (default: delete them when the run ends)")
	caKey := fs.String("ca-key", "", "private key PEM of -ca-cert")
	writeCA := fs.String("write-ca", "", "write a new attestation CA to PREFIX.pem and PREFIX-key.pem and exit")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request timeout")
	maxProcs := fs.Int("max-procs", 0, "Go processors (GOMAXPROCS) of the generator (default: the environment's GOMAXPROCS, else half the cores: the servers it drives share this machine)")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout")
	var thresholdFlags listFlag
	fs.Func("threshold", "pass/fail rule, repeatable: signin.p99<50ms, errors<0.1%, dropped<1%, signin.rate>=900 ...; the run exits 1 when one fails", func(v string) error {
		thresholdFlags = append(thresholdFlags, v)
		return nil
	})
	outDir := fs.String("out", "", "write summary.json, timeseries.csv (per second) and HDR histograms (<phase>.<op>.hgrm) into this folder")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h: the usage was the answer
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest: unexpected argument %q", fs.Arg(0))
	}
	if *writeCA != "" {
		return writeTestCA(*writeCA, stdout)
	}
	if *maxProcs < 0 {
		return fmt.Errorf("loadtest: -max-procs %d: want a positive count of Go processors, or 0 for the default", *maxProcs)
	}
	gomaxprocs, procsWhy := setProcs(*maxProcs)
	mix, err := loadgen.ParseMix(*mixFlag)
	if err != nil {
		return err
	}
	scenarios, err := loadgen.ParseScenarios(*scenariosFlag)
	if err != nil {
		return err
	}
	if *caPolicies < 0 {
		*caPolicies = 0
		for _, sc := range scenarios {
			if sc.Name == loadgen.ScenarioStepUp {
				*caPolicies = 195
			}
		}
	}
	state := map[string]string{"enabled": loadgen.CAStateEnabled, "report-only": loadgen.CAStateReportOnly, loadgen.CAStateReportOnly: loadgen.CAStateReportOnly}[*caState]
	if state == "" {
		return fmt.Errorf("loadtest: -ca-state %q: want enabled or report-only", *caState)
	}
	var thresholds []loadgen.Threshold
	for _, expr := range thresholdFlags {
		t, err := loadgen.ParseThreshold(expr)
		if err != nil {
			return err
		}
		thresholds = append(thresholds, t)
	}
	if len(targets) == 0 {
		targets = listFlag{envOr("RPSERVER_LOADTEST_TARGET", "http://127.0.0.1:8080")}
	}
	var ratePerSec float64
	if *rate != "" {
		if ratePerSec, err = loadgen.ParseRate(*rate); err != nil {
			return err
		}
	}
	var stages []loadgen.Stage
	if *stagesFlag != "" {
		if stages, err = loadgen.ParseStages(*stagesFlag); err != nil {
			return err
		}
		if ratePerSec > 0 {
			return errors.New("loadtest: -rate and -stages exclude each other (a stage list starts from 0/s)")
		}
		if *duration > 0 {
			return errors.New("loadtest: -stages sets the duration: drop -duration")
		}
	}
	if *duration == 0 && *signIns == 0 && len(stages) == 0 {
		*duration = 30 * time.Second
	}
	var ca *virtualauthn.TestCA
	if *caCert != "" || *caKey != "" {
		if ca, err = loadTestCA(*caCert, *caKey); err != nil {
			return err
		}
	} else if ca, err = labca.Load(*dataDir); err != nil {
		// Without the server's lab CA the run still measures ceremonies;
		// attestation-enforced profiles will refuse the registrations.
		fmt.Fprintf(stderr, "loadtest: %v; using a fresh CA, so attestation is reported untrusted\n", err)
		ca = nil
	}
	if *token == "" && sessions == nil {
		return errors.New("loadtest: an admin token is required: -token or RPSERVER_ADMIN_TOKEN (rpserver admin token --upn admin@lab.example)")
	}

	cfg := loadgen.Config{
		Targets: targets, Origin: *origin, AdminToken: *token, Mix: mix, Users: *users, Concurrency: *conc,
		Duration: *duration, SignIns: *signIns, Discoverable: *discoverable, UPNDomain: *domain, CA: ca,
		Sessions: sessions, RequestTimeout: *timeout, Group: *group, KeepUsers: *keepUsers,
		Rate: ratePerSec, Stages: stages, MaxOutstanding: *maxOutstanding,
		Scenarios: scenarios, CAPolicies: *caPolicies, CAState: state,
	}
	// A redrawn line can update often; plain lines (CI logs, files) should
	// not flood, so they come every 5 seconds.
	if tty {
		cfg.ProgressEvery = 250 * time.Millisecond
	} else {
		cfg.ProgressEvery = 5 * time.Second
	}
	lastPhase := ""
	cfg.Progress = func(p loadgen.Progress) {
		line := fmt.Sprintf("%-7s %6.1fs  done %d  %.1f/s  errors %d  p50 %s  p95 %s",
			p.Phase, p.Elapsed.Seconds(), p.Done, p.Rate, p.Errors, fmtMs(p.P50), fmtMs(p.P95))
		if p.OpenLoop {
			line += fmt.Sprintf("  scheduled %.0f/s  in flight %d  dropped %d  late %d", p.Scheduled, p.Outstanding, p.Dropped, p.Late)
		}
		if !tty {
			fmt.Fprintln(stderr, line)
			return
		}
		if lastPhase != "" && lastPhase != p.Phase {
			fmt.Fprintln(stderr)
		}
		lastPhase = p.Phase
		fmt.Fprint(stderr, "\r\x1b[K"+line)
	}

	rep, runErr := loadgen.Run(ctx, cfg)
	if tty && lastPhase != "" {
		fmt.Fprintln(stderr)
	}
	if rep == nil {
		return runErr
	}
	rep.GoProcessors, rep.GoProcessorsWhy = gomaxprocs, procsWhy
	if *group == "" && (rep.Setup.Errors["temporaryAccessPassNotEnabledForUser"] > 0 || rep.Setup.Errors["methodNotEnabledForUser"] > 0) {
		fmt.Fprintln(stderr, "loadtest: the TAP or FIDO2 policy targets groups the new users are not in: pass -group <id of a targeted group>")
	}
	passed := rep.CheckThresholds(thresholds)
	if *outDir != "" {
		if err := loadgen.WriteOutputs(*outDir, rep); err != nil {
			return errors.Join(runErr, err)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if runErr == nil && !passed {
		failed := 0
		for _, r := range rep.Thresholds {
			if !r.Passed {
				failed++
			}
		}
		return fmt.Errorf("loadtest: %d of %d thresholds failed", failed, len(rep.Thresholds))
	}
	return runErr
}

// listFlag is a repeatable flag whose values may also be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func describeSchedule(r *loadgen.Report) string {
	if r.Rate > 0 {
		return fmt.Sprintf("%g arrivals/s for %gs", r.Rate, r.DurationLimit)
	}
	var parts []string
	for _, st := range r.Stages {
		parts = append(parts, fmt.Sprintf("%s:%g", st.Duration, st.Rate))
	}
	return "stages " + strings.Join(parts, ",")
}

func fmtMs(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func printReport(w io.Writer, r *loadgen.Report) {
	var mix []string
	for _, m := range r.Mix {
		mix = append(mix, fmt.Sprintf("%s=%d", m.Preset, m.Weight))
	}
	fmt.Fprintf(w, "target %s (origin %s), run %s, mix %s, session bootstrap %s\n",
		strings.Join(r.Targets, " "), r.Origin, r.RunID, strings.Join(mix, ","), r.SessionBootstrap)
	var sc []string
	for _, e := range r.Scenarios {
		sc = append(sc, fmt.Sprintf("%s=%d", e.Name, e.Weight))
	}
	fmt.Fprintf(w, "scenarios %s", strings.Join(sc, ","))
	if r.CAPolicies > 0 {
		fmt.Fprintf(w, " under %d Conditional Access policies (%s)", r.CAPolicies, r.CAState)
	}
	fmt.Fprintln(w)
	if r.Mode == "open-loop" {
		fmt.Fprintf(w, "open loop: %s, at most %d in flight; latency timed from each arrival's scheduled start\n", describeSchedule(r), r.MaxOutstanding)
	} else {
		fmt.Fprintf(w, "closed loop: concurrency %d\n", r.Concurrency)
	}
	if r.GoProcessors > 0 {
		fmt.Fprintf(w, "generator: %d Go processors of %d cores (%s)\n", r.GoProcessors, runtime.NumCPU(), r.GoProcessorsWhy)
	}
	fmt.Fprintf(w, "\nsetup: %d of %d users registered in %.2fs\n", r.UsersReady, r.Users, r.Setup.ElapsedSeconds)
	printPhase(w, r.Setup)
	if r.StoppedBy == "setup-failed" {
		fmt.Fprintln(w, "\nno user could register: no sign-in phase")
		printCleanup(w, r.Cleanup)
		return
	}
	ok, failed := r.SignIn.Attempts()
	perSec := 0.0
	if r.SignIn.ElapsedSeconds > 0 {
		perSec = float64(ok) / r.SignIn.ElapsedSeconds
	}
	noun := "sign-ins"
	if len(r.Scenarios) > 1 || (len(r.Scenarios) == 1 && r.Scenarios[0].Name != loadgen.ScenarioSignIn) {
		noun = "attempts"
	}
	fmt.Fprintf(w, "\nsign-in: %d ok, %d failed in %.2fs = %.1f %s/s (stopped by %s)\n",
		ok, failed, r.SignIn.ElapsedSeconds, perSec, noun, r.StoppedBy)
	if r.Mode == "open-loop" {
		fmt.Fprintf(w, "arrivals: %d sent, %d late (more than %s behind schedule), %d dropped %v\n",
			r.SignIn.Arrivals, r.SignIn.Late, loadgen.LateAfter, r.SignIn.DroppedTotal(), r.SignIn.Dropped)
	}
	printPhase(w, r.SignIn)
	printCleanup(w, r.Cleanup)
	if len(r.Thresholds) > 0 {
		fmt.Fprintln(w, "\nthresholds:")
		for _, t := range r.Thresholds {
			fmt.Fprintln(w, "  "+t.String())
		}
	}
}

func printCleanup(w io.Writer, c loadgen.Cleanup) {
	switch {
	case c.Kept:
		fmt.Fprintf(w, "\ncleanup: %d users kept (-keep-users)\n", c.Created)
	case c.Created > 0:
		fmt.Fprintf(w, "\ncleanup: %d of %d users deleted\n", c.Deleted, c.Created)
	}
	if c.Policies > 0 {
		fmt.Fprintf(w, "cleanup: %d of %d Conditional Access policies deleted, group deleted %v\n", c.PoliciesDeleted, c.Policies, c.GroupDeleted)
	}
	for code, n := range c.Errors {
		fmt.Fprintf(w, "    %-30s %d\n", code, n)
	}
}

func printPhase(w io.Writer, p loadgen.Phase) {
	fmt.Fprintf(w, "  %-20s %7s %6s %9s %8s %8s %8s %8s %8s %8s\n", "operation", "ok", "errors", "ok/s", "mean ms", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms")
	for _, o := range p.Operations {
		fmt.Fprintf(w, "  %-20s %7d %6d %9.1f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f\n", o.Name, o.Count, o.Errors, o.Throughput, o.MeanMs, o.P50Ms, o.P90Ms, o.P95Ms, o.P99Ms, o.MaxMs)
	}
	if len(p.Errors) == 0 {
		return
	}
	codes := make([]string, 0, len(p.Errors))
	for c := range p.Errors {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if p.Errors[codes[i]] != p.Errors[codes[j]] {
			return p.Errors[codes[i]] > p.Errors[codes[j]]
		}
		return codes[i] < codes[j]
	})
	fmt.Fprintln(w, "  errors by code:")
	for _, c := range codes {
		fmt.Fprintf(w, "    %-30s %d\n", c, p.Errors[c])
	}
}

func loadTestCA(certPath, keyPath string) (*virtualauthn.TestCA, error) {
	if certPath == "" || keyPath == "" {
		return nil, errors.New("loadtest: -ca-cert and -ca-key go together")
	}
	c, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	k, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	return virtualauthn.LoadTestCA(c, k)
}

func writeTestCA(prefix string, stdout io.Writer) error {
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		return err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	certPath, keyPath := prefix+".pem", prefix+"-key.pem"
	// O_EXCL: never overwrite a CA a server may already trust.
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{certPath, ca.RootPEM(), 0o644}, {keyPath, key, 0o600}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return err
		}
		if _, err := fh.Write(f.data); err != nil {
			fh.Close()
			return err
		}
		if err := fh.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %s and %s\nserver:   rpserver serve -trust-anchors %s\nloadtest: rpserver loadtest -ca-cert %s -ca-key %s ...\n",
		certPath, keyPath, certPath, certPath, keyPath)
	return nil
}
