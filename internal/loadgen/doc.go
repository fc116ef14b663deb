// Package loadgen drives a running rpserver over HTTP with virtual
// authenticators (package virtualauthn): it creates users, gives each a
// session, registers one passkey per user, then signs them in until a
// duration or a sign-in count is reached: either as fast as the configured
// concurrency allows (closed loop) or on an arrival schedule that does not
// wait for the server (open loop, openloop.go). It is the engine of
// `rpserver loadtest`; flags and display live in cmd/rpserver.
//
// Design choices, and why:
//
//   - Setup (users, sessions, registrations) runs before the timed phase and
//     is reported separately, so sign-in throughput is not diluted by one-off
//     work and registration latency is still visible.
//   - A user is never signed in by two workers at once: workers take users
//     from a pool and put them back. Security-key presets increment their
//     signature counter, and two assertions of one credential racing to the
//     server would look like a cloned authenticator (signCountRegression),
//     which is the server being right, not a load result.
//   - Every run is bounded (Duration and/or SignIns; Validate refuses
//     neither), and targets must be loopback: this is a lab tool and must not
//     be pointed at someone else's service.
//   - Latency is measured with the monotonic clock around each HTTP call and
//     around the whole ceremony (including the authenticator's signing), and
//     every sample is kept, so percentiles are exact (nearest rank), not
//     estimated. In the open loop the whole ceremony is timed from its
//     scheduled start, which corrects for coordinated omission.
//   - With several targets (servers on one database) a ceremony's begin and
//     finish go to different servers, which only works if no ceremony state
//     lives in a process.
//   - Errors are counted by the server's stable Graph error code
//     ({"error":{"code":...}}), so a run says "37 tooManyFailedAttempts"
//     rather than "37 HTTP 429". Failures without an envelope get a code of
//     the form http_<status>, transport, timeout or authenticator.
//   - Ceremonies still in flight when the deadline passes are abandoned and
//     not counted: their latency would measure cancellation, not the server.
package loadgen
