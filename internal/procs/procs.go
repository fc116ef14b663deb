// Package procs decides how many Go processors (GOMAXPROCS) rpserver's
// processes run with when they share a machine: the server with the
// PostgreSQL it uses, the load generator with the servers it drives.
//
// On the lab's usual machine all three share a few cores, and a Go
// process with a processor per core takes every core in its bursts (a
// collection's marking, a flurry of goroutines waking one another) while
// the process holding the work in flight waits for one. Each process
// therefore leaves the others a share unless told otherwise: an explicit
// flag wins, then a valid GOMAXPROCS in the environment, then the rule.
// Once set, Go no longer adjusts GOMAXPROCS to a container's changing CPU
// limit.
package procs

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Server sets the server's processors: flag if positive, else the
// environment's GOMAXPROCS, else, when every host of the PostgreSQL URL
// dsn is this machine (the throwaway cluster, a loopback address or a
// Unix socket), one fewer than Go's default, at least one. On the bench's
// 2-core machine, with the load generator on it too, that gave 1.05-1.08x
// the full-load rate and a lower 99th percentile at half load, for 1.18x
// the server's own CPU per sign-in (docs/performance.md, "Leaving
// PostgreSQL a core"). A loopback URL can also be a local proxy in front
// of a remote database: the flag then says what to use. It returns the
// value in force and why.
func Server(flag int, dsn string) (int, string) {
	if n, why, ok := explicit(flag, "-max-procs"); ok {
		return n, why
	}
	n := runtime.GOMAXPROCS(0)
	if n < 2 || !DatabaseOnThisMachine(dsn) {
		return n, "Go's default"
	}
	runtime.GOMAXPROCS(n - 1)
	return n - 1, "one fewer than Go's default: PostgreSQL runs on this machine"
}

// Generator sets the load generator's processors: flag if positive, else
// the environment's GOMAXPROCS, else half of Go's default, at least one.
// The generator only drives servers on this machine (loopback targets),
// so every core it takes is one the server and its database wait for. On
// the bench's 2-core machine one processor instead of two cut the
// generator's CPU per sign-in by 17-20% and gave the server under test
// 1.07x the full-load rate (docs/performance.md, "The generator's share
// of the box"); half the cores still leaves the generator more than it
// used there at full load. It returns the value in force and why.
func Generator(flag int) (int, string) {
	if n, why, ok := explicit(flag, "-max-procs"); ok {
		return n, why
	}
	n := max(1, runtime.GOMAXPROCS(0)/2)
	runtime.GOMAXPROCS(n)
	return n, "half of Go's default: the servers it drives run on this machine"
}

// explicit applies a positive flag (named name) or keeps a valid
// GOMAXPROCS of the environment; ok says whether either was there.
func explicit(flag int, name string) (int, string, bool) {
	switch {
	case flag > 0:
		runtime.GOMAXPROCS(flag)
		return flag, name, true
	case envSet():
		return runtime.GOMAXPROCS(0), "GOMAXPROCS", true
	}
	return 0, "", false
}

// envSet says whether the environment sets GOMAXPROCS as Go reads it: a
// positive integer (Go ignores anything else, and so does this).
func envSet() bool {
	n, err := strconv.Atoi(os.Getenv("GOMAXPROCS"))
	return err == nil && n > 0
}

// DatabaseOnThisMachine says whether every host of the PostgreSQL URL dsn
// is this machine: a Unix socket, localhost or a loopback address. An
// unparsable URL says no (the server's own connect reports it).
func DatabaseOnThisMachine(dsn string) bool {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return false
	}
	hosts := []string{cfg.Host}
	for _, fb := range cfg.Fallbacks {
		hosts = append(hosts, fb.Host)
	}
	for _, h := range hosts {
		if !loopbackHost(h) {
			return false
		}
	}
	return true
}

func loopbackHost(h string) bool {
	if strings.HasPrefix(h, "/") || strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
