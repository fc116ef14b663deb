package main

import (
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// tuneProcs sets how many threads run the server's Go code at once
// (GOMAXPROCS). An explicit -max-procs wins, then a GOMAXPROCS of the
// environment; otherwise, when PostgreSQL runs on this machine (the
// throwaway cluster, or a loopback or socket URL), the server leaves it
// one of Go's processors.
//
// Why: the lab's default is server and database on one small machine. With
// a processor per core, the server's bursts (a collection's marking, a
// flurry of handlers) take every core while the database backend that
// holds a sign-in's commit waits for one. On the bench's 2-core machine,
// with the load generator on it too, one processor fewer gave 1.05-1.08x
// the full-load rate and a lower 99th percentile at half load, for 1.18x
// the server's own CPU per sign-in (docs/performance.md, "Leaving
// PostgreSQL a core"). A loopback URL can also be a local proxy in front of
// a remote database: -max-procs then says what to use. Once set, Go no
// longer adjusts GOMAXPROCS to a container's changing CPU limit. It returns
// the value in force and why.
func tuneProcs(maxProcs int, dsn string) (int, string) {
	switch {
	case maxProcs > 0:
		runtime.GOMAXPROCS(maxProcs)
		return maxProcs, "-max-procs"
	case envProcs():
		return runtime.GOMAXPROCS(0), "GOMAXPROCS"
	}
	n := runtime.GOMAXPROCS(0)
	if n < 2 || !databaseOnThisMachine(dsn) {
		return n, "Go's default"
	}
	runtime.GOMAXPROCS(n - 1)
	return n - 1, "one fewer than Go's default: PostgreSQL runs on this machine"
}

// envProcs says whether the environment sets GOMAXPROCS as Go reads it:
// a positive integer (Go ignores anything else, and so does this).
func envProcs() bool {
	n, err := strconv.Atoi(os.Getenv("GOMAXPROCS"))
	return err == nil && n > 0
}

// databaseOnThisMachine says whether every host of the PostgreSQL URL dsn
// is this machine: a Unix socket, localhost or a loopback address. An
// unparsable URL says no (the server's own connect reports it).
func databaseOnThisMachine(dsn string) bool {
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
