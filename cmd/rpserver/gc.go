package main

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is serve's GOGC unless the environment sets one. A
// sign-in allocates ~90 KB that is garbage as soon as it is answered, over
// a live heap of a few MB, so at the default of 100 the collector runs
// hundreds of times a second under load (~9% of the server's CPU in a
// profile of the bench's load, docs/performance.md). 400 runs it a quarter
// as often for a heap of about five times the live one, tens of MB.
const serveGCPercent = 400

// tuneGC applies serveGCPercent when GOGC is not set: an operator's GOGC
// (or GOMEMLIMIT, to bound the heap on a small host) is left as it is.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
