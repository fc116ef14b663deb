// Command faults is rpserver's fault suite. It runs the real binary as
// several replicas on one PostgreSQL, drives passkey sign-ins through them
// the way a load balancer would (begin and finish on different servers),
// injects faults (SIGKILL, a database crash, rolling SIGTERM restarts,
// overload, and with -failover a PostgreSQL failover under pg_auto_failover)
// and then checks that every sign-in the generator saw acknowledged is found
// afterwards: its sign-in log record, its counter update and its session.
//
//	go run ./faults -rpserver bin/rpserver -short   # about two minutes, run by CI
//	go run ./faults -rpserver bin/rpserver          # longer runs, the failover, a 10-minute soak
//
// scripts/faults.sh builds the binary and runs this. Everything listens on
// 127.0.0.1 and every load is bounded in time.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/rpserver/rpserver/internal/pgdev"
	"github.com/rpserver/rpserver/virtualauthn"
)

func main() {
	bin := flag.String("rpserver", "bin/rpserver", "the rpserver binary under test")
	short := flag.Bool("short", false, "short runs (CI): about two minutes in all")
	only := flag.String("run", "", "comma-separated scenario names to run (multi, kill, pgrestart, rolling, overload, failover); default all")
	failover := flag.Bool("failover", false, "with -short, also run the PostgreSQL failover scenario (the full run always does; needs pg_auto_failover from Debian's packages)")
	jsonOut := flag.String("json", "", "write the results as JSON to this file")
	keep := flag.Bool("keep", false, "keep the work folder (logs of every server) after the run")
	flag.Parse()
	os.Exit(run(*bin, *short, *only, *failover, *jsonOut, *keep))
}

func run(bin string, short bool, only string, failover bool, jsonOut string, keep bool) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	abs, err := filepath.Abs(bin)
	if err != nil || !isFile(abs) {
		fmt.Fprintf(os.Stderr, "faults: no rpserver binary at %s (build it: go build -o bin/rpserver ./cmd/rpserver)\n", bin)
		return 2
	}
	work, err := os.MkdirTemp("", "rpserver-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 2
	}
	if keep {
		fmt.Println("work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}
	// The postgres user runs the cluster when we are root: it must be able
	// to reach its folder.
	_ = os.Chmod(work, 0o755)
	ca, err := virtualauthn.NewTestCA()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 2
	}
	pgOpts := pgdev.Options{Dir: filepath.Join(work, "pg")}
	pg, err := pgdev.Start(ctx, pgOpts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: start PostgreSQL:", err)
		return 2
	}
	pgOpts.Port = pg.Port
	defer func() { _ = pg.Stop() }()

	s := &suite{bin: abs, work: work, pg: pg, pgOpts: pgOpts, ca: ca, short: short, users: 24, workers: 8}
	scenarios := []struct {
		name string
		fn   func(context.Context) result
	}{
		{"multi", s.scenarioMultiServer},
		{"kill", s.scenarioKill},
		{"pgrestart", s.scenarioDatabaseRestart},
		{"rolling", s.scenarioRollingRestart},
		{"overload", s.scenarioOverload},
	}
	if failover || !short {
		scenarios = append(scenarios, struct {
			name string
			fn   func(context.Context) result
		}{"failover", s.scenarioFailover})
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var results []result
	failed := 0
	start := time.Now()
	for _, sc := range scenarios {
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		fmt.Printf("== %s\n", sc.name)
		t0 := time.Now()
		r := sc.fn(ctx)
		printResult(r, time.Since(t0))
		results = append(results, r)
		if !r.Pass {
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Printf("\nfault suite took %s\n", time.Since(start).Round(time.Second))
	fmt.Printf("faults: %d passed, %d failed\n", len(results)-failed, failed)
	if jsonOut != "" {
		raw, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(jsonOut, raw, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "faults:", err)
		}
	}
	if failed > 0 {
		if !keep {
			fmt.Println("(run with -keep to keep every server's log)")
		}
		return 1
	}
	return 0
}

func printResult(r result, took time.Duration) {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Printf("   %s in %s\n", verdict, took.Round(time.Second))
	if r.Err != "" {
		fmt.Printf("   error: %s\n", r.Err)
	}
	fmt.Printf("   load:   %s\n   faults: %s\n   check:  %s\n", r.Load, r.Faults, r.Check)
	if len(r.Errors) > 0 {
		codes := make([]string, 0, len(r.Errors))
		for c, n := range r.Errors {
			codes = append(codes, fmt.Sprintf("%s ×%d", c, n))
		}
		sort.Strings(codes)
		fmt.Printf("   errors: %s\n", strings.Join(codes, ", "))
	} else {
		fmt.Printf("   errors: none\n")
	}
	for _, f := range r.Findings {
		fmt.Printf("   - %s\n", f)
	}
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
