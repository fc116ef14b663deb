package main

import (
	"net"
	"os"
	"runtime"
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
// holds a sign-in's commit waits for one, and each hand-off between the
// server's threads wakes an idle core. On the bench's 2-core machine one
// processor fewer gave 1.05-1.08x the full-load rate and a lower 99th
// percentile at half load (docs/performance.md, "Leaving PostgreSQL a
// core"). It returns the value in force and why.
func tuneProcs(maxProcs int, dsn string) (int, string) {
	switch {
	case maxProcs > 0:
		runtime.GOMAXPROCS(maxProcs)
		return maxProcs, "-max-procs"
	case os.Getenv("GOMAXPROCS") != "":
		return runtime.GOMAXPROCS(0), "GOMAXPROCS"
	}
	n := runtime.GOMAXPROCS(0)
	if n < 2 || !databaseOnThisMachine(dsn) {
		return n, "Go's default"
	}
	runtime.GOMAXPROCS(n - 1)
	return n - 1, "one fewer than Go's default: PostgreSQL runs on this machine"
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
