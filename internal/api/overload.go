package api

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/admission"
	"github.com/rpserver/rpserver/internal/apperr"
)

// CodeServerDraining is /readyz's answer while the server shuts down, so a
// load balancer stops sending it new requests before its listener closes.
const CodeServerDraining = "serverDraining"

// Defaults for the overload guards; serve's flags override them.
const (
	defaultRequestTimeout = 15 * time.Second
	defaultAdmissionWait  = 100 * time.Millisecond
)

// defaultMaxInFlight admits enough requests to keep the CPUs and the
// database pool busy while each waits on a round trip, and no more: past
// that, extra requests only lengthen everyone's queue.
//
// Per CPU, not per Go processor: serve may run fewer processors than cores
// (-max-procs), and the argon2id queue (secrethash) is sized the same way,
// so it stays longer than what admission lets in.
func defaultMaxInFlight() int { return 128 * runtime.NumCPU() }

// probePaths are never shed or cut short: a busy server must still say so.
var probePaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// guard bounds every request but the probes: at most MaxInFlight are served
// at once (the rest wait up to AdmissionWait, then get 503 serverBusy), and
// each runs under RequestTimeout so a database that hangs cannot hold a
// request, a connection and a slot forever.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if probePaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.deps.RequestTimeout)
		defer cancel()
		wait := defaultAdmissionWait
		if strings.HasSuffix(r.URL.Path, "/finish") {
			// A finish completes a ceremony whose begin was already served
			// (and whose challenge is waiting): shedding it wastes that work,
			// so it may wait longer than a request starting something new.
			wait *= 4
		}
		release, err := s.deps.Admission.AcquireWithin(ctx, wait)
		if err != nil {
			writeError(w, r, err)
			return
		}
		defer release()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Drain makes /readyz answer 503 serverDraining from now on; serve calls it
// on SIGTERM and waits a moment before closing the listener.
func (s *Server) Drain() { s.draining.Store(true) }

func (s *Server) refuseWhileDraining(w http.ResponseWriter, r *http.Request) bool {
	if s.draining.Load() {
		writeError(w, r, apperr.Unavailable(CodeServerDraining, "the server is shutting down"))
		return true
	}
	return false
}

// NewAdmission is the request limiter for maxInFlight requests at once
// (0: 128 per CPU), with the default queue and wait.
func NewAdmission(maxInFlight int) *admission.Limiter {
	if maxInFlight <= 0 {
		maxInFlight = defaultMaxInFlight()
	}
	// As many may queue as are served: a burst is smoothed, a flood is shed
	// within 100 ms instead of lengthening every admitted request's wait.
	return admission.New(maxInFlight, maxInFlight, defaultAdmissionWait, "requests in flight")
}
